package monitor

import (
	"math"
	"strings"
	"time"

	"github.com/perkey/perkey/scheduler"
)

// Event is one scheduler event as the JSON endpoints and the stream give
// it.
type Event struct {
	Seq     uint64  `json:"seq"`               // 1 for the first event the monitor kept, then +1 each
	Time    float64 `json:"t"`                 // Unix time in milliseconds, to the microsecond
	Task    string  `json:"task"`              // the task's name
	ID      uint64  `json:"id"`                // the invocation's ID
	Key     string  `json:"key"`               // its key
	Label   string  `json:"label,omitempty"`   // Options.Label of its arguments
	State   string  `json:"state"`             // the new state in lower case, such as "running"
	Deduped bool    `json:"deduped,omitempty"` // a submission collapsed into the invocation
	Err     string  `json:"err,omitempty"`     // the error of a final state that has one
}

// newEvent converts a scheduler event; Seq is set when the ring keeps it.
func newEvent(ev scheduler.Event) Event {
	e := Event{
		Time:    unixMillis(ev.Time),
		Task:    ev.Task,
		ID:      ev.ID,
		Key:     ev.Key,
		Label:   ev.Label,
		State:   strings.ToLower(ev.State.String()),
		Deduped: ev.Deduped,
	}
	if ev.Err != nil {
		e.Err = ev.Err.Error()
	}
	return e
}

// unixMillis is t in milliseconds since the Unix epoch, to the
// microsecond.
func unixMillis(t time.Time) float64 {
	return math.Round(float64(t.UnixMicro())) / 1e3
}

// ring keeps the last len(buf) events, and counts by kind those it has let
// go. It is not safe for concurrent use: the Monitor's mutex guards it.
type ring struct {
	buf     []Event
	last    uint64            // Seq of the latest event; 0 before the first
	evicted map[string]uint64 // events let go, by state ("deduped" for dedupes)
}

func newRing(n int) ring {
	return ring{buf: make([]Event, 0, n), evicted: map[string]uint64{}}
}

// add keeps e, letting the oldest event go when the ring is full.
func (r *ring) add(e Event) {
	r.last++
	e.Seq = r.last
	if len(r.buf) < cap(r.buf) {
		r.buf = append(r.buf, e)
		return
	}
	i := int((r.last - 1) % uint64(cap(r.buf)))
	old := r.buf[i]
	r.evicted[kind(old)]++
	r.buf[i] = e
}

// kind is what an evicted event counts as.
func kind(e Event) string {
	if e.Deduped {
		return "deduped"
	}
	return e.State
}

// first returns the Seq of the oldest event kept; last+1 when empty.
func (r *ring) first() uint64 {
	return r.last - uint64(len(r.buf)) + 1
}

// since returns, oldest first, the events kept with a Seq above after, and
// how many events after it are no longer kept. An after beyond the latest
// Seq (a client of an earlier monitor) counts as 0, and reset says so.
func (r *ring) since(after uint64) (events []Event, missed uint64, reset bool) {
	if after > r.last {
		after, reset = 0, true
	}
	first := r.first()
	if after+1 < first {
		missed = first - after - 1
		after = first - 1
	}
	if after >= r.last {
		return []Event{}, missed, reset
	}
	events = make([]Event, 0, r.last-after)
	for seq := after + 1; seq <= r.last; seq++ {
		events = append(events, r.buf[int((seq-1)%uint64(cap(r.buf)))])
	}
	return events, missed, reset
}

// evictedTotal is how many events the ring has let go.
func (r *ring) evictedTotal() uint64 {
	var n uint64
	for _, c := range r.evicted {
		n += c
	}
	return n
}
