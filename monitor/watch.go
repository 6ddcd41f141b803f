package monitor

import (
	"sync/atomic"
	"time"

	"github.com/perkey/perkey/scheduler"
)

// The monitor listens to the scheduler's events only while someone
// watches: a stream is open, or a stream ended or events.json was asked
// for within Linger. It subscribes on the first such request and
// unsubscribes at the first event once nobody has watched for Linger: no
// timer and no goroutine is needed, and an idle scheduler sends no events
// anyway. Each subscription begins a new watch in the ring (see ring).

// subscription is one subscription to the scheduler's events.
type subscription struct {
	m      *Monitor
	cancel func()      // set under m.mu before any record can read it
	ended  atomic.Bool // a late call of an ended subscription records nothing
}

// record keeps one event, or ends the watch if nobody has watched for
// Linger. It takes no lock shared with the other writers (see ring).
func (sub *subscription) record(ev scheduler.Event) {
	if sub.ended.Load() {
		return
	}
	m := sub.m
	if m.viewers.Load() == 0 && ev.Time.Sub(m.base)-time.Duration(m.lastSeen.Load()) >= m.cfg.Linger {
		m.stopWatching(sub, false)
		return
	}
	m.ring.add(m.text.event(ev), kindOf(ev))
}

// seen notes that someone watches now: an events.json request, or a
// stream that ends. Linger counts from the latest.
func (m *Monitor) seen() {
	m.lastSeen.Store(int64(time.Since(m.base)))
}

// startWatching subscribes, beginning a new watch, unless already
// subscribed or closed.
func (m *Monitor) startWatching() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.sub.Load() != nil {
		return
	}
	m.ring.begin(time.Now())
	sub := &subscription{m: m}
	// Subscribe takes only the scheduler's own lock, which no event
	// delivery holds: holding m.mu here cannot deadlock with record.
	sub.cancel = m.s.Subscribe(sub.record)
	m.sub.Store(sub)
}

// stopWatching ends sub, if it is still the subscription, and ends its
// watch in the ring. Unless force, it first checks again, under m.mu, that
// nobody has come to watch meanwhile.
func (m *Monitor) stopWatching(sub *subscription, force bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sub.Load() != sub {
		return
	}
	if !force && (m.viewers.Load() > 0 || time.Since(m.base)-time.Duration(m.lastSeen.Load()) < m.cfg.Linger) {
		return
	}
	sub.ended.Store(true)
	m.sub.Store(nil)
	sub.cancel() // allowed from inside a hook
	m.ring.end()
}

// openStream counts a stream in and subscribes. It fails with ErrClosed
// once the monitor is closed, and with errBusy when MaxStreams are open.
func (m *Monitor) openStream() error {
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return ErrClosed
	case int(m.viewers.Load()) >= m.cfg.MaxStreams:
		m.mu.Unlock()
		return errBusy
	}
	m.viewers.Add(1)
	m.streams.Add(1)
	m.mu.Unlock()
	m.startWatching()
	return nil
}

// closeStream counts a stream out; the monitor stays subscribed for Linger
// after the last one, so that a page that reconnects goes on where it was.
func (m *Monitor) closeStream() {
	m.seen()
	m.viewers.Add(-1)
	m.streams.Done()
}

// polled notes an events.json request and subscribes.
func (m *Monitor) polled() {
	m.seen()
	m.startWatching()
}

// subscribed reports whether the monitor listens to events now.
func (m *Monitor) subscribed() bool { return m.sub.Load() != nil }

// since returns the events after seq, as the endpoints give them, at most
// up to upTo (0: all).
func (m *Monitor) since(after, upTo uint64) Batch {
	events, last, missed, reset := m.ring.since(after, upTo)
	b := Batch{Events: events, Last: last, Missed: missed, Reset: reset}
	if began := m.ring.began.Load(); began != 0 {
		b.Watching, b.Since = true, float64(began)/1e3
	}
	return b
}
