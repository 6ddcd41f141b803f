package scheduler

import "sync/atomic"

// Stats is a snapshot of a scheduler's counters and gauges. Each field is
// read atomically, but not all at the same instant: while work is moving,
// the gauges may be off by the few invocations in transit. Once the
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
	// Read effects before causes, so that no gauge goes negative: a job is
	// counted as finished only after it was counted as started, and so on.
	var st Stats
	st.Succeeded = c.succeeded.Load()
	st.Failed = c.failed.Load()
	replaced := c.replaced.Load()
	started := c.started.Load()
	st.Dropped = c.dropped.Load()
	st.Expired = c.expired.Load()
	st.Canceled = c.canceled.Load() + replaced
	endedPending := c.endedPending.Load()
	endedQueued := c.endedQueued.Load()
	promoted := c.promoted.Load()
	st.Deduped = c.deduped.Load()
	refused := c.refused.Load() // before submitted: refusals follow numbering
	st.Submitted = c.submitted.Load() - refused
	st.HookPanics = c.hookPanics.Load()
	st.Actors = int(c.actors.Load())

	st.Running = gauge(started, st.Succeeded+st.Failed+replaced)
	st.Pending = gauge(promoted, started+endedPending)
	st.Queued = gauge(st.Submitted, st.Deduped+promoted+endedQueued)
	return st
}

func gauge(in, out uint64) int {
	if in < out {
		return 0
	}
	return int(in - out)
}

// counters backs Stats. They are grouped by who writes them, one cache
// line each, so that the submitters, the dispatcher and the workers do not
// take each other's lines on every invocation. The gauges are derived from
// monotonic counters.
type counters struct {
	// Written by Submit.
	submitted atomic.Uint64 // also numbers the invocations
	refused   atomic.Uint64 // submissions refused after being numbered (Close)
	deduped   atomic.Uint64
	_         [40]byte

	// Written by the dispatcher only.
	promoted     atomic.Uint64 // Queued -> Pending
	endedQueued  atomic.Uint64 // ended from Queued
	endedPending atomic.Uint64 // ended from Pending
	dropped      atomic.Uint64
	expired      atomic.Uint64
	canceled     atomic.Uint64
	actors       atomic.Int64
	_            [8]byte

	// Written by the workers.
	started    atomic.Uint64 // Pending -> Running
	succeeded  atomic.Uint64
	failed     atomic.Uint64
	replaced   atomic.Uint64 // Running -> Canceled
	hookPanics atomic.Uint64
	_          [24]byte
}

// ended counts a job that reached the final state to from the state from.
func (c *counters) ended(from, to State) {
	switch from {
	case Queued:
		c.endedQueued.Add(1)
	case Pending:
		c.endedPending.Add(1)
	}
	switch {
	case from == Running && to == Canceled:
		c.replaced.Add(1)
		return
	}
	switch to {
	case Succeeded:
		c.succeeded.Add(1)
	case Failed:
		c.failed.Add(1)
	case Dropped:
		c.dropped.Add(1)
	case Expired:
		c.expired.Add(1)
	case Canceled:
		c.canceled.Add(1)
	}
}
