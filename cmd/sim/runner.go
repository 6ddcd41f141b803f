package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
	"github.com/perkey/perkey/timeline"
)

// runner runs scenarios, one at a time, with one scheduler against one
// provider.
type runner struct {
	client    *provider.Client
	tasks     [numTasks]*simTask
	tap       *logTap // the in-process provider's log; nil for an external one
	hold      time.Duration
	parallel  int
	slack     time.Duration
	unguarded map[string]bool
	rec       *timeline.Recorder // with -timeline: collisions are marked on it
}

// result is what one scenario did: its plan's phase, and its baseline's
// if it has one. Calls, collisions and rate violations are the provider's
// counts; the rest is the sim's.
type result struct {
	sc scenario
	phase
	baseline *phase        // H: the run without a Group; nil for others
	bound    time.Duration // the physical lower bound
	hold     time.Duration // the provider's hold per call
	parallel int           // the scheduler's MaxParallel
	slack    time.Duration // -slack: added to the time goals

	// E: the 99th percentile of the minnows' times from submit to final,
	// and the time from the first submit until the whale's last call
	// ended.
	minnowP99, whale time.Duration
}

// phase is one run of a plan, after a reset of the provider.
type phase struct {
	enqueued       int                        // Submit calls
	calls          int                        // calls the provider counted
	collisions     int                        // collisions the provider counted
	rateViolations int                        // rate violations the provider counted
	dropped        int                        // invocations that ended Dropped
	deduped        int                        // submissions collapsed into another
	elapsed        time.Duration              // first Submit until all final
	accounts       map[string]provider.Counts // per account, from the provider
	log            []callLine                 // the provider's call log; nil for an external one
	drops          []droppedCall              // the invocations that ended Dropped, in plan order
	timings        []timing                   // per submission, in plan order
}

// callLine is one line of the provider's call log, and when the provider
// logged it, from the phase's first submit.
type callLine struct {
	offset time.Duration
	text   string
}

// droppedCall is a call that the scheduler dropped, and so never sent:
// which, and when it was dropped, from the phase's first submit.
type droppedCall struct {
	offset      time.Duration
	account, op string
}

// timing is when one submission was made, and when its invocation (the
// one it was collapsed into, if deduplicated) reached its final state.
type timing struct {
	account          string
	submitted, final time.Time
}

// run runs the scenario: its baseline, if any, then its plan, each after
// a reset of the provider with the scenario's title. It fails when the
// provider cannot be reached, when a call fails (the first error; it still
// waits for the rest) or when ctx ends.
func (r *runner) run(ctx context.Context, sc scenario) (result, error) {
	res := result{sc: sc, hold: sc.holdFor(r.hold), bound: sc.bound(r.hold, r.parallel), parallel: r.parallel, slack: r.slack}
	if len(sc.baseline) > 0 {
		b, err := r.phase(ctx, sc, sc.title()+" — without Group", sc.baseline)
		if err != nil {
			return res, err
		}
		res.baseline = &b
	}
	p, err := r.phase(ctx, sc, sc.title(), sc.plan)
	res.phase = p
	if err != nil {
		return res, err
	}
	if sc.whale != "" {
		res.minnowP99, res.whale = noisyTimes(p.timings, sc.whale)
	}
	return res, nil
}

// phase resets the provider with label, submits plan, waits until every
// invocation is final and reads the provider's report.
func (r *runner) phase(ctx context.Context, sc scenario, label string, plan []step) (phase, error) {
	var p phase
	if err := r.client.Reset(ctx, label); err != nil {
		return p, err
	}
	r.takeLog(time.Time{}) // the reset line: the header says it already
	mode := sc.mode(r.hold, r.slack)

	type watched struct {
		inv   *scheduler.Invocation[provider.Outcome]
		call  call
		final time.Time // set by its watcher
	}
	var invs []*watched
	index := make(map[*scheduler.Invocation[provider.Outcome]]int, len(plan))
	subs := make([]int, 0, len(plan)) // the index in invs of each submission
	var wg sync.WaitGroup
	wctx, stopWatching := context.WithCancel(ctx)
	defer func() { // on every return: no watcher outlives the phase
		stopWatching()
		wg.Wait()
	}()
	var firstErr error
	start := time.Now()
	for _, st := range plan {
		task := r.tasks[st.task]
		if r.unguarded[sc.letter] {
			task = r.tasks[unsafeTask]
		}
		c := st.call
		c.Mode = mode
		at := time.Now()
		inv, err := task.Submit(ctx, c)
		if err != nil {
			firstErr = fmt.Errorf("submit %s/%s: %w", c.Account, c.Op, err)
			break
		}
		p.enqueued++
		p.timings = append(p.timings, timing{account: c.Account, submitted: at})
		i, seen := index[inv]
		if seen {
			p.deduped++
		} else {
			i = len(invs)
			index[inv] = i
			w := &watched{inv: inv, call: c}
			invs = append(invs, w)
			wg.Go(func() { // records when it ends; joined below
				select {
				case <-inv.Done():
					w.final = time.Now()
				case <-wctx.Done():
				}
			})
		}
		subs = append(subs, i)
	}
	var dropped []*watched
	for _, w := range invs {
		out, err := w.inv.Wait(ctx)
		switch {
		case err == nil:
			if out == provider.Collision {
				r.noteCollision(w.inv.ID())
			}
		case errors.Is(err, scheduler.ErrDropped):
			p.dropped++
			dropped = append(dropped, w)
		case ctx.Err() != nil:
			return p, ctx.Err()
		case firstErr == nil:
			firstErr = fmt.Errorf("%s: %w", w.inv.Key(), err)
		}
	}
	wg.Wait()
	for k, i := range subs {
		p.timings[k].final = invs[i].final
		p.elapsed = max(p.elapsed, invs[i].final.Sub(start))
	}
	for _, w := range dropped {
		p.drops = append(p.drops, droppedCall{offset: w.final.Sub(start), account: w.call.Account, op: w.call.Op})
	}
	if firstErr != nil {
		return p, firstErr
	}

	rep, err := r.client.Report(ctx)
	if err != nil {
		return p, err
	}
	p.calls, p.collisions, p.rateViolations, p.accounts = rep.Calls, rep.Collisions, rep.RateViolations, rep.Accounts
	p.log = r.takeLog(start)
	return p, nil
}

// takeLog returns the provider's log lines since the last take, with
// their offsets from start; nil for an external provider.
func (r *runner) takeLog(start time.Time) []callLine {
	if r.tap == nil {
		return nil
	}
	var out []callLine
	for _, l := range r.tap.take() {
		out = append(out, callLine{offset: l.at.Sub(start), text: l.text})
	}
	return out
}

// noteCollision marks, on the timeline of a -timeline run, the invocation
// id as one that the provider answered with a collision.
func (r *runner) noteCollision(id uint64) {
	r.rec.Annotate(id, "collision") // a nil Recorder (no -timeline) ignores it
}
