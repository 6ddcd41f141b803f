package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// runner runs scenarios, one at a time, with one scheduler against one
// provider.
type runner struct {
	client    *provider.Client
	tasks     [numTasks]*simTask
	tap       *logTap // the in-process provider's log; nil for an external one
	hold      time.Duration
	parallel  int
	unguarded map[string]bool
}

// result is what one scenario did. Calls and collisions are the
// provider's counts; the rest is the sim's.
type result struct {
	sc         scenario
	enqueued   int                        // Submit calls
	calls      int                        // calls the provider counted
	collisions int                        // collisions the provider counted
	dropped    int                        // invocations that ended Dropped
	deduped    int                        // submissions collapsed into another
	elapsed    time.Duration              // first Submit until all final
	bound      time.Duration              // the physical lower bound
	hold       time.Duration              // the provider's hold per call
	accounts   map[string]provider.Counts // per account, from the provider
	log        []string                   // the provider's call log; nil for an external one
}

// run resets the provider with the scenario's title, submits its plan,
// waits until every invocation is final and reads the provider's report.
// It fails when the provider cannot be reached, when a call fails (the
// first error; it still waits for the rest) or when ctx ends.
func (r *runner) run(ctx context.Context, sc scenario) (result, error) {
	res := result{sc: sc, hold: r.hold, bound: sc.bound(r.hold, r.parallel)}
	if err := r.client.Reset(ctx, sc.title()); err != nil {
		return res, err
	}
	r.takeLog() // the reset line: the header says it already
	task := r.tasks[sc.task]
	if r.unguarded[sc.letter] {
		task = r.tasks[unsafeTask]
	}

	invs := make([]*scheduler.Invocation[provider.Outcome], 0, len(sc.plan))
	seen := make(map[*scheduler.Invocation[provider.Outcome]]bool, len(sc.plan))
	var firstErr error
	start := time.Now()
	for _, c := range sc.plan {
		inv, err := task.Submit(ctx, c)
		if err != nil {
			firstErr = fmt.Errorf("submit %s/%s: %w", c.Account, c.Op, err)
			break
		}
		res.enqueued++
		if seen[inv] {
			res.deduped++
			continue
		}
		seen[inv] = true
		invs = append(invs, inv)
	}
	for _, inv := range invs {
		_, err := inv.Wait(ctx)
		switch {
		case err == nil:
		case errors.Is(err, scheduler.ErrDropped):
			res.dropped++
		case ctx.Err() != nil:
			return res, ctx.Err()
		case firstErr == nil:
			firstErr = fmt.Errorf("%s: %w", inv.Key(), err)
		}
	}
	res.elapsed = time.Since(start)
	if firstErr != nil {
		return res, firstErr
	}

	rep, err := r.client.Report(ctx)
	if err != nil {
		return res, err
	}
	res.calls, res.collisions, res.accounts = rep.Calls, rep.Collisions, rep.Accounts
	res.log = r.takeLog()
	return res, nil
}

func (r *runner) takeLog() []string {
	if r.tap == nil {
		return nil
	}
	return r.tap.take()
}
