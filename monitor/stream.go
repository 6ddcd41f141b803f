package monitor

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// writeTimeout bounds each write of a stream, so that a client that stops
// reading cannot hold a stream (and Close) for long.
const writeTimeout = 10 * time.Second

// heartbeat is how often a stream sends the state even if nothing changed:
// it keeps idle connections alive through proxies, and the page's clock in
// step with the server's.
const heartbeat = 15 * time.Second

// serveStream serves the Server-Sent Events stream: a "state" message
// with the State, and an "events" message with a Batch of the events kept
// since the last one, whose SSE id is the Batch's Last (so that a client
// that reconnects resumes there, through Last-Event-ID). It sends them at
// once, then every Interval when they changed, until the request's
// context ends or Close is called. It starts where ?after= or the
// Last-Event-ID header says, or with every event kept.
func (m *Monitor) serveStream(w http.ResponseWriter, r *http.Request) {
	after, err := parseSeq(r.Header.Get("Last-Event-ID"))
	if err == nil && r.URL.Query().Has("after") {
		after, err = parseSeq(r.URL.Query().Get("after"))
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !m.openStream() {
		http.Error(w, ErrClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	defer m.closeStream()

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // no buffering in a proxy in front
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}

	tick := time.NewTicker(m.cfg.Interval)
	defer tick.Stop()
	var (
		last   State
		sentAt time.Time
	)
	for first := true; ; first = false {
		now := time.Now()
		_ = rc.SetWriteDeadline(now.Add(writeTimeout)) // not every writer has one
		st := m.currentState()
		if first || changed(last, st) || now.Sub(sentAt) >= heartbeat {
			if err := sse(w, "state", 0, st); err != nil {
				return
			}
			last, sentAt = st, now
		}
		if b := m.since(after); first || len(b.Events) > 0 || b.Missed > 0 || b.Reset {
			if err := sse(w, "events", b.Last, b); err != nil {
				return
			}
			after = b.Last
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-m.quit:
			return
		case <-tick.C:
		}
	}
}

// changed reports whether b differs from a in anything but the time.
func changed(a, b State) bool {
	if a.Stats != b.Stats || a.Slots != b.Slots || a.Events.Last != b.Events.Last ||
		a.Events.Watching != b.Events.Watching || len(a.Keys) != len(b.Keys) {
		return true
	}
	for i := range a.Keys {
		if a.Keys[i] != b.Keys[i] {
			return true
		}
	}
	return false
}

// sse writes one message; id 0 means none.
func sse(w io.Writer, event string, id uint64, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if id > 0 {
		_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", id, event, b)
	} else {
		_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
	}
	return err
}
