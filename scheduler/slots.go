package scheduler

import "sync/atomic"

// The global cap. A job whose key is free waits, Pending, in the
// dispatcher's ready list, in the order keys became free. The dispatcher
// moves the head of that list into a ring that the workers take from, one
// job at a time. There are never more than MaxParallel workers and a worker
// runs one job at a time, so never more than MaxParallel jobs run: the cap
// is a count of goroutines, held by construction, and slots go to keys in
// FIFO order.
//
// Workers are started when Pending work outnumbers them and exit as soon as
// the ring is empty, so an idle scheduler has no worker goroutines.

// ringSize is how many Pending jobs the workers can take without waiting
// for the dispatcher; the rest stay in its ready list.
const ringSize = 512

// ring is a bounded queue with one producer (the dispatcher) and many
// consumers (the workers). Its indices only grow, so a stale compare-and-
// swap fails instead of taking a recycled slot.
type ring struct {
	head    atomic.Uint64 // next index to take
	_       cacheLinePad  // keep the consumers' index off the producer's line
	tail    atomic.Uint64 // next index to fill
	cleared uint64        // slots below this index hold nil (producer-owned)
	_       cacheLinePad
	slots   [ringSize]atomic.Pointer[job]
	_       cacheLinePad
}

func (r *ring) len() int { return int(r.tail.Load() - r.head.Load()) }

// clear drops the ring's references to jobs already taken, so that they
// can be collected. Only the dispatcher calls it. It clears the slots of
// indices in [tail-ringSize, head): taken, and not reused by a later put
// (the live indices [head, tail) fall in other slots), so a consumer, which
// never reads below head, races with nothing.
func (r *ring) clear() {
	t, h := r.tail.Load(), r.head.Load()
	c := r.cleared
	if t > ringSize {
		c = max(c, t-ringSize)
	}
	for ; c < h; c++ {
		r.slots[c%ringSize].Store(nil)
	}
	r.cleared = h
}

// room returns how many jobs the ring can take now. Only the dispatcher
// calls it, and only consumers change it meanwhile, by making more room.
func (r *ring) room() int { return ringSize - r.len() }

// stage writes j at position i after the tail, unseen until publish; i
// must be below room. Only the dispatcher calls it.
func (r *ring) stage(i int, j *job) {
	r.slots[(r.tail.Load()+uint64(i))%ringSize].Store(j)
}

// publish hands the first n staged jobs to the consumers at once.
func (r *ring) publish(n int) {
	if n > 0 {
		r.tail.Add(uint64(n))
	}
}

// get takes the oldest job, or returns nil if the ring is empty.
func (r *ring) get() *job {
	for {
		h := r.head.Load()
		if h == r.tail.Load() {
			return nil
		}
		j := r.slots[h%ringSize].Load()
		if r.head.CompareAndSwap(h, h+1) {
			return j
		}
	}
}

// workers counts the worker goroutines; it never exceeds max.
type workers struct {
	live   atomic.Int64
	shards atomic.Uint32 // hands each new worker its shard of the counters
	_      cacheLinePad
	max    int64
}

// reserve counts one more worker if that keeps the count within want (and
// max) and reports whether it did.
func (w *workers) reserve(want int64) bool {
	want = min(want, w.max)
	for {
		n := w.live.Load()
		if n >= want {
			return false
		}
		if w.live.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// startWorkers starts workers until there are as many as the jobs that may
// need one (those in the ring and those running), within the cap.
func (s *Scheduler) startWorkers() {
	want := int64(s.d.handed)
	for s.workers.reserve(want) {
		s.wg.Add(1)
		go s.work(s.workerShard())
	}
}

// workerShard returns the shard of the counters for a new worker: worker
// goroutines take them in turn, so that the few running at once rarely
// share one.
func (s *Scheduler) workerShard() *workerCounts {
	return &s.stats.work[s.workers.shards.Add(1)%workerShards]
}

// retire is called by a worker that found the ring empty. It returns true
// if the worker should exit, false if work arrived meanwhile and it stays.
// The dispatcher fills the ring before it counts workers, and a worker
// leaves the count before it looks at the ring, so either the dispatcher
// sees the worker gone and starts another, or the worker sees the job.
func (s *Scheduler) retire() bool {
	s.workers.live.Add(-1)
	if s.ring.len() == 0 {
		return true
	}
	return !s.workers.reserve(s.workers.max)
}
