package invtrack

import (
	"sync"
	"sync/atomic"
)

// TaskSet maps task names to what a hook keeps for each. Reads, one per
// event, take no lock: the map is copied on write, and a write happens
// once per task. The zero value is an empty set, ready to use.
type TaskSet[T any] struct {
	m  atomic.Pointer[map[string]*T]
	mu sync.Mutex // serialises writers
}

// Get returns what is kept for task name, made with create the first time.
func (ts *TaskSet[T]) Get(name string, create func(name string) *T) *T {
	if m := ts.m.Load(); m != nil {
		if t, ok := (*m)[name]; ok {
			return t
		}
	}
	return ts.Update(name, create, nil)
}

// Update returns what is kept for task name, made with create if it is not
// there yet, and calls change on it (when not nil) under the writers'
// lock.
func (ts *TaskSet[T]) Update(name string, create func(name string) *T, change func(*T)) *T {
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
	next := create(name)
	if change != nil {
		change(next)
	}
	m := map[string]*T{name: next}
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	ts.m.Store(&m)
	return next
}

// All returns every task seen so far; the map must not be changed.
func (ts *TaskSet[T]) All() map[string]*T {
	if m := ts.m.Load(); m != nil {
		return *m
	}
	return nil
}
