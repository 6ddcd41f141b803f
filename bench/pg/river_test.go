package pg

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// migrateRiver creates schema and River's tables in it.
func migrateRiver(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return err
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: schema, Logger: warnLogger()})
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// riverConfig is the River configuration of both the submitter and the
// workers: River's defaults but for the schema, the logger and, for
// river-fast, FetchCooldown (which also spaces the insert notifications
// of an inserting client). Workers add one queue with 8 workers.
func riverConfig(sys system, schema string) *river.Config {
	return &river.Config{Schema: schema, FetchCooldown: sys.FetchCooldown, Logger: warnLogger()}
}

// riverSubmitter inserts through an insert-only River client (no queues).
// River has no completion signal across processes: the workers report
// their completed jobs to the tally.
type riverSubmitter struct {
	client *river.Client[pgx.Tx]
	tally  *tally
	n      int
}

func newRiverSubmitter(pool *pgxpool.Pool, sys system, schema string, t *tally) (*riverSubmitter, error) {
	client, err := river.NewClient(riverpgxv5.New(pool), riverConfig(sys, schema))
	if err != nil {
		return nil, err
	}
	return &riverSubmitter{client: client, tally: t}, nil
}

// submit inserts one batch with InsertMany: one transaction.
func (r *riverSubmitter) submit(ctx context.Context, jobs []jobArgs) error {
	params := make([]river.InsertManyParams, len(jobs))
	for i, j := range jobs {
		params[i] = river.InsertManyParams{Args: j}
	}
	if _, err := r.client.InsertMany(ctx, params); err != nil {
		return err
	}
	r.n += len(jobs)
	return nil
}

func (r *riverSubmitter) submitOne(ctx context.Context, job jobArgs) error {
	if _, err := r.client.Insert(ctx, job, nil); err != nil {
		return err
	}
	r.n++
	return nil
}

func (r *riverSubmitter) wait(ctx context.Context, n int) error {
	if n > r.n {
		return fmt.Errorf("waiting for %d jobs, %d submitted", n, r.n)
	}
	return r.tally.waitFor(ctx, int64(n))
}

// check: a completed event is only sent for a job that succeeded, and the
// tally refuses more completions than jobs.
func (r *riverSubmitter) check(context.Context) error {
	if got := r.tally.count(); got != int64(r.n) {
		return fmt.Errorf("river: %d jobs completed, %d inserted", got, r.n)
	}
	return nil
}

func (r *riverSubmitter) close() error { return nil }

// riverWorker is a River client with one queue of 8 workers. Its
// subscription to completed jobs (sent once the completer has committed
// them) is forwarded to report, cumulatively, by a goroutine that stop
// joins.
type riverWorker struct {
	client  *river.Client[pgx.Tx]
	events  <-chan *river.Event
	cancel  func()
	started bool
	fwd     sync.WaitGroup
}

func newRiverWorker(pool *pgxpool.Pool, sys system, schema string, b *body, report func(int64)) (*riverWorker, error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[jobArgs]) error {
		return b.run(ctx, job.Args)
	}))
	cfg := riverConfig(sys, schema)
	cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: slots}}
	cfg.Workers = workers
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, err
	}
	w := &riverWorker{client: client}
	// Large enough that River never drops an event of a run.
	w.events, w.cancel = client.SubscribeConfig(&river.SubscribeConfig{
		Kinds: []river.EventKind{river.EventKindJobCompleted}, ChanSize: 1 << 17,
	})
	w.fwd.Add(1)
	go func() {
		defer w.fwd.Done()
		var n int64
		for range w.events {
			n++
			if len(w.events) == 0 {
				report(n)
			}
		}
	}()
	return w, nil
}

func (w *riverWorker) start(ctx context.Context) error {
	w.started = true
	return w.client.Start(context.WithoutCancel(ctx))
}

func (w *riverWorker) stop() error {
	var err error
	if w.started {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = w.client.Stop(ctx)
		cancel()
	}
	w.cancel()
	w.fwd.Wait()
	return err
}
