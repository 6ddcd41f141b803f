package scheduler_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	. "github.com/perkey/perkey/scheduler"
)

// fz is the argument of FuzzScheduler's tasks. Tag is small, so that
// ByArguments sees equal arguments.
type fz struct {
	Key string
	Tag int
}

func fzKey(a fz) string { return a.Key }

const (
	fzMaxWait = 20 * time.Millisecond // every MaxWait task's; see FuzzScheduler on time
	fzGrace   = 50 * time.Millisecond
	fzMaxOps  = 64 // operations per execution: the rest of the input is ignored
)

// fzSpecs are FuzzScheduler's tasks: every Running scope, every policy,
// both dedupe modes, MaxWait, Limit 1, 2 and 3 (with Drop and Replace), a
// Rate with a Burst, MaxQueued per key and per task, and a Group of four
// tasks.
var fzSpecs = []fzSpec{
	{"free", Options[fz]{Key: fzKey}},
	{"freereg", Options[fz]{Registration: ByArguments, MaxWait: fzMaxWait}},
	{"wait", Options[fz]{Running: ByKey, Key: fzKey, MaxWait: fzMaxWait}},
	{"drop", Options[fz]{Running: ByKey, Key: fzKey, OnBusy: Drop}},
	{"replace", Options[fz]{Running: ByKey, Key: fzKey, OnBusy: Replace}},
	{"start", Options[fz]{Running: ByKey, Registration: ByKey, Key: fzKey, MaxWait: fzMaxWait}},
	{"done", Options[fz]{Running: ByKey, Registration: ByKey, Key: fzKey, Dedupe: UntilDone}},
	{"limit2", Options[fz]{Running: ByKey, Key: fzKey, Limit: 2, MaxWait: fzMaxWait}},
	{"limit2drop", Options[fz]{Running: ByKey, Key: fzKey, Limit: 2, OnBusy: Drop}},
	{"task", Options[fz]{Running: ByTask, Registration: ByKey, Key: fzKey}},
	{"args", Options[fz]{Running: ByArguments, Registration: ByArguments}},
	{"g1", Options[fz]{Running: ByKey, Key: fzKey, Group: "g", MaxWait: fzMaxWait}},
	{"g2", Options[fz]{Running: ByKey, Registration: ByKey, Key: fzKey, Dedupe: UntilDone, Group: "g"}},
	{"g3", Options[fz]{Running: ByKey, Key: fzKey, OnBusy: Replace, Group: "g"}},
	{"g4", Options[fz]{Running: ByKey, Key: fzKey, OnBusy: Drop, Group: "g"}},
	{"limit2replace", Options[fz]{Running: ByKey, Key: fzKey, Limit: 2, OnBusy: Replace}},
	{"rated", Options[fz]{Running: ByKey, Key: fzKey, Limit: 3, Rate: rate.Every(time.Hour), Burst: 2, OnBusy: Drop}},
	{"bounded", Options[fz]{Running: ByKey, Key: fzKey, MaxQueued: 2, OnFull: Reject, MaxWait: fzMaxWait}},
	{"boundedfree", Options[fz]{MaxQueued: 2, OnFull: Reject}},
	{"boundedreplace", Options[fz]{Running: ByKey, Key: fzKey, MaxQueued: 1, OnFull: Reject, OnBusy: Replace}},
}

// fzMaxQueued are the Config.MaxQueued bounds (with OnFull Reject) an
// execution may run under; 0 is none.
var fzMaxQueued = []int{0, 0, 3, 6}

// FuzzScheduler decodes its input into a sequence of operations, runs them
// on a real Scheduler in a synctest bubble and on the reference model
// (fuzzmodel_test.go), and after every operation, once the scheduler has
// settled, checks that both agree on the state of every invocation, on
// Stats and on Keys.
//
// The first byte sets MaxParallel (1 to 3) and Config.MaxQueued (none, 3
// or 6, with OnFull Reject); then every three bytes are one operation
// (see fzRun.step): Submit (task, key, arguments, a cancellable
// ctx or not, a task that ignores its ctx or not), release a running task
// (it returns, fails, panics or calls Goexit), cancel a submission's ctx,
// sleep, Wait with a deadline, and Close (in the background without a
// deadline, with an expired ctx, or with a timeout).
//
// Besides the states, it checks: every invocation is final exactly once
// (one final event, in a valid order, matching the model's path), Deduped
// events come after their invocation's Queued event, Stats adds up, the
// tasks count per-key and global in-flight work and never exceed Limit or
// MaxParallel (and a Replace task never runs two of a key at once),
// nothing runs that the model says ended without running, dedupe returns
// the same pointer exactly when the model says so, Submit fails with
// ErrFull exactly when the model says a bound is reached, Wait returns
// the right error at the right fake time, Close
// returns the right error (ErrLeaked naming the tasks that ignore their
// ctx) at the right time, and all goroutines exit (synctest fails a
// bubble whose goroutines are stuck).
//
// Time: a MaxWait deadline, a Wait deadline and a Close deadline falling on
// the same instant would race. Operations start on whole milliseconds and
// every Submit is followed by a 1ms step, so MaxWait deadlines are distinct
// whole milliseconds; Wait and Close deadlines fall on half milliseconds.
func FuzzScheduler(f *testing.F) {
	for _, seed := range fzSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		synctest.Test(t, func(t *testing.T) { runFuzzScheduler(t, data) })
	})
}

type fzCtlKey struct{}

// fzCtl is one submission's control: its task reads it from ctx.
type fzCtl struct {
	seq      int
	stubborn bool
	gate     chan fzOutcome
	runs     atomic.Int32
}

// fzSubmission is one Submit call.
type fzSubmission struct {
	inv     *mInv // the invocation it got; nil if Submit failed
	created bool  // it created inv (rather than being deduplicated into it)
	cancel  context.CancelFunc
}

// fzRun is one execution.
type fzRun struct {
	t     *testing.T
	s     *Scheduler
	m     *model
	base  time.Time
	tasks []*Task[fz, int]
	subs  []*fzSubmission
	real  map[*mInv]*Invocation[int]
	ctl   map[*mInv]*fzCtl
	byID  map[uint64]*mInv
	bg    chan error // the background Close's result; nil until started
	bgOut bool       // its result was read
	kill  chan struct{}
	log   []string

	mu         sync.Mutex
	perKey     map[string]int
	global     int
	violations []string
	events     map[uint64][]State
	dedupes    map[uint64]int
	throttled  map[uint64]int
}

// fzFailed aborts an execution after a mismatch; runFuzzScheduler recovers
// it and tears the scheduler down.
type fzFailed struct{}

func (r *fzRun) fail(format string, args ...any) {
	r.t.Helper()
	r.t.Errorf("after ops:\n  %s\n"+format, append([]any{strings.Join(r.log, "\n  ")}, args...)...)
	panic(fzFailed{})
}

func (r *fzRun) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf("[%v] ", time.Since(r.base))+fmt.Sprintf(format, args...))
}

func runFuzzScheduler(t *testing.T, data []byte) {
	maxParallel := 1 + int(data[0]%3)
	maxQueued := fzMaxQueued[int(data[0]/3)%len(fzMaxQueued)]
	data = data[1:]
	cfg := Config{MaxParallel: maxParallel, CloseGrace: fzGrace, MaxQueued: maxQueued}
	if maxQueued > 0 {
		cfg.OnFull = Reject
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &fzRun{
		t: t, s: s, base: time.Now(),
		real: map[*mInv]*Invocation[int]{}, ctl: map[*mInv]*fzCtl{}, byID: map[uint64]*mInv{},
		kill: make(chan struct{}), perKey: map[string]int{},
		events: map[uint64][]State{}, dedupes: map[uint64]int{}, throttled: map[uint64]int{},
	}
	r.m = newModel(maxParallel, maxQueued, fzSpecs, r.base)
	s.Subscribe(r.record)
	for i := range fzSpecs {
		task, err := NewTask(s, fzSpecs[i].name, r.taskFn(&fzSpecs[i]), fzSpecs[i].opts)
		if err != nil {
			t.Fatal(err)
		}
		r.tasks = append(r.tasks, task)
	}
	defer func() {
		for _, sub := range r.subs {
			if sub.cancel != nil {
				sub.cancel()
			}
		}
		if v := recover(); v != nil {
			if _, ok := v.(fzFailed); !ok {
				panic(v)
			}
			r.teardown()
		}
	}()
	r.logf("New MaxParallel %d MaxQueued %d", maxParallel, maxQueued)
	for step := 0; len(data) > 0 && step < fzMaxOps; step++ {
		var op [3]byte
		data = data[copy(op[:], data):]
		r.step(op[0], op[1], op[2])
		synctest.Wait()
		r.check()
	}
	r.finish()
}

// teardown stops everything after a failure, so that the bubble can end.
func (r *fzRun) teardown() {
	close(r.kill)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = r.s.Close(ctx)
	_ = r.s.Close(context.Background())
	if r.bg != nil && !r.bgOut {
		<-r.bg
	}
}

// taskFn returns the function of spec's task: it counts what runs per key
// and globally, then waits for its gate (and, unless stubborn, its ctx).
// A Replace task never runs two invocations of a key at once, whatever
// its Limit.
func (r *fzRun) taskFn(spec *fzSpec) func(context.Context, fz) (int, error) {
	limit := max(spec.opts.Limit, 1)
	if spec.opts.OnBusy == Replace {
		limit = 1
	}
	return func(ctx context.Context, arg fz) (int, error) {
		ctl, ok := ctx.Value(fzCtlKey{}).(*fzCtl)
		if !ok {
			r.violate("task %s: the Submit ctx's value did not reach the task", spec.name)
			return 0, errors.New("no ctl")
		}
		key := ""
		if spec.opts.Running != Disabled {
			key = cmp.Or(spec.opts.Group, spec.name) + "/" + fzScopeKey(spec, spec.opts.Running, arg)
		}
		own := "" // a Replace task's invocations of the key, counted apart from a Group's other tasks
		if spec.opts.OnBusy == Replace {
			own = spec.name + "#" + fzScopeKey(spec, spec.opts.Running, arg)
		}
		r.enter(key, max(spec.opts.Limit, 1), own, limit)
		defer r.leave(key, own)
		if ctl.runs.Add(1) > 1 {
			r.violate("submission %d ran twice", ctl.seq)
		}
		var out fzOutcome
		if ctl.stubborn {
			select {
			case out = <-ctl.gate:
			case <-r.kill:
				return 0, nil
			}
		} else {
			select {
			case out = <-ctl.gate:
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-r.kill:
				return 0, nil
			}
		}
		switch out {
		case fzError:
			return 0, errFuzzTask
		case fzPanic:
			panic("fuzz: task panic")
		case fzGoexit:
			runtime.Goexit()
		}
		return ctl.seq, nil
	}
}

// enter counts a task that starts: globally, under its key (at most
// limit), and under own (at most ownLimit) when own is set.
func (r *fzRun) enter(key string, limit int, own string, ownLimit int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.global++
	if r.global > r.s.MaxParallel() {
		r.violations = append(r.violations, fmt.Sprintf("%d running over MaxParallel %d", r.global, r.s.MaxParallel()))
	}
	for _, k := range []struct {
		key   string
		limit int
	}{{key, limit}, {own, ownLimit}} {
		if k.key != "" {
			r.perKey[k.key]++
			if n := r.perKey[k.key]; n > k.limit {
				r.violations = append(r.violations, fmt.Sprintf("key %s: %d running over %d", k.key, n, k.limit))
			}
		}
	}
}

func (r *fzRun) leave(key, own string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.global--
	for _, k := range []string{key, own} {
		if k != "" {
			r.perKey[k]--
		}
	}
}

func (r *fzRun) violate(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

// record is the event hook: it keeps each invocation's state changes, and
// counts its Deduped and Throttled events, which must follow its Queued
// event.
func (r *fzRun) record(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if (ev.Deduped || ev.Throttled) && len(r.events[ev.ID]) == 0 {
		r.violations = append(r.violations, fmt.Sprintf("invocation %d: %+v before its Queued event", ev.ID, ev))
	}
	switch {
	case ev.Deduped:
		r.dedupes[ev.ID]++
	case ev.Throttled:
		r.throttled[ev.ID]++
	default:
		r.events[ev.ID] = append(r.events[ev.ID], ev.State)
	}
}

// step runs one operation on both the scheduler and the model.
func (r *fzRun) step(op, p1, p2 byte) {
	switch op % 16 {
	case 6, 7:
		r.release(p1, p2)
	case 8, 9:
		r.cancel(p1)
	case 10:
		r.sleep(time.Duration(p1%25+1) * time.Millisecond)
	case 11, 12:
		r.wait(p1, p2)
	case 13:
		r.close(p1, p2)
	default:
		r.submit(p1, p2)
	}
}

func (r *fzRun) submit(p1, p2 byte) {
	m := r.m
	spec := &fzSpecs[int(p1)%len(fzSpecs)]
	task := r.tasks[int(p1)%len(fzSpecs)]
	arg := fz{Key: string(rune('a' + p2&3%3)), Tag: int(p2>>2) & 1}
	cancellable := p2>>3&1 == 1
	stubborn := p2>>4&3 == 3
	seq := len(r.subs)
	ctl := &fzCtl{seq: seq, stubborn: stubborn, gate: make(chan fzOutcome, 1)}
	ctx := context.WithValue(context.Background(), fzCtlKey{}, ctl)
	sub := &fzSubmission{}
	if cancellable {
		ctx, sub.cancel = context.WithCancel(ctx)
	}
	r.subs = append(r.subs, sub)
	r.logf("#%d Submit %s %+v cancellable=%v stubborn=%v", seq, spec.name, arg, cancellable, stubborn)

	absorber := m.absorber(spec, arg)
	full := absorber == nil && m.full(spec, arg)
	got, err := task.Submit(ctx, arg)
	switch {
	case m.closing:
		if !errors.Is(err, ErrClosed) || got != nil {
			r.fail("Submit after Close = invocation %d, %v; want ErrClosed", got.ID(), err)
		}
	case full:
		if !errors.Is(err, ErrFull) || got != nil {
			r.fail("Submit #%d = invocation %d, %v; want ErrFull", seq, got.ID(), err)
		}
		r.logf("  #%d: ErrFull", seq)
	case err != nil:
		r.fail("Submit: %v", err)
	case absorber != nil:
		if got != r.real[absorber] {
			r.fail("Submit #%d: want the invocation of #%d (dedupe), got a new one (ID %d)", seq, absorber.seq, got.ID())
		}
		m.stats.Submitted++
		m.stats.Deduped++
		sub.inv = absorber
	default:
		if prev := r.byID[got.ID()]; prev != nil {
			r.fail("Submit #%d: want a new invocation, got the one of #%d (ID %d)", seq, prev.seq, got.ID())
		}
		sub.inv, sub.created = m.submit(seq, spec, arg, stubborn), true
		r.real[sub.inv], r.ctl[sub.inv], r.byID[got.ID()] = got, ctl, sub.inv
	}
	r.sleep(time.Millisecond) // distinct Submit times, so distinct MaxWait deadlines
}

func (r *fzRun) release(p1, p2 byte) {
	m := r.m
	if len(m.running) == 0 {
		return
	}
	inv := m.running[int(p1)%len(m.running)]
	out := fzOK
	if o := fzOutcome(p2 % 8); o > 4 {
		out = o - 4 // Error, Panic or Goexit
	}
	r.logf("release #%d (%s) with outcome %d", inv.seq, inv.spec.name, out)
	select {
	case r.ctl[inv].gate <- out:
	default:
		r.fail("release #%d: its gate is full: the model thinks it runs, but it took nothing", inv.seq)
	}
	m.release(inv, out)
}

func (r *fzRun) cancel(p1 byte) {
	if len(r.subs) == 0 {
		return
	}
	i := int(p1) % len(r.subs)
	sub := r.subs[i]
	if sub.cancel == nil {
		return
	}
	r.logf("cancel the ctx of #%d", i)
	sub.cancel()
	if sub.created {
		r.m.cancel(sub.inv)
	}
}

// sleep lets fake time pass on both sides.
func (r *fzRun) sleep(d time.Duration) {
	time.Sleep(d)
	r.m.advanceTo(r.m.now.Add(d), nil)
}

// realign returns to a whole millisecond after an operation that ended on
// a half one.
func (r *fzRun) realign() {
	if off := r.m.now.Sub(r.base) % time.Millisecond; off != 0 {
		r.sleep(time.Millisecond - off)
	}
}

func (r *fzRun) wait(p1, p2 byte) {
	m := r.m
	if len(r.subs) == 0 {
		return
	}
	sub := r.subs[int(p1)%len(r.subs)]
	inv := sub.inv
	if inv == nil {
		return
	}
	d := time.Duration(p2%30)*time.Millisecond + time.Millisecond/2
	r.logf("Wait #%d for %v", inv.seq, d)
	final := inv.state.Final() || m.advanceTo(m.now.Add(d), func() bool { return inv.state.Final() })
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	v, err := r.real[inv].Wait(ctx)
	if !time.Now().Equal(m.now) {
		r.fail("Wait #%d returned at %v, want %v", inv.seq, time.Since(r.base), m.now.Sub(r.base))
	}
	if final {
		r.checkResult(inv, v, err)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		r.fail("Wait #%d = %v, %v; want its ctx's deadline (the invocation is %v)", inv.seq, v, err, inv.state)
	}
	r.realign()
}

func (r *fzRun) close(p1, p2 byte) {
	m := r.m
	switch p1 % 3 {
	case 0: // in the background, without a deadline
		if r.bg != nil {
			return
		}
		r.logf("Close in the background")
		r.bg = make(chan error, 1)
		go func() { r.bg <- r.s.Close(context.Background()) }()
		m.closing = true
		m.settle()
	case 1: // with a ctx that has ended
		r.logf("Close with an ended ctx")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r.closeNow(ctx, 0, context.Canceled)
	case 2: // with a timeout
		d := time.Duration(p2%30)*time.Millisecond + time.Millisecond/2
		r.logf("Close with a timeout of %v", d)
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		r.closeNow(ctx, d, context.DeadlineExceeded)
	}
}

// closeNow calls Close with ctx, which ends after d with cause, and checks
// its error and how long it took against the model.
func (r *fzRun) closeNow(ctx context.Context, d time.Duration, cause error) {
	m := r.m
	wasStopped := m.stopped
	m.closing = true
	m.settle()
	var (
		want     []error // nil: Close returns nil
		maybeNil bool    // nil or want: Close and the dispatcher's exit race
		leaked   []*mInv
	)
	switch {
	case wasStopped:
	case m.stopped && d == 0:
		want, maybeNil = []error{cause}, true
	case m.stopped:
	case d > 0 && m.advanceTo(m.now.Add(d), func() bool { return m.stopped }):
	default:
		m.abort()
		want = []error{cause}
		if !m.stopped {
			leaked = m.stubbornRunning()
			want = append(want, ErrLeaked)
			m.now = m.now.Add(fzGrace)
		}
	}
	err := r.s.Close(ctx)
	if !time.Now().Equal(m.now) {
		r.fail("Close returned at %v, want %v (err %v)", time.Since(r.base), m.now.Sub(r.base), err)
	}
	switch {
	case want == nil || (maybeNil && err == nil):
		if err != nil {
			r.fail("Close = %v, want nil", err)
		}
	default:
		for _, w := range want {
			if !errors.Is(err, w) {
				r.fail("Close = %v, want it to wrap %v", err, w)
			}
		}
		if leaked == nil && errors.Is(err, ErrLeaked) {
			r.fail("Close = %v: nothing leaked", err)
		}
		if leaked != nil && !strings.Contains(err.Error(), fmt.Sprintf("%d running: ", len(leaked))) {
			r.fail("Close = %v, want %d leaked tasks", err, len(leaked))
		}
		for _, inv := range leaked {
			name := fmt.Sprintf("task %q key %q id %d", inv.spec.name, inv.key, r.real[inv].ID())
			if !strings.Contains(err.Error(), name) {
				r.fail("Close = %v, want it to name %s", err, name)
			}
		}
	}
	r.realign()
}
