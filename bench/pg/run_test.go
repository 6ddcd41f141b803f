package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// system is one of the compared configurations.
type system struct {
	Name          string        `json:"name"`
	River         bool          `json:"river"`
	Keyed         bool          `json:"keyed"`          // perkey: Running=ByKey
	FetchCooldown time.Duration `json:"fetch_cooldown"` // River: 0 is River's default, 100ms
}

var (
	sysPerkey        = system{Name: "perkey", Keyed: true}
	sysPerkeyUnkeyed = system{Name: "perkey-unkeyed"}
	sysRiver         = system{Name: "river", River: true}
	sysRiverFast     = system{Name: "river-fast", River: true, FetchCooldown: time.Millisecond}
)

// submitter is a system's submitting side, in the benchmark process.
type submitter interface {
	// submit submits a batch in one transaction.
	submit(ctx context.Context, jobs []jobArgs) error
	// submitOne submits one job the way a single job is submitted.
	submitOne(ctx context.Context, job jobArgs) error
	// wait waits until the first n jobs submitted are done: committed.
	wait(ctx context.Context, n int) error
	// check verifies that every job submitted succeeded, once.
	check(ctx context.Context) error
	close() error
}

// runConfig shapes a run.
type runConfig struct {
	sys   system
	procs int  // workers: 0 none, 1 in this process, more are worker processes
	held  bool // the workers wait for start
	// started is called at the start of every job: procs=1 only.
	started func(jobArgs, time.Time)
}

// run is one measurement's world: a fresh schema, a submitter and its
// workers.
type run struct {
	cfg     runConfig
	pool    *pgxpool.Pool // this process's own, for the schema
	schema  string
	sub     submitter
	tally   *tally
	workers []*worker
}

// startRun makes a schema, the submitter, and the workers, and waits until
// the workers are ready.
func startRun(ctx context.Context, url string, cfg runConfig) (_ *run, err error) {
	if cfg.procs < 0 || (cfg.procs > 1 && cfg.started != nil) {
		return nil, fmt.Errorf("bad run: %d procs, started hook %v", cfg.procs, cfg.started != nil)
	}
	pool, err := newPool(ctx, url)
	if err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, pool: pool, tally: newTally()}
	defer func() {
		if err != nil {
			err = errors.Join(err, r.close())
		}
	}()
	if cfg.sys.River {
		r.schema = newSchemaName("river")
		if err := migrateRiver(ctx, pool, r.schema); err != nil {
			return r, fmt.Errorf("river: migrate: %w", err)
		}
		r.sub, err = newRiverSubmitter(pool, cfg.sys, r.schema, r.tally)
	} else {
		// Opening the submitter's backend creates the schema.
		r.schema = newSchemaName("perkey")
		// Without workers nobody waits: the Done channels are not taken.
		r.sub, err = newPerkeySubmitter(ctx, pool, cfg.sys, r.schema, cfg.procs > 0)
	}
	if err != nil {
		return r, fmt.Errorf("%s: submitter: %w", cfg.sys.Name, err)
	}
	for i := range cfg.procs {
		wc := workerConfig{Name: fmt.Sprintf("w%d", i+1), System: cfg.sys, URL: url, Schema: r.schema, Held: cfg.held, started: cfg.started}
		w, err := startWorker(wc, cfg.procs > 1, r.tally)
		if err != nil {
			return r, fmt.Errorf("%s: %w", cfg.sys.Name, err)
		}
		r.workers = append(r.workers, w)
	}
	return r, nil
}

// start tells held workers to start.
func (r *run) start() error {
	var errs []error
	for _, w := range r.workers {
		errs = append(errs, w.start())
	}
	return errors.Join(errs...)
}

// pids returns the worker processes' pids.
func (r *run) pids() []int {
	var out []int
	for _, w := range r.workers {
		if pid := w.pid(); pid != 0 {
			out = append(out, pid)
		}
	}
	return out
}

// stopWorkers stops every worker and returns their runs and overlaps.
func (r *run) stopWorkers() (runs, overlaps int64, err error) {
	var errs []error
	for _, w := range r.workers {
		errs = append(errs, w.stop())
		runs += w.runs
		overlaps += w.overlap
	}
	r.workers = nil
	return runs, overlaps, errors.Join(errs...)
}

// close stops what is left of the run and drops its schema.
func (r *run) close() error {
	_, _, err := r.stopWorkers()
	if r.sub != nil {
		err = errors.Join(err, r.sub.close())
	}
	if r.schema != "" {
		err = errors.Join(err, dropSchema(r.pool, r.schema))
	}
	r.pool.Close()
	return err
}

// deadline bounds a scenario: generous, so that it fails on lost jobs
// rather than on a slow machine.
func deadline(work time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Minute+10*work)
}
