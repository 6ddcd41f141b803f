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
// of the package's documented guarantees (doc.go, Options, Policy,
// FullPolicy, State, Stats), written from the docs, not from the
// implementation: it knows nothing of actors' counters, the ready list or
// the ring. The fuzz driver lets the real scheduler settle
// (synctest.Wait) after every operation, so that at each step the model
// can say exactly which invocation is Queued, Pending, Running or final.
// The rules, and where each is promised:
//
//   - Keys (doc.go, Options.Running, Group): an invocation of a task with
//     a Running scope waits in its key's FIFO (shared by a Group's tasks);
//     one without goes straight to Pending.
//   - Limit (Options.Limit): at most Limit of a key's invocations are
//     Pending or Running. A key holds one place at a time in the slot
//     queue: while one of its invocations is Pending and has not started,
//     its next one waits Queued, and becomes Pending when that one starts.
//   - Rate (Options.Rate): every start takes a token from a bucket of
//     Burst tokens that refills at Rate; a key's head waits Queued while
//     the bucket is empty; an idle key is remembered (Stats.Actors) until
//     its bucket is full again. The fuzz's rated task refills one token
//     an hour, so within an execution a bucket only loses tokens.
//   - Slots (doc.go, fair across keys): Pending invocations take the free
//     slots of MaxParallel in the order they became Pending.
//   - Drop (Policy Drop): a submission is dropped when its key has no
//     room: its Queued, Pending and Running invocations together number
//     Limit, or the bucket's tokens do not cover every invocation of the
//     key not started yet plus this one. Otherwise it is routed like any
//     other, and never waits for the key's work to end.
//   - Replace (Policy Replace): a submission ends its task's waiting
//     invocations of the key, cancels the running ones (which return at
//     once unless their task ignores its ctx), and waits Queued until
//     every one it cancelled has returned, whatever the Limit.
//   - Dedupe (Options.Registration, Dedupe): a submission matching an
//     unfinished invocation of the same task and registration key (not
//     started yet, with UntilStart) returns that invocation.
//   - MaxQueued (Config.MaxQueued, Options.MaxQueued, FullPolicy Reject):
//     a submission that is not deduplicated fails with ErrFull, creating
//     nothing, when a bound's waiting invocations (Queued or Pending)
//     already number its MaxQueued: the key's (the task's, without a
//     Running scope) or the whole scheduler's. A Replace task's submission
//     is never held back by its key's bound.
//   - MaxWait, a Submit ctx and Close (Options.MaxWait, Task.Submit,
//     Scheduler.Close) end waiting work without running it.
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

// mActor is one key: its FIFO of Queued invocations, and its Pending and
// Running ones in the order they became Pending.
type mActor struct {
	key      string
	queue    []*mInv
	inflight []*mInv
	starts   int // tokens taken from its bucket (rated keyspaces)
}

type mKeyspace struct {
	name      string
	limit     int
	burst     int // the bucket's size; 0 without a Rate
	maxQueued int
	actors    map[string]*mActor
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
	maxQueued   int  // Config.MaxQueued, with OnFull Reject; 0 for none
	closing     bool // Close was called
	aborted     bool // Close gave up waiting
	stopped     bool // Close has returned, or would now
	stats       Stats
	// returned are running invocations whose ctx just ended and whose
	// task honours it: they return once the dispatcher's step is done.
	returned []*mInv
}

func newModel(maxParallel, maxQueued int, specs []fzSpec, now time.Time) *model {
	m := &model{now: now, maxParallel: maxParallel, maxQueued: maxQueued, spaces: map[string]*mKeyspace{}, index: map[string]map[string]*mInv{}}
	for i := range specs {
		o := specs[i].opts
		if o.Running == Disabled {
			continue
		}
		name := cmp.Or(o.Group, specs[i].name)
		if m.spaces[name] == nil {
			ks := &mKeyspace{name: name, limit: max(o.Limit, 1), maxQueued: o.MaxQueued, actors: map[string]*mActor{}}
			if o.Rate > 0 {
				ks.burst = max(o.Burst, 1)
			}
			m.spaces[name] = ks
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

// full reports whether a new invocation of spec with arg finds a MaxQueued
// bound reached (the caller checked dedupe): Submit then fails with
// ErrFull.
func (m *model) full(spec *fzSpec, arg fz) bool {
	if o := spec.opts; o.MaxQueued > 0 && o.OnBusy != Replace {
		waiting := 0
		if ks := m.keyspace(spec); ks != nil {
			if a := ks.actors[fzScopeKey(spec, o.Running, arg)]; a != nil {
				waiting = len(a.queue) + countPending(a.inflight)
			}
		} else {
			for _, inv := range m.ready {
				if inv.spec == spec {
					waiting++
				}
			}
		}
		if waiting >= o.MaxQueued {
			return true
		}
	}
	return m.maxQueued > 0 && len(m.waiting()) >= m.maxQueued
}

func countPending(invs []*mInv) int {
	n := 0
	for _, inv := range invs {
		if inv.state == Pending {
			n++
		}
	}
	return n
}

// submit creates and routes a new invocation; the caller checked dedupe
// and the bounds.
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
	switch spec.opts.OnBusy {
	case Drop:
		if !m.room(inv.ks, a) {
			m.final(inv, Dropped, ErrDropped)
			m.forgetIdle(inv.ks, a)
			m.settle()
			return inv
		}
	case Replace:
		m.replace(a, spec)
		a = m.actor(inv.ks, inv.key)
	}
	a.queue = append(a.queue, inv)
	m.advance(inv.ks, a)
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

// room reports whether a's key can take one more invocation (Drop): its
// Limit is not taken by what it holds, and its bucket covers every
// invocation not started yet plus this one.
func (m *model) room(ks *mKeyspace, a *mActor) bool {
	if len(a.queue)+len(a.inflight) >= ks.limit {
		return false
	}
	unstarted := len(a.queue) + countPending(a.inflight)
	return ks.burst == 0 || ks.burst-a.starts >= unstarted+1
}

// mayStart reports whether the head of a's queue may become Pending.
func (m *model) mayStart(ks *mKeyspace, a *mActor) bool {
	switch {
	case len(a.queue) == 0 || len(a.inflight) >= ks.limit:
		return false
	case countPending(a.inflight) > 0: // one place at a time in the slot queue
		return false
	case ks.burst > 0 && ks.burst-a.starts < 1: // no token
		return false
	}
	head := a.queue[0]
	if head.spec.opts.OnBusy == Replace {
		for _, inv := range a.inflight {
			if inv.spec == head.spec && inv.replacing {
				return false // waits for what it replaced to return
			}
		}
	}
	return true
}

// advance makes Pending what a's key may start, and forgets a once idle.
func (m *model) advance(ks *mKeyspace, a *mActor) {
	if ks.actors[a.key] != a {
		return // forgotten already
	}
	for m.mayStart(ks, a) {
		inv := a.queue[0]
		a.queue = a.queue[1:]
		a.inflight = append(a.inflight, inv)
		m.makePending(inv)
	}
	m.forgetIdle(ks, a)
}

// forgetIdle forgets a key with no work, unless its bucket is refilling.
func (m *model) forgetIdle(ks *mKeyspace, a *mActor) {
	if len(a.inflight) == 0 && len(a.queue) == 0 && a.starts == 0 {
		delete(ks.actors, a.key)
	}
}

func (m *model) makePending(inv *mInv) {
	inv.to(Pending)
	m.ready = append(m.ready, inv)
}

// replace makes room for a new invocation of the Replace task spec on a:
// its waiting invocations end, its running ones are cancelled.
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
			if inv.ks != nil {
				a := inv.ks.actors[inv.key]
				if inv.ks.burst > 0 {
					a.starts++ // the start takes a token
				}
				m.advance(inv.ks, a) // its next may take its place in the slot queue
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

// gauges returns the model's Stats, with the gauges of this moment: the
// live keys are those with work, and rated ones refilling, until the
// scheduler has stopped.
func (m *model) gauges() Stats {
	st := m.stats
	st.Queued, st.Pending, st.Running, st.Actors = 0, 0, len(m.running), 0
	for _, ks := range m.spaces {
		for _, a := range ks.actors {
			st.Actors++
			st.Queued += len(a.queue)
		}
	}
	if m.stopped {
		st.Actors = 0
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
			if len(a.queue) == 0 && len(a.inflight) == 0 {
				continue // a rated key refilling: no work to list
			}
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
