package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	env, err := setUp(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "sim: %v\n", err)
		return exitFail
	}
	defer env.close(ctx, stderr)
	if !o.quiet {
		fmt.Fprintf(human, "provider %s (%s), MaxParallel %d, hold %v%s\n\n", env.r.client.URL(), env.where, o.parallel, o.hold, slackNote(o.slack))
	}
	if env.mon != nil {
		fmt.Fprintf(stderr, "monitor: %s\n", env.mon.url)
	}
	code := runScenarios(ctx, env, o, stdout, human, stderr)
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
	return code
}

// runScenarios runs the scenarios o names, prints their results and
// returns the exit status.
func runScenarios(ctx context.Context, env *env, o options, stdout, human, stderr io.Writer) int {
	var failed []string
	for _, sc := range pick(scenarioTable(), o.scenarios) {
		sec := env.rec.Section(sc.title()) // nil without -timeline
		res, err := env.r.run(ctx, sc)
		switch {
		case ctx.Err() != nil:
			fmt.Fprintf(stderr, "sim: %s: interrupted\n", sc.letter)
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
		for _, p := range problems(res) {
			failed = append(failed, sc.letter+": "+p)
		}
	}
	if len(failed) > 0 {
		for _, f := range failed {
			fmt.Fprintf(stderr, "sim: FAIL %s\n", f)
		}
		return exitFail
	}
	return exitOK
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
}

func setUp(ctx context.Context, o options) (_ *env, err error) {
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
	}
	if e.sched, err = scheduler.New(cfg); err != nil {
		return nil, err
	}
	if e.r.tasks, err = newTasks(e.sched, e.r.client); err != nil {
		return nil, err
	}
	if o.monitor != "" {
		if e.mon, err = startMonitor(o.monitor, e.sched); err != nil {
			return nil, err
		}
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
