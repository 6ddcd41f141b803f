package bench

import (
	"sync"

	"k8s.io/client-go/util/workqueue"
)

// workqueueRunner is client-go's workqueue as a controller uses it: the
// items are keys, and parallelism workers Get a key, process it and call
// Done. A key is never processed by two workers at once, which is the
// per-key guarantee. The queue collapses an Add of a key that is already
// queued, so the calls themselves wait in a FIFO per key beside it, in a
// map under a mutex: a worker runs ONE call of the key it got, and Adds
// the key again if more wait. The FIFO of an idle key is deleted.
type workqueueRunner struct {
	q    *workqueue.Typed[string]
	work func(call)
	wg   sync.WaitGroup

	mu      sync.Mutex
	pending map[string][]call
}

func newWorkqueue(work func(call)) (runner, error) {
	r := &workqueueRunner{
		q:       workqueue.NewTyped[string](),
		work:    work,
		pending: make(map[string][]call),
	}
	for range parallelism {
		r.wg.Go(r.worker)
	}
	return r, nil
}

func (r *workqueueRunner) submit(c call) error {
	r.mu.Lock()
	r.pending[c.key] = append(r.pending[c.key], c)
	r.mu.Unlock()
	r.q.Add(c.key)
	return nil
}

// worker processes keys until the queue shuts down.
func (r *workqueueRunner) worker() {
	for {
		key, shutdown := r.q.Get()
		if shutdown {
			return
		}
		r.mu.Lock()
		calls := r.pending[key]
		if len(calls) == 0 { // its calls were taken by earlier turns
			r.mu.Unlock()
			r.q.Done(key)
			continue
		}
		c := calls[0]
		calls[0] = call{}
		more := len(calls) > 1
		if more {
			r.pending[key] = calls[1:]
		} else {
			delete(r.pending, key)
		}
		r.mu.Unlock()

		r.work(c)
		r.q.Done(key)
		if more {
			// Calls submitted before this turn started had their Add
			// collapsed into it: ask for another turn. (A call submitted
			// during the turn made the queue mark the key dirty, and Done
			// queued it again already; this Add then collapses.)
			r.q.Add(key)
		}
	}
}

func (r *workqueueRunner) settle() error { return nil }

func (r *workqueueRunner) close() error {
	r.q.ShutDown()
	r.wg.Wait()
	return nil
}
