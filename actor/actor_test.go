package actor_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/perkey/perkey/actor"
	"github.com/perkey/perkey/mailbox"
)

func node(v int) *mailbox.Node[int] { return &mailbox.Node[int]{Value: v} }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func fill(a *actor.Actor[int], n int) {
	for i := range n {
		a.Enqueue(node(i))
	}
}

func TestSerialByDefault(t *testing.T) {
	var a actor.Actor[int] // zero value: limit 1, no rate
	require.True(t, a.Idle())
	require.Equal(t, 1, a.Limit())
	require.False(t, a.Tracked())
	fill(&a, 3)
	first, _ := a.Next(t0)
	require.Equal(t, 0, first.Value)
	require.True(t, a.Busy())
	n, _ := a.Next(t0)
	require.Nil(t, n, "one in flight at a time")
	require.Equal(t, 2, a.Queued())
	require.False(t, a.Started(t0), "untracked actors ignore starts")
	require.True(t, a.Done())
	n, _ = a.Next(t0)
	require.Equal(t, 1, n.Value, "FIFO")
	require.True(t, a.Withdraw(), "ended before it started")
	n, _ = a.Next(t0)
	require.Equal(t, 2, n.Value)
	require.True(t, a.Done())
	require.True(t, a.Idle())
	require.False(t, a.Done(), "nothing in flight")
	require.False(t, a.Withdraw())
	rested, _ := a.Rested(t0)
	require.True(t, rested)
}

// With a limit above 1, the actor hands out one invocation at a time: the
// next only once the previous has started.
func TestLimitOneRequestAtATime(t *testing.T) {
	for _, limit := range []int{2, 3, 5} {
		a := actor.New[int](limit, 0, 0)
		require.True(t, a.Tracked())
		fill(a, 10)
		for i := range limit {
			n, _ := a.Next(t0)
			require.NotNil(t, n)
			again, _ := a.Next(t0)
			require.Nil(t, again, "the previous has not started")
			require.True(t, a.Started(t0))
			require.Equal(t, i+1, a.InFlight())
		}
		n, _ := a.Next(t0)
		require.Nil(t, n, "at the limit")
		require.True(t, a.Busy())
		require.True(t, a.Done())
		n, _ = a.Next(t0)
		require.NotNil(t, n, "a slot freed")
		require.True(t, a.Withdraw())
		for range limit - 1 {
			require.True(t, a.Done())
		}
		require.False(t, a.Done(), "nothing started is in flight")
		require.False(t, a.Withdraw(), "nothing taken waits to start")
	}
}

func TestLimitBelowOne(t *testing.T) {
	for _, limit := range []int{-3, 0, 1} {
		a := actor.New[int](limit, 0, 0)
		require.Equal(t, 1, a.Limit())
		require.False(t, a.Tracked())
	}
}

// With a rate, starts are spaced: Next waits for a token, and the token is
// spent at the start time.
func TestRate(t *testing.T) {
	a := actor.New[int](1, rate.Limit(5), 1) // one start per 200ms
	require.True(t, a.Rated())
	fill(a, 3)
	n, _ := a.Next(t0)
	require.NotNil(t, n)
	start := t0.Add(30 * time.Millisecond) // it waited 30ms for a slot
	require.True(t, a.Started(start))
	require.True(t, a.Done())

	n, due := a.Next(t0.Add(40 * time.Millisecond))
	require.Nil(t, n)
	require.Equal(t, start.Add(200*time.Millisecond), due, "200ms after the actual start")
	n, _ = a.Next(due)
	require.NotNil(t, n)
	require.True(t, a.Started(due))
	require.True(t, a.Done())

	// The third is taken when its token is due, but never starts.
	n, due3 := a.Next(due)
	require.Nil(t, n)
	n, _ = a.Next(due3)
	require.NotNil(t, n)
	require.True(t, a.Withdraw(), "no token spent")

	// Idle, with the bucket refilling since the second start.
	a2 := actor.New[int](1, rate.Limit(5), 1)
	a2.Enqueue(node(0))
	n, _ = a2.Next(t0)
	a2.Started(t0)
	a2.Done()
	rested, at := a2.Rested(t0.Add(50 * time.Millisecond))
	require.False(t, rested, "idle, but its bucket is empty")
	require.Equal(t, t0.Add(200*time.Millisecond), at)
	rested, _ = a2.Rested(at)
	require.True(t, rested)
}

func TestBurst(t *testing.T) {
	a := actor.New[int](3, rate.Limit(1), 3)
	fill(a, 5)
	for range 3 { // a burst of three starts at once
		n, _ := a.Next(t0)
		require.NotNil(t, n)
		a.Started(t0)
	}
	for range 3 {
		a.Done()
	}
	n, due := a.Next(t0)
	require.Nil(t, n)
	require.Equal(t, t0.Add(time.Second), due)
}

func TestRemoveAndPop(t *testing.T) {
	a := actor.New[int](1, 0, 0)
	n0, n1, n2 := node(0), node(1), node(2)
	a.Enqueue(n0)
	a.Enqueue(n1)
	a.Enqueue(n2)
	require.True(t, a.Remove(n1))
	require.False(t, a.Remove(n1))
	require.Same(t, n0, a.Pop(), "Pop ignores the limit and counts nothing")
	require.Zero(t, a.InFlight())
	n, _ := a.Next(t0)
	require.Same(t, n2, n)
	require.True(t, a.Done())
	require.True(t, a.Idle())
}

func TestConfigure(t *testing.T) {
	a := actor.New[int](1, 0, 0)
	a.Enqueue(node(0))
	require.False(t, a.Configure(4, 0, 0), "not idle")
	n, _ := a.Next(t0)
	require.NotNil(t, n)
	a.Done()
	require.True(t, a.Configure(4, rate.Inf, 0))
	require.Equal(t, 4, a.Limit())
	require.False(t, a.Rated(), "rate.Inf means no rate")
}

func TestOffer(t *testing.T) {
	a := actor.New[int](1, rate.Limit(1), 1)
	first, second, third := node(1), node(2), node(3)
	require.True(t, a.Offer(first, t0), "idle key: handed out at once")
	require.False(t, first.Queued())
	require.Equal(t, 1, a.InFlight())
	require.False(t, a.Offer(second, t0), "busy: queued")
	require.True(t, second.Queued())
	a.Started(t0)
	a.Done()
	require.False(t, a.Offer(third, t0), "work queued ahead: queued behind it")
	n, due := a.Next(t0)
	require.Nil(t, n, "no token yet")
	require.Equal(t, t0.Add(time.Second), due)
	n, _ = a.Next(due)
	require.Same(t, second, n)
}

// Room counts places: queued and in flight together below Limit. A taken
// invocation that has not started holds a place; it does not fill the key.
func TestRoom(t *testing.T) {
	a := actor.New[int](3, 0, 0)
	require.True(t, a.Room(t0))
	require.True(t, a.Offer(node(0), t0), "handed out")
	require.True(t, a.Room(t0), "one place of three, not yet started")
	require.False(t, a.Offer(node(1), t0), "queued: one at a time until it starts")
	require.True(t, a.Room(t0), "two places of three")
	require.False(t, a.Offer(node(2), t0))
	require.False(t, a.Room(t0), "three places of three")
	require.True(t, a.Started(t0))
	n, _ := a.Next(t0)
	require.Equal(t, 1, n.Value)
	require.False(t, a.Room(t0), "still three: moving from queued to in flight frees nothing")
	require.True(t, a.Started(t0))
	require.True(t, a.Done())
	require.True(t, a.Room(t0), "one ended")

	var one actor.Actor[int] // Limit 1: room only when idle
	require.True(t, one.Room(t0))
	one.Enqueue(node(0))
	require.False(t, one.Room(t0))
}

// With a rate, Room also needs a token for every invocation not started
// yet, plus the new one: a Burst of 3 takes three offers in a row.
func TestRoomRate(t *testing.T) {
	a := actor.New[int](8, rate.Limit(1), 3)
	for i := range 3 {
		require.True(t, a.Room(t0), "offer %d", i)
		a.Offer(node(i), t0)
	}
	require.False(t, a.Room(t0), "three tokens promised to three invocations")
	require.True(t, a.Started(t0))
	require.False(t, a.Room(t0), "a token spent by a start is still spent")
	require.True(t, a.Room(t0.Add(time.Second)), "a new token")
}

// A rate so low that its next token is further away than a time.Duration
// can say still holds back the next start; an idle actor waiting for such
// a refill is not rested.
func TestTinyRate(t *testing.T) {
	a := actor.New[int](2, rate.Limit(1e-10), 1)
	require.True(t, a.Offer(node(0), t0))
	require.True(t, a.Started(t0))
	require.True(t, a.Done())
	require.False(t, a.Offer(node(1), t0), "no token for 317 years")
	n, due := a.Next(t0.Add(time.Hour))
	require.Nil(t, n)
	require.Equal(t, t0.Add(time.Hour).Add(time.Duration(math.MaxInt64)), due, "as far as a Duration goes")
	require.NotNil(t, a.Pop())
	rested, at := a.Rested(t0)
	require.False(t, rested)
	require.True(t, at.After(t0.AddDate(290, 0, 0)))

	big := actor.New[int](2, rate.Limit(1e-9), 20)
	for range 20 {
		require.True(t, big.Offer(node(0), t0))
		require.True(t, big.Started(t0))
		require.True(t, big.Done())
	}
	rested, _ = big.Rested(t0.Add(time.Hour))
	require.False(t, rested, "20 tokens at 1e-9 per second take 634 years")
}
