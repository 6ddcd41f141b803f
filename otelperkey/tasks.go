package otelperkey

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/perkey/perkey/scheduler"
)

// finalStates are the values of the state attribute of
// perkey_invocations_total, in the order of taskState.ended.
var finalStates = [...]scheduler.State{
	scheduler.Succeeded, scheduler.Failed, scheduler.Dropped, scheduler.Expired, scheduler.Canceled,
}

// waitingStates are the values of the state attribute of
// perkey_invocations, in the order of taskState.now.
var waitingStates = [...]scheduler.State{scheduler.Queued, scheduler.Pending, scheduler.Running}

// stateName returns the attribute value of a state: its name in lower
// case, such as "succeeded".
func stateName(st scheduler.State) string { return strings.ToLower(st.String()) }

// indexOf returns the index of st in states.
func indexOf(states []scheduler.State, st scheduler.State) (int, bool) {
	for i, s := range states {
		if s == st {
			return i, true
		}
	}
	return 0, false
}

// taskState is what the instrumentation keeps for one task, made when it
// first sees the task: counters the event hook adds to, read by the
// metrics callback, and the attribute sets of every series, made once.
type taskState struct {
	name      string
	submitted atomic.Int64
	deduped   atomic.Int64
	ended     [len(finalStates)]atomic.Int64
	// now counts the invocations followed in each of waitingStates; it is
	// raised before it is lowered for any one invocation. Each has a cache
	// line of its own: the dispatcher moves invocations into Queued and
	// Pending, the workers into Running.
	now [len(waitingStates)]paddedInt64

	task      metric.MeasurementOption // {task}
	endedAttr [len(finalStates)]metric.MeasurementOption
	nowAttr   [len(waitingStates)]metric.MeasurementOption
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
	for i, st := range finalStates {
		t.endedAttr[i] = metric.WithAttributeSet(attribute.NewSet(task, attribute.String("state", stateName(st))))
	}
	for i, st := range waitingStates {
		t.nowAttr[i] = metric.WithAttributeSet(attribute.NewSet(task, attribute.String("state", stateName(st))))
	}
	return t
}

// leave lowers the gauge of the state an invocation of t left.
func (t *taskState) leave(st scheduler.State) {
	if i, ok := indexOf(waitingStates[:], st); ok {
		t.now[i].Add(-1)
	}
}

// paddedInt64 is an atomic counter alone on its cache line.
type paddedInt64 struct {
	atomic.Int64
	_ [56]byte
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

// taskSet maps task names to their state. Reads, one per event, take no
// lock: the map is copied on write, once per task.
type taskSet struct {
	m  atomic.Pointer[map[string]*taskState]
	mu sync.Mutex // serialises writers
}

// get returns the state of task name, making it the first time.
func (ts *taskSet) get(name string) *taskState {
	if m := ts.m.Load(); m != nil {
		if t, ok := (*m)[name]; ok {
			return t
		}
	}
	return ts.update(name, nil)
}

// update returns the state of task name, making it if needed, and applies
// change to it under the writers' lock.
func (ts *taskSet) update(name string, change func(*taskState)) *taskState {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	old := ts.m.Load()
	if old != nil {
		if t, ok := (*old)[name]; ok {
			if change != nil {
				change(t)
			}
			return t
		}
	}
	next := make(map[string]*taskState, 1)
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	t := newTaskState(name)
	if change != nil {
		change(t)
	}
	next[name] = t
	ts.m.Store(&next)
	return t
}

// all returns the state of every task seen so far.
func (ts *taskSet) all() map[string]*taskState {
	if m := ts.m.Load(); m != nil {
		return *m
	}
	return nil
}
