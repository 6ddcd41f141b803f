package postgres

import (
	"sync"
)

// waiters are the Done channels of invocations that someone in this
// process waits for, closed when the invocation is final: on a done
// notification, on a completion written here, or when the keeper's poll
// finds it final.
type waiters struct {
	mu     sync.Mutex
	m      map[uint64]chan struct{}
	fresh  []uint64 // added since the last check
	closed bool
}

func (w *waiters) init() { w.m = make(map[uint64]chan struct{}) }

// Done implements scheduler.Backend. The channel is closed once the
// invocation is final, or once the backend is closed.
func (b *Backend) Done(id uint64) <-chan struct{} {
	ch, fresh := b.waiters.add(id)
	if fresh {
		wake(b.wakeKeep) // it may be final already: check now
	}
	return ch
}

func (w *waiters) add(id uint64) (ch chan struct{}, fresh bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.m[id]; ok {
		return ch, false
	}
	ch = make(chan struct{})
	if w.closed {
		close(ch)
		return ch, false
	}
	w.m[id] = ch
	w.fresh = append(w.fresh, id)
	return ch, true
}

// finish closes the channels of ids.
func (w *waiters) finish(ids []uint64) {
	if len(ids) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		if ch, ok := w.m[id]; ok {
			close(ch)
			delete(w.m, id)
		}
	}
}

// ids returns the invocations waited for: all of them, or only those added
// since the last call.
func (w *waiters) ids(all bool) []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []int64
	if all {
		ids = make([]int64, 0, len(w.m))
		for id := range w.m {
			ids = append(ids, int64(id))
		}
	} else {
		for _, id := range w.fresh {
			if _, ok := w.m[id]; ok {
				ids = append(ids, int64(id))
			}
		}
	}
	w.fresh = w.fresh[:0]
	return ids
}

// closeAll releases every waiter, for Close; later Done calls get a
// closed channel.
func (w *waiters) closeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, ch := range w.m {
		close(ch)
		delete(w.m, id)
	}
	w.closed = true
}
