package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perkey/perkey/postgres"
	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// workerOptions are the flags of `sim worker`.
type workerOptions struct {
	database, schema, name string
	parallel               int
	lease, poll, retention time.Duration
	events, quiet          bool
	monitor, metrics       string
}

const workerUsage = `Usage:
  sim worker -database URL [flags]

Runs the demo's tasks for a sim that submits with -backend postgres on the
same database and schema, until interrupted (Ctrl-C or SIGTERM: it stops
claiming, lets its calls finish for up to %v, and hands back the rest).
Start it before or after the sim, in as many terminals as you like:

  go run ./cmd/sim provider -addr 127.0.0.1:8765
  go run ./cmd/sim worker -database URL
  go run ./cmd/sim -backend postgres -database URL -workers 0 -provider http://127.0.0.1:8765

Each call names its provider (the sim's -provider), so a worker needs no
provider flag. It prints a line per call unless -quiet.

Flags:
`

// parseWorkerFlags parses the command line of `sim worker`.
func parseWorkerFlags(args []string, stderr io.Writer) (o workerOptions, code int, ok bool) {
	fs := flag.NewFlagSet("sim worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, workerUsage, closeTimeout)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.database, "database", "", "the database's `URL`, such as postgres://user@host:5432/db (required)")
	fs.StringVar(&o.schema, "schema", defaultSchema, "the schema to serve: the sim's -schema")
	fs.StringVar(&o.name, "name", "", "this worker's name in events, the monitor and the database; two live\nworkers must not share one (default host:pid)")
	fs.IntVar(&o.parallel, "parallel", scheduler.DefaultMaxParallel, "MaxParallel: the calls this worker runs at once")
	fs.DurationVar(&o.lease, "lease", postgres.DefaultLease, "the lease of its running calls: if it dies, another worker runs them again\nafter this")
	fs.DurationVar(&o.poll, "poll", postgres.DefaultPollInterval, "how often it looks for work and expired leases without a notification")
	fs.DurationVar(&o.retention, "retention", postgres.DefaultRetention, "how long final invocations are kept before one process deletes them")
	fs.BoolVar(&o.events, "events", false, "publish its events from the start, before it takes work (the sim asks it\nso when it draws a timeline or watches for takeovers); without it, from\nits next poll after some process listens")
	fs.StringVar(&o.monitor, "monitor", "", "serve the live monitor of the whole cluster on this `address`, such as\n127.0.0.1:8001 (no authentication: keep it on loopback)")
	fs.StringVar(&o.metrics, "metrics", "", "serve this worker's Prometheus metrics on http://`address`/metrics")
	fs.BoolVar(&o.quiet, "quiet", false, "print no line per call")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, exitOK, false
		}
		return o, exitUsage, false
	}
	err := checkWorkerOptions(o)
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "sim worker: %v\n", err)
		fs.Usage()
		return o, exitUsage, false
	}
	return o, exitOK, true
}

func checkWorkerOptions(o workerOptions) error {
	switch {
	case o.database == "":
		return errors.New("-database is required: the database the sim submits to")
	case o.parallel < 1:
		return fmt.Errorf("-parallel %d: must be at least 1", o.parallel)
	case o.lease < 100*time.Millisecond:
		return fmt.Errorf("-lease %v: must be at least 100ms", o.lease)
	case o.poll <= 0:
		return fmt.Errorf("-poll %v: must be positive", o.poll)
	case o.retention <= 0:
		return fmt.Errorf("-retention %v: must be positive", o.retention)
	case !schemaName.MatchString(o.schema):
		return fmt.Errorf("-schema %q: want a plain identifier (letters, digits, underscores; at most 50 bytes)", o.schema)
	case len(o.name) > 200:
		return fmt.Errorf("-name: %d bytes; at most 200", len(o.name))
	}
	if err := checkDatabaseURL(o.database); err != nil {
		return err
	}
	for _, a := range []struct{ flag, addr string }{{"monitor", o.monitor}, {"metrics", o.metrics}} {
		if a.addr == "" {
			continue
		}
		if err := checkMonitorAddr(a.addr); err != nil {
			return fmt.Errorf("-%s %q: want an address such as 127.0.0.1:8001", a.flag, a.addr)
		}
	}
	return nil
}

// workerConns is the pool size of a worker process: its claimer,
// completer, keeper and registrations; calls use none.
const workerConns = 6

// runWorker is `sim worker`: it serves the demo's and the soak's tasks on
// the schema until ctx ends, then closes its scheduler, letting calls
// finish for closeTimeout.
func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code, ok := parseWorkerFlags(args, stderr)
	if !ok {
		return code
	}
	w, err := startWorker(ctx, o, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sim worker: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "worker %s ready: schema %s, MaxParallel %d, lease %v (Ctrl-C to stop)\n",
		w.backend.Worker(), o.schema, o.parallel, o.lease)
	if w.mon != nil {
		fmt.Fprintf(stderr, "monitor: %s\n", w.mon.url)
		if w.mon.warning != "" {
			fmt.Fprintln(stderr, w.mon.warning)
		}
	}
	if w.met != nil {
		fmt.Fprintf(stderr, "metrics: %s\n", w.met.url)
	}
	<-ctx.Done()
	if err := w.close(); err != nil {
		fmt.Fprintf(stderr, "sim worker: stopping: %v\n", err)
		return exitFail
	}
	return exitOK
}

// workerProcess is what a running `sim worker` holds.
type workerProcess struct {
	backend       *postgres.Backend
	sched         *scheduler.Scheduler
	pool          *pgxpool.Pool
	calls, faults *clientCache
	mon           *monitorServer
	met           *metricsServer
}

// startWorker connects, registers every task of the demo and the soak,
// and with o.events waits until its events are published. On failure
// nothing is left running.
func startWorker(ctx context.Context, o workerOptions, stdout, stderr io.Writer) (_ *workerProcess, err error) {
	w := &workerProcess{
		calls:  newClientCache(provider.ClientConfig{MaxIdleConns: o.parallel + 2}),
		faults: newClientCache(provider.ClientConfig{Timeout: faultTimeout, MaxIdleConns: 2}),
	}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	pool, err := newPool(ctx, o.database, workerConns)
	if err != nil {
		return nil, err
	}
	w.pool = pool
	w.backend, err = postgres.Open(ctx, pool, backendConfig{
		schema: o.schema, worker: o.name, lease: o.lease, poll: o.poll, retain: o.retention,
	}.config())
	if err != nil {
		return nil, err
	}
	name := w.backend.Worker()
	cfg := scheduler.Config{MaxParallel: o.parallel, Backend: w.backend, Logger: warnLogger(stderr, "")}
	var watch *probeWatch
	if o.events {
		watch = newProbeWatch()
		cfg.OnEvent = func(ev scheduler.Event) { watch.observe(ev) }
	}
	if w.sched, err = scheduler.New(cfg); err != nil {
		return nil, err
	}
	probe, err := newProbeTask(w.sched, name)
	if err != nil {
		return nil, err
	}
	if watch != nil {
		// Before any task that calls the provider is registered, so that
		// every run of this worker is published.
		if err := awaitPublishing(ctx, probe, watch); err != nil {
			return nil, fmt.Errorf("waiting until its events are published: %w", err)
		}
	}
	env := taskEnv{calls: w.calls.get, faults: w.faults.get, worker: name}
	if !o.quiet {
		env.onCall = func(task string, c call, r reply, err error) {
			outcome := string(r.Outcome)
			if err != nil {
				outcome = "error: " + err.Error()
			}
			fmt.Fprintf(stdout, "%s %-17s %-12s %-15s %s\n", name, task, c.Account, c.Op, outcome)
		}
	}
	if _, err := newTasks(w.sched, env); err != nil {
		return nil, err
	}
	if _, err := newSoakTasks(w.sched, env); err != nil {
		return nil, err
	}
	if o.monitor != "" {
		if w.mon, err = startMonitor(o.monitor, w.sched); err != nil {
			return nil, err
		}
	}
	if o.metrics != "" {
		if w.met, err = startMetrics(o.metrics, w.sched); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// close stops the worker: the monitor and metrics, then the scheduler,
// whose calls may finish for closeTimeout before they are cancelled and
// handed back to the database, then the clients and the pool.
func (w *workerProcess) close() error {
	var errs []error
	if w.mon != nil {
		errs = append(errs, w.mon.close())
	}
	if w.met != nil {
		errs = append(errs, w.met.close())
	}
	if w.sched != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		err := w.sched.Close(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, scheduler.ErrLeaked) {
			errs = append(errs, err) // a drain cut short hands its calls back: not an error
		}
	}
	w.calls.close()
	w.faults.close()
	if w.pool != nil {
		w.pool.Close()
	}
	return errors.Join(errs...)
}
