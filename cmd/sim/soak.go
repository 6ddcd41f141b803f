package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// The soak's timeouts: how long the fault task's client waits beyond the
// hold (a slow fault fails after that), and how long the load may take to
// drain once it stops.
const (
	faultTimeout = 50 * time.Millisecond
	drainTimeout = 10 * time.Second
)

// soakEnv is what a soak needs: a provider (maybe in-process), a client
// for the calls and one for the faults, a scheduler with the soak's tasks;
// across processes the cluster and the events that show takeovers.
type soakEnv struct {
	srv            *provider.Server
	client, faults *provider.Client
	where          string
	sched          *scheduler.Scheduler
	tasks          [numSoakKinds]*soakTask
	cl             *cluster   // with -backend postgres
	track          *takeovers // with -backend postgres
}

// setUpSoak starts what the soak needs. With -backend postgres, onLost
// hears of a worker process that exits unasked.
func setUpSoak(ctx context.Context, o options, stderr io.Writer, onLost func(error)) (_ *soakEnv, err error) {
	e := &soakEnv{}
	defer func() {
		if err != nil {
			e.close(context.Background(), io.Discard)
		}
	}()
	// The in-process provider logs nothing: a log would grow all along.
	if e.srv, e.client, e.where, err = connect(ctx, o.providerURL, nil, provider.ClientConfig{MaxIdleConns: o.parallel + 2}); err != nil {
		return nil, err
	}
	if e.faults, err = provider.NewClient(e.client.URL(), provider.ClientConfig{Timeout: faultTimeout, MaxIdleConns: 2}); err != nil {
		return nil, err
	}
	if err = e.client.Reset(ctx, fmt.Sprintf("soak: %d accounts, MaxParallel %d", o.accounts, o.parallel)); err != nil {
		return nil, err
	}
	cfg := scheduler.Config{MaxParallel: o.parallel}
	if o.backend == backendPostgres {
		if e.cl, cfg.Backend, err = openCluster(ctx, o, true, true); err != nil {
			return nil, err
		}
		e.track = newTakeovers()
		cfg.OnEvent = e.cl.onEvent(e.track.observe)
		cfg.Logger = warnLogger(stderr, "")
	}
	if e.sched, err = scheduler.New(cfg); err != nil {
		if e.cl != nil {
			e.cl.db.close(io.Discard) // the backend was never started
			e.cl = nil
		}
		return nil, err
	}
	// Across processes the sim never runs a call: the workers do.
	if e.tasks, err = newSoakTasks(e.sched, memoryEnv(e.client, e.faults)); err != nil {
		return nil, err
	}
	if e.cl != nil {
		if err := e.cl.start(ctx, e.sched, stderr, onLost); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// closeScheduler closes the scheduler, letting its work finish for up to
// closeTimeout, or cancelling it at once if ctx has ended.
func (e *soakEnv) closeScheduler(ctx context.Context) error {
	if e.sched == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	if ctx.Err() != nil {
		cancel()
	}
	err := e.sched.Close(cctx)
	if ctx.Err() != nil && !errors.Is(err, scheduler.ErrLeaked) {
		return nil // interrupted: cancelling was the point
	}
	return err
}

// close stops what setUpSoak started: the workers after the scheduler,
// the provider after the workers.
func (e *soakEnv) close(ctx context.Context, stderr io.Writer) {
	errs := []error{e.closeScheduler(ctx)}
	e.sched = nil
	if e.cl != nil {
		e.cl.close(stderr)
	}
	for _, c := range []*provider.Client{e.client, e.faults} {
		if c != nil {
			c.Close()
		}
	}
	if e.srv != nil {
		errs = append(errs, e.srv.Close())
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stderr, "sim: soak: stopping: %v\n", err)
	}
}

// runSoak runs the soak o asks for and returns the exit status: random
// load for o.soak, then the JSON line on stdout; progress lines go to
// stderr unless o.quiet.
func runSoak(ctx context.Context, o options, stdout, stderr io.Writer) int {
	// A worker process that exits unasked ends the soak, with its cause.
	ctx, lose := context.WithCancelCause(ctx)
	defer lose(nil)
	e, err := setUpSoak(ctx, o, stderr, lose)
	if err != nil {
		fmt.Fprintf(stderr, "sim: soak: %v\n", err)
		return exitFail
	}
	defer e.close(ctx, stderr)
	seed := o.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	if !o.quiet {
		runs := fmt.Sprintf("MaxParallel %d", o.parallel)
		if e.cl != nil {
			runs = fmt.Sprintf("%s, lease %v", e.cl.describe(), e.cl.worker.lease)
			if o.chaos > 0 {
				runs += fmt.Sprintf(", a worker killed every %v", o.chaos)
			}
		}
		fmt.Fprintf(stderr, "soak: %v against provider %s (%s), %d accounts, %s, seed %d\n",
			o.soak, e.client.URL(), e.where, o.accounts, runs, seed)
	}

	res := soakResult{Accounts: o.accounts, Parallel: o.parallel, Seed: seed}
	res.HeapStartBytes = liveHeap()
	res.HeapLimitBytes = heapLimit(res.HeapStartBytes)
	l := newLoad(e.tasks, o.accounts, seed)
	if e.cl != nil {
		l.providerURL = e.client.URL()
	}
	start := time.Now()
	l.start(ctx, submittersPerSlot*o.parallel)
	var chaosRun *chaos
	if o.chaos > 0 {
		var log io.Writer
		if !o.quiet {
			log = stderr
		}
		chaosRun = startChaos(ctx, e.cl.fleet, o.chaos, e.track, seed, log)
	}
	var prog *progress
	if !o.quiet {
		prog = startProgress(stderr, e.sched, e.client, l, o.soak, e.track)
	}
	timer := time.NewTimer(o.soak)
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
	}
	l.finish()
	res.SoakSeconds = seconds(time.Since(start))
	var chaosErr error
	if chaosRun != nil {
		chaosErr = chaosRun.finish()
	}
	drainFor := drainTimeout
	if e.cl != nil {
		// A worker killed at the end: its calls run again once their
		// leases expire, and an expired lease is found at a poll.
		drainFor += 2 * (e.cl.worker.lease + e.cl.worker.poll)
	}
	drain := time.NewTimer(drainFor)
	select {
	case <-l.drained():
	case <-drain.C:
		fmt.Fprintf(stderr, "sim: soak: the load did not drain within %v\n", drainFor)
	}
	drain.Stop()
	if prog != nil {
		prog.stop()
	}

	// The end heap: load drained, scheduler and provider still up, so
	// that whatever they keep per key counts.
	res.HeapEndBytes = liveHeap()
	st := e.sched.Stats()
	res.ActorsEnd = st.Actors
	var probs []string
	if e.cl != nil {
		res.ActorsEnd = len(e.sched.Keys(0)) // the cluster's keys with work, now
		res.ClusterSoak, probs = clusterFigures(ctx, e, o)
	}
	if chaosErr != nil {
		probs = append(probs, chaosErr.Error())
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeTimeout)
	rep, repErr := e.client.Report(rctx)
	cancel()

	sched := e.sched
	closeErr := e.closeScheduler(ctx)
	e.sched = nil // closed
	l.abandon()
	l.wait()
	st = sched.Stats() // final: nothing moves after Close
	res.Submitted, res.Completed, res.Lost = l.submitted.Load(), l.completed.Load(), l.lost.Load()
	res.UnexpectedErrors, res.SubmitErrors = l.unexpected.Load(), l.submitErrs.Load()
	res.FaultSubmissions = l.faults.Load()
	res.Calls, res.Collisions, res.Faults = rep.Calls, rep.Collisions, rep.Faults
	res.Succeeded, res.Failed, res.Dropped, res.Deduped, res.Canceled, res.Expired =
		st.Succeeded, st.Failed, st.Dropped, st.Deduped, st.Canceled, st.Expired
	if e.track != nil {
		// The workers ran the calls: the cluster's events count them.
		finals, deduped := e.track.outcomes()
		res.Succeeded, res.Failed, res.Dropped, res.Deduped, res.Canceled, res.Expired =
			finals[scheduler.Succeeded], finals[scheduler.Failed], finals[scheduler.Dropped], deduped,
			finals[scheduler.Canceled], finals[scheduler.Expired]
		if e.cl.fleet != nil {
			// Workers started apart publish only from their next poll
			// after the sim listens: their events may be missing.
			probs = append(probs, eventProblems(res, st)...)
		}
	}

	probs = append(soakProblems(res), probs...)
	if repErr != nil {
		probs = append(probs, fmt.Sprintf("provider report: %v", repErr))
	}
	if closeErr != nil {
		probs = append(probs, fmt.Sprintf("close: %v", closeErr))
	}
	if err := l.err(); err != nil && (res.UnexpectedErrors > 0 || res.SubmitErrors > 0) {
		probs = append(probs, fmt.Sprintf("first error: %v", err))
	}
	stopped := ""
	if ctx.Err() != nil {
		stopped = interruption(ctx)
	}
	return reportSoak(stdout, stderr, res, probs, stopped)
}

// reportSoak prints the soak's JSON line on stdout and what failed on
// stderr, and returns the exit status: 1 if it failed, or was stopped
// early (stopped says why: "interrupted", or a worker lost).
func reportSoak(stdout, stderr io.Writer, res soakResult, probs []string, stopped string) int {
	interrupted := stopped != ""
	res.OK = len(probs) == 0 && !interrupted
	if err := writeSoakJSON(stdout, res); err != nil {
		fmt.Fprintf(stderr, "sim: soak: %v\n", err)
		return exitFail
	}
	if interrupted {
		fmt.Fprintf(stderr, "sim: soak: %s\n", stopped)
		return exitFail
	}
	for _, p := range probs {
		fmt.Fprintf(stderr, "sim: soak: FAIL %s\n", p)
	}
	if len(probs) > 0 {
		return exitFail
	}
	return exitOK
}
