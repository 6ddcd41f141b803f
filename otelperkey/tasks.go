package otelperkey

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/perkey/perkey/internal/invtrack"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// taskState is what the instrumentation keeps for one task, made when it
// first sees the task: counters the event hook adds to, read by the
// metrics callback, and the attribute sets of every series, made once.
type taskState struct {
	name      string
	submitted atomic.Int64
	deduped   atomic.Int64
	ended     [len(invtrack.FinalStates)]atomic.Int64
	now       invtrack.Gauges // the invocations followed in each waiting state

	task      metric.MeasurementOption // {task}
	endedAttr [len(invtrack.FinalStates)]metric.MeasurementOption
	nowAttr   [len(invtrack.WaitingStates)]metric.MeasurementOption
	record    []metric.RecordOption // {task}, for the histograms

	// running is set for a task made by NewTask whose Running scope
	// admits one invocation per key at a time: its running invocations by
	// key, so that the task function can learn which invocation it runs.
	running atomic.Pointer[runningSet]
}

func newTaskState(name string) *taskState {
	t := &taskState{name: name}
	task := attribute.String("task", name)
	set := attribute.NewSet(task)
	t.task = metric.WithAttributeSet(set)
	t.record = []metric.RecordOption{metric.WithAttributeSet(set)}
	for i, st := range invtrack.FinalStates {
		t.endedAttr[i] = metric.WithAttributeSet(attribute.NewSet(task, attribute.String("state", invtrack.StateName(st))))
	}
	for i, st := range invtrack.WaitingStates {
		t.nowAttr[i] = metric.WithAttributeSet(attribute.NewSet(task, attribute.String("state", invtrack.StateName(st))))
	}
	return t
}

// runningSet is the running invocations of one task by key, for a task
// that runs at most one per key at a time.
type runningSet struct {
	mu sync.Mutex
	m  map[string]runningInvocation
}

// runningInvocation is what the event hook knows of a running invocation
// that its task function does not.
type runningInvocation struct {
	id        uint64
	submitted time.Time
	started   time.Time
}

func (r *runningSet) put(key string, inv runningInvocation) {
	r.mu.Lock()
	if r.m == nil {
		r.m = make(map[string]runningInvocation)
	}
	r.m[key] = inv
	r.mu.Unlock()
}

func (r *runningSet) get(key string) (runningInvocation, bool) {
	r.mu.Lock()
	inv, ok := r.m[key]
	r.mu.Unlock()
	return inv, ok
}

// remove forgets the invocation id under key, unless another took its
// place.
func (r *runningSet) remove(key string, id uint64) {
	r.mu.Lock()
	if inv, ok := r.m[key]; ok && inv.id == id {
		delete(r.m, key)
		if len(r.m) == 0 {
			r.m = nil // give back what a burst of keys grew
		}
	}
	r.mu.Unlock()
}
