package bench

import (
	"sync"

	"golang.org/x/sync/errgroup"
)

// keyedMutexRunner is the "lock service in-process": a mutex per key, found
// in a map under a mutex, taken inside each errgroup goroutine. The map
// keeps every key's mutex forever. A goroutine waiting for its key's mutex
// holds one of the parallelism places meanwhile.
type keyedMutexRunner struct {
	g     errgroup.Group
	work  func(call)
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func newKeyedMutex(work func(call)) (runner, error) {
	r := &keyedMutexRunner{work: work, locks: make(map[string]*sync.Mutex)}
	r.g.SetLimit(parallelism)
	return r, nil
}

// lock returns key's mutex, creating it on first use.
func (r *keyedMutexRunner) lock(key string) *sync.Mutex {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.locks[key]
	if !ok {
		m = new(sync.Mutex)
		r.locks[key] = m
	}
	return m
}

func (r *keyedMutexRunner) submit(c call) error {
	r.g.Go(func() error {
		m := r.lock(c.key)
		m.Lock()
		defer m.Unlock()
		r.work(c)
		return nil
	})
	return nil
}

func (r *keyedMutexRunner) settle() error { return nil }

func (r *keyedMutexRunner) close() error { return r.g.Wait() }
