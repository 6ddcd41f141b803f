package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// probeTaskName is the task the sim submits, across processes, to learn
// that a worker serves the schema and that events flow. Every process
// registers it; its invocations call no provider, and the sim keeps them
// out of its timeline and its counts.
const probeTaskName = "sim_probe"

// probeEvery is how often the handshakes submit another probe while they
// wait for what the last ones should show.
const probeEvery = 100 * time.Millisecond

// workerHint is how long the sim waits for a worker before it says how to
// start one.
const workerHint = 3 * time.Second

// newProbeTask registers the probe task on s; its invocations reply
// with worker, the name of the process that ran them.
func newProbeTask(s *scheduler.Scheduler, worker string) (*simTask, error) {
	return scheduler.NewTask(s, probeTaskName, func(context.Context, call) (reply, error) {
		return reply{Outcome: provider.OK, Worker: worker}, nil
	}, scheduler.Options[call]{})
}

// probeWatch is an event listener that notes the probes' events: which
// were published on submit (Queued or Pending, by the process that
// submitted them), and which ended, where. It is safe for concurrent use.
type probeWatch struct {
	mu      sync.Mutex
	queued  map[uint64]bool
	ended   map[uint64]string // the worker that ran it, as its final event says
	changed chan struct{}     // capacity 1: something was noted
}

func newProbeWatch() *probeWatch {
	return &probeWatch{queued: map[uint64]bool{}, ended: map[uint64]string{}, changed: make(chan struct{}, 1)}
}

// observe notes ev if it is a probe's; it reports whether it was, so that
// other listeners can skip it.
func (w *probeWatch) observe(ev scheduler.Event) bool {
	if ev.Task != probeTaskName {
		return false
	}
	if ev.Deduped || ev.Throttled {
		return true
	}
	w.mu.Lock()
	switch {
	case ev.State == scheduler.Queued || ev.State == scheduler.Pending:
		// Published by the process that submitted it. (A probe, unkeyed,
		// is Pending at once; its Queued event is missing today: see
		// the report on postgres's submit_simple.)
		w.queued[ev.ID] = true
	case ev.State.Final():
		w.ended[ev.ID] = ev.Worker
	}
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return true
}

// seen reports whether one of ids was published as Queued and, if ended,
// whether one of them has ended with a worker named.
func (w *probeWatch) seen(ids []uint64, ended bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		if ended && w.ended[id] != "" || !ended && w.queued[id] {
			return true
		}
	}
	return false
}

// forget drops what was noted of ids.
func (w *probeWatch) forget(ids []uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		delete(w.queued, id)
		delete(w.ended, id)
	}
}

// awaitPublishing returns once this process publishes its events and
// receives them: a probe it submitted came back to w as Queued. A
// process with a listener publishes from its first look at the database
// on; until then, its probes pass unseen, and another is submitted every
// probeEvery.
func awaitPublishing(ctx context.Context, probe *simTask, w *probeWatch) error {
	return probeUntil(ctx, probe, w, false, nil)
}

// awaitWorker returns once a worker has run a probe. With w, it also
// waits until that run's final event has arrived, from a worker that
// publishes its events (every worker that the sim starts does, from the
// start; one started apart does from its next poll on). hint is printed
// if no worker has answered within workerHint.
func awaitWorker(ctx context.Context, probe *simTask, w *probeWatch, hint io.Writer, hintText string) error {
	timer := time.NewTimer(workerHint)
	defer timer.Stop()
	inv, err := probe.Submit(ctx, call{Account: "probe", Op: "probe"})
	if err != nil {
		return err
	}
	for waiting := true; waiting; {
		select {
		case <-inv.Done():
			waiting = false
		case <-timer.C:
			fmt.Fprintln(hint, hintText)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if _, err := inv.Wait(ctx); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	if w == nil {
		return nil
	}
	return probeUntil(ctx, probe, w, true, []uint64{inv.ID()})
}

// probeUntil submits probes, one now unless ids has some and then one
// every probeEvery, until one of them (or of ids) shows on w: as Queued,
// or if ended as ended with a worker named. A run seen without a worker
// name was by a process that does not publish yet, so the next probe may
// go to one that does.
func probeUntil(ctx context.Context, probe *simTask, w *probeWatch, ended bool, ids []uint64) error {
	defer func() { w.forget(ids) }()
	submit := func() error {
		inv, err := probe.Submit(ctx, call{Account: "probe", Op: "probe"})
		if err == nil {
			ids = append(ids, inv.ID())
		}
		return err
	}
	if len(ids) == 0 {
		if err := submit(); err != nil {
			return err
		}
	}
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for !w.seen(ids, ended) {
		select {
		case <-w.changed:
		case <-tick.C:
			if err := submit(); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
