package scheduler

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Task is a function registered with a Scheduler under a name, with its
// concurrency options. Submit schedules calls of it. A Task is safe for
// concurrent use; it lives as long as its Scheduler. A nil or zero Task
// (not made by NewTask) refuses every Submit with ErrInvalid.
type Task[A, R any] struct {
	core  taskCore
	fn    func(context.Context, A) (R, error)
	key   func(A) string
	label func(A) string
}

// taskCore is the untyped part of a task.
type taskCore struct {
	s            *Scheduler
	name         string
	running      Scope
	registration Scope
	onBusy       Policy
	dedupe       Dedupe
	maxWait      time.Duration

	// ks holds the actors of the task's keys; nil without a Running
	// scope. Only the dispatcher touches the actors.
	ks *keyspace

	// index maps a registration key to the unfinished invocation that
	// absorbs matching submissions.
	mu    sync.Mutex
	index shrinkMap[string, *job]
}

// NewTask registers fn on s under name, with the concurrency rules in opts.
// It fails with ErrNilScheduler, ErrNilFunc, ErrEmptyName, ErrDuplicateName,
// ErrNoKeyFunc or ErrBadOption for bad arguments, and with ErrClosed once
// Close has been called.
func NewTask[A, R any](s *Scheduler, name string, fn func(context.Context, A) (R, error), opts Options[A]) (*Task[A, R], error) {
	switch {
	case !s.made():
		return nil, ErrNilScheduler
	case fn == nil:
		return nil, ErrNilFunc
	case name == "":
		return nil, ErrEmptyName
	}
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("task %q: %w", name, err)
	}
	t := &Task[A, R]{fn: fn, key: opts.Key, label: opts.Label}
	t.core = taskCore{
		s:            s,
		name:         name,
		running:      opts.Running,
		registration: opts.Registration,
		onBusy:       opts.OnBusy,
		dedupe:       opts.Dedupe,
		maxWait:      opts.MaxWait,
	}
	if opts.Running != Disabled {
		ksName := name
		if opts.Group != "" {
			ksName = opts.Group
		}
		t.core.ks = newKeyspace(ksName, opts.Group != "", opts.Limit, opts.Rate, opts.Burst)
	}
	if err := s.register(&t.core); err != nil {
		return nil, fmt.Errorf("task %q: %w", name, err)
	}
	return t, nil
}

// Name returns the name the task was registered under ("" for a nil Task).
func (t *Task[A, R]) Name() string {
	if t == nil {
		return ""
	}
	return t.core.name
}

// Submit schedules a call of the task with args and returns its handle at
// once; the call runs later, on one of the scheduler's goroutines.
//
// With a Registration scope, a Submit that matches an unfinished invocation
// returns that invocation (the same pointer) instead; its own args and ctx
// are ignored.
//
// ctx governs the wait only: if it ends while the invocation is Queued or
// Pending, the invocation ends Canceled and never runs. Its cancellation
// does not reach a running task, but its values do. A ctx that has already
// ended makes Submit fail with an error wrapping ErrCanceled and the cause,
// and creates nothing.
//
// Submit never blocks: there is no bound on the work waiting, and a
// producer that outpaces the tasks for long should pace itself (Stats
// tells how much waits).
//
// Submit fails with ErrNilContext for a nil ctx, ErrEmptyKey when
// Options.Key returns "", a *PanicError when Options.Key or Options.Label
// panics, and ErrClosed once Close has been called.
func (t *Task[A, R]) Submit(ctx context.Context, args A) (*Invocation[R], error) {
	switch {
	case t == nil || t.core.s == nil:
		return nil, fmt.Errorf("%w: nil task, or one not made by NewTask", ErrInvalid)
	case ctx == nil:
		return nil, ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return nil, canceled(context.Cause(ctx))
	}
	c := &t.core
	if c.s.closed.Load() {
		// Checked first: a closed scheduler refuses even a submission
		// that an unfinished invocation would absorb.
		return nil, fmt.Errorf("task %q: %w", c.name, ErrClosed)
	}
	key, reg, label, err := t.keys(args)
	if err != nil {
		return nil, err
	}
	if c.registration == Disabled {
		inv := t.newInvocation(ctx, args, key, "", label)
		if err := c.s.submit(&inv.j); err != nil {
			return nil, err
		}
		return &inv.Invocation, nil
	}

	j, absorbed, err := t.register(ctx, args, key, reg, label)
	if err != nil {
		return nil, err
	}
	if absorbed {
		c.s.deduped(j)
	}
	return &j.r.(*invocation[A, R]).Invocation, nil
}

// register finds the unfinished invocation that absorbs a submission with
// the registration key reg, or submits a new one and indexes it, under the
// task's lock.
func (t *Task[A, R]) register(ctx context.Context, args A, key, reg, label string) (j *job, absorbed bool, err error) {
	c := &t.core
	c.mu.Lock()
	defer c.mu.Unlock()
	if j, ok := c.index.get(reg); ok && c.absorbs(j) {
		return j, true, nil
	}
	inv := t.newInvocation(ctx, args, key, reg, label)
	if err := c.s.submit(&inv.j); err != nil {
		return nil, false, err
	}
	c.index.put(reg, &inv.j)
	return &inv.j, false, nil
}

func (t *Task[A, R]) newInvocation(ctx context.Context, args A, key, reg, label string) *invocation[A, R] {
	inv := &invocation[A, R]{fn: t.fn, args: args}
	j := &inv.j
	j.node.Value = j
	j.msg.j = j
	j.key = key
	j.task = &t.core
	j.r = inv
	c := &t.core
	needsAt := c.s.listening() || c.maxWait > 0
	ownCtx := ctx != context.Background() && ctx != context.TODO()
	replace := c.onBusy == Replace
	tracked := c.ks != nil && c.ks.tracked
	if ownCtx || needsAt || label != "" || replace || tracked || c.registration != Disabled {
		j.x = &extra{reg: reg, label: label}
		if ownCtx {
			j.x.ctx = ctx
		}
		if needsAt {
			j.x.at = time.Now()
		}
	}
	return inv
}

// keys returns the Running and Registration keys of args, and its label
// when someone listens to events.
func (t *Task[A, R]) keys(args A) (key, reg, label string, err error) {
	var keyOf, formatted string
	if t.key != nil {
		if keyOf, err = t.callKey(args); err != nil {
			return "", "", "", err
		}
	}
	if t.label != nil && t.core.s.listening() {
		if label, err = t.callLabel(args); err != nil {
			return "", "", "", err
		}
	}
	c := &t.core
	if c.running == ByArguments || c.registration == ByArguments {
		formatted = fmt.Sprintf("%#v", args)
	}
	pick := func(s Scope) string {
		switch s {
		case ByTask:
			return c.name
		case ByArguments:
			return formatted
		}
		return keyOf // ByKey, and the label for Disabled
	}
	return pick(c.running), pick(c.registration), label, nil
}

// callLabel calls Options.Label, turning a panic into an error.
func (t *Task[A, R]) callLabel(args A) (label string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("task %q: Label: %w", t.core.name, newPanicError(r))
		}
	}()
	return t.label(args), nil
}

func (t *Task[A, R]) callKey(args A) (key string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("task %q: Key: %w", t.core.name, newPanicError(r))
		}
	}()
	if key = t.key(args); key == "" {
		err = fmt.Errorf("task %q: %w", t.core.name, ErrEmptyKey)
	}
	return key, err
}

// absorbs reports whether j, found in the dedupe index, takes a new
// submission. Reading j's state is enough: a started or finished job stays
// in the index until it is replaced or forgotten, but no longer matches.
func (c *taskCore) absorbs(j *job) bool {
	st := j.loadState()
	if c.dedupe == UntilStart {
		return st < Running
	}
	return !st.Final()
}

// forget removes a final job from the dedupe index, unless a newer job has
// taken its place.
func (c *taskCore) forget(j *job) {
	c.mu.Lock()
	if cur, ok := c.index.get(j.x.reg); ok && cur == j {
		c.index.delete(j.x.reg)
	}
	c.mu.Unlock()
}
