// Package actor is the state of one key: its mailbox, the work it has in
// flight, and its rate.
//
// An Actor owns no goroutine and no lock. Exactly one owner (perkey's
// dispatcher) drives it: Offer hands new work out at once when the key is
// idle and may start it, or puts it in the mailbox; Next takes the head out
// when the key may start another invocation; Started reports that a taken
// invocation began to run, and Done or Withdraw that it ended. Room tells
// an owner that drops work for busy keys whether the key can take one
// more.
// Because nothing else takes work out of the mailbox, the number of
// invocations in flight for the key never exceeds the actor's limit:
// serial execution per key follows from the structure, not from a lock
// held around the work.
//
// Guarantees:
//   - FIFO: Next hands out work in the order it was enqueued.
//   - Bounded: between Next and Done, at most Limit invocations are in flight
//     (Limit 1 gives serial execution).
//   - One request at a time: when starts are tracked (Limit above 1, or a
//     rate), Next hands out one invocation and then nothing more until it
//     has Started, so a key holds one place at a time in whatever queue its
//     owner puts taken work in.
//   - Rated: with a rate, every Started consumes a token at its start time,
//     and Next hands out nothing while no token is available, so starts are
//     spaced to at most the rate, with bursts up to Burst. A token due
//     further away than the longest time.Duration (about 292 years) is
//     reported as due that far away: a tiny rate holds, it never overflows
//     into "due now".
//   - Room is counted in places: the key has room for one more invocation
//     while those it holds, queued and in flight together, are fewer than
//     Limit and, with a rate, the tokens available now cover every one of
//     them that has not started yet, plus the new one. An invocation taken
//     but not yet started holds a place; it does not fill the key. So a key
//     with room for N takes N offers in a row, however many of them wait
//     for the one-at-a-time rule above, and what it took will start
//     without waiting for any of its in-flight work to end.
//   - Cheap when idle: an actor that is Rested holds nothing that a fresh
//     one would not; its owner may forget it, or Configure it for reuse.
package actor

import (
	"iter"
	"math"
	"time"

	"golang.org/x/time/rate"

	"github.com/perkey/perkey/mailbox"
)

// Actor is the state of one key. The zero Actor is idle, with a limit of one
// invocation in flight and no rate. An Actor is not safe for concurrent use.
type Actor[T any] struct {
	mb       mailbox.Queue[T]
	limit    int
	inflight int           // taken by Next, not yet Done or Withdrawn
	waiting  int           // taken by Next, not yet Started (tracked actors only)
	track    bool          // starts are reported: Limit above 1, or a rate
	lim      *rate.Limiter // nil without a rate
	last     time.Time     // the latest start given to the limiter
}

// New returns an idle actor that allows limit invocations in flight (below
// 1 means 1) and r starts per second with bursts of burst (r <= 0 or
// rate.Inf means no rate; burst below 1 means 1).
func New[T any](limit int, r rate.Limit, burst int) *Actor[T] {
	a := &Actor[T]{}
	a.Configure(limit, r, burst)
	return a
}

// Configure makes an idle actor ready for use with new settings, as New
// describes them. It returns false, and changes nothing, if the actor is
// not idle.
func (a *Actor[T]) Configure(limit int, r rate.Limit, burst int) bool {
	if !a.Idle() {
		return false
	}
	a.limit = max(limit, 1)
	a.lim, a.last = nil, time.Time{}
	if r > 0 && r != rate.Inf {
		a.lim = rate.NewLimiter(r, max(burst, 1))
	}
	a.track = a.limit > 1 || a.lim != nil
	return true
}

// Limit returns how many invocations may be in flight at once.
func (a *Actor[T]) Limit() int { return max(a.limit, 1) }

// Tracked reports whether the owner must call Started for every invocation
// that Next hands out and that begins to run.
func (a *Actor[T]) Tracked() bool { return a.track }

// Rated reports whether the actor has a rate, so that Next needs the time.
func (a *Actor[T]) Rated() bool { return a.lim != nil }

// Enqueue appends n to the mailbox. It returns false, and changes nothing, if
// n is nil or already queued somewhere.
func (a *Actor[T]) Enqueue(n *mailbox.Node[T]) bool { return a.mb.Push(n) }

// Remove takes a queued node out of the mailbox, for work that was cancelled
// or expired before it was taken. It returns false if n is not in this
// actor's mailbox.
func (a *Actor[T]) Remove(n *mailbox.Node[T]) bool { return a.mb.Remove(n) }

// Pop takes the head of the mailbox without counting it in flight, for work
// that ends without running (a shutdown, say). It returns nil when the
// mailbox is empty.
func (a *Actor[T]) Pop() *mailbox.Node[T] { return a.mb.Pop() }

// All returns an iterator over the mailbox, head first. The actor must not
// change while the iteration runs.
func (a *Actor[T]) All() iter.Seq[*mailbox.Node[T]] { return a.mb.All() }

// Peek returns the head of the mailbox without taking it, or nil if the
// mailbox is empty.
func (a *Actor[T]) Peek() *mailbox.Node[T] { return a.mb.Peek() }

// Busy reports whether the key is at its limit: another invocation could not
// be taken now, whatever the mailbox holds.
func (a *Actor[T]) Busy() bool { return a.inflight >= a.Limit() }

// Room reports whether the key has a place for one more invocation at now,
// behind everything it holds: fewer than Limit invocations queued and in
// flight together, and, with a rate, a token at now for each queued or
// taken-but-not-started invocation plus one (now is ignored without a
// rate). It changes nothing: Offer the invocation to take the place.
func (a *Actor[T]) Room(now time.Time) bool {
	held := a.mb.Len() + a.inflight
	if held >= a.Limit() {
		return false
	}
	if a.lim == nil {
		return true
	}
	unstarted := a.mb.Len() + a.waiting
	return a.lim.TokensAt(laterOf(now, a.last)) >= float64(unstarted+1)
}

// Next takes the head of the mailbox and counts it in flight, if the key may
// start another invocation at now: it is below its limit, no other taken
// invocation waits to start (tracked actors), and a token is available
// (rated actors; now is ignored otherwise). It returns nil when the mailbox
// is empty or the key must wait; when only the rate holds it back, it also
// returns the time a token will be available.
func (a *Actor[T]) Next(now time.Time) (*mailbox.Node[T], time.Time) {
	if a.Busy() || a.waiting > 0 || a.mb.Len() == 0 {
		return nil, time.Time{}
	}
	if a.lim != nil {
		if at := a.tokenDue(now, 1); at.After(now) {
			return nil, at
		}
	}
	n := a.mb.Pop()
	a.inflight++
	if a.track {
		a.waiting++
	}
	return n, time.Time{}
}

// Offer hands n out at once, as Next would, if the mailbox is empty and the
// key may start another invocation at now; otherwise it enqueues n. It
// reports whether n was handed out. It is Enqueue then Next, without
// touching the mailbox in the common case of an idle key.
func (a *Actor[T]) Offer(n *mailbox.Node[T], now time.Time) bool {
	if a.mb.Len() > 0 || a.Busy() || a.waiting > 0 || (a.lim != nil && a.tokenDue(now, 1).After(now)) {
		a.mb.Push(n)
		return false
	}
	a.inflight++
	if a.track {
		a.waiting++
	}
	return true
}

// Started reports that an invocation handed out by Next began to run at at;
// with a rate, it consumes a token then. It returns false, and changes
// nothing, if no taken invocation waits to start or the actor is not
// tracked.
func (a *Actor[T]) Started(at time.Time) bool {
	if !a.track || a.waiting == 0 {
		return false
	}
	a.waiting--
	if a.lim != nil {
		// Reports may arrive out of start order; the limiter's clock must
		// not run backwards.
		if at.Before(a.last) {
			at = a.last
		}
		a.last = at
		a.lim.AllowN(at, 1)
	}
	return true
}

// Done reports that an invocation taken by Next, and Started if the actor is
// tracked, has ended. It returns false, and changes nothing, if nothing is
// in flight.
func (a *Actor[T]) Done() bool {
	if a.inflight-a.waiting == 0 {
		return false
	}
	a.inflight--
	return true
}

// Withdraw reports that an invocation taken by Next ended before it
// started (cancelled or expired while waiting for a slot). It returns
// false, and changes nothing, if nothing taken waits to start.
func (a *Actor[T]) Withdraw() bool {
	if a.track {
		if a.waiting == 0 {
			return false
		}
		a.waiting--
	} else if a.inflight == 0 {
		return false
	}
	a.inflight--
	return true
}

// Queued returns how many nodes wait in the mailbox.
func (a *Actor[T]) Queued() int { return a.mb.Len() }

// InFlight returns how many invocations taken by Next have not ended.
func (a *Actor[T]) InFlight() int { return a.inflight }

// Idle reports whether the actor has nothing queued and nothing in flight.
func (a *Actor[T]) Idle() bool { return a.inflight == 0 && a.mb.Len() == 0 }

// Rested reports whether the actor is idle and its rate, if any, has
// refilled to its burst at now, so that forgetting it loses nothing: a new
// actor would behave the same. If it is idle but refilling, Rested also
// returns when it will be rested.
func (a *Actor[T]) Rested(now time.Time) (bool, time.Time) {
	if !a.Idle() {
		return false, time.Time{}
	}
	if a.lim != nil {
		if at := a.tokenDue(now, float64(a.lim.Burst())); at.After(now) {
			return false, at
		}
	}
	return true, time.Time{}
}

// tokenDue returns when the limiter will hold want tokens: now, or later,
// but never further than maxWait after now: a wait too long for a
// time.Duration must not overflow into a time in the past.
func (a *Actor[T]) tokenDue(now time.Time, want float64) time.Time {
	now = laterOf(now, a.last)
	missing := want - a.lim.TokensAt(now)
	if missing <= 0 {
		return now
	}
	nanos := math.Ceil(missing / float64(a.lim.Limit()) * float64(time.Second))
	if !(nanos < float64(maxWait)) { // also NaN
		return now.Add(maxWait)
	}
	return now.Add(time.Duration(nanos))
}

// maxWait is the longest wait tokenDue reports: the longest time.Duration,
// about 292 years.
const maxWait = time.Duration(math.MaxInt64)

func laterOf(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}
