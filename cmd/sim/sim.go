package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
	"github.com/perkey/perkey/timeline"
)

// probeTimeout bounds the first request to an external provider, so that
// a wrong -provider fails within seconds.
const probeTimeout = 2 * time.Second

// closeTimeout bounds how long the sim waits for the scheduler to drain
// when it stops.
const closeTimeout = 5 * time.Second

// simulate runs the scenarios o names and returns the exit status.
func simulate(ctx context.Context, o options, stdout, stderr io.Writer) int {
	human := stdout
	if o.json {
		human = stderr
	}
	// A worker process that exits unasked ends the run, with its cause.
	ctx, lose := context.WithCancelCause(ctx)
	defer lose(nil)
	env, err := setUp(ctx, o, stderr, lose)
	if err != nil {
		fmt.Fprintf(stderr, "sim: %v\n", err)
		return exitFail
	}
	defer env.close(ctx, stderr)
	if !o.quiet {
		runs := fmt.Sprintf("MaxParallel %d", o.parallel)
		if env.cl != nil {
			runs = env.cl.describe()
		}
		fmt.Fprintf(human, "provider %s (%s), %s, hold %v%s\n\n", env.r.client.URL(), env.where, runs, o.hold, goalsNote(o))
	}
	if env.mon != nil {
		fmt.Fprintf(stderr, "monitor: %s\n", env.mon.url)
		if env.mon.warning != "" {
			fmt.Fprintln(stderr, env.mon.warning)
		}
	}
	if env.met != nil {
		fmt.Fprintf(stderr, "metrics: %s\n", env.met.url)
	}
	code := runScenarios(ctx, env, o, stdout, human, stderr)
	if env.cl != nil && ctx.Err() == nil {
		// The last final events may still be on their way: the timeline
		// draws them, the monitor shows them.
		if err := env.cl.fence(ctx); err != nil {
			fmt.Fprintf(stderr, "sim: %v\n", err)
			code = exitFail
		}
	}
	if env.rec != nil {
		if err := writeTimeline(env.rec, o.timeline); err != nil {
			fmt.Fprintf(stderr, "sim: %v\n", err)
			code = exitFail
		} else if !o.quiet {
			fmt.Fprintf(human, "timeline: wrote %s\n", o.timeline)
		}
	}
	if env.mon != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "monitor: scenarios done; still serving %s until interrupted (Ctrl-C)\n", env.mon.url)
		<-ctx.Done()
	}
	if env.met != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "metrics: scenarios done; still serving %s until interrupted (Ctrl-C)\n", env.met.url)
		<-ctx.Done()
	}
	return code
}

// runScenarios runs the scenarios o names, prints their results and the
// run's verdict, and returns the exit status: exitFail when a scenario is
// wrong, or with -strict missed its time goal.
func runScenarios(ctx context.Context, env *env, o options, stdout, human, stderr io.Writer) int {
	var checks []scenarioCheck
	for _, sc := range pick(scenarioTable(), o.scenarios) {
		sec := env.rec.Section(sc.title()) // nil without -timeline
		res, err := env.r.run(ctx, sc)
		switch {
		case ctx.Err() != nil:
			fmt.Fprintf(stderr, "sim: %s: %s\n", sc.letter, interruption(ctx))
			return exitFail
		case err != nil:
			fmt.Fprintf(stderr, "sim: %s: %v\n", sc.letter, err)
			return exitFail
		}
		sec.SetSummary(summary(res))
		writeHuman(human, res, o.quiet)
		if o.json {
			if err := writeJSON(stdout, res); err != nil {
				fmt.Fprintf(stderr, "sim: %v\n", err)
				return exitFail
			}
		}
		checks = append(checks, checkResult(res))
	}
	line, code := verdict(checks, o.strict)
	fmt.Fprintln(human, line)
	for _, f := range failures(checks, o.strict) {
		fmt.Fprintf(stderr, "sim: FAIL %s\n", f)
	}
	return code
}

// interruption says why ctx ended: "interrupted", or the cause given to
// it, such as a worker process that exited unasked.
func interruption(ctx context.Context) string {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause.Error()
	}
	return "interrupted"
}

// goalsNote is how the header says the time goals are set: with -slack,
// and fatal with -strict.
func goalsNote(o options) string {
	var notes []string
	if o.slack > 0 {
		notes = append(notes, fmt.Sprintf("-slack %v", o.slack))
	}
	if o.strict {
		notes = append(notes, "-strict")
	}
	if len(notes) == 0 {
		return ""
	}
	return " (with " + strings.Join(notes, ", ") + ")"
}

// env is what a run needs: a provider (maybe in-process), a client, a
// scheduler with the demo's tasks. close releases it all.
type env struct {
	r     *runner
	where string // "in-process" or "external"
	srv   *provider.Server
	sched *scheduler.Scheduler
	rec   *timeline.Recorder // with -timeline
	mon   *monitorServer     // with -monitor
	met   *metricsServer     // with -metrics
	cl    *cluster           // with -backend postgres
}

// setUp starts what the run needs. With -backend postgres, onLost hears
// of a worker process that exits unasked.
func setUp(ctx context.Context, o options, stderr io.Writer, onLost func(error)) (_ *env, err error) {
	e := &env{r: &runner{hold: o.hold, parallel: o.parallel, slack: o.slack, unguarded: o.unguarded}}
	defer func() {
		if err != nil {
			e.close(ctx, io.Discard)
		}
	}()
	var log io.Writer
	if o.providerURL == "" {
		e.r.tap = &logTap{}
		log = e.r.tap
	}
	// One idle connection per slot, and one for reset and report: every
	// call after the first wave reuses a connection.
	if e.srv, e.r.client, e.where, err = connect(ctx, o.providerURL, log, provider.ClientConfig{MaxIdleConns: o.parallel + 1}); err != nil {
		return nil, err
	}
	cfg := scheduler.Config{MaxParallel: o.parallel}
	if o.timeline != "" {
		if e.rec, err = newRecorder(o); err != nil {
			return nil, err
		}
		cfg.OnEvent = e.rec.Record
		e.r.rec = e.rec
	}
	if o.backend == backendPostgres {
		listens := o.timeline != "" || o.monitor != "" || o.metrics != ""
		if e.cl, cfg.Backend, err = openCluster(ctx, o, false, listens); err != nil {
			return nil, err
		}
		cfg.Logger = warnLogger(stderr, "")
		if e.rec != nil {
			cfg.OnEvent = e.cl.onEvent(e.rec.Record) // each bar names its worker (Event.Worker)
		} else if listens {
			cfg.OnEvent = e.cl.onEvent(nil)
		}
		e.r.providerURL, e.r.batch = e.r.client.URL(), true
	}
	if e.sched, err = scheduler.New(cfg); err != nil {
		if e.cl != nil {
			e.cl.db.close(io.Discard) // the backend was never started
			e.cl = nil
		}
		return nil, err
	}
	// Across processes the sim never runs a call: its tasks' functions
	// are only their types.
	if e.r.tasks, err = newTasks(e.sched, memoryEnv(e.r.client, e.r.client)); err != nil {
		return nil, err
	}
	if o.monitor != "" {
		if e.mon, err = startMonitor(o.monitor, e.sched); err != nil {
			return nil, err
		}
	}
	if o.metrics != "" {
		if e.met, err = startMetrics(o.metrics, e.sched); err != nil {
			return nil, err
		}
	}
	if e.cl != nil {
		if err := e.cl.start(ctx, e.sched, stderr, onLost); err != nil {
			return nil, err
		}
		e.r.parallel = e.cl.capacity()
	}
	return e, nil
}

// close stops the scheduler (cancelling running calls if ctx has ended or
// closeTimeout passes), the client and the in-process provider.
func (e *env) close(ctx context.Context, stderr io.Writer) {
	var errs []error
	if e.mon != nil {
		errs = append(errs, e.mon.close())
	}
	if e.met != nil {
		errs = append(errs, e.met.close())
	}
	if e.sched != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		if ctx.Err() != nil {
			cancel() // interrupted: do not wait for calls in flight
		}
		err := e.sched.Close(cctx)
		cancel()
		if ctx.Err() == nil || errors.Is(err, scheduler.ErrLeaked) {
			errs = append(errs, err) // else: interrupted, and cancelling was the point
		}
	}
	if e.cl != nil {
		// After the scheduler, before the provider: the workers' calls
		// in flight end first.
		e.cl.close(stderr)
	}
	if e.r.client != nil {
		e.r.client.Close()
	}
	if e.srv != nil {
		errs = append(errs, e.srv.Close())
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stderr, "sim: stopping: %v\n", err)
	}
}
