package scheduler

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/perkey/perkey/mailbox"
)

// job is the untyped part of an invocation: everything the dispatcher and
// the workers need. It lives inside the user's *Invocation, so an
// invocation costs one allocation; what only some jobs need is in extra.
type job struct {
	state atomic.Uint32 // a State; Pending -> Running and Pending -> final are compare-and-swaps
	sig   atomic.Uint32 // the Done channel's progress: sigNone, sigMaking, sigMade, sigClosed
	// Dispatcher-owned flags.
	early     bool // its ctx ended before the dispatcher routed it
	handed    bool // it went into the ring
	routed    bool // the dispatcher has routed it (and sent its Queued event)
	throttled bool // its Throttled event was sent
	replaced  bool // a newer Replace submission cancelled it while it ran
	pooled    bool // made by Task.Go: nobody holds it, and it is recycled once done
	touched   bool // written by the dispatcher ahead of use, to fetch the line (see touch)
	// msg carries the job to the dispatcher: its submission, then its
	// completion.
	msg msgNode
	// node links the job into its actor's mailbox while it is Queued, and,
	// for a job without an actor, into the dispatcher's list of such jobs
	// handed to the workers. Only the dispatcher touches it.
	node  mailbox.Node[*job]
	task  *taskCore
	actor *keyActor // set by the dispatcher when routed; nil for Running=Disabled
	key   string    // the Running scope's key; also the label (Invocation.Key)
	r     runner    // the typed invocation, to run the task
	id    uint64
	x     *extra // nil unless the job needs one of its fields

	done chan struct{} // made by the first Done or Wait before the end; see sig
	err  error         // the final error; written before done is closed
}

// The progress of a job's Done signal, in job.sig. Most jobs end before
// anyone waits: they make no channel. The first waiter to come before the
// end is usually the only one: Wait then borrows a channel from a pool
// (sigWaiter), which closeDone signals with a token instead of closing, so
// that waiting allocates nothing. A second waiter, or a Done call, turns
// it into a channel of the job's own, which closeDone closes (sigMade).
const (
	sigNone   = iota // no channel, not final
	sigMaking        // someone is changing done: a moment
	sigMade          // done is the job's own channel, closed at the end
	sigWaiter        // done is a pooled channel, signalled once, for one Wait
	sigClosed        // final: done is closed, or nil
)

// extra holds what only some jobs need, so that the common job (Background
// ctx, no dedupe, no events, no MaxWait) stays small.
type extra struct {
	ctx   context.Context // the Submit ctx, unless Background or TODO
	watch *watch          // the watch of the Submit ctx while the job waits; nil if none
	at    time.Time       // Submit time, when events or MaxWait need it
	reg   string          // the Registration scope's key, for the dedupe index
	label string          // Options.Label of the arguments, for events

	// For OnBusy=Replace: the job's own run ctx, a child of the
	// scheduler's, so that a newer submission can cancel it. The worker
	// makes it when the job starts (so that waiting jobs hold nothing in
	// the scheduler's ctx) and publishes cancel for the dispatcher.
	run    context.Context
	cancel atomic.Pointer[context.CancelCauseFunc]

	started time.Time // the start, reported to a tracked key's actor

	// timer is the job's MaxWait deadline's place in the dispatcher's
	// timer heap, plus one; zero when it has none there.
	timer int

	// remote links the handle of an invocation kept by a Backend to it;
	// nil in memory.
	remote *remoteRef
}

// submitCtx returns the ctx the job was submitted with, as far as it
// matters: its values and its cancellation.
func (j *job) submitCtx() context.Context {
	if j.x == nil || j.x.ctx == nil {
		return context.Background()
	}
	return j.x.ctx
}

// submittedAt returns the Submit time, or the zero time if it was not taken.
func (j *job) submittedAt() time.Time {
	if j.x == nil {
		return time.Time{}
	}
	return j.x.at
}

// runner runs the task function of a typed invocation.
type runner interface {
	run(ctx context.Context) error
	// empty drops the arguments and the result of an invocation of Go,
	// which nobody reads, before it is recycled.
	empty()
}

// closedChan is returned by Done once an invocation is final and nobody
// asked for its channel before.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (j *job) loadState() State { return State(j.state.Load()) }

// doneChan returns the channel closed when j is final, making it if a
// waiter comes before the end.
func (j *job) doneChan() <-chan struct{} {
	for {
		switch j.sig.Load() {
		case sigNone:
			if j.sig.CompareAndSwap(sigNone, sigMaking) {
				j.done = make(chan struct{})
				j.sig.Store(sigMade)
				return j.done
			}
		case sigWaiter:
			// A Wait borrowed a channel: give it one of the job's own,
			// and wake it to wait on that.
			if j.sig.CompareAndSwap(sigWaiter, sigMaking) {
				borrowed := j.done
				j.done = make(chan struct{})
				j.sig.Store(sigMade)
				borrowed <- struct{}{}
				return j.done
			}
		case sigMaking:
			runtime.Gosched() // another goroutine is changing it: a moment
		case sigMade:
			return j.done
		default: // sigClosed
			if j.done == nil {
				return closedChan
			}
			return j.done
		}
	}
}

// waitDone waits for j to be final, or for ctx to end, and reports
// whether j is final. It allocates nothing: see sigWaiter.
func (j *job) waitDone(ctx context.Context) bool {
	for {
		switch j.sig.Load() {
		case sigClosed:
			return true
		case sigNone:
			if !j.sig.CompareAndSwap(sigNone, sigMaking) {
				continue
			}
			pool := &j.task.s.waiters
			ch := pool.Get().(chan struct{})
			j.done = ch
			j.sig.Store(sigWaiter)
			select {
			case <-ch:
				// closeDone's token, or doneChan's: then j has a channel
				// of its own to wait on.
				pool.Put(ch)
				continue
			case <-ctx.Done():
			}
			if j.sig.CompareAndSwap(sigWaiter, sigMaking) {
				j.done = nil
				j.sig.Store(sigNone)
			} else {
				<-ch // the token is on its way: take it, so that ch is clean
			}
			pool.Put(ch)
			return j.sig.Load() == sigClosed
		case sigMaking:
			runtime.Gosched()
		default: // sigMade, sigWaiter: another waiter came first
			done := j.doneChan()
			select {
			case <-done:
				return true
			default:
			}
			select {
			case <-done:
				return true
			case <-ctx.Done():
				select {
				case <-done: // the end wins over an ended ctx
					return true
				default:
					return false
				}
			}
		}
	}
}

// newWaiter makes a channel for Scheduler.waiters (see sigWaiter): it has
// room for the one token that wakes its borrower, and is empty when given
// back. Each scheduler has its pool, so that a scheduler made in a
// synctest bubble lends only channels made in that bubble.
func newWaiter() any { return make(chan struct{}, 1) }

// closeDone wakes every waiter, once j's error and result are written. In
// the common case, with nobody waiting yet, it is one compare-and-swap.
func (j *job) closeDone() {
	for {
		switch j.sig.Load() {
		case sigNone:
			if j.sig.CompareAndSwap(sigNone, sigClosed) {
				return
			}
		case sigWaiter:
			if j.sig.CompareAndSwap(sigWaiter, sigMaking) {
				borrowed := j.done
				j.done = nil
				j.sig.Store(sigClosed)
				borrowed <- struct{}{}
				return
			}
		case sigMaking:
			runtime.Gosched()
		case sigMade:
			close(j.done)
			j.sig.Store(sigClosed)
			return
		default:
			return // closed already
		}
	}
}

// Invocation is the handle of one submitted call of a task. Its methods are
// safe for concurrent use. A nil or zero *Invocation (not returned by
// Submit) reports ErrNilInvocation from Wait, a nil Done channel and zero
// values from the rest.
type Invocation[R any] struct {
	j      job
	result R // written before done is closed
}

// ID returns the invocation's ID, unique within its scheduler and
// increasing in Submit order.
func (inv *Invocation[R]) ID() uint64 {
	if inv == nil {
		return 0
	}
	return inv.j.id
}

// Key returns the key the invocation is scheduled under: Options.Key of its
// arguments for ByKey, the task name for ByTask, the formatted arguments for
// ByArguments, and for Disabled the Key when one is set, "" otherwise.
func (inv *Invocation[R]) Key() string {
	if inv == nil {
		return ""
	}
	return inv.j.key
}

// State returns the invocation's state at this moment. With a Backend,
// it is the state as last known in this process: at Submit or Lookup,
// then at Wait.
func (inv *Invocation[R]) State() State {
	if inv == nil {
		return Queued
	}
	return inv.j.loadState().public()
}

// Done returns a channel that is closed when the invocation has reached a
// final state and its key has moved on: a submission made after Done is
// closed never finds the key busy because of this invocation. It is the
// same channel on every call.
//
// With a Backend, Done is closed once the invocation is final wherever it
// ran, as this process learns it (a notification, or at worst a poll), or
// once the scheduler is closed; Wait then tells which.
func (inv *Invocation[R]) Done() <-chan struct{} {
	if inv == nil || inv.j.task == nil {
		return nil
	}
	if x := inv.j.x; x != nil && x.remote != nil {
		return x.remote.doneChan(inv.j.id)
	}
	return inv.j.doneChan()
}

// Wait waits until Done is closed and returns the invocation's result: the
// task's result and error for Succeeded and Failed (a *PanicError or
// ErrGoexit when it did not return), and an error wrapping ErrDropped,
// ErrExpired or ErrCanceled otherwise. If ctx ends first, Wait returns
// ctx.Err(); the invocation itself goes on. A nil ctx gives ErrNilContext.
//
// After Close, waiting work ends Canceled and Wait returns; for a task
// that Close gave up on (ErrLeaked), Wait returns when the task does, so
// pass a ctx that ends. A task that waits for an invocation of its own key
// (or for one that needs its slot) waits for ever.
//
// With a Backend, Wait works in any process: the result crosses as JSON,
// and a result this process cannot decode into R gives an error wrapping
// ErrDecode. A task's error crosses as its text, in a *RemoteError (which
// wraps ErrPanic or ErrGoexit when it applies). Once this scheduler is
// closed, Wait on an invocation that has not ended returns an error
// wrapping ErrClosed; the invocation goes on in the backend.
func (inv *Invocation[R]) Wait(ctx context.Context) (R, error) {
	var zero R
	switch {
	case inv == nil || inv.j.task == nil:
		return zero, ErrNilInvocation
	case ctx == nil:
		return zero, ErrNilContext
	}
	if x := inv.j.x; x != nil && x.remote != nil {
		return inv.waitRemote(ctx, x.remote)
	}
	if !inv.j.waitDone(ctx) {
		return zero, ctx.Err()
	}
	return inv.result, inv.j.err
}

// invocation is an Invocation with what it takes to run: the task function
// and the arguments.
type invocation[A, R any] struct {
	Invocation[R]
	fn   func(context.Context, A) (R, error)
	args A
}

func (inv *invocation[A, R]) run(ctx context.Context) error {
	var err error
	inv.result, err = inv.fn(ctx, inv.args)
	return err
}

func (inv *invocation[A, R]) empty() {
	var args A
	var result R
	inv.args, inv.result = args, result
}
