package monitor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/perkey/perkey/internal/displaytext"
)

// State is what state.json and the stream's "state" messages give: the
// scheduler's load now, and what the monitor keeps.
type State struct {
	Now      float64  `json:"now"`       // the server's clock, Unix milliseconds
	WindowMs float64  `json:"window_ms"` // Config.Window, for the page's timeline
	Slots    Slots    `json:"slots"`
	Stats    Stats    `json:"stats"`
	Keys     []Key    `json:"keys"`         // the busiest keys, most busy first; at most Config.Keys
	Sampled  bool     `json:"keys_sampled"` // Keys are the busiest of the keys of recent events only (see the package doc)
	KeysAt   float64  `json:"keys_at"`      // when Keys was taken, Unix milliseconds
	KeysMs   float64  `json:"keys_ms"`      // how long taking it took, milliseconds
	Events   RingInfo `json:"events"`
	Streams  int      `json:"streams"` // streams open now
	// Workers, with a Backend: the processes named by the recent events
	// kept (Events), what each runs now and has finished; at most 16, the
	// busiest, in name order. WorkersMore counts the others. Empty in
	// memory, and when not watching.
	Workers     []Worker `json:"workers,omitempty"`
	WorkersMore int      `json:"workers_more,omitempty"`
}

// Slots is how many of the scheduler's MaxParallel slots run work.
type Slots struct {
	Used int `json:"used"` // Stats.Running
	Max  int `json:"max"`  // MaxParallel
}

// Stats is scheduler.Stats in JSON.
type Stats struct {
	Submitted  uint64 `json:"submitted"`
	Deduped    uint64 `json:"deduped"`
	Succeeded  uint64 `json:"succeeded"`
	Failed     uint64 `json:"failed"`
	Dropped    uint64 `json:"dropped"`
	Expired    uint64 `json:"expired"`
	Canceled   uint64 `json:"canceled"`
	HookPanics uint64 `json:"hook_panics"`
	Queued     int    `json:"queued"`
	Pending    int    `json:"pending"`
	Running    int    `json:"running"`
	Actors     int    `json:"actors"`
}

// Key is scheduler.KeyStats in JSON, its text cleaned as Event's is.
type Key struct {
	Task      string `json:"task"`
	Key       string `json:"key"`
	Queued    int    `json:"queued"`
	Pending   int    `json:"pending"`
	Running   int    `json:"running"`
	Truncated bool   `json:"truncated,omitempty"` // the task or key was cut to MaxText
}

// RingInfo describes the monitor's ring of recent events.
type RingInfo struct {
	Watching bool              `json:"watching"` // subscribed to events now
	Since    float64           `json:"since"`    // when this watch began, Unix milliseconds; 0 when not watching
	Last     uint64            `json:"last"`     // the latest Seq
	Kept     int               `json:"kept"`     // events of this watch in the ring
	Capacity int               `json:"capacity"` // Config.Events
	Bytes    int64             `json:"bytes"`    // about how many bytes the events kept hold
	Evicted  map[string]uint64 `json:"evicted"`  // events of this watch let go, by state ("deduped", "throttled")
}

// Batch is what events.json and the stream's "events" messages give: the
// events after the Seq asked for.
//
// The monitor records events only while someone watches. Since says when
// the current watch began: invocations already under way then show up
// from their next event on, and State's Stats count them all along. A
// client whose Seq belongs to an earlier watch gets Reset: what happened
// between the two watches is not known, so it must forget what it drew.
type Batch struct {
	Events   []Event `json:"events"`
	Last     uint64  `json:"last"`            // ask for after=Last next
	Missed   uint64  `json:"missed"`          // events of this watch after the Seq asked for that are no longer kept
	Reset    bool    `json:"reset,omitempty"` // the Seq asked for was unknown or of an earlier watch: Events start afresh
	Watching bool    `json:"watching"`        // the monitor records events now
	Since    float64 `json:"since"`           // when this watch began, Unix milliseconds; 0 when not watching
}

// currentState returns the state now: the scheduler's Stats, which are
// cheap, and the busiest keys as last taken (see keyCache).
func (m *Monitor) currentState() State {
	st := m.s.Stats()
	keys, sampled, at, took := m.keys.get(m, st.Actors)
	workers, more := m.ring.workers()
	return State{
		Now:      unixMillis(time.Now()),
		WindowMs: float64(m.cfg.Window) / float64(time.Millisecond),
		Slots:    Slots{Used: st.Running, Max: m.s.MaxParallel()},
		Stats: Stats{
			Submitted: st.Submitted, Deduped: st.Deduped, Succeeded: st.Succeeded, Failed: st.Failed,
			Dropped: st.Dropped, Expired: st.Expired, Canceled: st.Canceled, HookPanics: st.HookPanics,
			Queued: st.Queued, Pending: st.Pending, Running: st.Running, Actors: st.Actors,
		},
		Keys:        keys,
		Sampled:     sampled,
		KeysAt:      unixMillis(at),
		KeysMs:      float64(took) / float64(time.Millisecond),
		Events:      m.ring.info(),
		Streams:     int(m.viewers.Load()),
		Workers:     workers,
		WorkersMore: more,
	}
}

// serveState serves state.json.
func (m *Monitor) serveState(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, m.currentState())
}

// serveEvents serves events.json?after=SEQ, and keeps the monitor
// subscribed for Linger.
func (m *Monitor) serveEvents(w http.ResponseWriter, r *http.Request) {
	after, err := parseSeq(r.URL.Query().Get("after"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m.polled()
	writeJSON(w, m.since(after, 0))
}

// parseSeq reads a sequence number; empty means 0.
func parseSeq(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: after=%q: want a sequence number such as 42", ErrInvalid, cleanLine(s))
	}
	return n, nil
}

// cleanLine is s cleaned and cut for an error message.
func cleanLine(s string) string {
	c, _ := displaytext.Clean(s, 64)
	return c
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}
