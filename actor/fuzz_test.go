package actor_test

import (
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/perkey/perkey/actor"
	"github.com/perkey/perkey/mailbox"
)

// actorModel is the reference FuzzActor checks an Actor against. The
// limit, the start tracking, FIFO order and the counts are modelled
// exactly; the rate is checked by its promises (see FuzzActor).
type actorModel struct {
	limit    int
	rate     rate.Limit // 0 without a rate
	burst    int
	queue    []int // node IDs, head first
	inflight int
	waiting  int // taken, not Started (tracked actors)

	starts []time.Time // token-consuming starts, for the rate check
	// A Next held back by the rate promised a token at nextDue; a Rested
	// that said "not yet" promised rest at restDue. A Started voids both.
	nextDue, restDue time.Time
}

func (m *actorModel) tracked() bool { return m.limit > 1 || m.rate > 0 }
func (m *actorModel) idle() bool    { return m.inflight == 0 && len(m.queue) == 0 }

// configure sets what New or Configure would from the raw arguments.
func (m *actorModel) configure(limit int, r rate.Limit, burst int) {
	m.limit = max(limit, 1)
	m.rate, m.burst = 0, 0
	if r > 0 && r != rate.Inf {
		m.rate, m.burst = r, max(burst, 1)
	}
	m.starts, m.nextDue, m.restDue = nil, time.Time{}, time.Time{}
}

// fuzzRates are the rates FuzzActor picks from: none, slow, fast, Inf,
// and one so slow that its next token is further away than a
// time.Duration can say.
var fuzzRates = []rate.Limit{0, 2, 10, 1000, rate.Inf, 1e-10}

// FuzzActor runs a byte-coded sequence of Enqueue, Offer, Next, Started,
// Done, Withdraw, Remove, Pop, Configure, Rested, Room and clock steps on
// one Actor and checks it against actorModel after every step: FIFO
// hand-out (Offer hands out only to an idle, empty key, and queues
// otherwise), at most Limit in flight, one taken-but-not-started
// invocation at a time when starts are tracked, Room counting places
// (queued and in flight together below Limit, and a token for every one
// not yet started plus one), the return values of every method, Peek and
// the gauges.
// With a rate, it checks the rate's promises instead of its arithmetic:
// Next never hands out work beyond what a token bucket of Rate and Burst
// allows (counting starts in every window), the time Next returns when the
// rate holds it back is in the future and a token is there at that time,
// and Rested keeps its "rested at" promise.
func FuzzActor(f *testing.F) {
	f.Add(byte(0), []byte{0x00, 0x00, 0x01, 0x03, 0x01, 0x04})
	f.Add(byte(0x1a), []byte{0x00, 0x00, 0x00, 0x01, 0x02, 0x01, 0x02, 0x03, 0x07, 0x01})
	f.Add(byte(0x0b), []byte{0x00, 0x00, 0x01, 0x02, 0x03, 0x01, 0x47, 0x01, 0x09})
	// A rate of 2 per second: the second start waits for its token, and
	// the idle actor rests once the bucket is full again.
	f.Add(byte(0x04), []byte{0x00, 0x00, 0x02, 0x03, 0x04, 0x02, 0x09, 0x97, 0x02, 0x03, 0x04, 0x09, 0x77, 0x09})
	// Offer: to an idle key (handed out), a busy one (queued), then under
	// a rate (held back until the token is due).
	f.Add(byte(0x01), []byte{0x0b, 0x0b, 0x0b, 0x03, 0x04, 0x02, 0x03, 0x04, 0x1b, 0x02})
	f.Add(byte(0x04), []byte{0x0b, 0x03, 0x04, 0x0b, 0x97, 0x0b, 0x03, 0x04, 0x09})
	// Room with Limit 3: three offers in a row all have a place, although
	// only the first is handed out before it starts; the fourth has none.
	f.Add(byte(0x03), []byte{0x0b, 0x0c, 0x0b, 0x0c, 0x0b, 0x0c, 0x0b, 0x03, 0x02, 0x0c, 0x03, 0x02, 0x04, 0x0c})
	// Room with a Burst of 3 at 2 per second and Limit 3: a token for
	// every place, then none until the clock moves.
	f.Add(byte(0x67), []byte{0x0b, 0x0c, 0x0b, 0x0c, 0x0b, 0x0c, 0x03, 0x02, 0x03, 0x02, 0x03, 0x04, 0x04, 0x04, 0x0c, 0x77, 0x0c})
	// A rate so tiny that the next token is centuries away: held back,
	// never rested, no room.
	f.Add(byte(0x16), []byte{0x0b, 0x03, 0x04, 0x0b, 0x03, 0x02, 0x09, 0x0c, 0xf7, 0x02, 0x03, 0x09})
	f.Fuzz(func(t *testing.T, cfg byte, ops []byte) {
		if len(ops) > 256 {
			ops = ops[:256]
		}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		limit, r, burst := int(cfg&3), fuzzRates[int(cfg>>2)%len(fuzzRates)], int(cfg>>5)
		var m actorModel
		m.configure(limit, r, burst)
		a := actor.New[int](limit, r, burst)
		var nodes []*mailbox.Node[int] // every node ever made; its Value is its index
		out := map[int]bool{}          // nodes taken by Next or Pop, not queued
		for step, op := range ops {
			arg := int(op >> 4)
			switch op & 15 {
			case 0, 1: // Enqueue a new node, or put back one taken earlier
				n := &mailbox.Node[int]{Value: len(nodes)}
				if ids := slices.Sorted(maps.Keys(out)); op&1 == 1 && len(ids) > 0 {
					n = nodes[ids[arg%len(ids)]]
				}
				if n.Value == len(nodes) {
					nodes = append(nodes, n)
				}
				if !a.Enqueue(n) {
					t.Fatalf("step %d: Enqueue(%d) refused", step, n.Value)
				}
				delete(out, n.Value)
				m.queue = append(m.queue, n.Value)
				if a.Enqueue(n) {
					t.Fatalf("step %d: a queued node was enqueued twice", step)
				}
			case 2: // Next
				n, due := a.Next(now)
				if want := m.next(t, step, now, n, due); want >= 0 {
					out[want] = true
				}
			case 3: // Started
				want := m.tracked() && m.waiting > 0
				if got := a.Started(now); got != want {
					t.Fatalf("step %d: Started = %v, want %v (%+v)", step, got, want, m)
				}
				if want {
					m.waiting--
					if m.rate > 0 {
						m.starts = append(m.starts, now)
						m.nextDue, m.restDue = time.Time{}, time.Time{}
						m.checkRate(t, step)
					}
				}
			case 4: // Done
				want := m.inflight-m.waiting > 0
				if got := a.Done(); got != want {
					t.Fatalf("step %d: Done = %v, want %v (%+v)", step, got, want, m)
				}
				if want {
					m.inflight--
				}
			case 5: // Withdraw
				want := m.waiting > 0 || (!m.tracked() && m.inflight > 0)
				if got := a.Withdraw(); got != want {
					t.Fatalf("step %d: Withdraw = %v, want %v (%+v)", step, got, want, m)
				}
				if want {
					m.inflight--
					if m.waiting > 0 {
						m.waiting--
					}
				}
			case 6: // Remove a node, queued or not
				if len(nodes) == 0 {
					continue
				}
				id := arg % len(nodes)
				want := slices.Contains(m.queue, id)
				if got := a.Remove(nodes[id]); got != want {
					t.Fatalf("step %d: Remove(%d) = %v, want %v", step, id, got, want)
				}
				if want {
					m.queue = slices.DeleteFunc(m.queue, func(v int) bool { return v == id })
					out[id] = true
				}
			case 7: // the clock moves on, by up to 1.5s
				now = now.Add(time.Duration(arg*arg) * 7 * time.Millisecond)
			case 8: // Pop: the head, not counted in flight
				n := a.Pop()
				if len(m.queue) == 0 {
					if n != nil {
						t.Fatalf("step %d: Pop of an empty mailbox = %d", step, n.Value)
					}
					continue
				}
				if n == nil || n.Value != m.queue[0] {
					t.Fatalf("step %d: Pop = %v, want %d", step, n, m.queue[0])
				}
				m.queue = m.queue[1:]
				out[n.Value] = true
			case 9: // Rested
				m.rested(t, step, now, a)
			case 10: // Configure, which only an idle actor takes
				nl, nr, nb := arg&3, fuzzRates[(arg>>2)%len(fuzzRates)], arg>>1
				want := m.idle()
				if got := a.Configure(nl, nr, nb); got != want {
					t.Fatalf("step %d: Configure = %v on an actor idle=%v", step, got, want)
				}
				if want {
					m.configure(nl, nr, nb)
				}
			case 12: // Room
				m.room(t, step, now, a)
			case 11: // Offer a new node, or one taken earlier
				n := &mailbox.Node[int]{Value: len(nodes)}
				if ids := slices.Sorted(maps.Keys(out)); arg&1 == 1 && len(ids) > 0 {
					n = nodes[ids[arg%len(ids)]]
				}
				if n.Value == len(nodes) {
					nodes = append(nodes, n)
				}
				delete(out, n.Value)
				m.offer(t, step, now, a, n)
				if !n.Queued() {
					out[n.Value] = true
				}
			default: // read-only: checked below
			}
			m.compare(t, step, a)
		}
	})
}

// next checks a's answer to Next at now against the model and returns the
// ID of the node taken, or -1.
func (m *actorModel) next(t *testing.T, step int, now time.Time, n *mailbox.Node[int], due time.Time) int {
	t.Helper()
	if m.inflight >= m.limit || m.waiting > 0 || len(m.queue) == 0 {
		if n != nil || !due.IsZero() {
			t.Fatalf("step %d: Next = %v, %v; the key must wait (%+v)", step, n, due, m)
		}
		return -1
	}
	if n == nil {
		if m.rate == 0 {
			t.Fatalf("step %d: Next refused without a rate (%+v)", step, m)
		}
		if !due.After(now) {
			t.Fatalf("step %d: Next held back by the rate until %v, not after now %v", step, due, now)
		}
		if !m.nextDue.IsZero() && !now.Before(m.nextDue) {
			t.Fatalf("step %d: Next promised a token at %v, none at %v", step, m.nextDue, now)
		}
		m.nextDue = due
		return -1
	}
	if !due.IsZero() {
		t.Fatalf("step %d: Next handed out %d with a due time %v", step, n.Value, due)
	}
	if n.Value != m.queue[0] {
		t.Fatalf("step %d: Next = %d, want the head %d (queue %v)", step, n.Value, m.queue[0], m.queue)
	}
	m.queue = m.queue[1:]
	m.inflight++
	if m.tracked() {
		m.waiting++
	}
	return n.Value
}

// offer checks Offer against Enqueue-then-Next: n is handed out at once
// when the mailbox is empty and the key may start, and queued otherwise.
// Whether a rated key has a token is checked by the rate's promises.
func (m *actorModel) offer(t *testing.T, step int, now time.Time, a *actor.Actor[int], n *mailbox.Node[int]) {
	t.Helper()
	got := a.Offer(n, now)
	free := len(m.queue) == 0 && m.inflight < m.limit && m.waiting == 0
	switch {
	case got && !free:
		t.Fatalf("step %d: Offer(%d) handed out; the key must wait (%+v)", step, n.Value, m)
	case got:
		if n.Queued() {
			t.Fatalf("step %d: Offer(%d) handed out a node it also queued", step, n.Value)
		}
		m.inflight++
		if m.tracked() {
			m.waiting++
		}
	case free && m.rate == 0:
		t.Fatalf("step %d: Offer(%d) queued on a free key without a rate (%+v)", step, n.Value, m)
	default:
		if !n.Queued() {
			t.Fatalf("step %d: Offer(%d) neither handed out nor queued", step, n.Value)
		}
		m.queue = append(m.queue, n.Value)
		if free { // only the rate held it back: Next agrees, with a time
			got, due := a.Next(now)
			if got != nil || !due.After(now) {
				t.Fatalf("step %d: Offer held %d back for the rate, Next = %v, %v", step, n.Value, got, due)
			}
			if !m.nextDue.IsZero() && !now.Before(m.nextDue) {
				t.Fatalf("step %d: Next promised a token at %v, Offer found none at %v", step, m.nextDue, now)
			}
			m.nextDue = due
		}
	}
}

// rested checks Rested: never while busy, and its promise.
func (m *actorModel) rested(t *testing.T, step int, now time.Time, a *actor.Actor[int]) {
	t.Helper()
	ok, at := a.Rested(now)
	switch {
	case !m.idle():
		if ok || !at.IsZero() {
			t.Fatalf("step %d: Rested = %v, %v on a busy actor", step, ok, at)
		}
	case m.rate == 0:
		if !ok {
			t.Fatalf("step %d: an idle actor without a rate is not rested", step)
		}
	case ok:
		// Rested: a full bucket, so the last Burst starts fit in any window
		// ending now.
		if len(m.starts) > 0 && float64(m.burst) > m.tokensAtMost(now) {
			t.Fatalf("step %d: Rested at %v, but the bucket cannot be full yet (%+v)", step, now, m)
		}
	default:
		if !at.After(now) {
			t.Fatalf("step %d: not rested until %v, not after now %v", step, at, now)
		}
		if !m.restDue.IsZero() && !now.Before(m.restDue) {
			t.Fatalf("step %d: Rested promised rest at %v, not rested at %v", step, m.restDue, now)
		}
		m.restDue = at
	}
}

// room checks Room against the places the model's key holds: queued and
// in flight together below the limit, and with a rate, tokens at now for
// every invocation not started yet plus the new one (within a rounding
// tolerance of the bucket's arithmetic).
func (m *actorModel) room(t *testing.T, step int, now time.Time, a *actor.Actor[int]) {
	t.Helper()
	got := a.Room(now)
	places := len(m.queue)+m.inflight < m.limit
	if m.rate == 0 || !places {
		if got != places {
			t.Fatalf("step %d: Room = %v with %d queued and %d in flight of %d (%+v)", step, got, len(m.queue), m.inflight, m.limit, m)
		}
		return
	}
	need := float64(len(m.queue) + m.waiting + 1)
	tokens := m.tokens(now)
	switch {
	case got && tokens+1e-3 < need:
		t.Fatalf("step %d: Room with %.3f tokens for %v unstarted invocations plus one (%+v)", step, tokens, need-1, m)
	case !got && tokens-1e-3 >= need:
		t.Fatalf("step %d: no Room with %.3f tokens for %v unstarted invocations plus one (%+v)", step, tokens, need-1, m)
	}
}

// tokens is what a bucket of the model's rate and burst holds at now,
// after the starts so far: the bucket started full.
func (m *actorModel) tokens(now time.Time) float64 {
	tokens := float64(m.burst)
	last := time.Time{}
	for i, s := range m.starts {
		if i > 0 {
			tokens = math.Min(float64(m.burst), tokens+s.Sub(last).Seconds()*float64(m.rate))
		}
		tokens--
		last = s
	}
	if len(m.starts) == 0 {
		return tokens
	}
	return math.Min(float64(m.burst), tokens+now.Sub(last).Seconds()*float64(m.rate))
}

// tokensAtMost is the tokens the bucket holds at now, plus a rounding
// tolerance.
func (m *actorModel) tokensAtMost(now time.Time) float64 { return m.tokens(now) + 1e-3 }

// checkRate checks that the starts so far fit a token bucket: any k
// consecutive starts span at least (k-Burst)/Rate.
func (m *actorModel) checkRate(t *testing.T, step int) {
	t.Helper()
	last := len(m.starts) - 1
	for first := last - m.burst; first >= 0; first-- {
		k := last - first + 1
		need := float64(k-m.burst) / float64(m.rate) // seconds: a tiny rate overflows a Duration
		if span := m.starts[last].Sub(m.starts[first]); span.Seconds()+1e-6 < need {
			t.Fatalf("step %d: %d starts within %v at rate %v burst %d (need %vs): %v",
				step, k, span, m.rate, m.burst, need, m.starts)
		}
	}
}

// compare checks the actor's gauges and mailbox against the model.
func (m *actorModel) compare(t *testing.T, step int, a *actor.Actor[int]) {
	t.Helper()
	var queue []int
	for n := range a.All() {
		queue = append(queue, n.Value)
	}
	head := a.Peek()
	switch {
	case (head == nil) != (len(m.queue) == 0) || (head != nil && head.Value != m.queue[0]):
		t.Fatalf("step %d: Peek = %v, want the head of %v", step, head, m.queue)
	case !slices.Equal(queue, m.queue):
		t.Fatalf("step %d: mailbox %v, want %v", step, queue, m.queue)
	case a.Queued() != len(m.queue):
		t.Fatalf("step %d: Queued = %d, want %d", step, a.Queued(), len(m.queue))
	case a.InFlight() != m.inflight:
		t.Fatalf("step %d: InFlight = %d, want %d", step, a.InFlight(), m.inflight)
	case a.Limit() != m.limit:
		t.Fatalf("step %d: Limit = %d, want %d", step, a.Limit(), m.limit)
	case a.Busy() != (m.inflight >= m.limit):
		t.Fatalf("step %d: Busy = %v with %d of %d in flight", step, a.Busy(), m.inflight, m.limit)
	case a.Idle() != m.idle():
		t.Fatalf("step %d: Idle = %v, want %v", step, a.Idle(), m.idle())
	case a.Tracked() != m.tracked():
		t.Fatalf("step %d: Tracked = %v, want %v", step, a.Tracked(), m.tracked())
	case a.Rated() != (m.rate > 0):
		t.Fatalf("step %d: Rated = %v, want %v", step, a.Rated(), m.rate > 0)
	case m.inflight > m.limit:
		t.Fatalf("step %d: %d in flight over the limit %d", step, m.inflight, m.limit)
	}
}
