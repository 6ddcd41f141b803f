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
// a nil Scheduler, subscribes nothing. Subscribing after Close is allowed and receives
// nothing.
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

// emit reports a state change of j, happening now.
func (s *Scheduler) emit(j *job, st State, err error) {
	if l := s.listeners.Load(); l != nil {
		l.call(s, j.event(st, err, time.Now(), false))
	}
}

// emitAt reports a state change of j that happened at the given time (or
// now, if it was not taken).
func (s *Scheduler) emitAt(j *job, st State, err error, at time.Time) {
	if l := s.listeners.Load(); l != nil {
		if at.IsZero() {
			at = time.Now()
		}
		l.call(s, j.event(st, err, at, false))
	}
}

func (j *job) event(st State, err error, at time.Time, deduped bool) Event {
	ev := Event{Time: at, Task: j.task.name, ID: j.id, Key: j.key, State: st, Err: err, Deduped: deduped}
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
