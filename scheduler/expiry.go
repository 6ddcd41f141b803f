package scheduler

import (
	"container/heap"
	"time"
)

// expiry holds the MaxWait deadlines of waiting jobs in a min-heap, with
// one timer for the earliest. Only the dispatcher touches it. A job that
// starts keeps its entry until the deadline passes and is then skipped, so
// the heap holds at most the jobs submitted within one MaxWait.
type expiry struct {
	h     deadlines
	timer *time.Timer
	armed time.Time // the deadline the timer is set for; zero when stopped
}

type deadline struct {
	at time.Time
	j  *job
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

func (e *expiry) init() {
	e.timer = time.NewTimer(time.Hour)
	e.timer.Stop()
}

func (e *expiry) add(at time.Time, j *job) { heap.Push(&e.h, deadline{at, j}) }

// rearm sets the timer for the earliest deadline, if it changed.
func (e *expiry) rearm() {
	if len(e.h) == 0 {
		e.stop()
		return
	}
	next := e.h[0].at
	if e.armed.IsZero() || next.Before(e.armed) {
		e.armed = next
		e.timer.Reset(time.Until(next))
	}
}

func (e *expiry) stop() {
	if !e.armed.IsZero() {
		e.timer.Stop()
		e.armed = time.Time{}
	}
}

// checkExpiry ends what is due and sets the timer for the rest; the
// dispatcher calls it after every batch, so deadlines hold while it is too
// busy to sleep on the timer.
func (s *Scheduler) checkExpiry() {
	e := &s.d.expiry
	if len(e.h) > 0 && !e.h[0].at.After(time.Now()) {
		s.expireDue()
		return
	}
	e.rearm()
}

// expireDue ends Expired every waiting job whose deadline has passed.
func (s *Scheduler) expireDue() {
	e := &s.d.expiry
	e.armed = time.Time{}
	now := time.Now()
	for len(e.h) > 0 && !e.h[0].at.After(now) {
		d := heap.Pop(&e.h).(deadline)
		s.endWaiting(d.j, Expired, ErrExpired)
	}
	if len(e.h) == 0 && cap(e.h) > 4096 {
		e.h = nil
	}
	e.rearm()
}
