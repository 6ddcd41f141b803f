package scheduler

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/perkey/perkey/actor"
	"github.com/perkey/perkey/mailbox"
)

// job is the untyped part of an invocation: everything the dispatcher and
// the workers need. It lives inside the user's *Invocation, so an
// invocation costs one allocation.
type job struct {
	// node links the job into, in turn, its actor's mailbox (Queued), the
	// run queue (Pending) and the list of running jobs (Running).
	node  mailbox.Node[*job]
	state atomic.Uint32 // a State; written by its one owner of the moment
	id    uint64
	key   string // the Running scope's key; also the label (Invocation.Key)
	reg   string // the Registration scope's key, for the dedupe index
	task  *taskCore
	actor *actor.Actor[*job] // set by the dispatcher when routed; nil for Running=Disabled
	r     runner             // the typed invocation, to run the task
	ctx   context.Context    // the Submit ctx: its values reach the task
	stop  func() bool        // stops the Submit ctx's cancel hook; nil if none
	at    time.Time          // Submit time, taken only when events or MaxWait need it
	done  atomic.Value       // chan struct{}, made on the first Done or Wait
	err   error              // the final error; written before the final state
}

// runner runs the task function of a typed invocation.
type runner interface {
	run(ctx context.Context) error
}

// closedChan is returned by Done once an invocation is final and nobody
// asked for its channel before.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (j *job) loadState() State { return State(j.state.Load()) }

// doneChan returns the channel closed when j is final, making it on first
// use.
func (j *job) doneChan() <-chan struct{} {
	if c := j.done.Load(); c != nil {
		return c.(chan struct{})
	}
	c := make(chan struct{})
	if j.done.CompareAndSwap(nil, c) {
		return c
	}
	return j.done.Load().(chan struct{})
}

// closeDone wakes every waiter; j must already be in its final state.
func (j *job) closeDone() {
	if c := j.done.Swap(closedChan); c != nil {
		close(c.(chan struct{}))
	}
}

// Invocation is the handle of one submitted call of a task. Its methods are
// safe for concurrent use. A nil *Invocation reports ErrNilInvocation from
// Wait, a nil Done channel and zero values from the rest.
type Invocation[R any] struct {
	j      job
	result R // written before the final state
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

// State returns the invocation's state at this moment.
func (inv *Invocation[R]) State() State {
	if inv == nil {
		return Queued
	}
	return inv.j.loadState()
}

// Done returns a channel that is closed when the invocation reaches a final
// state, the same channel on every call.
func (inv *Invocation[R]) Done() <-chan struct{} {
	if inv == nil {
		return nil
	}
	return inv.j.doneChan()
}

// Wait waits until the invocation is final and returns its result: the
// task's result and error for Succeeded and Failed (a *PanicError or
// ErrGoexit when it did not return), and an error wrapping ErrDropped,
// ErrExpired or ErrCanceled otherwise. If ctx ends first, Wait returns
// ctx.Err(); the invocation itself goes on. A nil ctx gives ErrNilContext.
func (inv *Invocation[R]) Wait(ctx context.Context) (R, error) {
	var zero R
	switch {
	case inv == nil:
		return zero, ErrNilInvocation
	case ctx == nil:
		return zero, ErrNilContext
	case inv.j.loadState().Final():
		return inv.result, inv.j.err
	}
	select {
	case <-inv.j.doneChan():
		return inv.result, inv.j.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
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
