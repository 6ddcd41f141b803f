package pg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perkey/perkey/postgres"
	"github.com/perkey/perkey/scheduler"
)

// slots is what every process of either system runs at once: perkey's
// MaxParallel, River's MaxWorkers.
const slots = 8

// warnLogger reports the systems' warnings and errors on stderr.
func warnLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newPerkey returns a scheduler on schema with the benchmark's task: a
// submitter (SubmitOnly) or a worker with 8 slots. The task is keyed
// (Running=ByKey, OnBusy=Wait) for the keyed system. Opening the backend
// creates the schema.
func newPerkey(ctx context.Context, pool *pgxpool.Pool, sys system, schema, name string, submitOnly bool, b *body) (*scheduler.Scheduler, *scheduler.Task[jobArgs, struct{}], error) {
	backend, err := postgres.Open(ctx, pool, postgres.Config{Schema: schema, Worker: name, SubmitOnly: submitOnly})
	if err != nil {
		return nil, nil, err
	}
	s, err := scheduler.New(scheduler.Config{MaxParallel: slots, Backend: backend, Logger: warnLogger()})
	if err != nil {
		return nil, nil, err
	}
	opts := scheduler.Options[jobArgs]{Key: keyOf}
	if sys.Keyed {
		opts.Running, opts.OnBusy = scheduler.ByKey, scheduler.Wait
	}
	fn := func(ctx context.Context, a jobArgs) (struct{}, error) {
		if b == nil {
			return struct{}{}, errors.New("a submitter ran a job")
		}
		return struct{}{}, b.run(ctx, a)
	}
	task, err := scheduler.NewTask(s, "bench", fn, opts)
	if err != nil {
		return nil, nil, errors.Join(err, s.Close(ctx))
	}
	return s, task, nil
}

// closeScheduler closes s, giving its running jobs a while.
func closeScheduler(s *scheduler.Scheduler) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.Close(ctx)
}

// perkeySubmitter submits through a SubmitOnly scheduler, and keeps the
// Done channel of every invocation: the backend closes it when the
// invocation's end is committed (a done notification).
type perkeySubmitter struct {
	track  bool // keep the handles and their Done channels
	s      *scheduler.Scheduler
	task   *scheduler.Task[jobArgs, struct{}]
	invs   []*scheduler.Invocation[struct{}]
	done   []<-chan struct{}
	waited int // done[:waited] are closed
}

func newPerkeySubmitter(ctx context.Context, pool *pgxpool.Pool, sys system, schema string, track bool) (*perkeySubmitter, error) {
	s, task, err := newPerkey(ctx, pool, sys, schema, "submitter", true, nil)
	if err != nil {
		return nil, err
	}
	return &perkeySubmitter{s: s, task: task, track: track}, nil
}

// submit submits one batch with SubmitAll: one round trip, one
// transaction. The Done channels are taken at once, so that the backend
// knows whom to release before the first completion.
func (p *perkeySubmitter) submit(ctx context.Context, jobs []jobArgs) error {
	invs, err := p.task.SubmitAll(ctx, jobs)
	if err != nil || !p.track {
		return err
	}
	for _, inv := range invs {
		p.invs = append(p.invs, inv)
		p.done = append(p.done, inv.Done())
	}
	return nil
}

func (p *perkeySubmitter) submitOne(ctx context.Context, job jobArgs) error {
	inv, err := p.task.Submit(ctx, job)
	if err != nil || !p.track {
		return err
	}
	p.invs = append(p.invs, inv)
	p.done = append(p.done, inv.Done())
	return nil
}

func (p *perkeySubmitter) wait(ctx context.Context, n int) error {
	if n > len(p.done) {
		return fmt.Errorf("waiting for %d jobs, %d submitted", n, len(p.done))
	}
	for ; p.waited < n; p.waited++ {
		select {
		case <-p.done[p.waited]:
		case <-ctx.Done():
			return fmt.Errorf("%w: %d of %d perkey jobs done", errTimeout, p.waited, n)
		}
	}
	return nil
}

// check waits for every invocation's outcome: each must have succeeded.
func (p *perkeySubmitter) check(ctx context.Context) error {
	for _, inv := range p.invs {
		if _, err := inv.Wait(ctx); err != nil {
			return fmt.Errorf("perkey invocation %d: %w", inv.ID(), err)
		}
	}
	return nil
}

func (p *perkeySubmitter) close() error { return closeScheduler(p.s) }

// perkeyWorker runs the benchmark's task with 8 slots; start makes the
// scheduler, which starts claiming at once.
type perkeyWorker struct {
	pool   *pgxpool.Pool
	sys    system
	schema string
	name   string
	body   *body
	s      *scheduler.Scheduler
}

func (w *perkeyWorker) start(ctx context.Context) error {
	s, _, err := newPerkey(ctx, w.pool, w.sys, w.schema, w.name, false, w.body)
	w.s = s
	return err
}

func (w *perkeyWorker) stop() error {
	if w.s == nil {
		return nil
	}
	return closeScheduler(w.s)
}
