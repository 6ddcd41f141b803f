package scheduler

import (
	"context"
	"slices"
	"time"

	"github.com/perkey/perkey/actor"
)

// msg is a message to the dispatcher.
type msg struct {
	kind msgKind
	j    *job
}

type msgKind uint8

const (
	msgSubmit  msgKind = iota // a new job to route
	msgDone                   // a worker finished running j
	msgCancel                 // j's Submit ctx ended
	msgDeduped                // a submission collapsed into j (events only)
	msgClose                  // Close was called: drain, then stop
	msgAbort                  // Close's ctx ended: cancel what waits
)

// dispatcher is the state only the dispatcher goroutine touches: the actors
// (inside each task), the jobs it has made Pending since the last flush,
// the MaxWait deadlines, and what it needs to know when to stop.
type dispatcher struct {
	ready       []*job // made Pending, to push onto the run queue
	outstanding int    // routed jobs not yet final
	closing     bool   // Close was called
	aborted     bool   // Close gave up waiting
	free        []*actor.Actor[*job]
	expiry      expiry
}

// maxFreeActors bounds the dispatcher's pool of idle actors kept for reuse.
const maxFreeActors = 1024

// maxKeptBatch bounds the inbox buffer kept between batches, so that one
// burst does not pin its memory.
const maxKeptBatch = 4096

func (d *dispatcher) init() { d.expiry.init() }

// dispatch is the dispatcher goroutine: it takes the inbox in batches,
// handles every message, pushes what became Pending onto the run queue in
// one step, and starts workers for it. It exits after Close once nothing
// is outstanding and every worker has exited.
func (s *Scheduler) dispatch() {
	defer close(s.stopped)
	defer s.cancelRun()
	var batch []msg
	for {
		s.mu.Lock()
		s.sleeping = false
		spawn := s.flushLocked()
		if len(s.inbox) == 0 {
			if s.d.closing && s.d.outstanding == 0 {
				s.mu.Unlock()
				break
			}
			s.sleeping = true
			s.mu.Unlock()
			s.startWorkers(spawn)
			select {
			case <-s.wake:
			case <-s.d.expiry.timer.C:
				s.expireDue()
			}
			continue
		}
		batch, s.inbox = s.inbox, batch[:0]
		s.mu.Unlock()
		s.startWorkers(spawn)

		for i := range batch {
			s.handle(batch[i])
			batch[i] = msg{}
		}
		if cap(batch) > maxKeptBatch {
			batch = nil
		}
		s.checkExpiry()
	}
	s.d.expiry.stop()
	s.wg.Wait()
}

// post sends m to the dispatcher.
func (s *Scheduler) post(m msg) {
	s.mu.Lock()
	wake := s.postLocked(m)
	s.mu.Unlock()
	s.signal(wake)
}

// postLocked appends m to the inbox and reports whether the dispatcher
// must be woken, which the caller does with signal after unlocking.
func (s *Scheduler) postLocked(m msg) bool {
	s.inbox = append(s.inbox, m)
	if s.sleeping {
		s.sleeping = false
		return true
	}
	return false
}

func (s *Scheduler) signal(wake bool) {
	if wake {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *Scheduler) handle(m msg) {
	d := &s.d
	switch m.kind {
	case msgSubmit:
		d.outstanding++
		s.route(m.j)
	case msgDone:
		d.outstanding--
		if a := m.j.actor; a != nil {
			a.Done()
			s.advance(m.j.task, m.j.key, a)
		}
	case msgCancel:
		s.endWaiting(m.j, Canceled, canceled(context.Cause(m.j.ctx)))
	case msgDeduped:
		if s.onEvent != nil {
			s.callHook(Event{Time: time.Now(), Task: m.j.task.name, ID: m.j.id, Key: m.j.key, State: m.j.loadState(), Deduped: true})
		}
	case msgClose:
		d.closing = true
	case msgAbort:
		// Waiting work first, so that no worker freed by the
		// cancellation can start it.
		d.aborted = true
		s.cancelWaiting()
		s.cancelRun()
	}
}

// route takes a new job to its actor, or straight to Pending when its task
// has no Running scope.
func (s *Scheduler) route(j *job) {
	c := j.task
	s.emitAt(j, Queued, nil, j.at)
	if s.d.aborted {
		s.endWaiting(j, Canceled, canceled(ErrClosed))
		return
	}
	if c.maxWait > 0 {
		s.d.expiry.add(j.at.Add(c.maxWait), j)
	}
	if c.running == Disabled {
		s.makePending(j)
		return
	}
	a, ok := c.actors.get(j.key)
	if !ok {
		a = s.newActor()
		c.actors.put(j.key, a)
	}
	if c.onBusy == Drop && a.Busy() {
		s.d.outstanding--
		s.finish(j, Dropped, ErrDropped)
		return
	}
	j.actor = a
	a.Enqueue(&j.node)
	s.advance(c, j.key, a)
}

// advance makes Pending whatever a's key may start now, and forgets a once
// it is idle.
func (s *Scheduler) advance(c *taskCore, key string, a *actor.Actor[*job]) {
	for n := a.Next(); n != nil; n = a.Next() {
		s.makePending(n.Value)
	}
	if a.Idle() {
		c.actors.delete(key)
		s.stats.actors.Add(-1)
		if len(s.d.free) < maxFreeActors {
			s.d.free = append(s.d.free, a)
		}
	}
}

func (s *Scheduler) newActor() *actor.Actor[*job] {
	s.stats.actors.Add(1)
	if n := len(s.d.free); n > 0 {
		a := s.d.free[n-1]
		s.d.free = s.d.free[:n-1]
		return a
	}
	return actor.New[*job](1)
}

// makePending moves j from Queued to Pending; the next flush puts it on the
// run queue.
func (s *Scheduler) makePending(j *job) {
	s.stats.move(Queued, Pending)
	j.state.Store(uint32(Pending))
	s.emit(j, Pending, nil)
	s.d.ready = append(s.d.ready, j)
}

// flushLocked pushes the jobs made Pending onto the run queue, in order,
// skipping those that ended since, and returns how many workers to start.
func (s *Scheduler) flushLocked() int {
	for i, j := range s.d.ready {
		if j.loadState() == Pending {
			s.runq.Push(&j.node)
		}
		s.d.ready[i] = nil
	}
	s.d.ready = s.d.ready[:0]
	if cap(s.d.ready) > maxKeptBatch {
		s.d.ready = nil
	}
	return s.spawnLocked()
}

// endWaiting ends a job that has not started, if it still has not: it
// leaves its actor's mailbox or the run queue, and its key moves on.
func (s *Scheduler) endWaiting(j *job, st State, err error) {
	switch j.loadState() {
	case Queued:
		if a := j.actor; a != nil {
			a.Remove(&j.node)
			s.d.outstanding--
			s.finish(j, st, err)
			s.advance(j.task, j.key, a)
			return
		}
	case Pending:
		s.mu.Lock()
		still := j.loadState() == Pending
		if still {
			s.runq.Remove(&j.node) // false if it is still in d.ready
		}
		s.mu.Unlock()
		if !still {
			return
		}
		s.d.outstanding--
		s.finish(j, st, err)
		if a := j.actor; a != nil {
			a.Done()
			s.advance(j.task, j.key, a)
		}
		return
	default:
		return // started or already final
	}
	// Queued without an actor: not routed yet (only route aborts such a job).
	s.d.outstanding--
	s.finish(j, st, err)
}

// cancelWaiting ends Canceled every job that has not started, for Close:
// first the queued ones, so that no key promotes more work, then the
// pending ones.
func (s *Scheduler) cancelWaiting() {
	err := canceled(ErrClosed)
	s.tasksMu.Lock()
	tasks := make([]*taskCore, 0, len(s.tasks))
	for _, c := range s.tasks {
		tasks = append(tasks, c)
	}
	s.tasksMu.Unlock()
	for _, c := range tasks {
		for _, a := range c.actors.m {
			for n := a.Pop(); n != nil; n = a.Pop() {
				s.d.outstanding--
				s.finish(n.Value, Canceled, err)
			}
		}
	}

	s.mu.Lock()
	pending := slices.Clone(s.d.ready) // flush skips them once final
	for n := s.runq.Pop(); n != nil; n = s.runq.Pop() {
		pending = append(pending, n.Value)
	}
	s.mu.Unlock()
	for _, j := range pending {
		s.endWaiting(j, Canceled, err)
	}
	// Actors with nothing running are idle now; let them go.
	for _, c := range tasks {
		var idle []string
		for key, a := range c.actors.m {
			if a.Idle() {
				idle = append(idle, key)
			}
		}
		for _, key := range idle {
			a, _ := c.actors.get(key)
			s.advance(c, key, a)
		}
	}
}
