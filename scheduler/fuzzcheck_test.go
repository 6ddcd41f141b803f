package scheduler_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
)

// check compares the settled scheduler with the model.
func (r *fzRun) check() {
	m := r.m
	r.mu.Lock()
	violations := slices.Clone(r.violations)
	r.mu.Unlock()
	if len(violations) > 0 {
		r.fail("invariants broken inside the tasks: %v", violations)
	}
	for inv, real := range r.real {
		if got := real.State(); got != inv.state {
			r.fail("#%d (%s, key %q): state %v, model %v", inv.seq, inv.spec.name, inv.key, got, inv.state)
		}
		if inv.seq%2 == 0 || inv.state.Final() { // the others make no channel until final
			select {
			case <-real.Done():
				if !inv.state.Final() {
					r.fail("#%d: Done closed while %v", inv.seq, inv.state)
				}
			default:
				if inv.state.Final() {
					r.fail("#%d: Done not closed, final %v", inv.seq, inv.state)
				}
			}
		}
	}
	if got, want := r.s.Stats(), m.gauges(); got != want {
		r.fail("Stats\n got %+v\nwant %+v", got, want)
	}
	if got, want := r.s.Keys(0), m.keys(); !slices.Equal(got, want) {
		r.fail("Keys\n got %+v\nwant %+v", got, want)
	}
	if r.bg != nil && !r.bgOut {
		select {
		case err := <-r.bg:
			r.bgOut = true
			if !m.stopped || err != nil {
				r.fail("background Close returned %v; the model has stopped=%v", err, m.stopped)
			}
		default:
			if m.stopped {
				r.fail("background Close has not returned; the model has stopped")
			}
		}
	}
}

// finish drains the scheduler (Close, releasing what runs until it
// returns) and checks the whole history.
func (r *fzRun) finish() {
	m := r.m
	if r.bg == nil && !m.stopped {
		r.close(0, 0)
	}
	for !m.stopped {
		synctest.Wait()
		r.check()
		if len(m.running) == 0 {
			r.fail("model: %d outstanding but nothing runs", m.outstanding)
		}
		r.release(0, 0)
	}
	synctest.Wait()
	r.check()
	if err := r.s.Close(context.Background()); err != nil {
		r.fail("Close after the end = %v", err)
	}
	st := r.s.Stats()
	finals := st.Succeeded + st.Failed + st.Dropped + st.Expired + st.Canceled
	if st.Submitted != st.Deduped+finals || st.Queued+st.Pending+st.Running+st.Actors != 0 {
		r.fail("Stats do not add up: %+v", st)
	}
	dedupes := map[*mInv]int{}
	for _, sub := range r.subs {
		if sub.inv != nil && !sub.created {
			dedupes[sub.inv]++
		}
	}
	r.mu.Lock()
	events, dedupeEvents, throttled := r.events, r.dedupes, r.throttled
	r.mu.Unlock()
	if len(throttled) > 0 { // the rated task drops what it has no token for
		r.fail("Throttled events %v; none can wait for a token", throttled)
	}
	for inv, real := range r.real {
		id := real.ID()
		if !slices.Equal(events[id], inv.path) {
			r.fail("#%d (%s): events %v, model %v", inv.seq, inv.spec.name, events[id], inv.path)
		}
		if dedupeEvents[id] != dedupes[inv] {
			r.fail("#%d: %d Deduped events for %d deduplicated submissions", inv.seq, dedupeEvents[id], dedupes[inv])
		}
		if runs := r.ctl[inv].runs.Load(); (runs == 1) != inv.ran {
			r.fail("#%d (%s) ran %d times; the model says ran=%v (final %v)", inv.seq, inv.spec.name, runs, inv.ran, inv.state)
		}
		v, err := real.Wait(context.Background())
		r.checkResult(inv, v, err)
	}
	if len(events) != len(r.real) {
		r.fail("events for %d invocations, %d created", len(events), len(r.real))
	}
	if testing.Verbose() {
		r.t.Logf("ops:\n  %s\nstats %+v", strings.Join(r.log, "\n  "), st)
	}
}

// checkResult checks what Wait returned for a final invocation.
func (r *fzRun) checkResult(inv *mInv, v int, err error) {
	if inv.err == nil {
		if err != nil || v != inv.seq {
			r.fail("Wait #%d = %d, %v; want %d, nil", inv.seq, v, err, inv.seq)
		}
		return
	}
	if v != 0 && !inv.ran { // a replaced task's result comes with ErrReplaced
		r.fail("Wait #%d = %d with error %v; want the zero result", inv.seq, v, err)
	}
	for _, w := range inv.err {
		if !errors.Is(err, w) {
			r.fail("Wait #%d (%v) = %v; want it to wrap %v", inv.seq, inv.state, err, w)
		}
	}
}
