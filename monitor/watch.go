package monitor

import (
	"time"

	"github.com/perkey/perkey/scheduler"
)

// The monitor listens to the scheduler's events only while someone
// watches: a stream is open, or events.json was asked for within Linger.
// It subscribes on the first such request and unsubscribes when the last
// stream ends with no recent poll, or, for polls, at the first event after
// Linger has passed: no timer and no goroutine is needed, and an idle
// scheduler sends no events anyway.

// watching reports whether someone watches now; m.mu must be held.
func (m *Monitor) watchingLocked(now time.Time) bool {
	return m.viewers > 0 || (!m.lastPoll.IsZero() && now.Sub(m.lastPoll) < m.cfg.Linger)
}

// subscribeLocked subscribes unless already subscribed or closed; m.mu
// must be held. Subscribe takes only the scheduler's own lock, which no
// event delivery holds, so holding m.mu here cannot deadlock with record.
func (m *Monitor) subscribeLocked() {
	if m.cancel != nil || m.closed {
		return
	}
	m.gen++
	gen := m.gen
	m.cancel = m.s.Subscribe(func(ev scheduler.Event) { m.record(gen, ev) })
}

// unsubscribeLocked ends the subscription, if any; m.mu must be held.
func (m *Monitor) unsubscribeLocked() {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
}

// record keeps one event of subscription gen, or unsubscribes if nobody
// watches any more.
func (m *Monitor) record(gen uint64, ev scheduler.Event) {
	e := newEvent(ev)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case gen != m.gen || m.cancel == nil:
		// A late call of a subscription already cancelled.
	case !m.watchingLocked(time.Now()):
		m.unsubscribeLocked()
	default:
		m.ring.add(e)
	}
}

// openStream counts a stream in and subscribes. It returns false once the
// monitor is closed.
func (m *Monitor) openStream() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.viewers++
	m.streams.Add(1)
	m.subscribeLocked()
	return true
}

// closeStream counts a stream out, unsubscribing if it was the last
// watcher.
func (m *Monitor) closeStream() {
	m.mu.Lock()
	m.viewers--
	if !m.watchingLocked(time.Now()) {
		m.unsubscribeLocked()
	}
	m.mu.Unlock()
	m.streams.Done()
}

// polled notes an events.json request and subscribes.
func (m *Monitor) polled() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastPoll = time.Now()
	m.subscribeLocked()
}

// subscribed reports whether the monitor listens to events now.
func (m *Monitor) subscribed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cancel != nil
}

// since returns the events after seq, as the endpoints give them.
func (m *Monitor) since(after uint64) Batch {
	m.mu.Lock()
	defer m.mu.Unlock()
	events, missed, reset := m.ring.since(after)
	return Batch{Events: events, Missed: missed, Reset: reset, Last: m.ring.last}
}
