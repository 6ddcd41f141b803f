package scheduler

import (
	"container/heap"
	"slices"
	"time"
)

// timers holds the dispatcher's deadlines in a min-heap, with one timer for
// the earliest: a job's MaxWait, an actor's wake-up (a rate token due, or
// its limiter refilled so that it may be forgotten), and the next tidy.
//
// A job's deadline leaves the heap as soon as the job is final (each job
// knows its place in the heap), so the heap holds only the jobs still in
// flight: never a finished job's arguments or result. An actor's wake-up
// that no longer applies (the actor was woken or forgotten since) is
// skipped when it comes due: there is at most about one per rated key.
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

// deadlines is the heap. It keeps each job's place in job.x.timer.
type deadlines []deadline

func (h deadlines) Len() int           { return len(h) }
func (h deadlines) Less(i, k int) bool { return h[i].at.Before(h[k].at) }
func (h deadlines) Swap(i, k int) {
	h[i], h[k] = h[k], h[i]
	h.place(i)
	h.place(k)
}
func (h *deadlines) Push(x any) {
	*h = append(*h, x.(deadline))
	h.place(len(*h) - 1)
}
func (h *deadlines) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = deadline{}
	*h = old[:len(old)-1]
	if x.j != nil {
		x.j.x.timer = 0
	}
	return x
}

// place records in a job its deadline's place in the heap.
func (h deadlines) place(i int) {
	if j := h[i].j; j != nil {
		j.x.timer = i + 1
	}
}

func (t *timers) init() {
	t.timer = time.NewTimer(time.Hour)
	t.timer.Stop()
}

func (t *timers) add(d deadline) { heap.Push(&t.h, d) }

// remove takes j's deadline out of the heap, if it is there.
func (t *timers) remove(j *job) {
	if i := j.x.timer; i != 0 {
		heap.Remove(&t.h, i-1)
		t.shrink()
	}
}

// shrink gives back the space a burst of deadlines grew, once most of it
// is unused. A shrink copies what is left and is paid for by the many
// more deadlines removed since the heap was last that size.
func (t *timers) shrink() {
	if cap(t.h) > maxKeptQueue && len(t.h) < cap(t.h)/4 {
		t.h = slices.Clone(t.h)
	}
}

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

// dropDeadline forgets j's MaxWait deadline once j is final.
func (s *Scheduler) dropDeadline(j *job) {
	if j.x != nil && j.x.timer != 0 {
		s.d.timers.remove(j)
	}
}

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
	t.shrink()
	t.rearm()
	s.flushEvents()
}
