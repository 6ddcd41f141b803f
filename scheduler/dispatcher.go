package scheduler

import (
	"context"
	"runtime"
	"slices"
	"time"

	"github.com/perkey/perkey/mailbox"
)

// dispatcher is the state only the dispatcher goroutine touches: the actors
// (in each keyspace), the Pending jobs in slot order, the jobs handed to
// the workers, the timers, and what it needs to know to stop.
type dispatcher struct {
	// ready holds the Pending jobs not yet in the ring, in the order their
	// keys became free. A job that ends meanwhile stays until refill skips
	// it, or until the ended ones outnumber the rest and are swept out.
	ready       fifo[job]
	readyDead   int                 // ended jobs still in ready
	handed      int                 // jobs handed to the workers: in the ring or running
	loose       mailbox.Queue[*job] // the handed jobs that have no actor (Running=Disabled)
	outstanding int                 // routed jobs not yet final
	closing     bool                // Close was called
	aborted     bool                // Close gave up waiting
	free        []*keyActor
	catchingUp  bool                  // handling what came before the reports marked:
	sentTo      uint64                // the sent messages up to this ticket
	sentTakes   uint64                // and overflow lists
	reportsTo   uint64                // then the reports up to this ticket
	reportTakes uint64                // and overflow lists
	handled     uint64                // messages handled, to refill the ring during long runs
	filling     []*jobPool            // the pools whose batch the dispatcher is filling
	batch       *msgNode              // the rest of a batch of submissions being routed
	events      []Event               // events to deliver after the message being handled
	sent        int                   // how many of events are delivered
	toClose     []*job                // jobs whose Done to close after those events
	heldNotes   map[*job][]dedupeNote // dedupe notes of invocations not routed yet: see reportDedupes
	peakActors  int                   // the most live actors since the last tidy
	tidyAt      time.Time             // the tidy timer is set for then; zero if not
	timers      timers
}

// refillEvery is how many messages the dispatcher handles before it feeds
// the workers again, within one long batch.
const refillEvery = 256

// keptFreeActors is how many forgotten actors the dispatcher keeps for
// reuse at least. It keeps up to as many as were live at once since the
// last tidy, so that a stream of new keys does not allocate one actor per
// key.
const keptFreeActors = 1024

// tidyEvery is how often, at most, the dispatcher gives back memory that a
// burst of keys left behind: the space of the key maps and the actors kept
// for reuse. Memory follows the keys active within about two periods.
const tidyEvery = time.Second

// dispatcherSpins is how many times the dispatcher yields, looking for
// messages, before it sleeps: waking a sleeping goroutine costs more than
// a few yields, and under load the next message is usually on its way.
const dispatcherSpins = 8

func (d *dispatcher) init() { d.timers.init() }

// dispatch is the dispatcher goroutine. It takes the inbox in batches,
// handles every message in arrival order, moves Pending jobs into the ring
// and starts workers for them. It exits after Close once nothing is
// outstanding, sealing the inbox so that nothing can arrive after, and
// joins every worker.
//
// It calls event hooks only between messages, when its state is whole.
// A hook that calls runtime.Goexit (t.FailNow does) ends this goroutine
// there; another takes over where it stopped, and nothing is lost.
func (s *Scheduler) dispatch() {
	stopped := false
	defer func() {
		if !stopped {
			s.log.Error("scheduler: an event hook called runtime.Goexit on the dispatcher; restarting it")
			go s.dispatch()
		}
	}()
	// What a hook that stopped the previous goroutine left: its events, and
	// the deadlines its last message may have added.
	s.flushEvents()
	s.checkTimers()
	s.loop()
	s.d.timers.stop()
	// What is left are idle actors whose limiters were refilling: with the
	// scheduler gone, there is nothing left to remember.
	for _, ks := range s.keyspaces() {
		ks.actors = shrinkMap[string, *keyActor]{}
	}
	s.stats.actors.Store(0)
	s.wg.Wait()
	s.cancelRun()
	stopped = true
	close(s.stopped)
}

// loop is the dispatcher's work, until it may stop. Its progress lives in
// the inbox and in d, so that a dispatcher restarted after a hook's
// Goexit goes on from there.
//
// Messages from outside are handled before the workers' reports that came
// after them: a Submit that returns before a key is freed routes its key
// first, so that keys take their turns in the order they became ready.
// (A report cannot come before a Submit that a user orders after it: the
// invocation's Done is closed only once its report is handled.)
func (s *Scheduler) loop() {
	d := &s.d
	ib := &s.inbox
	for {
		s.routeBatch() // what a hook's Goexit interrupted
		took, busy := s.handleSent(maxBatch)
		if !d.catchingUp && !ib.reports.empty() {
			// The reports' mark first: whatever was sent before a report
			// then lies before the sent mark.
			d.reportsTo, d.reportTakes = ib.reports.mark()
			d.sentTo, d.sentTakes = ib.sent.mark()
			d.catchingUp = true
		}
		if d.catchingUp {
			s.handleUpTo(&ib.sent, d.sentTo, d.sentTakes)
			s.handleUpTo(&ib.reports, d.reportsTo, d.reportTakes)
			d.catchingUp = false
			took = true
		}
		if took {
			s.checkTimers()
		}
		s.refill()
		s.startWorkers()
		if took || busy {
			if busy && !took {
				runtime.Gosched() // a sender is between its claim and its write
			}
			continue
		}
		if d.closing && d.outstanding == 0 && ib.seal() {
			return
		}
		if s.spin() {
			continue
		}
		s.ring.clear()
		s.flushPools()
		if !ib.idle() {
			continue
		}
		select {
		case <-ib.wake:
		case <-d.timers.timer.C:
			ib.sleeping.Store(false)
			s.fireTimers()
		}
	}
}

// routeBatch routes the rest of the batch of submissions in d.batch, one
// job at a time, as if each had come in its own message.
func (s *Scheduler) routeBatch() {
	d := &s.d
	for d.batch != nil {
		m := d.batch
		d.batch, m.next = m.next, nil
		s.route(m.j)
		s.flushEvents()
		if d.handled++; d.handled%refillEvery == 0 {
			s.refill()
			s.startWorkers()
		}
	}
}

// handleSent handles up to max messages sent from outside, and reports
// whether it handled any, and whether a sender is about to write the next
// one.
func (s *Scheduler) handleSent(max int) (took, busy bool) {
	q := &s.inbox.sent
	for range max {
		n, claimed := q.get()
		if n == nil {
			return took, claimed
		}
		took = true
		touch(q.peek(prefetchAhead))
		s.handleOne(n)
	}
	return took, false
}

// handleUpTo handles the messages of q up to a mark, waiting for the
// senders that claimed a place before it.
func (s *Scheduler) handleUpTo(q *queue, tail, takes uint64) {
	for !q.reached(tail, takes) {
		n, claimed := q.get()
		if n == nil {
			if claimed {
				runtime.Gosched() // a sender is between its claim and its write
			}
			continue
		}
		touch(q.peek(prefetchAhead))
		s.handleOne(n)
	}
}

// prefetchAhead is how far ahead of the message being handled the
// dispatcher touches the next ones' jobs: their cache lines, written on
// other cores, then travel while it works, several at once, instead of
// one after the other when each is handled.
const prefetchAhead = 8

// touch writes a flag of n's job that only the dispatcher uses, so that
// the processor fetches the job's cache line for writing now.
func touch(n *msgNode) {
	if n != nil && n.j != nil {
		n.j.touched = true
	}
}

// handleOne handles one message, delivers the events it queued, and keeps
// the workers fed during a long run of messages.
func (s *Scheduler) handleOne(n *msgNode) {
	s.handle(n)
	s.flushEvents()
	if s.d.handled++; s.d.handled%refillEvery == 0 {
		s.refill()
		s.startWorkers()
	}
}

// maxBatch is how many ring messages the dispatcher handles before it
// looks at the workers' reports again: keys freed by the workers move on
// while a long burst of submissions is read.
const maxBatch = 1024

func (s *Scheduler) handle(n *msgNode) {
	d := &s.d
	j := n.j
	switch n.kind {
	case msgSubmit:
		s.route(j)
	case msgStarted:
		if a := j.actor; a != nil {
			a.Started(j.x.started)
			s.advance(a)
		}
	case msgDone:
		d.outstanding--
		s.takeBack(j)
		s.dropDeadline(j)
		if a := j.actor; a != nil {
			a.Done()
			a.drop(j)
			if j.replaced {
				a.replacing--
			}
			s.advance(a)
			if !j.pooled {
				s.closeLater(j)
			}
		}
		if j.pooled {
			s.recycle(j)
		}
	case msgCancel:
		s.endWaiting(j, Canceled, canceled(context.Cause(j.submitCtx())))
	case msgDeduped:
		s.reportDedupes()
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
	case msgBatch:
		d.batch = &j.msg
		s.routeBatch()
	}
}

// route takes a new job to its actor, or straight to Pending when its task
// has no Running scope.
func (s *Scheduler) route(j *job) {
	c := j.task
	s.d.outstanding++
	j.routed = true
	s.queueEvent(j, Queued, nil, j.submittedAt())
	if notes, ok := s.d.heldNotes[j]; ok {
		delete(s.d.heldNotes, j)
		if len(s.d.heldNotes) == 0 {
			s.d.heldNotes = nil // a map keeps its size: let a burst's go
		}
		s.queueDedupes(notes)
	}
	if j.early || s.d.aborted {
		cause := ErrClosed
		if j.early {
			cause = context.Cause(j.submitCtx())
		}
		s.endUnrouted(j, Canceled, canceled(cause))
		return
	}
	if c.maxWait > 0 {
		s.expireAfter(j, j.submittedAt().Add(c.maxWait))
	}
	if c.ks == nil {
		s.makePending(j)
		return
	}
	a := s.actorFor(c.ks, j.key)
	var now time.Time
	if a.Rated() {
		now = s.now()
	}
	switch c.onBusy {
	case Drop:
		if !a.Room(now) {
			// The key's Limit is taken by the work it holds (in flight,
			// or queued ahead and counted as it will run), or its rate
			// has no token left for this one.
			j.actor = a
			s.endUnrouted(j, Dropped, ErrDropped)
			s.advance(a) // an idle key is forgotten
			return
		}
	case Replace:
		s.routeReplace(j, a)
		return
	}
	j.actor = a
	if a.Offer(&j.node, now) {
		a.take(j)
		s.makePending(j)
	} else {
		s.advance(a) // sets the rate timer if the rate held it back
	}
}

// routeReplace routes j, of an OnBusy=Replace task, to a: the task's
// waiting invocations for the key end, its running ones are cancelled,
// and j waits until those have returned.
func (s *Scheduler) routeReplace(j *job, a *keyActor) {
	s.replace(a, j.task)
	if !a.live { // it went idle and was forgotten
		a = s.actorFor(j.task.ks, j.key)
	}
	j.actor = a
	if !a.holdsFor(j.task) {
		var now time.Time
		if a.Rated() {
			now = s.now()
		}
		if a.Offer(&j.node, now) {
			a.take(j)
			s.makePending(j)
			return
		}
	} else {
		a.Enqueue(&j.node)
	}
	a.replaceQueued = append(a.replaceQueued, j)
	s.advance(a)
}

// endUnrouted ends a job that never reached an actor's mailbox.
func (s *Scheduler) endUnrouted(j *job, st State, err error) {
	s.d.outstanding--
	s.end(j, Queued, st, err)
	s.closeLater(j)
}

// replace makes room for a new invocation of the OnBusy=Replace task c on
// a: c's waiting invocation ends Canceled (there is at most one: each
// submission ends the one before), its running ones are cancelled and
// counted in a.replacing until they return. Its cost does not depend on
// how much other work the key holds: a Group's other tasks' queue is not
// scanned.
func (s *Scheduler) replace(a *keyActor, c *taskCore) {
	err := canceled(ErrReplaced)
	for _, q := range a.replaceQueued {
		if q.task == c {
			s.endWaiting(q, Canceled, err)
			break
		}
	}
	if len(a.jobs) == 0 {
		return
	}
	for _, j := range slices.Clone(a.jobs) {
		if j.task != c {
			continue
		}
		// A Pending job may start meanwhile: then it is Running, and
		// cancelled as such.
		if j.loadState() == Pending && s.endWaiting(j, Canceled, err) {
			continue
		}
		if j.state.CompareAndSwap(uint32(Running), uint32(replacing)) {
			j.replaced = true
			a.replacing++
			if cancel := j.x.cancel.Load(); cancel != nil {
				(*cancel)(ErrReplaced) // else the worker cancels it as it starts
			}
		}
	}
}

// advance makes Pending whatever a's key may start now, sets a timer when
// only its rate holds it back, and forgets a once it is idle and rested.
func (s *Scheduler) advance(a *keyActor) {
	if !a.live {
		return // forgotten already
	}
	var now time.Time
	if a.Rated() {
		now = s.now()
	}
	for {
		if a.replacing > 0 && a.headHeld() {
			break // it waits for the invocations it replaced to return
		}
		n, due := a.Next(now)
		if n == nil {
			if !due.IsZero() {
				s.wakeAt(a, due)
				s.throttle(a.Peek().Value)
			}
			break
		}
		j := n.Value
		if len(a.replaceQueued) > 0 {
			a.unqueueReplace(j)
		}
		a.take(j)
		s.makePending(j)
	}
	if !a.Idle() {
		return
	}
	if rested, due := a.Rested(now); !rested {
		s.wakeAt(a, due)
		return
	}
	a.ks.actors.delete(a.key)
	s.stats.actors.Add(-1)
	a.forget()
	if len(s.d.free) < max(keptFreeActors, s.d.peakActors) {
		s.d.free = append(s.d.free, a)
	}
}

// throttle reports that j, at the head of its key, began to wait for a
// rate token: a Throttled event, if someone listens as the wait begins.
// Later looks at the key while it still waits report nothing.
func (s *Scheduler) throttle(j *job) {
	if j.throttled {
		return
	}
	j.throttled = true
	if s.listening() {
		ev := j.event(Queued, nil, s.now())
		ev.Throttled = true
		s.d.events = append(s.d.events, ev)
	}
}

// spin yields a few times before the dispatcher sleeps, and reports
// whether a message arrived meanwhile.
func (s *Scheduler) spin() bool {
	for range dispatcherSpins {
		runtime.Gosched()
		if !s.inbox.empty() {
			return true
		}
	}
	return false
}

// tidy gives back what a burst of keys left behind: the space of the key
// maps and of the ready list that have shrunk, and the actors kept for
// reuse beyond what the last period needed. It runs from a timer, at most every tidyEvery, as
// long as there is something it may give back.
func (s *Scheduler) tidy() {
	d := &s.d
	d.tidyAt = time.Time{}
	s.ring.clear()
	if keep := max(keptFreeActors, d.peakActors); len(d.free) > keep {
		d.free = slices.Clone(d.free[:keep]) // a smaller array: the big one goes
	}
	d.peakActors = int(s.stats.actors.Load())
	d.ready.compact()
	d.timers.shrink()
	if len(d.timers.h) == 0 {
		d.timers.h = nil // an idle heap keeps no array
	}
	pending := len(d.free) > keptFreeActors || d.ready.capacity() > minFIFO || cap(d.timers.h) > maxKeptQueue
	for _, ks := range s.keyspaces() {
		ks.actors.compact()
		pending = pending || ks.actors.len() >= shrinkFloor
	}
	if pending {
		s.scheduleTidy()
	}
}

// scheduleTidy sets the tidy timer, unless it is set.
func (s *Scheduler) scheduleTidy() {
	if s.d.tidyAt.IsZero() {
		s.d.tidyAt = time.Now().Add(tidyEvery)
		s.d.timers.add(deadline{at: s.d.tidyAt})
	}
}

// actorFor returns the actor of key, making one if the key has none.
func (s *Scheduler) actorFor(ks *keyspace, key string) *keyActor {
	if a, ok := ks.actors.get(key); ok {
		return a
	}
	a := s.newActor(ks, key)
	ks.actors.put(key, a)
	return a
}

func (s *Scheduler) newActor(ks *keyspace, key string) *keyActor {
	live := int(s.stats.actors.Add(1))
	s.d.peakActors = max(s.d.peakActors, live)
	s.scheduleTidy()
	var a *keyActor
	if n := len(s.d.free); n > 0 {
		a = s.d.free[n-1]
		s.d.free = s.d.free[:n-1]
	} else {
		a = &keyActor{}
	}
	a.Configure(ks.limit, ks.rate, ks.burst)
	a.ks, a.key, a.live = ks, key, true
	return a
}

// makePending moves j from Queued to Pending, at the back of the slot
// queue.
func (s *Scheduler) makePending(j *job) {
	s.stats.promoted.Add(1)
	j.state.Store(uint32(Pending))
	s.queueEvent(j, Pending, nil, time.Time{})
	if s.d.ready.push(j) {
		s.scheduleTidy() // it grew: give the space back once the burst is over
	}
}

// refill moves Pending jobs from the head of the ready list into the ring,
// as far as it has room.
func (s *Scheduler) refill() {
	d := &s.d
	staged := 0
	for room := s.ring.room(); staged < room; {
		j := d.ready.pop()
		if j == nil {
			break
		}
		if j.loadState() != Pending {
			d.readyDead-- // it ended while it waited here
			continue
		}
		j.handed = true
		d.handed++
		if j.actor == nil {
			d.loose.Push(&j.node)
		}
		s.ring.stage(staged, j)
		staged++
	}
	s.ring.publish(staged)
}

// deadInReady counts a job that ended in the ready list, and sweeps the
// list once ended jobs make up most of it: a scheduler whose slots are all
// busy must not hold on to every request that expires or is cancelled
// meanwhile. Each sweep costs the list's length and is paid for by as many
// endings since the last one.
func (s *Scheduler) deadInReady() {
	d := &s.d
	if d.readyDead++; d.readyDead > minFIFO && d.readyDead > d.ready.len()/2 {
		d.ready.filter(func(j *job) bool { return j.loadState() == Pending })
		d.readyDead = 0
	}
}

// takeBack counts j, handed to the workers, as back: it ended.
func (s *Scheduler) takeBack(j *job) {
	s.d.handed--
	if j.actor == nil {
		s.d.loose.Remove(&j.node)
	}
}

// endWaiting ends a job that has not started, if it still has not: it
// leaves its actor's mailbox, the ready list or the ring, and its key moves
// on. It reports whether it ended the job (or will, for one not routed
// yet); false means the job had started or ended already.
func (s *Scheduler) endWaiting(j *job, st State, err error) bool {
	d := &s.d
	switch j.loadState() {
	case Queued:
		a := j.actor
		if a == nil {
			// Its ctx ended before its submission arrived: route ends
			// it, once the submission (and so its ctx hook) is complete.
			j.early = true
			return true
		}
		a.Remove(&j.node)
		if len(a.replaceQueued) > 0 {
			a.unqueueReplace(j)
		}
		d.outstanding--
		s.end(j, Queued, st, err)
		s.advance(a)
		s.closeLater(j)
		return true
	case Pending:
		if j.handed {
			// In the ring: a worker may be taking it right now.
			if !j.state.CompareAndSwap(uint32(Pending), uint32(st)) {
				return false
			}
			s.takeBack(j)
		}
		d.outstanding--
		s.end(j, Pending, st, err)
		if !j.handed {
			s.deadInReady() // once it is final, so that a sweep drops it
		}
		if a := j.actor; a != nil {
			a.Withdraw()
			a.drop(j)
			s.advance(a)
		}
		s.closeLater(j)
		return true
	}
	return false
}

// cancelWaiting ends Canceled every job that has not started, for Close:
// first the queued ones, so that no key promotes more work, then the
// pending ones.
func (s *Scheduler) cancelWaiting() {
	d := &s.d
	err := canceled(ErrClosed)
	spaces := s.keyspaces()
	var actors []*keyActor
	for _, ks := range spaces {
		for _, a := range ks.actors.m {
			actors = append(actors, a)
		}
	}
	for _, a := range actors {
		for n := a.Pop(); n != nil; n = a.Pop() {
			d.outstanding--
			s.end(n.Value, Queued, Canceled, err)
			s.closeLater(n.Value)
		}
		a.replaceQueued = nil
	}
	var pending []*job
	d.ready.all(func(j *job) { pending = append(pending, j) })
	// The ring's jobs: taken here, they cannot start.
	for j := s.ring.get(); j != nil; j = s.ring.get() {
		pending = append(pending, j)
	}
	for _, j := range pending {
		s.endWaiting(j, Canceled, err)
	}
	// Keys with nothing in flight are idle now: let them go.
	for _, a := range actors {
		s.advance(a)
	}
}

// keyspaces returns every keyspace, each once.
func (s *Scheduler) keyspaces() []*keyspace {
	s.tasksMu.Lock()
	defer s.tasksMu.Unlock()
	var out []*keyspace
	for _, c := range s.tasks {
		if c.ks != nil && !slices.Contains(out, c.ks) {
			out = append(out, c.ks)
		}
	}
	return out
}
