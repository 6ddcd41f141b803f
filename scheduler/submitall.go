package scheduler

import (
	"context"
)

// submitAll is SubmitAll in memory. The whole batch crosses to the
// dispatcher in one message, and its invocations share one allocation:
// their handles keep it alive together. A task with a Registration scope
// or a MaxQueued bound submits them one by one instead, since each may be
// absorbed or wait for room. If an element fails (a bad key, say), the
// elements before it are submitted, and their handles returned with the
// error.
func (t *Task[A, R]) submitAll(ctx context.Context, batch []A) ([]*Invocation[R], error) {
	c := &t.core
	if c.registration != Disabled || c.bounded {
		return t.submitEach(ctx, batch)
	}
	if err := ctx.Err(); err != nil {
		return nil, taskError(c.name, "Submit ctx ended", canceled(context.Cause(ctx)))
	}
	if c.s.closed.Load() {
		return nil, taskError(c.name, "", ErrClosed)
	}
	invs := make([]invocation[A, R], len(batch))
	out := make([]*Invocation[R], len(batch))
	var failed error
	n := 0
	for i := range batch {
		key, reg, label, err := t.keys(batch[i])
		if err != nil {
			failed = err
			break
		}
		t.initInvocation(&invs[i], ctx, batch[i], key, reg, label)
		out[i] = &invs[i].Invocation
		n++
	}
	if n == 0 {
		return nil, failed
	}
	first := &invs[0].j
	for i := 1; i < n; i++ {
		invs[i-1].j.msg.next = &invs[i].j.msg
	}
	if err := c.s.submitBatch(first, n); err != nil {
		return nil, err
	}
	return out[:n], failed
}

// submitEach submits the elements of batch one after the other.
func (t *Task[A, R]) submitEach(ctx context.Context, batch []A) ([]*Invocation[R], error) {
	out := make([]*Invocation[R], 0, len(batch))
	for _, args := range batch {
		inv, err := t.Submit(ctx, args)
		if err != nil {
			return out, err
		}
		out = append(out, inv)
	}
	return out, nil
}

// submitBatch hands n new jobs to the dispatcher in one message: first,
// and the others linked from it through their messages. They share a
// Submit ctx.
func (s *Scheduler) submitBatch(first *job, n int) error {
	if first.submitCtx().Done() != nil {
		s.closeMu.RLock()
		defer s.closeMu.RUnlock()
		if s.closed.Load() {
			return taskError(first.task.name, "", ErrClosed)
		}
		for m := &first.msg; m != nil; m = m.next {
			s.watchCtx(m.j)
		}
	} else if s.closed.Load() {
		return taskError(first.task.name, "", ErrClosed)
	}
	id := s.stats.submitted.Add(uint64(n)) - uint64(n)
	for m := &first.msg; m != nil; m = m.next {
		id++
		m.j.id = id
		m.kind = msgSubmit
	}
	if !s.inbox.push(&msgNode{kind: msgBatch, j: first}) {
		s.stats.refused.Add(uint64(n))
		return taskError(first.task.name, "", ErrClosed)
	}
	return nil
}
