package scheduler

import (
	"slices"
	"time"
)

// listeners is an immutable set of event hooks; Subscribe replaces it.
type listeners struct {
	subs []subscriber
}

type subscriber struct {
	id int
	fn func(Event)
}

// Subscribe calls fn for every later event, like Config.OnEvent (whose
// contract it shares: synchronous, concurrent, must be fast, must not call
// Wait or Close), until the returned cancel is called. Events that happen
// after cancel returns are not delivered; a call already under way may
// still finish. cancel may be called more than once, and from inside fn.
// With nobody subscribed and no OnEvent, events cost nothing. A nil fn, or
// a nil Scheduler, subscribes nothing. Subscribing once Close has returned
// is allowed and receives nothing.
func (s *Scheduler) Subscribe(fn func(Event)) (cancel func()) {
	if fn == nil || !s.made() {
		return func() {}
	}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.nextSub++
	id := s.nextSub
	s.setListeners(append(s.currentSubs(), subscriber{id, fn}))
	return func() {
		s.subMu.Lock()
		defer s.subMu.Unlock()
		s.setListeners(slices.DeleteFunc(s.currentSubs(), func(sub subscriber) bool { return sub.id == id }))
	}
}

// currentSubs returns a copy of the subscribers; subMu must be held.
func (s *Scheduler) currentSubs() []subscriber {
	if l := s.listeners.Load(); l != nil {
		return slices.Clone(l.subs)
	}
	return nil
}

func (s *Scheduler) setListeners(subs []subscriber) {
	if len(subs) == 0 {
		s.listeners.Store(nil)
		return
	}
	s.listeners.Store(&listeners{subs: subs})
}

func (s *Scheduler) listening() bool { return s.listeners.Load() != nil }

// emit reports a state change of j, happening now; workers call it.
func (s *Scheduler) emit(j *job, st State, err error) {
	if l := s.listeners.Load(); l != nil {
		l.call(s, j.event(st, err, s.now()))
	}
}

// queueEvent is emit for the dispatcher: the event waits in d.events until
// the message being handled is done (see dispatch). A zero at means now.
func (s *Scheduler) queueEvent(j *job, st State, err error, at time.Time) {
	if s.listening() {
		if at.IsZero() {
			at = s.now()
		}
		s.d.events = append(s.d.events, j.event(st, err, at))
	}
}

// end is finish with its final event, for the dispatcher.
func (s *Scheduler) end(j *job, from, to State, err error) {
	s.finish(j, from, to, err, nil)
	s.dropDeadline(j)
	s.queueEvent(j, to, err, time.Time{})
}

// closeLater closes j's Done once the events queued before it are
// delivered, so that a waiter never sees Done before j's final event.
func (s *Scheduler) closeLater(j *job) {
	if len(s.d.events) == s.d.sent {
		j.closeDone()
		return
	}
	s.d.toClose = append(s.d.toClose, j)
}

// flushEvents delivers the dispatcher's queued events, then closes the
// Done channels waiting for them. Each event leaves the queue before its
// hooks run, so that a dispatcher restarted after a hook's Goexit goes on
// with the next one.
func (s *Scheduler) flushEvents() {
	d := &s.d
	for d.sent < len(d.events) {
		ev := d.events[d.sent]
		d.events[d.sent] = Event{}
		d.sent++
		if l := s.listeners.Load(); l != nil {
			l.call(s, ev)
		}
	}
	d.events, d.sent = d.events[:0], 0
	for i, j := range d.toClose {
		d.toClose[i] = nil
		j.closeDone()
	}
	d.toClose = d.toClose[:0]
	if cap(d.events) > maxKeptQueue {
		d.events = nil // a burst (Close cancelling everything, say) grew it
	}
	if cap(d.toClose) > maxKeptQueue {
		d.toClose = nil
	}
}

// maxKeptQueue bounds the capacity the dispatcher's event queues keep
// between messages.
const maxKeptQueue = 4096

func (j *job) event(st State, err error, at time.Time) Event {
	ev := Event{Time: at, Task: j.task.name, ID: j.id, Key: j.key, State: st, Err: err}
	if j.x != nil {
		ev.Label = j.x.label
	}
	return ev
}

func (l *listeners) call(s *Scheduler, ev Event) {
	for _, sub := range l.subs {
		s.callHook(sub.fn, ev)
	}
}

// callHook calls one hook, containing its panics.
func (s *Scheduler) callHook(fn func(Event), ev Event) {
	defer func() {
		if r := recover(); r != nil {
			s.stats.hookPanics.Add(1)
			s.log.Error("scheduler: event hook panicked", "panic", r, "task", ev.Task, "id", ev.ID, "state", ev.State)
		}
	}()
	fn(ev)
}
