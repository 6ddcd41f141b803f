package promperkey

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perkey/perkey/scheduler"
)

// finalStates are the values of the state label of
// perkey_invocations_total, in the order of taskMetrics.ended.
var finalStates = [...]scheduler.State{
	scheduler.Succeeded, scheduler.Failed, scheduler.Dropped, scheduler.Expired, scheduler.Canceled,
}

// waitingStates are the values of the state label of perkey_invocations,
// in the order of taskMetrics.now.
var waitingStates = [...]scheduler.State{scheduler.Queued, scheduler.Pending, scheduler.Running}

// stateLabel returns the label value of a state: its name in lower case.
func stateLabel(st scheduler.State) string {
	switch st {
	case scheduler.Queued:
		return "queued"
	case scheduler.Pending:
		return "pending"
	case scheduler.Running:
		return "running"
	case scheduler.Succeeded:
		return "succeeded"
	case scheduler.Failed:
		return "failed"
	case scheduler.Dropped:
		return "dropped"
	case scheduler.Expired:
		return "expired"
	case scheduler.Canceled:
		return "canceled"
	}
	return st.String()
}

// taskMetrics are the series of one task, made once, when the collector
// first sees the task: the hook then only adds to counters and observes
// histograms, without looking up labels.
type taskMetrics struct {
	name      string
	submitted prometheus.Counter
	deduped   prometheus.Counter
	ended     [len(finalStates)]prometheus.Counter
	wait, run prometheus.Observer
	// now counts the invocations followed in each of waitingStates. A
	// count is raised before it is lowered for any one invocation (its
	// events come in order), so it never goes below zero. Each has a
	// cache line of its own: the dispatcher moves invocations into
	// Queued and Pending, the workers into Running.
	now [len(waitingStates)]paddedInt64
}

// paddedInt64 is an atomic counter alone on its cache line.
type paddedInt64 struct {
	atomic.Int64
	_ [56]byte
}

// leave lowers the gauge of the state an invocation of t left.
func (t *taskMetrics) leave(st scheduler.State) {
	if i, ok := nowIndex(st); ok {
		t.now[i].Add(-1)
	}
}

// endedIndex returns the index of a final state in finalStates.
func endedIndex(st scheduler.State) (int, bool) {
	for i, f := range finalStates {
		if f == st {
			return i, true
		}
	}
	return 0, false
}

// nowIndex returns the index of a waiting or running state in
// waitingStates.
func nowIndex(st scheduler.State) (int, bool) {
	for i, w := range waitingStates {
		if w == st {
			return i, true
		}
	}
	return 0, false
}

// taskSet maps task names to their metrics. Reads, one per event, take no
// lock: the map is copied on write, and a write happens once per task.
type taskSet struct {
	m  atomic.Pointer[map[string]*taskMetrics]
	mu sync.Mutex // serialises writers
}

// get returns the metrics of task name, making them with mk the first
// time.
func (ts *taskSet) get(name string, mk func(string) *taskMetrics) *taskMetrics {
	if m := ts.m.Load(); m != nil {
		if t, ok := (*m)[name]; ok {
			return t
		}
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	old := ts.m.Load()
	if old != nil {
		if t, ok := (*old)[name]; ok {
			return t
		}
	}
	next := make(map[string]*taskMetrics, 1)
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	t := mk(name)
	next[name] = t
	ts.m.Store(&next)
	return t
}

// all returns the metrics of every task seen so far.
func (ts *taskSet) all() map[string]*taskMetrics {
	if m := ts.m.Load(); m != nil {
		return *m
	}
	return nil
}
