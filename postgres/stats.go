package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/perkey/perkey/scheduler"
)

// counters are this process's own counts.
type counters struct {
	submitted, deduped, dropped atomic.Uint64 // submissions made here
	started                     atomic.Uint64 // runs started here
	succeeded, failed, canceled atomic.Uint64 // runs that ended here
	expired                     atomic.Uint64 // expired by this process's sweeps
	rescued, leaseLost          atomic.Uint64
}

func (c *counters) ended(st scheduler.State) {
	switch st {
	case scheduler.Succeeded:
		c.succeeded.Add(1)
	case scheduler.Failed:
		c.failed.Add(1)
	case scheduler.Canceled:
		c.canceled.Add(1)
	}
}

// gauges are the cluster's, as of the last refresh.
type gauges struct {
	queued, pending, running, keys int
}

// Stats implements scheduler.Backend without blocking. The counters are
// this process's: Submitted, Deduped and Dropped count its submissions;
// Succeeded, Failed and Canceled the runs that ended here; Expired the
// invocations its sweeps expired. The gauges (Queued, Pending, Running
// and Actors, the keys with work) are the whole cluster's, refreshed every
// PollInterval while Stats is being called, so the first call after a
// pause returns the last values known.
func (b *Backend) Stats() scheduler.Stats {
	b.statsWanted.Store(time.Now().UnixNano())
	g := b.gauges.Load()
	return scheduler.Stats{
		Submitted: b.stats.submitted.Load(),
		Deduped:   b.stats.deduped.Load(),
		Dropped:   b.stats.dropped.Load(),
		Expired:   b.stats.expired.Load(),
		Canceled:  b.stats.canceled.Load(),
		Succeeded: b.stats.succeeded.Load(),
		Failed:    b.stats.failed.Load(),
		Queued:    g.queued,
		Pending:   g.pending,
		Running:   g.running,
		Actors:    g.keys,
	}
}

func (b *Backend) refreshGauges() {
	ctx, cancel := b.queryCtx()
	defer cancel()
	var g gauges
	if err := b.pool.QueryRow(ctx, b.sql.gauges).Scan(&g.queued, &g.pending, &g.running, &g.keys); err != nil {
		b.logFailure("reading the cluster's gauges", err)
		return
	}
	b.gauges.Store(&g)
}

// Key implements scheduler.Backend: the cluster's load of one key of a
// task (a Group's key for a grouped task).
func (b *Backend) Key(ctx context.Context, task, key string) (scheduler.KeyStats, error) {
	out := scheduler.KeyStats{Task: task, Key: key}
	ks := ""
	if spec, ok := b.task(task); ok {
		ks = spec.Keyspace()
	} else {
		var name *string
		err := b.pool.QueryRow(ctx, b.sql.taskKeyspace, task).Scan(&name)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return out, fmt.Errorf("postgres: key load: %w", err)
		}
		if name != nil {
			ks = *name
		}
	}
	if ks == "" {
		return out, nil
	}
	out.Task = ks
	err := b.pool.QueryRow(ctx, b.sql.keyLoad, digest("k", ks, key)).Scan(&out.Queued, &out.Pending, &out.Running)
	if err != nil {
		return out, fmt.Errorf("postgres: key load: %w", err)
	}
	return out, nil
}

// Keys implements scheduler.Backend: the cluster's busiest keys, from
// one query over the unfinished invocations.
func (b *Backend) Keys(ctx context.Context, n int) ([]scheduler.KeyStats, error) {
	limit := any(nil)
	if n > 0 {
		limit = n
	}
	rows, err := b.pool.Query(ctx, b.sql.keysLoad, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: keys load: %w", err)
	}
	var out []scheduler.KeyStats
	var k scheduler.KeyStats
	_, err = pgx.ForEachRow(rows, []any{&k.Task, &k.Key, &k.Queued, &k.Pending, &k.Running}, func() error {
		out = append(out, k)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: keys load: %w", err)
	}
	return out, nil
}
