package scheduler

import (
	"context"
	"fmt"
)

// SubmitAll submits one invocation per element of batch, in order, as
// Submit does for each, and returns their handles in the same order.
//
// With a Backend, the batch crosses to the backend once, in one
// transaction: either every invocation is created (or deduplicated), or
// the call fails and nothing is. In memory, the batch crosses to the
// dispatcher in one message and its invocations share one allocation, so
// that any one handle kept keeps the whole batch's arguments and results
// alive: drop the handles together. A task with a Registration scope or a
// MaxQueued bound submits the elements one after the other instead. If an
// element fails (a bad key, a full queue, Close), the invocations
// submitted before it go on and SubmitAll returns their handles with the
// error.
//
// An empty batch returns nil and no error. The ctx, nil and closed cases
// are Submit's.
func (t *Task[A, R]) SubmitAll(ctx context.Context, batch []A) ([]*Invocation[R], error) {
	switch {
	case t == nil || t.core.s == nil:
		return nil, fmt.Errorf("%w: SubmitAll on a nil Task, or one not made by NewTask", ErrInvalid)
	case ctx == nil:
		return nil, badInput(t.core.name, ErrNilContext, "SubmitAll ctx is nil")
	case len(batch) == 0:
		return nil, nil
	}
	c := &t.core
	if c.s.backend != nil {
		if err := ctx.Err(); err != nil {
			return nil, taskError(c.name, "Submit ctx ended", canceled(context.Cause(ctx)))
		}
		if c.s.closed.Load() {
			return nil, taskError(c.name, "", ErrClosed)
		}
		return t.submitRemote(ctx, batch)
	}
	return t.submitAll(ctx, batch)
}
