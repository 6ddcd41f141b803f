package bench

import (
	"context"
	"errors"

	"github.com/perkey/perkey/scheduler"
)

// perkeyRunner runs calls as invocations of one perkey task: Running=ByKey,
// OnBusy=Wait, the call's key as the key. It drops the handles: completion
// is observed inside the task function.
type perkeyRunner struct {
	s    *scheduler.Scheduler
	task *scheduler.Task[call, struct{}]
	ctx  context.Context
}

func newPerkey(work func(call)) (runner, error) {
	s, err := scheduler.New(scheduler.Config{MaxParallel: parallelism})
	if err != nil {
		return nil, err
	}
	task, err := scheduler.NewTask(s, "bench", func(_ context.Context, c call) (struct{}, error) {
		work(c)
		return struct{}{}, nil
	}, scheduler.Options[call]{
		Running: scheduler.ByKey,
		OnBusy:  scheduler.Wait,
		Key:     func(c call) string { return c.key },
	})
	if err != nil {
		return nil, errors.Join(err, s.Close(context.Background()))
	}
	return &perkeyRunner{s: s, task: task, ctx: context.Background()}, nil
}

func (r *perkeyRunner) submit(c call) error {
	_, err := r.task.Submit(r.ctx, c)
	return err
}

func (r *perkeyRunner) settle() error { return nil }

func (r *perkeyRunner) close() error { return r.s.Close(context.Background()) }

// perkeyWaitRunner is perkeyRunner that keeps every handle of a window and
// waits on each in settle, as a caller that wants results would: the cost
// of the handle's Done channel and of Wait shows as the difference.
type perkeyWaitRunner struct {
	perkeyRunner
	handles []*scheduler.Invocation[struct{}]
}

func newPerkeyWait(work func(call)) (runner, error) {
	r, err := newPerkey(work)
	if err != nil {
		return nil, err
	}
	// The handles of a window are kept in a slice made now, so that its
	// bytes do not count as retained by the scheduler.
	return &perkeyWaitRunner{
		perkeyRunner: *r.(*perkeyRunner),
		handles:      make([]*scheduler.Invocation[struct{}], 0, window),
	}, nil
}

func (r *perkeyWaitRunner) submit(c call) error {
	inv, err := r.task.Submit(r.ctx, c)
	if err != nil {
		return err
	}
	r.handles = append(r.handles, inv)
	return nil
}

func (r *perkeyWaitRunner) settle() error {
	for i, inv := range r.handles {
		if _, err := inv.Wait(r.ctx); err != nil {
			return err
		}
		r.handles[i] = nil
	}
	r.handles = r.handles[:0]
	return nil
}

// perkeyGoRunner submits with Task.Go: no handle, recycled invocations.
type perkeyGoRunner struct{ perkeyRunner }

func newPerkeyGo(work func(call)) (runner, error) {
	r, err := newPerkey(work)
	if err != nil {
		return nil, err
	}
	return &perkeyGoRunner{*r.(*perkeyRunner)}, nil
}

func (r *perkeyGoRunner) submit(c call) error { return r.task.Go(r.ctx, c) }
