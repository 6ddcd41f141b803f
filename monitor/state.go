package monitor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// State is what state.json and the stream's "state" messages give: the
// scheduler's load now, and what the monitor keeps.
type State struct {
	Now      float64  `json:"now"`       // the server's clock, Unix milliseconds
	WindowMs float64  `json:"window_ms"` // Config.Window, for the page's timeline
	Slots    Slots    `json:"slots"`
	Stats    Stats    `json:"stats"`
	Keys     []Key    `json:"keys"` // the busiest keys, most busy first; at most Config.Keys
	Events   RingInfo `json:"events"`
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

// Key is scheduler.KeyStats in JSON.
type Key struct {
	Task    string `json:"task"`
	Key     string `json:"key"`
	Queued  int    `json:"queued"`
	Pending int    `json:"pending"`
	Running int    `json:"running"`
}

// RingInfo describes the monitor's ring of recent events.
type RingInfo struct {
	Watching bool              `json:"watching"` // subscribed to events now
	Last     uint64            `json:"last"`     // Seq of the latest event kept
	Kept     int               `json:"kept"`     // events in the ring
	Capacity int               `json:"capacity"` // Config.Events
	Evicted  map[string]uint64 `json:"evicted"`  // events let go, by state ("deduped" for dedupes)
}

// Batch is what events.json and the stream's "events" messages give: the
// events after the Seq asked for.
type Batch struct {
	Events []Event `json:"events"`
	Last   uint64  `json:"last"`            // Seq of the latest event kept: ask for after=Last next
	Missed uint64  `json:"missed"`          // events after the Seq asked for that are no longer kept
	Reset  bool    `json:"reset,omitempty"` // the Seq asked for was unknown: Events start afresh
}

// currentState returns the state, taken at most Interval/2 ago: viewers
// share it, so that many of them cost no more than one.
func (m *Monitor) currentState() State {
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	now := time.Now()
	if !m.stateAt.IsZero() && now.Sub(m.stateAt) < m.cfg.Interval/2 {
		return m.state
	}
	st := m.s.Stats()
	ks := m.s.Keys(m.cfg.Keys)
	keys := make([]Key, len(ks))
	for i, k := range ks {
		keys[i] = Key{Task: k.Task, Key: k.Key, Queued: k.Queued, Pending: k.Pending, Running: k.Running}
	}
	m.mu.Lock()
	ring := RingInfo{
		Watching: m.cancel != nil,
		Last:     m.ring.last,
		Kept:     len(m.ring.buf),
		Capacity: cap(m.ring.buf),
		Evicted:  make(map[string]uint64, len(m.ring.evicted)),
	}
	for k, v := range m.ring.evicted {
		ring.Evicted[k] = v
	}
	m.mu.Unlock()
	m.state = State{
		Now:      unixMillis(now),
		WindowMs: float64(m.cfg.Window) / float64(time.Millisecond),
		Slots:    Slots{Used: st.Running, Max: m.s.MaxParallel()},
		Stats: Stats{
			Submitted: st.Submitted, Deduped: st.Deduped, Succeeded: st.Succeeded, Failed: st.Failed,
			Dropped: st.Dropped, Expired: st.Expired, Canceled: st.Canceled, HookPanics: st.HookPanics,
			Queued: st.Queued, Pending: st.Pending, Running: st.Running, Actors: st.Actors,
		},
		Keys:   keys,
		Events: ring,
	}
	m.stateAt = now
	return m.state
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
	writeJSON(w, m.since(after))
}

// parseSeq reads a sequence number; empty means 0.
func parseSeq(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: after=%q: want a sequence number such as 42", ErrInvalid, s)
	}
	return n, nil
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
