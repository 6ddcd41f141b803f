package scheduler

import (
	"container/heap"
	"slices"
	"time"
)

// timers holds the dispatcher's deadlines in a min-heap, with one timer for
// the earliest: a job's MaxWait, an actor's wake-up (a rate token due, or
// its limiter refilled so that it may be forgotten), and the next tidy. Entries are never
// removed early: one that no longer applies (a job that started, an actor
// woken or forgotten since) is skipped when it comes due, so the heap holds
// at most the jobs submitted within one MaxWait and one entry per rated key.
type timers struct {
	h     deadlines
	timer *time.Timer
	armed time.Time // the deadline the timer is set for; zero when stopped
}

type deadline struct {
	at  time.Time
	j   *job      // a job's MaxWait, or
	a   *keyActor // an actor's wake-up,
	gen uint64    // for the actor's generation then; or, with neither, a tidy
}

type deadlines []deadline

func (h deadlines) Len() int           { return len(h) }
func (h deadlines) Less(i, k int) bool { return h[i].at.Before(h[k].at) }
func (h deadlines) Swap(i, k int)      { h[i], h[k] = h[k], h[i] }
func (h *deadlines) Push(x any)        { *h = append(*h, x.(deadline)) }
func (h *deadlines) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = deadline{}
	*h = old[:len(old)-1]
	return x
}

func (t *timers) init() {
	t.timer = time.NewTimer(time.Hour)
	t.timer.Stop()
}

func (t *timers) add(d deadline) { heap.Push(&t.h, d) }

// rearm sets the timer for the earliest deadline, if it changed.
func (t *timers) rearm() {
	if len(t.h) == 0 {
		t.stop()
		return
	}
	next := t.h[0].at
	if t.armed.IsZero() || next.Before(t.armed) {
		t.armed = next
		t.timer.Reset(time.Until(next))
	}
}

func (t *timers) stop() {
	if !t.armed.IsZero() {
		t.timer.Stop()
		t.armed = time.Time{}
	}
}

// expireAfter ends j Expired at at, if it is still waiting then.
func (s *Scheduler) expireAfter(j *job, at time.Time) { s.d.timers.add(deadline{at: at, j: j}) }

// wakeAt advances a again at at, unless something earlier is already due
// for it.
func (s *Scheduler) wakeAt(a *keyActor, at time.Time) {
	if !a.wakeAt.IsZero() && !at.Before(a.wakeAt) {
		return
	}
	a.wakeAt = at
	s.d.timers.add(deadline{at: at, a: a, gen: a.gen})
}

// checkTimers handles what is due and sets the timer for the rest; the
// dispatcher calls it after every batch, so deadlines hold while it is too
// busy to sleep on the timer.
func (s *Scheduler) checkTimers() {
	t := &s.d.timers
	if len(t.h) > 0 && !t.h[0].at.After(time.Now()) {
		s.fireTimers()
		return
	}
	t.rearm()
}

// fireTimers handles every deadline that has passed.
func (s *Scheduler) fireTimers() {
	t := &s.d.timers
	t.armed = time.Time{}
	now := time.Now()
	for len(t.h) > 0 && !t.h[0].at.After(now) {
		d := heap.Pop(&t.h).(deadline)
		switch {
		case d.j != nil:
			s.endWaiting(d.j, Expired, ErrExpired)
		case d.a == nil:
			s.tidy()
		case d.a.gen == d.gen && d.a.wakeAt.Equal(d.at):
			d.a.wakeAt = time.Time{}
			s.advance(d.a)
		}
	}
	if cap(t.h) > 4096 && len(t.h) < cap(t.h)/4 {
		t.h = slices.Clone(t.h) // give back what a burst of deadlines grew
	}
	t.rearm()
	s.flushEvents()
}
