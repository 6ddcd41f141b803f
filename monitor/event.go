package monitor

import (
	"math"
	"time"

	"github.com/perkey/perkey/internal/displaytext"
	"github.com/perkey/perkey/scheduler"
)

// Event is one scheduler event as the JSON endpoints and the stream give
// it. Its text fields are display text: valid UTF-8, with control and
// bidirectional characters written as escapes (\n, \u202e), and cut to
// Config.MaxText bytes, ending in "…" (Truncated says so).
type Event struct {
	Seq       uint64  `json:"seq"`                 // numbers the events the monitor kept: +1 each, never reused
	Time      float64 `json:"t"`                   // Unix time in milliseconds, to the microsecond
	Task      string  `json:"task"`                // the task's name
	ID        uint64  `json:"id"`                  // the invocation's ID
	Key       string  `json:"key"`                 // its key
	Label     string  `json:"label,omitempty"`     // Options.Label of its arguments
	State     string  `json:"state"`               // the new state in lower case, such as "running"
	Deduped   bool    `json:"deduped,omitempty"`   // a submission collapsed into the invocation: not a state change
	Throttled bool    `json:"throttled,omitempty"` // the invocation waits for a Rate token from now: not a state change
	Err       string  `json:"err,omitempty"`       // the error of a final state that has one, unless Config.OmitErrors
	Worker    string  `json:"worker,omitempty"`    // the process that made the change, with a Backend
	Truncated bool    `json:"truncated,omitempty"` // a text above was longer than MaxText and was cut

	kind uint8 // what it counts as when the ring lets it go
}

// stateNames are the states' names as events give them.
var stateNames = [...]string{"queued", "pending", "running", "succeeded", "failed", "dropped", "expired", "canceled"}

// stateName is the lower-case name of s, without allocating.
func stateName(s scheduler.State) string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// eventText says how the monitor turns events into Events.
type eventText struct {
	limit      int  // Config.MaxText
	omitErrors bool // Config.OmitErrors
}

// event converts a scheduler event; Seq is set when the ring keeps it.
func (c eventText) event(ev scheduler.Event) Event {
	e := Event{
		Time:      unixMillis(ev.Time),
		ID:        ev.ID,
		State:     stateName(ev.State),
		Deduped:   ev.Deduped,
		Throttled: ev.Throttled,
	}
	var cut [5]bool
	e.Task, cut[0] = displaytext.Clean(ev.Task, c.limit)
	e.Key, cut[1] = displaytext.Clean(ev.Key, c.limit)
	e.Label, cut[2] = displaytext.Clean(ev.Label, c.limit)
	if ev.Err != nil && !c.omitErrors {
		e.Err, cut[3] = displaytext.Clean(ev.Err.Error(), c.limit)
	}
	e.Worker, cut[4] = displaytext.Clean(ev.Worker, c.limit)
	e.Truncated = cut[0] || cut[1] || cut[2] || cut[3] || cut[4]
	return e
}

// eventOverhead is about what an Event takes in the ring besides its text.
const eventOverhead = 128

// size is about how many bytes e holds in the ring.
func (e *Event) size() int64 {
	return int64(eventOverhead + len(e.Task) + len(e.Key) + len(e.Label) + len(e.Err) + len(e.Worker))
}

// kindOf is what a scheduler event counts as when the ring lets it go.
func kindOf(ev scheduler.Event) int {
	switch {
	case ev.Deduped:
		return kindDeduped
	case ev.Throttled:
		return kindThrottled
	case int(ev.State) < len(stateNames):
		return int(ev.State)
	}
	return kindOther
}

// The kinds of events the ring counts when it lets them go: the states'
// indexes in stateNames, then these.
const (
	kindDeduped = len(stateNames) + iota
	kindThrottled
	kindOther
	kinds
)

// kindName names a kind in RingInfo.Evicted.
func kindName(k int) string {
	switch k {
	case kindDeduped:
		return "deduped"
	case kindThrottled:
		return "throttled"
	case kindOther:
		return "other"
	}
	return stateNames[k]
}

// unixMillis is t in milliseconds since the Unix epoch, to the
// microsecond.
func unixMillis(t time.Time) float64 {
	return math.Round(float64(t.UnixMicro())) / 1e3
}
