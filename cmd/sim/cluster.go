package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/perkey/perkey/postgres"
	"github.com/perkey/perkey/scheduler"
)

// cluster is the sim's side of a run across processes (-backend
// postgres): the database, the settings of the worker processes, the
// workers it started, and the probe that tells when they serve. The sim's
// own scheduler only submits and waits (postgres.Config.SubmitOnly): the
// workers run every call, so the provider sees calls from several
// processes, as a service's replicas would make them.
type cluster struct {
	db       *database
	workers  int           // to start; 0: started apart
	worker   backendConfig // the workers' settings; worker is set per process
	events   bool          // the sim listens: the workers publish from the start
	fleet    *fleet        // the workers it started; nil with -workers 0
	watch    *probeWatch   // the probes' events, when the sim listens
	probe    *simTask      // registered by start
	parallel int           // each worker's MaxParallel
}

// Settings of the workers the sim starts, by run: the scenarios take the
// backend's defaults; the soak a short lease, so that a killed worker's
// calls run again within seconds, a short poll, so that expired leases are
// found promptly, and a short retention, so that storage shows as bounded.
const (
	soakLease     = 2 * time.Second
	soakPoll      = 200 * time.Millisecond
	soakRetention = 5 * time.Second
)

// openCluster opens the database and the backend of the sim's own
// scheduler: a submitter only. soak picks the soak's settings. events
// says whether the sim will listen to events (a timeline, a monitor,
// metrics, the soak): then the workers publish from their start.
func openCluster(ctx context.Context, o options, soak, events bool) (_ *cluster, _ *postgres.Backend, err error) {
	c := &cluster{workers: o.workers, events: events, parallel: o.parallel}
	c.worker = backendConfig{lease: cmp.Or(o.lease, postgres.DefaultLease), poll: postgres.DefaultPollInterval, retain: postgres.DefaultRetention}
	if soak {
		c.worker = backendConfig{lease: cmp.Or(o.lease, soakLease), poll: soakPoll, retain: soakRetention}
	}
	if c.db, err = openDatabase(ctx, o); err != nil {
		return nil, nil, err
	}
	c.worker.schema = c.db.schema
	own := c.worker
	own.worker, own.submitOnly = fmt.Sprintf("sim-%d", os.Getpid()), true
	backend, err := postgres.Open(ctx, c.db.pool, own.config())
	if err != nil {
		c.db.close(io.Discard)
		return nil, nil, err
	}
	if events {
		c.watch = newProbeWatch()
	}
	return c, backend, nil
}

// onEvent returns the sim's event listener: the probes' events go to the
// watch, the others to next (nil: none).
func (c *cluster) onEvent(next func(scheduler.Event)) func(scheduler.Event) {
	return func(ev scheduler.Event) {
		if c.watch != nil && c.watch.observe(ev) {
			return
		}
		if next != nil {
			next(ev)
		}
	}
}

// start registers the probe on s, the sim's scheduler, starts the
// workers, and returns once a worker has run a probe and, if the sim
// listens, once its own events and a worker's come back. With -workers 0
// it says, after a few seconds, how to start a worker; onLost hears of a
// worker that exits unasked.
func (c *cluster) start(ctx context.Context, s *scheduler.Scheduler, stderr io.Writer, onLost func(error)) error {
	var err error
	if c.probe, err = newProbeTask(s, ""); err != nil {
		return err
	}
	if c.workers > 0 {
		if c.fleet, err = newFleet(c.workerArgs, stderr, onLost); err != nil {
			return err
		}
		if err := c.fleet.startN(ctx, c.workers); err != nil {
			return err
		}
	}
	if c.watch != nil {
		if err := awaitPublishing(ctx, c.probe, c.watch); err != nil {
			return fmt.Errorf("waiting for the sim's own events: %w", err)
		}
	}
	hint := fmt.Sprintf("sim: waiting for a worker: start one with `go run ./cmd/sim worker -database URL -schema %s`", c.db.schema)
	if err := awaitWorker(ctx, c.probe, c.watch, stderr, hint); err != nil {
		return fmt.Errorf("waiting for a worker: %w", err)
	}
	return nil
}

// fence returns once every event committed before it was called has
// reached the sim's listeners: events arrive in commit order, and a probe
// submitted now ends after them. Without listeners it returns at once.
func (c *cluster) fence(ctx context.Context) error {
	if c.watch == nil {
		return nil
	}
	fctx, cancel := context.WithTimeout(ctx, fenceTimeout)
	defer cancel()
	if err := probeUntil(fctx, c.probe, c.watch, true, nil); err != nil {
		return fmt.Errorf("waiting for the last events: %w", err)
	}
	return nil
}

// workerArgs are the arguments of `sim worker` for a worker the sim
// starts.
func (c *cluster) workerArgs(name string) []string {
	args := []string{
		"-database", c.db.url, "-schema", c.db.schema, "-name", name,
		"-parallel", strconv.Itoa(c.parallel), "-lease", c.worker.lease.String(),
		"-poll", c.worker.poll.String(), "-retention", c.worker.retain.String(), "-quiet",
	}
	if c.events {
		args = append(args, "-events")
	}
	return args
}

// capacity is how many calls the cluster runs at once: the workers'
// slots, or 0 when unknown (workers started apart).
func (c *cluster) capacity() int {
	return c.workers * c.parallel
}

// describe says what the run is on, for the header, such as "PostgreSQL
// (private server, schema sim_0a1b2c3d4e5f), 3 worker processes (w1, w2,
// w3) x MaxParallel 8".
func (c *cluster) describe() string {
	db := fmt.Sprintf("PostgreSQL (%s, schema %s)", c.db.where, c.db.schema)
	if c.fleet == nil {
		return db + ", workers started apart (sim worker)"
	}
	names := c.fleet.names()
	return fmt.Sprintf("%s, %d worker processes (%s) x MaxParallel %d", db, len(names), strings.Join(names, ", "), c.parallel)
}

// close stops the workers (each drains its calls for closeTimeout) and
// releases the database: a fresh schema is dropped, a private server
// removed. The sim's scheduler must be closed first.
func (c *cluster) close(stderr io.Writer) {
	if c.fleet != nil {
		c.fleet.close()
	}
	c.db.close(stderr)
}
