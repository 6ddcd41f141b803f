package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/perkey/perkey/scheduler"
)

// completion is the outcome of one run, to be written.
type completion struct {
	id      uint64
	attempt int32
	state   scheduler.State // a final state, or Pending to put it back
	result  []byte
	err     string
	kind    int16
}

// completer writes outcomes in batches: whatever has accumulated while
// the previous batch was being written goes in the next, in one round trip
// and one transaction. An idle completer writes one at once.
type completer struct {
	b       *Backend
	mu      sync.Mutex
	pending []completion
	busy    bool          // a batch is being written
	written chan struct{} // closed and replaced after every batch
	kick    chan struct{} // capacity 1
}

func (c *completer) init(b *Backend) {
	c.b = b
	c.written = make(chan struct{})
	c.kick = make(chan struct{}, 1)
}

func (c *completer) add(out completion) {
	c.mu.Lock()
	c.pending = append(c.pending, out)
	c.mu.Unlock()
	wake(c.kick)
}

// loop writes batches until the backend's life ends.
func (c *completer) loop() {
	defer c.b.loops.Done()
	for {
		select {
		case <-c.b.life.Done():
			return
		case <-c.kick:
		}
		for c.flush() {
		}
	}
}

// flush writes what is pending, if anything, and reports whether it wrote
// something. A batch that fails stays pending, and is tried again after
// PollInterval: its leases lapse meanwhile if the database stays away, and
// another process runs those invocations again.
func (c *completer) flush() bool {
	c.mu.Lock()
	batch := c.pending
	c.pending = nil
	c.busy = len(batch) > 0
	c.mu.Unlock()
	if len(batch) == 0 {
		return false
	}
	err := c.write(batch)
	c.mu.Lock()
	if err != nil {
		c.pending = append(batch, c.pending...)
	}
	c.busy = false
	close(c.written)
	c.written = make(chan struct{})
	c.mu.Unlock()
	if err != nil {
		c.b.logFailure("writing outcomes (they are kept and written again)", err)
		select {
		case <-c.b.life.Done():
		case <-time.After(c.b.cfg.PollInterval):
		}
		return c.b.life.Err() == nil
	}
	return true
}

func (c *completer) write(batch []completion) error {
	b := c.b
	n := len(batch)
	ids := make([]int64, n)
	attempts := make([]int32, n)
	states := make([]int16, n)
	results := make([]*string, n)
	errs := make([]*string, n)
	kinds := make([]int16, n)
	for i, out := range batch {
		ids[i], attempts[i], states[i], kinds[i] = int64(out.id), out.attempt, int16(out.state), out.kind
		if out.result != nil {
			s := string(out.result)
			results[i] = &s
		}
		if out.err != "" {
			errs[i] = &batch[i].err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.Lease)
	defer cancel()
	// The slots these runs freed are claimed again in the same round
	// trip, after the outcomes are written (and so after the promotions
	// they make).
	var batchQ pgx.Batch
	batchQ.Queue(b.sql.complete, b.cfg.Worker, ids, attempts, states, results, errs, kinds, b.publish.Load())
	claim, names := b.reserve()
	if claim > 0 {
		batchQ.Queue(b.sql.claim, b.claimArgs(claim, names)...)
	}
	sent := time.Now()
	type outcome struct {
		id      int64
		state   *int16
		applied bool
	}
	var outcomes []outcome
	var got []claimed
	err := func() error {
		// One round trip, one implicit transaction: nothing below
		// counts until it has committed (Close).
		br := b.pool.SendBatch(ctx, &batchQ)
		rows, err := br.Query()
		if err == nil {
			var o outcome
			_, err = pgx.ForEachRow(rows, []any{&o.id, &o.state, &o.applied}, func() error {
				outcomes = append(outcomes, o)
				return nil
			})
		}
		if err == nil && claim > 0 {
			if rows, err = br.Query(); err == nil {
				got, err = readClaimed(rows)
			}
		}
		return errors.Join(err, br.Close())
	}()
	if err != nil {
		b.release(claim)
		return err
	}
	var finished []uint64
	for _, o := range outcomes {
		switch {
		case !o.applied:
			b.stats.leaseLost.Add(1)
		case o.state != nil && scheduler.State(*o.state).Final():
			b.stats.ended(scheduler.State(*o.state))
			finished = append(finished, uint64(o.id))
		}
	}
	b.waiters.finish(finished)
	if claim > 0 {
		b.startClaimed(got, claim, sent)
		if len(got) == claim {
			return nil
		}
	}
	wake(b.wakeClaim) // freed slots may have promoted work
	return nil
}

// drain writes what is pending, waiting at most a lease for the database.
func (c *completer) drain() {
	deadline := time.NewTimer(c.b.cfg.Lease)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		idle := len(c.pending) == 0 && !c.busy
		written := c.written
		c.mu.Unlock()
		if idle {
			return
		}
		wake(c.kick)
		select {
		case <-written:
		case <-deadline.C:
			return
		}
	}
}
