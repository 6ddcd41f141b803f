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
	parallel  int // the calls that can run at once, for the bounds; 0: unknown
	slack     time.Duration
	unguarded map[string]bool
	rec       *timeline.Recorder // with -timeline: collisions are marked on it

	// Across processes: the provider URL that every call carries, for
	// the workers; and batch, which submits each run of consecutive
	// calls to one task with one SubmitAll, in one round trip and one
	// transaction, so that C's drops and D's dedupes are decided as in
	// memory however slow the database is.
	providerURL string
	batch       bool
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
	workers        map[string]map[string]int  // across processes: per account, calls per worker process
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
		inv   *scheduler.Invocation[reply]
		call  call
		final time.Time // set by its watcher
	}
	var invs []*watched
	// By ID: across processes a deduplicated Submit returns a new handle
	// on the invocation.
	index := make(map[uint64]int, len(plan))
	subs := make([]int, 0, len(plan)) // the index in invs of each submission
	var wg sync.WaitGroup
	wctx, stopWatching := context.WithCancel(ctx)
	defer func() { // on every return: no watcher outlives the phase
		stopWatching()
		wg.Wait()
	}()
	var firstErr error
	start := time.Now()
	for next := 0; next < len(plan) && firstErr == nil; {
		task := r.taskFor(sc, plan[next].task)
		end := next + 1
		for r.batch && end < len(plan) && r.taskFor(sc, plan[end].task) == task {
			end++
		}
		calls := make([]call, 0, end-next)
		for _, st := range plan[next:end] {
			c := st.call
			c.Mode, c.Provider = mode, r.providerURL
			calls = append(calls, c)
		}
		next = end
		at := time.Now()
		handles, err := submitCalls(ctx, task, calls)
		if err != nil {
			firstErr = err
		}
		for k, inv := range handles {
			c := calls[k]
			p.enqueued++
			p.timings = append(p.timings, timing{account: c.Account, submitted: at})
			i, seen := index[inv.ID()]
			if seen {
				p.deduped++
			} else {
				i = len(invs)
				index[inv.ID()] = i
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
	}
	var dropped []*watched
	for _, w := range invs {
		out, err := w.inv.Wait(ctx)
		switch {
		case err == nil:
			if out.Outcome == provider.Collision {
				r.noteCollision(w.inv.ID())
			}
			if out.Worker != "" {
				if p.workers == nil {
					p.workers = make(map[string]map[string]int)
				}
				if p.workers[w.call.Account] == nil {
					p.workers[w.call.Account] = make(map[string]int)
				}
				p.workers[w.call.Account][out.Worker]++
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

// taskFor returns the task that runs kind in sc: its own, or with the
// unguarded hook the unsafe task.
func (r *runner) taskFor(sc scenario, kind taskKind) *simTask {
	if r.unguarded[sc.letter] {
		return r.tasks[unsafeTask]
	}
	return r.tasks[kind]
}

// submitCalls submits calls to task: one Submit, or one SubmitAll for
// more. It returns the handles of those submitted, and an error naming
// the call that failed.
func submitCalls(ctx context.Context, task *simTask, calls []call) ([]*scheduler.Invocation[reply], error) {
	if len(calls) == 1 {
		inv, err := task.Submit(ctx, calls[0])
		if err != nil {
			return nil, fmt.Errorf("submit %s/%s: %w", calls[0].Account, calls[0].Op, err)
		}
		return []*scheduler.Invocation[reply]{inv}, nil
	}
	invs, err := task.SubmitAll(ctx, calls)
	if err != nil {
		return invs, fmt.Errorf("submit %d calls to %s: %w", len(calls), task.Name(), err)
	}
	return invs, nil
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
