// Package actor is the state of one key: its mailbox and the work it has in
// flight.
//
// An Actor owns no goroutine and no lock. Exactly one owner (perkey's
// dispatcher) drives it: Enqueue puts work in the mailbox, Next takes the
// head out when the key may start another invocation, and Done reports that
// an invocation taken by Next has ended. Because nothing else can take work
// out of the mailbox, the number of invocations in flight for the key never
// exceeds the actor's limit: serial execution per key follows from the
// structure, not from a lock held around the work.
//
// Guarantees:
//   - FIFO: Next hands out work in the order it was enqueued.
//   - Bounded: between Next and Done, at most Limit invocations are in flight
//     (Limit 1 gives serial execution).
//   - Cheap when idle: an Idle actor holds no work; its owner may forget it,
//     or Reset it and reuse it for another key.
package actor

import "github.com/perkey/perkey/mailbox"

// Actor is the state of one key. The zero Actor is idle, with a limit of one
// invocation in flight. An Actor is not safe for concurrent use.
type Actor[T any] struct {
	mb       mailbox.Queue[T]
	limit    int
	inflight int
}

// New returns an idle actor that allows limit invocations in flight; a limit
// below 1 means 1.
func New[T any](limit int) *Actor[T] {
	a := &Actor[T]{}
	a.Reset(limit)
	return a
}

// Reset makes an idle actor ready for reuse with a new limit (below 1 means
// 1). It returns false, and changes nothing, if the actor is not idle.
func (a *Actor[T]) Reset(limit int) bool {
	if !a.Idle() {
		return false
	}
	a.limit = max(limit, 1)
	return true
}

// Limit returns how many invocations may be in flight at once.
func (a *Actor[T]) Limit() int { return max(a.limit, 1) }

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

// Busy reports whether the key is at its limit: another invocation could not
// be taken now, whatever the mailbox holds.
func (a *Actor[T]) Busy() bool { return a.inflight >= a.Limit() }

// Next takes the head of the mailbox and counts it in flight, if the key is
// below its limit. It returns nil when the mailbox is empty or the key is
// busy.
func (a *Actor[T]) Next() *mailbox.Node[T] {
	if a.Busy() {
		return nil
	}
	n := a.mb.Pop()
	if n != nil {
		a.inflight++
	}
	return n
}

// Done reports that one invocation taken by Next has ended, whether it ran
// or not. It returns false, and changes nothing, if nothing is in flight.
func (a *Actor[T]) Done() bool {
	if a.inflight == 0 {
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
