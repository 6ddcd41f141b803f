package scheduler

import "sync/atomic"

// Stats is a snapshot of a scheduler's counters and gauges. Each field is
// read atomically, but not all at the same instant: while work is moving,
// the fields may disagree by the few invocations in transit. Once the
// scheduler is idle they add up:
//
//	Submitted = Deduped + Succeeded + Failed + Dropped + Expired + Canceled
//	            + Queued + Pending + Running
type Stats struct {
	// Counters, since New.
	Submitted uint64 // Submit calls that returned an invocation, deduplicated ones included
	Deduped   uint64 // submissions collapsed into an existing invocation
	Dropped   uint64 // invocations ended Dropped
	Expired   uint64 // invocations ended Expired
	Canceled  uint64 // invocations ended Canceled
	Succeeded uint64 // invocations ended Succeeded
	Failed    uint64 // invocations ended Failed
	// HookPanics counts panics recovered from Config.OnEvent.
	HookPanics uint64

	// Gauges, now.
	Queued  int // invocations Queued
	Pending int // invocations Pending
	Running int // invocations Running
	Actors  int // live per-key actors: keys with work queued or in flight
}

// Stats returns a snapshot of the scheduler's counters and gauges. It is
// cheap, never blocks, and works before and after Close.
func (s *Scheduler) Stats() Stats {
	c := &s.stats
	return Stats{
		Submitted:  c.submitted.Load(),
		Deduped:    c.deduped.Load(),
		Dropped:    c.ended[Dropped-Succeeded].Load(),
		Expired:    c.ended[Expired-Succeeded].Load(),
		Canceled:   c.ended[Canceled-Succeeded].Load(),
		Succeeded:  c.ended[Succeeded-Succeeded].Load(),
		Failed:     c.ended[Failed-Succeeded].Load(),
		HookPanics: c.hookPanics.Load(),
		Queued:     int(c.queued.Load()),
		Pending:    int(c.pending.Load()),
		Running:    int(c.running.Load()),
		Actors:     int(c.actors.Load()),
	}
}

// counters backs Stats.
type counters struct {
	submitted  atomic.Uint64
	deduped    atomic.Uint64
	ended      [Canceled - Succeeded + 1]atomic.Uint64
	hookPanics atomic.Uint64
	queued     atomic.Int64
	pending    atomic.Int64
	running    atomic.Int64
	actors     atomic.Int64
}

// gauge returns the gauge of a non-final state.
func (c *counters) gauge(st State) *atomic.Int64 {
	switch st {
	case Queued:
		return &c.queued
	case Pending:
		return &c.pending
	default:
		return &c.running
	}
}

// move records a job going from one non-final state to the next.
func (c *counters) move(from, to State) {
	c.gauge(from).Add(-1)
	c.gauge(to).Add(1)
}

// end records a job leaving the non-final state from for the final state to.
func (c *counters) end(from, to State) {
	c.gauge(from).Add(-1)
	c.ended[to-Succeeded].Add(1)
}
