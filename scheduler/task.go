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
	onFull       FullPolicy

	// keyBound is Options.MaxQueued: the keyspace's (shared by a Group),
	// or the task's own without a Running scope; nil without one. bounded
	// says whether Submit takes places at all: under keyBound or under the
	// scheduler's Config.MaxQueued.
	keyBound *keyBound
	bounded  bool

	// ks holds the actors of the task's keys; nil without a Running
	// scope. Only the dispatcher touches the actors.
	ks *keyspace

	// pool keeps the finished invocations of Go for reuse.
	pool jobPool

	// runRemote runs the task for a Backend: JSON in, JSON out. Nil in
	// memory.
	runRemote func(ctx context.Context, args []byte) ([]byte, error)

	// index maps a registration key to the unfinished invocation that
	// absorbs matching submissions.
	mu    sync.Mutex
	index shrinkMap[string, *job]
}

// NewTask registers fn on s under name, with the concurrency rules in opts.
// It fails with ErrNilScheduler, ErrNilFunc, ErrEmptyName, ErrDuplicateName,
// ErrNoKeyFunc or ErrBadOption for bad arguments, and with ErrClosed once
// Close has been called; the error names the task and the option at fault,
// and the task is not registered (its name stays free).
func NewTask[A, R any](s *Scheduler, name string, fn func(context.Context, A) (R, error), opts Options[A]) (*Task[A, R], error) {
	switch {
	case name == "":
		return nil, &inputError{what: "NewTask: the task name is empty", err: ErrEmptyName}
	case !s.made():
		return nil, badInput(name, ErrNilScheduler, "NewTask: the scheduler is nil, or not made by New")
	case fn == nil:
		return nil, badInput(name, ErrNilFunc, "NewTask: the task func is nil")
	}
	if err := opts.validate(name); err != nil {
		return nil, err
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
		onFull:       opts.OnFull,
	}
	if opts.Running != Disabled {
		ksName := name
		if opts.Group != "" {
			ksName = opts.Group
		}
		t.core.ks = newKeyspace(ksName, opts.Group != "", opts.Limit, opts.Rate, opts.Burst, opts.MaxQueued)
	} else {
		t.core.keyBound = newKeyBound(opts.MaxQueued)
	}
	if err := s.register(&t.core); err != nil {
		return nil, err
	}
	if s.backend != nil {
		if err := registerRemote(s, &t.core, fn, opts); err != nil {
			s.unregister(&t.core)
			return nil, taskError(name, "", err)
		}
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
// Without a MaxQueued bound (Config.MaxQueued, Options.MaxQueued), the
// default, Submit never blocks: there is no bound on the work waiting,
// and a producer that outpaces the tasks for long should pace itself
// (Stats tells how much waits). With one, a Submit that finds it reached
// waits for room or fails with ErrFull, as its OnFull says; waiting, it
// fails with an error wrapping ErrCanceled if ctx ends first, and with
// ErrClosed if Close is called first. Either way it created nothing.
//
// With a Config.Backend, Submit is durable once it returns, and ctx bounds
// the Submit call only: a committed invocation no longer depends on the
// submitting process (see the backend's package doc). Arguments must
// encode as JSON (ErrEncode otherwise, and nothing is created), and a
// deduplicated Submit returns a new handle on the existing invocation.
//
// Submit fails with ErrNilContext for a nil ctx, ErrEmptyKey when
// Options.Key returns "", a *PanicError when Options.Key or Options.Label
// panics, and ErrClosed once Close has been called. Every error names the
// task, and the option or argument at fault.
func (t *Task[A, R]) Submit(ctx context.Context, args A) (*Invocation[R], error) {
	switch {
	case t == nil || t.core.s == nil:
		return nil, fmt.Errorf("%w: Submit on a nil Task, or one not made by NewTask", ErrInvalid)
	case ctx == nil:
		return nil, badInput(t.core.name, ErrNilContext, "Submit ctx is nil")
	}
	c := &t.core
	if err := ctx.Err(); err != nil {
		return nil, taskError(c.name, "Submit ctx ended", canceled(context.Cause(ctx)))
	}
	if c.s.closed.Load() {
		// Checked first: a closed scheduler refuses even a submission
		// that an unfinished invocation would absorb.
		return nil, taskError(c.name, "", ErrClosed)
	}
	if c.s.backend != nil {
		invs, err := t.submitRemote(ctx, []A{args})
		if err != nil {
			return nil, err
		}
		return invs[0], nil
	}
	key, reg, label, err := t.keys(args)
	if err != nil {
		return nil, err
	}
	if c.registration == Disabled {
		if c.bounded {
			if err := c.takePlaces(ctx, key); err != nil {
				return nil, err
			}
		}
		inv := t.newInvocation(ctx, args, key, "", label)
		if err := c.s.submit(&inv.j); err != nil {
			if c.bounded {
				c.givePlaces(key)
			}
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
//
// With a MaxQueued bound, it takes the places the new invocation needs
// without the lock (it may wait for them), then looks again: a matching
// invocation submitted meanwhile absorbs it, and the places go back.
func (t *Task[A, R]) register(ctx context.Context, args A, key, reg, label string) (j *job, absorbed bool, err error) {
	c := &t.core
	c.mu.Lock()
	if j, ok := c.index.get(reg); ok && c.absorbs(j) {
		c.mu.Unlock()
		return j, true, nil
	}
	if c.bounded {
		c.mu.Unlock()
		if err := c.takePlaces(ctx, key); err != nil {
			return nil, false, err
		}
		c.mu.Lock()
		if j, ok := c.index.get(reg); ok && c.absorbs(j) {
			c.mu.Unlock()
			c.givePlaces(key)
			return j, true, nil
		}
	}
	defer c.mu.Unlock()
	inv := t.newInvocation(ctx, args, key, reg, label)
	if err := c.s.submit(&inv.j); err != nil {
		if c.bounded {
			c.givePlaces(key)
		}
		return nil, false, err
	}
	c.index.put(reg, &inv.j)
	return &inv.j, false, nil
}

func (t *Task[A, R]) newInvocation(ctx context.Context, args A, key, reg, label string) *invocation[A, R] {
	inv := &invocation[A, R]{}
	t.initInvocation(inv, ctx, args, key, reg, label)
	return inv
}

// initInvocation readies the zero invocation inv for a submission.
func (t *Task[A, R]) initInvocation(inv *invocation[A, R], ctx context.Context, args A, key, reg, label string) {
	inv.fn, inv.args = t.fn, args
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
			j.x.at = c.s.now()
		}
	}
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
		err = badInput(t.core.name, ErrEmptyKey, "Key returned an empty key")
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
