package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/perkey/perkey/scheduler"
)

// takeovers follows the cluster's events during a soak across processes:
// which worker last started each unfinished invocation, the runs, the
// reruns (an invocation started again: its lease expired, because its
// worker died or stalled), and for each invocation that a killed worker
// had started, the time from the kill to its start elsewhere. It also
// counts final states and dedupes, which must add up to the submissions.
// Its memory follows the invocations in flight, not the soak's length.
// It is safe for concurrent use.
type takeovers struct {
	mu       sync.Mutex
	started  map[uint64]string    // unfinished invocation -> the worker that last started it
	killedAt map[string]time.Time // worker -> when it was killed
	runs     uint64               // Running events
	reruns   uint64               // of those, starts of an invocation started before
	samples  []time.Duration      // kill to start elsewhere, per invocation of a killed worker
	finals   [scheduler.Canceled + 1]uint64
	deduped  uint64
}

func newTakeovers() *takeovers {
	return &takeovers{started: map[uint64]string{}, killedAt: map[string]time.Time{}}
}

// observe is the event listener. Events arrive in commit order, stamped
// with the database's clock: the clock of this machine, as the kill times
// are.
func (t *takeovers) observe(ev scheduler.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case ev.Deduped:
		t.deduped++
	case ev.Throttled:
	case ev.State == scheduler.Running:
		t.runs++
		if prev, ok := t.started[ev.ID]; ok {
			t.reruns++
			if at, killed := t.killedAt[prev]; killed {
				t.samples = append(t.samples, ev.Time.Sub(at))
			}
		}
		t.started[ev.ID] = ev.Worker
	case ev.State.Final():
		t.finals[ev.State]++
		delete(t.started, ev.ID)
	}
}

// killing records that worker is killed now; call it just before the
// kill.
func (t *takeovers) killing(worker string, at time.Time) {
	t.mu.Lock()
	t.killedAt[worker] = at
	t.mu.Unlock()
}

// figures returns what was counted: kills, runs, reruns, takeover
// samples, and the median and the longest takeover.
func (t *takeovers) figures() (kills int, runs, reruns uint64, n int, p50, worst time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.samples {
		worst = max(worst, s)
	}
	return len(t.killedAt), t.runs, t.reruns, len(t.samples), percentile(t.samples, 50), worst
}

// outcomes returns the final states counted, and the dedupes.
func (t *takeovers) outcomes() (finals [scheduler.Canceled + 1]uint64, deduped uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.finals, t.deduped
}

// chaos kills a random worker with SIGKILL every interval, as a crash
// would, and starts another in its place, until finish.
type chaos struct {
	fleet *fleet
	every time.Duration
	track *takeovers
	rng   *rand.Rand
	log   io.Writer // a line per kill; nil: none
	start time.Time
	stop  chan struct{}
	done  chan struct{}
	err   error // the first replacement that failed to start
}

// startChaos starts killing, on a goroutine that finish joins.
func startChaos(ctx context.Context, f *fleet, every time.Duration, track *takeovers, seed uint64, log io.Writer) *chaos {
	c := &chaos{
		fleet: f, every: every, track: track, rng: rand.New(rand.NewPCG(seed, 0x6b696c6c)), log: log,
		start: time.Now(), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go c.loop(ctx)
	return c
}

func (c *chaos) loop(ctx context.Context) {
	defer close(c.done)
	tick := time.NewTicker(c.every)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		live := c.fleet.live()
		if len(live) == 0 {
			continue
		}
		victim := live[c.rng.IntN(len(live))]
		at := time.Now()
		c.track.killing(victim.name, at)
		victim.kill()
		p, err := c.fleet.start(ctx)
		switch {
		case err != nil && ctx.Err() == nil && c.err == nil:
			c.err = fmt.Errorf("chaos: starting a worker after killing %s: %w", victim.name, err)
		case err == nil && c.log != nil:
			fmt.Fprintf(c.log, "chaos %3.0fs: killed %s (SIGKILL); %s started in %.2fs\n",
				at.Sub(c.start).Seconds(), victim.name, p.name, time.Since(at).Seconds())
		}
	}
}

// finish stops the killing, joins its goroutine and returns the first
// replacement worker that failed to start.
func (c *chaos) finish() error {
	close(c.stop)
	<-c.done
	return c.err
}
