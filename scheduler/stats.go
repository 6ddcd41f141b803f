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
	// HookPanics counts panics recovered from event hooks (Config.OnEvent
	// and Subscribe).
	HookPanics uint64

	// Gauges, now.
	Queued  int // invocations Queued
	Pending int // invocations Pending
	Running int // invocations Running
	Actors  int // live per-key actors: keys with work queued or in flight, and rated keys whose limiter is still refilling
}

// Stats returns a snapshot of the scheduler's counters and gauges. It is
// cheap, never blocks, and works before and after Close (and on a nil
// Scheduler: all zero). With a Backend, the backend says which figures are
// this process's and which the cluster's (see Backend.Stats), and the
// identity above holds only for the whole cluster.
func (s *Scheduler) Stats() Stats {
	if s == nil {
		return Stats{}
	}
	if s.backend != nil {
		return s.statsRemote()
	}
	c := &s.stats
	// Read effects before causes, so that no gauge goes negative: a job is
	// counted as finished only after it was counted as started, and so on.
	var st Stats
	st.Succeeded = c.sum(func(w *workerCounts) *atomic.Uint64 { return &w.succeeded })
	st.Failed = c.sum(func(w *workerCounts) *atomic.Uint64 { return &w.failed })
	replaced := c.sum(func(w *workerCounts) *atomic.Uint64 { return &w.replaced })
	started := c.sum(func(w *workerCounts) *atomic.Uint64 { return &w.started })
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
// take each other's lines on every invocation; the workers' counters are
// spread over shards by job ID, so that two workers rarely share a line.
// The gauges are derived from monotonic counters.
type counters struct {
	// Written by Submit.
	submitted  atomic.Uint64 // also numbers the invocations
	refused    atomic.Uint64 // submissions refused after being numbered (Close)
	deduped    atomic.Uint64
	hookPanics atomic.Uint64 // rare: written by whoever called the hook
	_          cacheLinePad

	// Written by the dispatcher only.
	promoted     atomic.Uint64 // Queued -> Pending
	endedQueued  atomic.Uint64 // ended from Queued
	endedPending atomic.Uint64 // ended from Pending
	dropped      atomic.Uint64
	expired      atomic.Uint64
	canceled     atomic.Uint64
	actors       atomic.Int64
	_            cacheLinePad

	work [workerShards]workerCounts
}

// workerShards is how many shards the workers' counters use; each worker
// writes one.
const workerShards = 8

// workerCounts are the counters the workers write for one shard of jobs.
type workerCounts struct {
	started   atomic.Uint64 // Pending -> Running
	succeeded atomic.Uint64
	failed    atomic.Uint64
	replaced  atomic.Uint64 // Running -> Canceled
	_         cacheLinePad
}

// sum adds up one counter over the shards.
func (c *counters) sum(field func(*workerCounts) *atomic.Uint64) uint64 {
	var n uint64
	for i := range c.work {
		n += field(&c.work[i]).Load()
	}
	return n
}

// ended counts an invocation that was in state from as ended in the state
// to; shard is the counters of the worker that ran it (from Running).
func (c *counters) ended(from, to State, shard *workerCounts) {
	switch from {
	case Queued:
		c.endedQueued.Add(1)
	case Pending:
		c.endedPending.Add(1)
	}
	switch {
	case from == Running && to == Canceled:
		shard.replaced.Add(1)
	case to == Succeeded:
		shard.succeeded.Add(1)
	case to == Failed:
		shard.failed.Add(1)
	case to == Dropped:
		c.dropped.Add(1)
	case to == Expired:
		c.expired.Add(1)
	case to == Canceled:
		c.canceled.Add(1)
	}
}
