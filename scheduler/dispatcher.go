package scheduler

import (
	"context"
	"time"

	"github.com/perkey/perkey/actor"
	"github.com/perkey/perkey/mailbox"
)

// dispatcher is the state only the dispatcher goroutine touches: the actors
// (inside each task), the Pending jobs in slot order, the jobs handed to
// the workers, the MaxWait deadlines, and what it needs to know to stop.
type dispatcher struct {
	ready       mailbox.Queue[*job] // Pending, in the order their keys became free
	inflight    mailbox.Queue[*job] // in the ring or running
	outstanding int                 // routed jobs not yet final
	closing     bool                // Close was called
	aborted     bool                // Close gave up waiting
	free        []*actor.Actor[*job]
	expiry      expiry
}

// maxFreeActors bounds the dispatcher's pool of idle actors kept for reuse.
const maxFreeActors = 1024

func (d *dispatcher) init() { d.expiry.init() }

// dispatch is the dispatcher goroutine. It takes the inbox in batches,
// handles every message in arrival order, moves Pending jobs into the ring
// and starts workers for them. It exits after Close once nothing is
// outstanding, sealing the inbox so that nothing can arrive after, and
// joins every worker.
func (s *Scheduler) dispatch() {
	defer close(s.stopped)
	defer s.cancelRun()
	for {
		list := s.inbox.take()
		for n := list; n != nil; {
			next := n.next // n may be pushed again once handled
			s.handle(n)
			n = next
		}
		if list != nil {
			s.checkExpiry()
		}
		s.refill()
		s.startWorkers()
		if list != nil {
			continue
		}
		if s.d.closing && s.d.outstanding == 0 && s.inbox.seal() {
			break
		}
		if !s.inbox.idle() {
			continue
		}
		select {
		case <-s.inbox.wake:
		case <-s.d.expiry.timer.C:
			s.inbox.sleeping.Store(false)
			s.expireDue()
		}
	}
	s.d.expiry.stop()
	s.wg.Wait()
}

func (s *Scheduler) handle(n *msgNode) {
	d := &s.d
	j := n.j
	switch n.kind {
	case msgSubmit:
		s.route(j)
	case msgDone:
		d.outstanding--
		d.inflight.Remove(&j.node)
		if a := j.actor; a != nil {
			a.Done()
			s.advance(j.task, j.key, a)
			j.closeDone()
		}
	case msgCancel:
		s.endWaiting(j, Canceled, canceled(context.Cause(j.submitCtx())))
	case msgDeduped:
		if l := s.listeners.Load(); l != nil {
			l.call(s, j.event(j.loadState(), nil, time.Now(), true))
		}
	case msgClose:
		d.closing = true
	case msgAbort:
		// Waiting work first, so that no worker freed by the
		// cancellation can start it.
		d.aborted = true
		s.cancelWaiting()
		s.cancelRun()
	case msgAsk:
		s.answer()
	}
}

// route takes a new job to its actor, or straight to Pending when its task
// has no Running scope.
func (s *Scheduler) route(j *job) {
	c := j.task
	s.d.outstanding++
	s.emitAt(j, Queued, nil, j.submittedAt())
	if j.early || s.d.aborted {
		cause := ErrClosed
		if j.early {
			cause = context.Cause(j.submitCtx())
		}
		s.d.outstanding--
		s.finish(j, Queued, Canceled, canceled(cause))
		j.closeDone()
		return
	}
	if c.maxWait > 0 {
		s.d.expiry.add(j.submittedAt().Add(c.maxWait), j)
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
		s.finish(j, Queued, Dropped, ErrDropped)
		j.closeDone()
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

// makePending moves j from Queued to Pending, at the back of the slot
// queue.
func (s *Scheduler) makePending(j *job) {
	s.stats.promoted.Add(1)
	j.state.Store(uint32(Pending))
	s.emit(j, Pending, nil)
	s.d.ready.Push(&j.node)
}

// refill moves Pending jobs from the head of the ready list into the ring,
// as far as it has room.
func (s *Scheduler) refill() {
	d := &s.d
	for room := ringSize - s.ring.len(); room > 0; room-- {
		n := d.ready.Pop()
		if n == nil {
			return
		}
		d.inflight.Push(n)
		s.ring.put(n.Value)
	}
}

// endWaiting ends a job that has not started, if it still has not: it
// leaves its actor's mailbox, the ready list or the ring, and its key moves
// on.
func (s *Scheduler) endWaiting(j *job, st State, err error) {
	d := &s.d
	switch j.loadState() {
	case Queued:
		a := j.actor
		if a == nil {
			// Its ctx ended before its submission arrived: route ends
			// it, once the submission (and so its ctx hook) is complete.
			j.early = true
			return
		}
		a.Remove(&j.node)
		d.outstanding--
		s.finish(j, Queued, st, err)
		s.advance(j.task, j.key, a)
		j.closeDone()
	case Pending:
		if !d.ready.Remove(&j.node) {
			// In the ring: a worker may be taking it right now.
			if !j.state.CompareAndSwap(uint32(Pending), uint32(st)) {
				return
			}
			d.inflight.Remove(&j.node)
		}
		d.outstanding--
		s.finish(j, Pending, st, err)
		if a := j.actor; a != nil {
			a.Done()
			s.advance(j.task, j.key, a)
		}
		j.closeDone()
	}
}

// cancelWaiting ends Canceled every job that has not started, for Close:
// first the queued ones, so that no key promotes more work, then the
// pending ones.
func (s *Scheduler) cancelWaiting() {
	d := &s.d
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
				d.outstanding--
				s.finish(n.Value, Queued, Canceled, err)
				n.Value.closeDone()
			}
		}
	}
	var pending []*job
	for n := range d.ready.All() {
		pending = append(pending, n.Value)
	}
	for n := range d.inflight.All() {
		if n.Value.loadState() == Pending {
			pending = append(pending, n.Value)
		}
	}
	for _, j := range pending {
		s.endWaiting(j, Canceled, err)
	}
	// Keys with nothing running are idle now: let them go.
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
