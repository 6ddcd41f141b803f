package bench

import "sync"

// actorMailbox is how many calls a naive actor's channel buffers before
// submit blocks.
const actorMailbox = 8

// naiveActorRunner gives every key, on first use, its own goroutine reading
// a buffered channel, and never reclaims either: the actor model done the
// obvious way. A channel semaphore of parallelism slots caps the calls
// running at once; an actor holds a slot only while its call runs.
type naiveActorRunner struct {
	work func(call)
	sem  chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	actors map[string]chan call
}

func newNaiveActor(work func(call)) (runner, error) {
	return &naiveActorRunner{
		work:   work,
		sem:    make(chan struct{}, parallelism),
		actors: make(map[string]chan call),
	}, nil
}

func (r *naiveActorRunner) submit(c call) error {
	r.mu.Lock()
	ch, ok := r.actors[c.key]
	if !ok {
		ch = make(chan call, actorMailbox)
		r.actors[c.key] = ch
		r.wg.Go(func() { r.actor(ch) })
	}
	r.mu.Unlock()
	ch <- c
	return nil
}

// actor runs the calls of one key, one at a time, until close.
func (r *naiveActorRunner) actor(ch <-chan call) {
	for c := range ch {
		r.sem <- struct{}{}
		r.work(c)
		<-r.sem
	}
}

func (r *naiveActorRunner) settle() error { return nil }

func (r *naiveActorRunner) close() error {
	r.mu.Lock()
	for key, ch := range r.actors {
		close(ch)
		delete(r.actors, key)
	}
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}
