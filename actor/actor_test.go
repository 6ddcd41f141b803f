package actor_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/actor"
	"github.com/perkey/perkey/mailbox"
)

func node(v int) *mailbox.Node[int] { return &mailbox.Node[int]{Value: v} }

func TestSerialByDefault(t *testing.T) {
	var a actor.Actor[int] // zero value: limit 1
	require.True(t, a.Idle())
	require.Equal(t, 1, a.Limit())
	for i := range 3 {
		require.True(t, a.Enqueue(node(i)))
	}
	first := a.Next()
	require.Equal(t, 0, first.Value)
	require.True(t, a.Busy())
	require.Nil(t, a.Next(), "one in flight at a time")
	require.Equal(t, 2, a.Queued())
	require.True(t, a.Done())
	require.Equal(t, 1, a.Next().Value, "FIFO")
	require.True(t, a.Done())
	require.Equal(t, 2, a.Next().Value)
	require.False(t, a.Idle())
	require.True(t, a.Done())
	require.True(t, a.Idle())
	require.False(t, a.Done(), "nothing in flight")
	require.Nil(t, a.Next())
}

func TestLimit(t *testing.T) {
	tests := []struct{ limit, want int }{{-3, 1}, {0, 1}, {1, 1}, {3, 3}}
	for _, tt := range tests {
		a := actor.New[int](tt.limit)
		for i := range 10 {
			a.Enqueue(node(i))
		}
		taken := 0
		for a.Next() != nil {
			taken++
		}
		require.Equal(t, tt.want, taken, "limit %d", tt.limit)
		require.Equal(t, tt.want, a.InFlight())
		require.True(t, a.Busy())
		a.Done()
		require.NotNil(t, a.Next(), "a slot freed")
	}
}

func TestRemoveAndPop(t *testing.T) {
	a := actor.New[int](1)
	n0, n1, n2 := node(0), node(1), node(2)
	a.Enqueue(n0)
	a.Enqueue(n1)
	a.Enqueue(n2)
	require.True(t, a.Remove(n1))
	require.False(t, a.Remove(n1))
	require.Same(t, n0, a.Pop(), "Pop ignores the limit and counts nothing")
	require.Zero(t, a.InFlight())
	require.Same(t, n2, a.Next())
	require.True(t, a.Done())
	require.True(t, a.Idle())
}

func TestReset(t *testing.T) {
	a := actor.New[int](1)
	a.Enqueue(node(0))
	require.False(t, a.Reset(4), "not idle")
	require.NotNil(t, a.Next())
	a.Done()
	require.True(t, a.Reset(4))
	require.Equal(t, 4, a.Limit())
}
