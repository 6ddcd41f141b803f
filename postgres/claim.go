package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/perkey/perkey/scheduler"
)

// run is an invocation running in this process.
type run struct {
	id      uint64
	attempt int32
	task    string
	key     string
	cancel  context.CancelCauseFunc
	// leaseUntil is when this process must consider the lease gone: the
	// time the last successful renewal (or the claim) was sent, plus the
	// lease. Only the keeper and the claimer touch it, under runMu.
	leaseUntil time.Time
}

// claimed is a row the claim query returned.
type claimed struct {
	id        int64
	task      string
	key       string
	ks        *string
	kd        []byte
	args      []byte
	attempt   int32
	label     *string
	submitted time.Time
	replaced  bool
	rated     bool
}

// claimLoop takes ready invocations of this process's tasks whenever it
// has free slots: at once when notified (a submission, a completion, a
// rescue), or every PollInterval, or when the next rate token falls due.
func (b *Backend) claimLoop() {
	defer b.loops.Done()
	poll := time.NewTimer(b.cfg.PollInterval)
	defer poll.Stop()
	for {
		next := b.cfg.PollInterval
		if !b.closing.Load() {
			if wait, err := b.claimOnce(); err != nil {
				if b.life.Err() != nil {
					return
				}
				b.logFailure("claiming", err)
			} else if wait == 0 {
				continue // the slots filled: there may be more
			} else {
				next = min(next, wait)
			}
		}
		poll.Reset(next)
		select {
		case <-b.life.Done():
			return
		case <-b.wakeClaim:
		case <-b.freeChan():
		case <-poll.C:
		}
	}
}

// freeChan returns a channel that is closed when a running task ends.
func (b *Backend) freeChan() <-chan struct{} {
	b.runMu.Lock()
	defer b.runMu.Unlock()
	return b.free
}

// reserve takes the free slots for a claim, and returns how many it took
// and the names of the tasks to claim; 0 if there is nothing to claim. One
// claim is under way at a time in a process: claimers that would skip each
// other's rows only make more, smaller claims. After a reservation of n >
// 0, the caller calls release(n) or startClaimed, once.
func (b *Backend) reserve() (int, []string) {
	names := *b.claimable.Load()
	if len(names) == 0 || b.closing.Load() || !b.claimMu.TryLock() {
		return 0, nil
	}
	b.runMu.Lock()
	defer b.runMu.Unlock()
	free := b.host.MaxParallel - len(b.running) - b.reserved
	if free <= 0 {
		b.claimMu.Unlock()
		return 0, nil
	}
	b.reserved += free
	return free, names
}

// release gives back n reserved slots, and ends the claim.
func (b *Backend) release(n int) {
	if n == 0 {
		return
	}
	b.runMu.Lock()
	b.reserved -= n
	b.runMu.Unlock()
	b.claimMu.Unlock()
}

// claimArgs are the claim query's arguments for n slots.
func (b *Backend) claimArgs(n int, names []string) []any {
	return []any{b.cfg.Worker, n, names, b.cfg.Lease, b.publish.Load()}
}

// readClaimed reads the rows of a claim.
func readClaimed(rows pgx.Rows) ([]claimed, error) {
	var got []claimed
	var c claimed
	_, err := pgx.ForEachRow(rows, []any{&c.id, &c.task, &c.key, &c.ks, &c.kd, &c.args, &c.attempt, &c.label, &c.submitted, &c.replaced, &c.rated}, func() error {
		got = append(got, c)
		return nil
	})
	return got, err
}

// startClaimed starts what a committed claim took, in slots that were
// reserved for it, and gives the reservation back.
func (b *Backend) startClaimed(got []claimed, reserved int, sent time.Time) {
	var rated []claimed
	for _, c := range got {
		b.start(c, sent)
		if c.rated {
			rated = append(rated, c)
		}
	}
	b.release(reserved) // the started ones are counted as running now
	if len(rated) > 0 {
		b.promoteRated(rated)
	}
}

// claimOnce claims as many invocations as there are free slots and starts
// them. It returns 0 if it filled every slot, and otherwise how long to
// wait at most before looking again.
func (b *Backend) claimOnce() (time.Duration, error) {
	n, names := b.reserve()
	if n == 0 {
		return b.cfg.PollInterval, nil
	}
	sent := time.Now()
	ctx, cancel := context.WithTimeout(b.life, b.cfg.Lease/2)
	defer cancel()
	rows, err := b.pool.Query(ctx, b.sql.claim, b.claimArgs(n, names)...)
	if err != nil {
		b.release(n)
		return 0, err
	}
	got, err := readClaimed(rows)
	if err != nil {
		// The claim's transaction did not commit: nothing was taken.
		b.release(n)
		return 0, err
	}
	b.startClaimed(got, n, sent)
	if len(got) == n {
		return 0, nil
	}
	return b.nextDue(ctx, names)
}

// nextDue returns how long until the next rate token of a ready
// invocation falls due, at most PollInterval.
func (b *Backend) nextDue(ctx context.Context, names []string) (time.Duration, error) {
	var due *time.Time
	if err := b.pool.QueryRow(ctx, b.sql.nextDue, names).Scan(&due); err != nil {
		return 0, err
	}
	if due != nil {
		return min(max(time.Until(*due), time.Millisecond), b.cfg.PollInterval), nil
	}
	return b.cfg.PollInterval, nil
}

// promoteRated admits the next invocation of each rated key that just
// started one: one admitted invocation of a rated key waits for its start
// at a time.
func (b *Backend) promoteRated(rated []claimed) {
	ks := make([]*string, len(rated))
	kds := make([][]byte, len(rated))
	for i, c := range rated {
		ks[i], kds[i] = c.ks, c.kd
	}
	ctx, cancel := context.WithTimeout(b.life, b.cfg.Lease/2)
	defer cancel()
	if _, err := b.pool.Exec(ctx, b.sql.promoteKeys, ks, kds, b.publish.Load()); err != nil && b.life.Err() == nil {
		// The next completion of the key promotes instead.
		b.logFailure("promoting rated keys", err)
	}
}

// start runs a claimed invocation in its own goroutine.
func (b *Backend) start(c claimed, sent time.Time) {
	ctx, cancel := context.WithCancelCause(b.runCtx)
	r := &run{id: uint64(c.id), attempt: c.attempt, task: c.task, key: c.key, cancel: cancel, leaseUntil: sent.Add(b.cfg.Lease)}
	b.runMu.Lock()
	b.running[r.id] = r
	b.runMu.Unlock()
	if c.replaced {
		cancel(scheduler.ErrReplaced)
	}
	b.stats.started.Add(1)
	b.runs.Add(1)
	go b.execute(ctx, r, c.args)
}

// execute runs one invocation and hands its outcome to the completer. A
// task that calls runtime.Goexit ends this goroutine; the deferred call
// still reports it.
func (b *Backend) execute(ctx context.Context, r *run, args []byte) {
	returned := false
	var result []byte
	var err error
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("%w: %v", scheduler.ErrPanic, rec)
		} else if !returned {
			err = scheduler.ErrGoexit
		}
		b.finishRun(ctx, r, result, err)
		b.runs.Done()
	}()
	result, err = b.host.Run(ctx, r.task, args)
	returned = true
}

// finishRun queues the outcome of a run that returned, and frees its slot.
func (b *Backend) finishRun(ctx context.Context, r *run, result []byte, err error) {
	out := completion{id: r.id, attempt: r.attempt}
	switch {
	case err == nil:
		out.state = scheduler.Succeeded
		out.result = result
	case errors.Is(context.Cause(ctx), errClosing), errors.Is(context.Cause(ctx), errLeaseLost):
		// Close cancelled it, or this process gave up its lease: it goes
		// back for another process (if the lease is still ours; if not,
		// another process has it already, and this is not written).
		out.state = scheduler.Pending
		out.err = err.Error()
	default:
		out.state = scheduler.Failed
		out.err = err.Error()
		out.kind = kindOf(err)
	}
	r.cancel(nil)
	b.completions.add(out)
	b.runMu.Lock()
	delete(b.running, r.id)
	close(b.free)
	b.free = make(chan struct{})
	b.runMu.Unlock()
}
