package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// The link between a Scheduler and its Backend. With a Backend, the
// scheduler has no dispatcher: Submit, Wait and the task functions go
// through the backend, and this file is all the scheduler adds.

// remoteRef is what an Invocation of a Backend-backed scheduler holds; its
// job's state is the last one known here.
type remoteRef struct {
	backend Backend
	done    atomic.Pointer[<-chan struct{}] // the first Done's channel, kept
}

// doneChan returns the backend's Done channel of the invocation, asking
// the backend once per handle.
func (r *remoteRef) doneChan(id uint64) <-chan struct{} {
	if ch := r.done.Load(); ch != nil {
		return *ch
	}
	ch := r.backend.Done(id)
	r.done.CompareAndSwap(nil, &ch)
	return *r.done.Load()
}

// backendTimeout bounds the backend calls of methods that take no ctx:
// NewTask's registration, Key and Keys.
const backendTimeout = 30 * time.Second

// startBackend starts cfg.Backend for s.
func (s *Scheduler) startBackend(cfg Config) error {
	s.backend = cfg.Backend
	return s.backend.Start(Host{
		MaxParallel: cfg.MaxParallel,
		CloseGrace:  cfg.CloseGrace,
		Logger:      cfg.Logger,
		Run:         s.runRemote,
		Emit:        s.emitRemote,
		Listening:   s.listening,
	})
}

// runRemote runs an invocation that the backend claimed, turning a panic
// into a *PanicError. A runtime.Goexit passes through to the backend.
func (s *Scheduler) runRemote(ctx context.Context, task string, args []byte) (result []byte, err error) {
	s.tasksMu.Lock()
	c := s.tasks[task]
	s.tasksMu.Unlock()
	if c == nil || c.runRemote == nil {
		return nil, fmt.Errorf("task %q: %w: not registered in this process", task, ErrInvalid)
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Warn("scheduler: task panicked", "task", task, "panic", r)
			err = newPanicError(r)
		}
	}()
	return c.runRemote(ctx, args)
}

// emitRemote delivers a backend's event to the scheduler's listeners.
func (s *Scheduler) emitRemote(ev Event) {
	if l := s.listeners.Load(); l != nil {
		l.call(s, ev)
	}
}

// registerRemote records the task with the backend, and gives it the
// function the backend's workers call: JSON in, JSON out.
func registerRemote[A, R any](s *Scheduler, c *taskCore, fn func(context.Context, A) (R, error), opts Options[A]) error {
	c.runRemote = func(ctx context.Context, raw []byte) ([]byte, error) {
		var args A
		if err := json.Unmarshal(raw, &args); err != nil {
			return nil, fmt.Errorf("task %q: %w arguments: %w", c.name, ErrDecode, err)
		}
		res, err := fn(ctx, args)
		if err != nil {
			return nil, err
		}
		out, err := json.Marshal(res)
		if err != nil {
			return nil, fmt.Errorf("task %q: %w the result: %w", c.name, ErrEncode, err)
		}
		return out, nil
	}
	spec := TaskSpec{
		Name:         c.name,
		Running:      opts.Running,
		Registration: opts.Registration,
		OnBusy:       opts.OnBusy,
		Dedupe:       opts.Dedupe,
		MaxWait:      opts.MaxWait,
		Group:        opts.Group,
	}
	if c.ks != nil {
		spec.Limit, spec.Rate, spec.Burst = c.ks.limit, c.ks.rate, c.ks.burst
	}
	if opts.MaxQueued > 0 {
		if opts.OnFull != Reject {
			return badOption("MaxQueued %d with a Backend needs OnFull Reject: a Submit across processes does not wait for room", opts.MaxQueued)
		}
		if opts.Running == Disabled {
			return badOption("MaxQueued %d with a Backend needs a Running scope: the backend bounds each key", opts.MaxQueued)
		}
		spec.MaxQueued = opts.MaxQueued
	}
	ctx, cancel := context.WithTimeout(context.Background(), backendTimeout)
	defer cancel()
	return s.backend.Register(ctx, spec)
}

// submitRemote submits through the backend.
func (t *Task[A, R]) submitRemote(ctx context.Context, batch []A) ([]*Invocation[R], error) {
	c := &t.core
	subs := make([]Submission, len(batch))
	for i, args := range batch {
		raw, err := json.Marshal(args)
		if err != nil {
			return nil, fmt.Errorf("task %q: %w the arguments: %w", c.name, ErrEncode, err)
		}
		key, reg, label, err := t.keys(args)
		if err != nil {
			return nil, err
		}
		// Across processes, equal arguments are equal JSON.
		if c.running == ByArguments {
			key = string(raw)
		}
		if c.registration == ByArguments {
			reg = string(raw)
		}
		subs[i] = Submission{Task: c.name, Key: key, Reg: reg, Label: label, Args: raw}
	}
	receipts, err := c.s.backend.Submit(ctx, subs)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("task %q: %w", c.name, canceled(context.Cause(ctx)))
			}
		}
		return nil, fmt.Errorf("task %q: %w", c.name, err)
	}
	out := make([]*Invocation[R], len(receipts))
	for i, r := range receipts {
		out[i] = t.remoteHandle(r)
	}
	return out, nil
}

// remoteHandle makes the handle of an invocation kept by the backend.
func (t *Task[A, R]) remoteHandle(r Receipt) *Invocation[R] {
	inv := &Invocation[R]{}
	j := &inv.j
	j.task = &t.core
	j.id = r.ID
	j.key = r.Key
	j.state.Store(uint32(r.State))
	j.x = &extra{remote: &remoteRef{backend: t.core.s.backend}}
	return inv
}

// Lookup returns the handle of invocation id of the task, wherever it was
// submitted, so that any process can wait for it. It needs a Backend: an
// in-memory scheduler keeps no index by ID (keep the handle instead) and
// returns an error wrapping errors.ErrUnsupported. It fails with an error
// wrapping ErrNotFound for an ID that names no invocation of this task
// (never, or no longer: see the backend's retention), and with ctx's
// error if ctx ends first.
func (t *Task[A, R]) Lookup(ctx context.Context, id uint64) (*Invocation[R], error) {
	switch {
	case t == nil || t.core.s == nil:
		return nil, fmt.Errorf("%w: nil task, or one not made by NewTask", ErrInvalid)
	case ctx == nil:
		return nil, ErrNilContext
	case t.core.s.backend == nil:
		return nil, fmt.Errorf("task %q: lookup by ID: %w: an in-memory scheduler keeps no index by ID", t.core.name, errors.ErrUnsupported)
	}
	r, err := t.core.s.backend.Lookup(ctx, t.core.name, id)
	if err != nil {
		return nil, err
	}
	return t.remoteHandle(r), nil
}

// waitRemote is Wait for an invocation kept by a backend.
func (inv *Invocation[R]) waitRemote(ctx context.Context, ref *remoteRef) (R, error) {
	var zero R
	j := &inv.j
	select {
	case <-ref.doneChan(j.id):
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	out, err := ref.backend.Outcome(ctx, j.id)
	if err != nil {
		return zero, err
	}
	j.state.Store(uint32(out.State))
	if !out.State.Final() {
		return zero, fmt.Errorf("task %q invocation %d: %w before it ended; it goes on in the backend (%v)",
			j.task.name, j.id, ErrClosed, out.State)
	}
	if out.State != Succeeded {
		return zero, out.Err
	}
	var result R
	if err := json.Unmarshal(out.Result, &result); err != nil {
		return zero, fmt.Errorf("task %q invocation %d: %w the result: %w", j.task.name, j.id, ErrDecode, err)
	}
	return result, nil
}

// closeBackend is Close for a scheduler with a Backend: the first call
// closes the backend, and every call waits for that, or for ctx.
func (s *Scheduler) closeBackend(ctx context.Context, first bool) error {
	if first {
		close(s.closing)
		s.backendErr = s.backend.Close(ctx)
		s.cancelRun()
		close(s.stopped)
		return s.backendErr
	}
	select {
	case <-s.stopped:
		return s.backendErr
	case <-ctx.Done():
		return fmt.Errorf("scheduler: close: %w", ctx.Err())
	}
}

// unregister takes back a task that register accepted, for NewTask when
// the backend refuses it.
func (s *Scheduler) unregister(c *taskCore) {
	s.tasksMu.Lock()
	defer s.tasksMu.Unlock()
	delete(s.tasks, c.name)
	if c.ks == nil || !c.ks.group {
		return
	}
	for _, other := range s.tasks {
		if other.ks == c.ks {
			return
		}
	}
	delete(s.groups, c.ks.name)
}

// statsRemote is Stats with a Backend.
func (s *Scheduler) statsRemote() Stats {
	st := s.backend.Stats()
	st.HookPanics = s.stats.hookPanics.Load()
	return st
}

// keyRemote is Key with a Backend; a failure is logged and gives a zero
// load.
func (s *Scheduler) keyRemote(task, key string) KeyStats {
	ctx, cancel := context.WithTimeout(context.Background(), backendTimeout)
	defer cancel()
	ks, err := s.backend.Key(ctx, task, key)
	if err != nil {
		s.log.Warn("scheduler: key load from the backend", "task", task, "err", err)
		return KeyStats{Task: task, Key: key}
	}
	return ks
}

// keysRemote is Keys with a Backend; a failure is logged and gives nil.
func (s *Scheduler) keysRemote(n int) []KeyStats {
	ctx, cancel := context.WithTimeout(context.Background(), backendTimeout)
	defer cancel()
	keys, err := s.backend.Keys(ctx, n)
	if err != nil {
		s.log.Warn("scheduler: keys load from the backend", "err", err)
		return nil
	}
	return keys
}
