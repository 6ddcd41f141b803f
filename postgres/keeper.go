package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/perkey/perkey/scheduler"
)

// keep is the keeper goroutine: it renews this process's leases, cancels
// tasks whose lease is lost, and now and then rescues expired leases,
// expires overdue waiting work, deletes old final work, refreshes the
// cluster gauges and the listeners flag, and checks the invocations that
// this process waits for.
func (b *Backend) keep() {
	defer b.loops.Done()
	beat := b.cfg.Lease / 4
	tick := min(beat, b.cfg.PollInterval)
	timer := time.NewTimer(0)
	defer timer.Stop()
	var lastBeat, lastSweep, lastRetain time.Time
	for {
		select {
		case <-b.life.Done():
			return
		case <-timer.C:
		case <-b.wakeKeep:
			// New waiters: they may be final already.
			b.checkWaiters(false)
			continue
		}
		now := time.Now()
		if now.Sub(lastBeat) >= beat {
			lastBeat = now
			b.heartbeat()
		}
		b.expireLocalLeases()
		if now.Sub(lastSweep) >= b.cfg.PollInterval {
			lastSweep = now
			b.sweep()
			b.checkWaiters(true)
			b.refreshListeners()
			if time.Since(time.Unix(0, b.statsWanted.Load())) < 10*b.cfg.PollInterval {
				b.refreshGauges()
			}
		}
		if now.Sub(lastRetain) >= b.retainEvery() {
			lastRetain = now
			b.retain()
		}
		timer.Reset(tick)
	}
}

// retainEvery is how often retention runs: a quarter of the retention,
// between one poll and a minute.
func (b *Backend) retainEvery() time.Duration {
	return min(max(b.cfg.Retention/4, b.cfg.PollInterval), time.Minute)
}

// ctx returns a context for one of the keeper's queries.
func (b *Backend) queryCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.life, max(b.cfg.Lease/4, time.Second))
}

// heartbeat renews the leases of the invocations running here. Those this
// process no longer holds (another took them over) are cancelled, and so
// are those a Replace asked to cancel.
func (b *Backend) heartbeat() {
	b.runMu.Lock()
	ids := make([]int64, 0, len(b.running))
	attempts := make([]int32, 0, len(b.running))
	for _, r := range b.running {
		ids = append(ids, int64(r.id))
		attempts = append(attempts, r.attempt)
	}
	b.runMu.Unlock()
	if len(ids) == 0 {
		return
	}
	sent := time.Now()
	ctx, cancel := b.queryCtx()
	defer cancel()
	rows, err := b.pool.Query(ctx, b.sql.heartbeat, b.cfg.Worker, ids, attempts, b.cfg.Lease)
	if err != nil {
		b.logFailure("renewing leases", err)
		return
	}
	held := make(map[uint64]bool, len(ids))
	var id int64
	var replaced bool
	_, err = pgx.ForEachRow(rows, []any{&id, &replaced}, func() error {
		held[uint64(id)] = replaced
		return nil
	})
	if err != nil {
		b.logFailure("renewing leases", err)
		return
	}
	b.runMu.Lock()
	defer b.runMu.Unlock()
	for i, id := range ids {
		r, ok := b.running[uint64(id)]
		if !ok || r.attempt != attempts[i] {
			continue // it ended meanwhile
		}
		replaced, ok := held[uint64(id)]
		switch {
		case !ok:
			r.cancel(errLeaseLost)
		case replaced:
			r.cancel(scheduler.ErrReplaced)
			fallthrough
		default:
			r.leaseUntil = sent.Add(b.cfg.Lease)
		}
	}
}

// expireLocalLeases cancels the tasks whose lease this process has not
// renewed for 3/4 of Lease: they stop before the lease runs out and
// another process runs them again.
func (b *Backend) expireLocalLeases() {
	margin := b.cfg.Lease / 4
	now := time.Now()
	b.runMu.Lock()
	defer b.runMu.Unlock()
	for _, r := range b.running {
		if now.Add(margin).After(r.leaseUntil) {
			r.cancel(errLeaseLost)
		}
	}
}

// sweep rescues expired leases and expires overdue waiting work, for the
// whole cluster: any process may do it, the key locks keep them apart.
func (b *Backend) sweep() {
	ctx, cancel := b.queryCtx()
	defer cancel()
	rows, err := b.pool.Query(ctx, b.sql.rescue, b.publish.Load())
	if err == nil {
		var id int64
		var state int16
		_, err = pgx.ForEachRow(rows, []any{&id, &state}, func() error {
			b.stats.rescued.Add(1)
			return nil
		})
	}
	if err != nil {
		b.logFailure("rescuing expired leases", err)
	}
	rows, err = b.pool.Query(ctx, b.sql.expire, b.publish.Load())
	if err == nil {
		var id int64
		var gone []uint64
		_, err = pgx.ForEachRow(rows, []any{&id}, func() error {
			b.stats.expired.Add(1)
			gone = append(gone, uint64(id))
			return nil
		})
		b.waiters.finish(gone)
	}
	if err != nil {
		b.logFailure("expiring overdue work", err)
	}
}

// retain deletes final invocations older than the retention, and the rate
// state of rested keys. One process at a time does it.
func (b *Backend) retain() {
	ctx, cancel := b.queryCtx()
	defer cancel()
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		var mine bool
		if err := tx.QueryRow(ctx, b.sql.retainLock, "perkey retention "+b.cfg.Schema).Scan(&mine); err != nil || !mine {
			return err
		}
		if _, err := tx.Exec(ctx, b.sql.retain, b.cfg.Retention); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, b.sql.retainRates)
		return err
	})
	if err != nil {
		b.logFailure("deleting old invocations", err)
	}
}

// checkWaiters closes the Done channels of waited-for invocations that are
// final: all of them (the fallback for lost notifications), or only those
// that started waiting since the last check.
func (b *Backend) checkWaiters(all bool) {
	ids := b.waiters.ids(all)
	if len(ids) == 0 {
		return
	}
	ctx, cancel := b.queryCtx()
	defer cancel()
	rows, err := b.pool.Query(ctx, b.sql.finished, ids)
	if err != nil {
		b.logFailure("checking waited invocations", err)
		return
	}
	var id int64
	var done []uint64
	_, err = pgx.ForEachRow(rows, []any{&id}, func() error {
		done = append(done, uint64(id))
		return nil
	})
	if err != nil {
		b.logFailure("checking waited invocations", err)
		return
	}
	b.waiters.finish(done)
}

// refreshListeners records whether this process listens to events, and
// learns whether any process does: then every process publishes its state
// changes.
func (b *Backend) refreshListeners() {
	ctx, cancel := b.queryCtx()
	defer cancel()
	listening := b.host.Listening != nil && b.host.Listening()
	var err error
	switch {
	case listening:
		b.publish.Store(true)
		_, err = b.pool.Exec(ctx, b.sql.listen, b.cfg.Worker, 3*b.cfg.PollInterval+time.Second)
	case b.wasListening:
		_, err = b.pool.Exec(ctx, b.sql.unlisten, b.cfg.Worker)
	}
	if err != nil {
		b.logFailure("recording listeners", err)
		return
	}
	b.wasListening = listening
	var any bool
	if err := b.pool.QueryRow(ctx, b.sql.listeners).Scan(&any); err != nil {
		b.logFailure("reading listeners", err)
		return
	}
	b.publish.Store(any || listening)
}
