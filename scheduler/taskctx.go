package scheduler

import (
	"context"
	"time"
)

// taskCtx is the context a task function receives. It is the job itself
// seen as a context.Context, so it costs no allocation:
//   - cancellation comes from the scheduler (Close giving up), not from the
//     Submit ctx, whose cancellation only matters while the invocation
//     waits;
//   - values come from the Submit ctx, so request-scoped values such as
//     trace IDs reach the task.
type taskCtx job

// base is the context whose cancellation the task sees: the job's own for
// OnBusy=Replace tasks, the scheduler's otherwise.
func (c *taskCtx) base() context.Context {
	if c.x != nil && c.x.run != nil {
		return c.x.run
	}
	return c.task.s.runCtx
}

// Deadline has no deadline: the scheduler's run context has none.
func (c *taskCtx) Deadline() (time.Time, bool) { return c.base().Deadline() }

// Done is closed when the scheduler cancels running tasks.
func (c *taskCtx) Done() <-chan struct{} { return c.base().Done() }

// Err is non-nil once Done is closed.
func (c *taskCtx) Err() error { return c.base().Err() }

// Value looks in the scheduler's context first, so that contexts derived
// from this one attach to its cancellation directly, then in the Submit ctx.
func (c *taskCtx) Value(key any) any {
	if v := c.base().Value(key); v != nil {
		return v
	}
	return (*job)(c).submitCtx().Value(key)
}

func (c *taskCtx) String() string { return "scheduler.taskCtx(" + c.task.name + ")" }
