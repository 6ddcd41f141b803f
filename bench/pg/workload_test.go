package pg

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The scenarios' sizes.
var (
	flagJobs    = flag.Int("pgjobs", 20000, "(a) no-op jobs per run")
	flagKeys    = flag.Int("pgkeys", 1000, "keys the jobs are spread over")
	flagBatch   = flag.Int("pgbatch", 1000, "jobs per insert batch (SubmitAll, InsertMany)")
	flagQueued  = flag.Int("pgqueued", 10, "(b) jobs queued per key")
	flagSleep   = flag.Duration("pgsleep", 10*time.Millisecond, "(b) how long each job runs")
	flagSamples = flag.Int("pgsamples", 100, "(c) latency samples per run")
	flagPace    = flag.Duration("pgpace", 250*time.Millisecond, "(c) least time between two submissions")
	flagBatches = flag.Int("pgbatches", 20, "(d) insert batches per run")
)

// sizes are a scenario's sizes.
type sizes struct {
	jobs, keys, batch, queued, samples, batches int
	sleep, pace                                 time.Duration
}

// currentSizes returns the sizes the flags ask for, or small ones under
// -short.
func currentSizes() sizes {
	s := sizes{
		jobs: *flagJobs, keys: *flagKeys, batch: *flagBatch, queued: *flagQueued,
		samples: *flagSamples, batches: *flagBatches, sleep: *flagSleep, pace: *flagPace,
	}
	if testing.Short() {
		s.jobs, s.queued, s.samples, s.batches = min(s.jobs, 2000), min(s.queued, 2), min(s.samples, 5), min(s.batches, 2)
	}
	return s
}

// timer is the part of *testing.B a scenario drives. Tests pass noTimer.
type timer interface {
	StartTimer()
	StopTimer()
}

type noTimer struct{}

func (noTimer) StartTimer() {}
func (noTimer) StopTimer()  {}

// meter measures the timed part of a scenario: the benchmark timer, the
// wall time, the CPU split and, with -pgprofile, the statements.
type meter struct {
	tm    timer
	label string // names the measurement in the profile
	url   string

	start time.Time
	cpu   cpuSample
}

func (m *meter) begin(r *run) error {
	if db.profile {
		if err := profileReset(r.pool); err != nil {
			return err
		}
	}
	m.cpu = sampleCPU(r.pids(), db.postmaster())
	m.tm.StartTimer()
	m.start = time.Now()
	return nil
}

// end stops the clock and returns the wall time and CPU split since begin.
func (m *meter) end(r *run) (time.Duration, cpuSplit, error) {
	elapsed := time.Since(m.start)
	m.tm.StopTimer()
	cpu := sampleCPU(r.pids(), db.postmaster()).since(m.cpu)
	if db.profile {
		if err := profileWrite(r.pool, m.label, r.schema, elapsed, cpu); err != nil {
			return elapsed, cpu, err
		}
	}
	return elapsed, cpu, nil
}

// result is what a throughput scenario measured.
type result struct {
	jobs           int
	elapsed        time.Duration
	cpu            cpuSplit
	runs, overlaps int64 // as the workers counted them
}

// verify checks that every job ran exactly once, and, for a keyed system
// in one process, that no two jobs of a key overlapped; with full, it also
// checks every job's outcome (slow for perkey: one query per job).
func (res result) verify(ctx context.Context, r *run, full bool) error {
	if res.runs != int64(res.jobs) {
		return fmt.Errorf("%s: %d jobs ran %d times", r.cfg.sys.Name, res.jobs, res.runs)
	}
	if r.cfg.sys.Keyed && res.overlaps != 0 {
		return fmt.Errorf("%s: %d runs overlapped another of their key", r.cfg.sys.Name, res.overlaps)
	}
	if full {
		return r.sub.check(ctx)
	}
	return nil
}

// throughput runs jobs through a run of procs workers. With drain, every
// batch is inserted while the workers wait, and the clock runs from their
// start to the last job's completion; otherwise the workers run
// throughout and the clock runs from the first insert to the last
// completion.
func throughput(m *meter, sys system, procs int, jobs []jobArgs, batch int, drain, full bool) (res result, err error) {
	var work time.Duration
	for _, j := range jobs {
		work += time.Duration(j.SleepMS) * time.Millisecond
	}
	ctx, cancel := deadline(work / time.Duration(slots*max(procs, 1)))
	defer cancel()
	r, err := startRun(ctx, m.url, runConfig{sys: sys, procs: procs, held: drain})
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, r.close()) }()
	res.jobs = len(jobs)
	submitAll := func() error {
		for i := 0; i < len(jobs); i += batch {
			if err := r.sub.submit(ctx, jobs[i:min(i+batch, len(jobs))]); err != nil {
				return fmt.Errorf("%s: submit: %w", sys.Name, err)
			}
		}
		return nil
	}
	if drain {
		if err := submitAll(); err != nil {
			return res, err
		}
	}
	if err := m.begin(r); err != nil {
		return res, err
	}
	if drain {
		err = r.start()
	} else {
		err = submitAll()
	}
	if err == nil {
		err = r.sub.wait(ctx, len(jobs))
	}
	elapsed, cpu, merr := m.end(r)
	if err = errors.Join(err, merr); err != nil {
		return res, err
	}
	res.elapsed, res.cpu = elapsed, cpu
	if res.runs, res.overlaps, err = r.stopWorkers(); err != nil {
		return res, err
	}
	return res, res.verify(ctx, r, full)
}

// latency submits samples jobs one at a time to a run with one worker in
// this process, each once the one before is done and at least pace after
// the one before was submitted, and returns each one's submit-to-start
// time: from just before Submit (Insert) to the first line of the job.
func latency(m *meter, sys system, sz sizes) (samples []time.Duration, err error) {
	ctx, cancel := deadline(time.Duration(sz.samples) * sz.pace)
	defer cancel()
	startedAt := make(chan time.Time, 1)
	started := func(_ jobArgs, at time.Time) {
		select {
		case startedAt <- at:
		default: // one job at a time: never
		}
	}
	r, err := startRun(ctx, m.url, runConfig{sys: sys, procs: 1, started: started})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, r.close()) }()
	pace := time.NewTimer(0)
	defer pace.Stop()
	if err := m.begin(r); err != nil {
		return nil, err
	}
	for i := range sz.samples {
		select {
		case <-pace.C:
		case <-ctx.Done():
			return samples, ctx.Err()
		}
		pace.Reset(sz.pace)
		t0 := time.Now()
		if err := r.sub.submitOne(ctx, jobArgs{Key: fmt.Sprintf("k%d", i%sz.keys), Seq: i}); err != nil {
			return samples, fmt.Errorf("%s: submit: %w", sys.Name, err)
		}
		select {
		case at := <-startedAt:
			samples = append(samples, at.Sub(t0))
		case <-ctx.Done():
			return samples, fmt.Errorf("%w: job %d never started", errTimeout, i)
		}
		if err := r.sub.wait(ctx, i+1); err != nil {
			return samples, err
		}
	}
	if _, _, err := m.end(r); err != nil {
		return samples, err
	}
	runs, _, err := r.stopWorkers()
	if err == nil && runs != int64(sz.samples) {
		err = fmt.Errorf("%s: %d jobs ran %d times", sys.Name, sz.samples, runs)
	}
	return samples, err
}

// insertResult is what the insert scenario measured.
type insertResult struct {
	rows    int
	elapsed time.Duration
	batches []time.Duration
	cpu     cpuSplit
}

// insert inserts batches of jobs, one transaction each, with no worker
// running, and checks that the rows are there.
func insert(m *meter, sys system, sz sizes) (res insertResult, err error) {
	ctx, cancel := deadline(0)
	defer cancel()
	r, err := startRun(ctx, m.url, runConfig{sys: sys})
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, r.close()) }()
	jobs := makeJobs(sz.batches*sz.batch, sz.keys, 0)
	if err := m.begin(r); err != nil {
		return res, err
	}
	for i := 0; i < len(jobs); i += sz.batch {
		t0 := time.Now()
		if err := r.sub.submit(ctx, jobs[i:min(i+sz.batch, len(jobs))]); err != nil {
			return res, fmt.Errorf("%s: submit: %w", sys.Name, err)
		}
		res.batches = append(res.batches, time.Since(t0))
	}
	if res.elapsed, res.cpu, err = m.end(r); err != nil {
		return res, err
	}
	res.rows = len(jobs)
	table := "invocations"
	if sys.River {
		table = "river_job"
	}
	var n int
	if err := r.pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{r.schema, table}.Sanitize()).Scan(&n); err != nil {
		return res, err
	}
	if n != len(jobs) {
		return res, fmt.Errorf("%s: %d rows after inserting %d", sys.Name, n, len(jobs))
	}
	return res, nil
}
