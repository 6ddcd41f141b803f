package scheduler_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	. "github.com/perkey/perkey/scheduler"
)

// The reference model of FuzzScheduler: a plain, single-threaded rendering
// of the documented rules. The fuzz driver lets the real scheduler settle
// (synctest.Wait) after every operation, so that at each step the model can
// say exactly which invocation is Queued, Pending, Running or final:
//
//   - a key's invocations become Pending in FIFO order, while the key has
//     fewer than Limit in flight and (Limit above 1) none taken but not yet
//     started;
//   - Pending invocations take slots in the order they became Pending, one
//     per free slot of MaxParallel;
//   - Drop ends Dropped what cannot become Pending at once; Replace ends
//     the task's waiting invocations for the key and cancels its running
//     one; registration dedupe returns the unfinished invocation of the
//     same registration key (UntilStart: until it starts);
//   - MaxWait, a Submit ctx and Close end waiting work without running it.
//
// Time is fake, and the driver keeps every deadline distinct (see
// FuzzScheduler), so the order of events is never a coin toss.

// fzOutcome is how a released task ends.
type fzOutcome uint8

const (
	fzOK       fzOutcome = iota // returns its submission's sequence number
	fzError                     // returns errFuzzTask
	fzPanic                     // panics
	fzGoexit                    // calls runtime.Goexit
	fzCtxEnded                  // (model only) returned ctx.Err() when its ctx ended
)

var errFuzzTask = errors.New("fuzz: task error")

// fzSpec is one of FuzzScheduler's tasks.
type fzSpec struct {
	name string
	opts Options[fz]
}

// mInv is the model of one invocation.
type mInv struct {
	seq       int // the submission that created it
	spec      *fzSpec
	ks        *mKeyspace // nil for Running Disabled
	key, reg  string
	arg       fz
	state     State
	replacing bool // its ctx was cancelled by a Replace; it still runs
	ran       bool
	path      []State
	deadline  time.Time // MaxWait; zero if none
	stubborn  bool      // its task ignores ctx
	err       []error   // what its Wait error must match; nil for success
}

// final ends inv in state st with an error matching errs.
func (m *model) final(inv *mInv, st State, errs ...error) {
	inv.state = st
	inv.path = append(inv.path, st)
	inv.err = errs
	m.outstanding--
	switch st {
	case Succeeded:
		m.stats.Succeeded++
	case Failed:
		m.stats.Failed++
	case Dropped:
		m.stats.Dropped++
	case Expired:
		m.stats.Expired++
	case Canceled:
		m.stats.Canceled++
	}
}

func (inv *mInv) to(st State) {
	inv.state = st
	inv.path = append(inv.path, st)
}

type mActor struct {
	key      string
	queue    []*mInv
	inflight []*mInv // Pending or Running
	waiting  int     // taken but not started (tracked keyspaces)
}

type mKeyspace struct {
	name    string
	limit   int
	tracked bool
	actors  map[string]*mActor
}

// model is the whole scheduler.
type model struct {
	now         time.Time
	maxParallel int
	ready       []*mInv // Pending, in slot order
	running     []*mInv // in start order
	spaces      map[string]*mKeyspace
	index       map[string]map[string]*mInv // task -> registration key -> invocation
	outstanding int
	closing     bool // Close was called
	aborted     bool // Close gave up waiting
	stopped     bool // Close has returned, or would now
	stats       Stats
	// returned are running invocations whose ctx just ended and whose
	// task honours it: they return once the dispatcher's step is done.
	returned []*mInv
}

func newModel(maxParallel int, specs []fzSpec, now time.Time) *model {
	m := &model{now: now, maxParallel: maxParallel, spaces: map[string]*mKeyspace{}, index: map[string]map[string]*mInv{}}
	for i := range specs {
		o := specs[i].opts
		if o.Running == Disabled {
			continue
		}
		name := cmp.Or(o.Group, specs[i].name)
		if m.spaces[name] == nil {
			limit := max(o.Limit, 1)
			m.spaces[name] = &mKeyspace{name: name, limit: limit, tracked: limit > 1, actors: map[string]*mActor{}}
		}
	}
	return m
}

// fzScopeKey returns the key a scope gives arg under spec, as Submit computes it.
func fzScopeKey(spec *fzSpec, s Scope, arg fz) string {
	switch s {
	case ByTask:
		return spec.name
	case ByArguments:
		return fmt.Sprintf("%#v", arg)
	}
	if spec.opts.Key != nil {
		return spec.opts.Key(arg)
	}
	return ""
}

func (m *model) keyspace(spec *fzSpec) *mKeyspace {
	if spec.opts.Running == Disabled {
		return nil
	}
	return m.spaces[cmp.Or(spec.opts.Group, spec.name)]
}

// absorber returns the unfinished invocation a new submission of spec with
// arg collapses into, if any.
func (m *model) absorber(spec *fzSpec, arg fz) *mInv {
	if spec.opts.Registration == Disabled {
		return nil
	}
	inv := m.index[spec.name][fzScopeKey(spec, spec.opts.Registration, arg)]
	switch {
	case inv == nil || inv.state.Final():
		return nil
	case spec.opts.Dedupe == UntilStart && inv.state >= Running:
		return nil
	}
	return inv
}

// submit creates and routes a new invocation; the caller checked dedupe.
func (m *model) submit(seq int, spec *fzSpec, arg fz, stubborn bool) *mInv {
	inv := &mInv{seq: seq, spec: spec, ks: m.keyspace(spec), arg: arg, stubborn: stubborn,
		key: fzScopeKey(spec, spec.opts.Running, arg), reg: fzScopeKey(spec, spec.opts.Registration, arg)}
	if spec.opts.MaxWait > 0 {
		inv.deadline = m.now.Add(spec.opts.MaxWait)
	}
	if spec.opts.Registration != Disabled {
		if m.index[spec.name] == nil {
			m.index[spec.name] = map[string]*mInv{}
		}
		m.index[spec.name][inv.reg] = inv
	}
	m.stats.Submitted++
	m.outstanding++
	inv.to(Queued)
	if inv.ks == nil {
		m.makePending(inv)
		m.settle()
		return inv
	}
	a := m.actor(inv.ks, inv.key)
	if spec.opts.OnBusy == Replace {
		m.replace(a, spec)
		a = m.actor(inv.ks, inv.key)
	}
	a.queue = append(a.queue, inv)
	m.advance(inv.ks, a)
	if spec.opts.OnBusy == Drop && inv.state == Queued {
		a.queue = slices.DeleteFunc(a.queue, func(j *mInv) bool { return j == inv })
		m.final(inv, Dropped, ErrDropped)
		m.advance(inv.ks, a)
	}
	m.settle()
	return inv
}

func (m *model) actor(ks *mKeyspace, key string) *mActor {
	a := ks.actors[key]
	if a == nil {
		a = &mActor{key: key}
		ks.actors[key] = a
	}
	return a
}

// advance makes Pending what a's key may start, and forgets a once idle.
func (m *model) advance(ks *mKeyspace, a *mActor) {
	if ks.actors[a.key] != a {
		return // forgotten already
	}
	for len(a.inflight) < ks.limit && a.waiting == 0 && len(a.queue) > 0 {
		inv := a.queue[0]
		a.queue = a.queue[1:]
		a.inflight = append(a.inflight, inv)
		if ks.tracked {
			a.waiting++
		}
		m.makePending(inv)
	}
	if len(a.inflight) == 0 && len(a.queue) == 0 {
		delete(ks.actors, a.key)
	}
}

func (m *model) makePending(inv *mInv) {
	inv.to(Pending)
	m.ready = append(m.ready, inv)
}

// replace makes room for a new invocation of the Replace task spec on a.
func (m *model) replace(a *mActor, spec *fzSpec) {
	for _, inv := range slices.Clone(a.queue) {
		if inv.spec == spec {
			m.endWaiting(inv, Canceled, ErrCanceled, ErrReplaced)
		}
	}
	for _, inv := range slices.Clone(a.inflight) {
		switch {
		case inv.spec != spec:
		case inv.state == Pending:
			m.endWaiting(inv, Canceled, ErrCanceled, ErrReplaced)
		case inv.state == Running && !inv.replacing:
			inv.replacing = true
			if !inv.stubborn {
				m.returned = append(m.returned, inv)
			}
		}
	}
}

// endWaiting ends a Queued or Pending invocation without running it.
func (m *model) endWaiting(inv *mInv, st State, errs ...error) {
	switch inv.state {
	case Queued:
		a := inv.ks.actors[inv.key]
		a.queue = slices.DeleteFunc(a.queue, func(j *mInv) bool { return j == inv })
		m.final(inv, st, errs...)
		m.advance(inv.ks, a)
	case Pending:
		m.ready = slices.DeleteFunc(m.ready, func(j *mInv) bool { return j == inv })
		m.final(inv, st, errs...)
		if inv.ks != nil {
			a := inv.ks.actors[inv.key]
			a.inflight = slices.DeleteFunc(a.inflight, func(j *mInv) bool { return j == inv })
			if inv.ks.tracked {
				a.waiting--
			}
			m.advance(inv.ks, a)
		}
	}
}

// settle lets the workers take free slots, then lets the tasks whose ctx
// ended return, until nothing moves.
func (m *model) settle() {
	for {
		for len(m.running) < m.maxParallel && len(m.ready) > 0 {
			inv := m.ready[0]
			m.ready = m.ready[1:]
			inv.to(Running)
			inv.ran = true
			m.running = append(m.running, inv)
			if inv.ks != nil && inv.ks.tracked {
				a := inv.ks.actors[inv.key]
				a.waiting--
				m.advance(inv.ks, a)
			}
		}
		if len(m.returned) == 0 {
			break
		}
		inv := m.returned[0]
		m.returned = m.returned[1:]
		m.finishRunning(inv, fzCtxEnded)
	}
	if m.closing && m.outstanding == 0 {
		m.stopped = true
	}
}

// release ends the running invocation inv with outcome, and lets the
// scheduler move on.
func (m *model) release(inv *mInv, out fzOutcome) {
	m.finishRunning(inv, out)
	m.settle()
}

func (m *model) finishRunning(inv *mInv, out fzOutcome) {
	m.running = slices.DeleteFunc(m.running, func(j *mInv) bool { return j == inv })
	switch {
	case out == fzGoexit:
		m.final(inv, Failed, ErrGoexit)
	case inv.replacing:
		m.final(inv, Canceled, ErrCanceled, ErrReplaced)
	case out == fzOK:
		m.final(inv, Succeeded)
	case out == fzError:
		m.final(inv, Failed, errFuzzTask)
	case out == fzPanic:
		m.final(inv, Failed, ErrPanic)
	case out == fzCtxEnded:
		m.final(inv, Failed, context.Canceled)
	}
	if inv.ks != nil {
		a := inv.ks.actors[inv.key]
		a.inflight = slices.DeleteFunc(a.inflight, func(j *mInv) bool { return j == inv })
		m.advance(inv.ks, a)
	}
}

// cancel ends inv Canceled if it still waits: its Submit ctx ended.
func (m *model) cancel(inv *mInv) {
	m.endWaiting(inv, Canceled, ErrCanceled, context.Canceled)
	m.settle()
}

// waiting returns the invocations that are Queued or Pending.
func (m *model) waiting() []*mInv {
	var out []*mInv
	for _, ks := range m.spaces {
		for _, a := range ks.actors {
			out = append(out, a.queue...)
			for _, inv := range a.inflight {
				if inv.state == Pending {
					out = append(out, inv)
				}
			}
		}
	}
	for _, inv := range m.ready {
		if inv.ks == nil {
			out = append(out, inv)
		}
	}
	return out
}

// advanceTo moves the clock to until, expiring waiting work on the way, in
// deadline order. It stops early, at the expiry that makes stop true.
func (m *model) advanceTo(until time.Time, stop func() bool) (stoppedEarly bool) {
	for {
		var next *mInv
		for _, inv := range m.waiting() {
			if !inv.deadline.IsZero() && !inv.deadline.After(until) && (next == nil || inv.deadline.Before(next.deadline)) {
				next = inv
			}
		}
		if next == nil {
			break
		}
		m.now = next.deadline
		m.endWaiting(next, Expired, ErrExpired)
		m.settle()
		if stop != nil && stop() {
			return true
		}
	}
	m.now = until
	return false
}

// abort is what Close does when its ctx ends: waiting work ends Canceled,
// running tasks have their ctx cancelled.
func (m *model) abort() {
	m.aborted = true
	for _, inv := range m.waiting() {
		// Queued first, so that no key promotes more work.
		if inv.state == Queued {
			m.endWaiting(inv, Canceled, ErrCanceled, ErrClosed)
		}
	}
	for _, inv := range m.waiting() {
		m.endWaiting(inv, Canceled, ErrCanceled, ErrClosed)
	}
	for _, inv := range m.running {
		if !inv.stubborn && !inv.replacing {
			m.returned = append(m.returned, inv)
		}
	}
	m.settle()
}

// stubbornRunning returns the running invocations whose task ignores ctx.
func (m *model) stubbornRunning() []*mInv {
	var out []*mInv
	for _, inv := range m.running {
		if inv.stubborn {
			out = append(out, inv)
		}
	}
	return out
}

// gauges returns the model's Stats, with the gauges of this moment.
func (m *model) gauges() Stats {
	st := m.stats
	st.Queued, st.Pending, st.Running, st.Actors = 0, 0, len(m.running), 0
	for _, ks := range m.spaces {
		for _, a := range ks.actors {
			st.Actors++
			st.Queued += len(a.queue)
		}
	}
	st.Pending = len(m.ready)
	return st
}

// keys returns what Keys(0) should.
func (m *model) keys() []KeyStats {
	var out []KeyStats
	if m.stopped {
		return nil
	}
	for _, ks := range m.spaces {
		for _, a := range ks.actors {
			k := KeyStats{Task: ks.name, Key: a.key, Queued: len(a.queue)}
			for _, inv := range a.inflight {
				if inv.state == Running {
					k.Running++
				} else {
					k.Pending++
				}
			}
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b KeyStats) int {
		return cmp.Or(cmp.Compare(b.Busy(), a.Busy()), cmp.Compare(a.Task, b.Task), cmp.Compare(a.Key, b.Key))
	})
	return out
}
