package monitor

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// writeTimeout bounds each round of writes of a stream, so that a client
// that stops reading cannot hold a stream (and Close) for long once its
// buffers are full. MaxStreamAge bounds it when nothing fills them.
const writeTimeout = 10 * time.Second

// retryAfter is what a stream refused for MaxStreams asks the client to
// wait, in seconds; the page waits as long.
const retryAfter = 5

// serveStream serves the Server-Sent Events stream: a "state" message
// with the State, and an "events" message with a Batch of the events kept
// since the last one, whose SSE id is the Batch's Last (so that a client
// that reconnects resumes there, through Last-Event-ID). It sends them at
// once, then every Interval when they changed, until the request's
// context ends, MaxStreamAge passes or Close is called. It starts after
// the Seq of the Last-Event-ID header, else of ?after=, else with every
// event kept.
func (m *Monitor) serveStream(w http.ResponseWriter, r *http.Request) {
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("after")
	}
	after, err := parseSeq(last)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := m.openStream(); err != nil {
		if errors.Is(err, errBusy) {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		}
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
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

	s := stream{w: w, after: after}
	tick := time.NewTicker(m.cfg.Interval)
	defer tick.Stop()
	age := time.NewTimer(m.cfg.MaxStreamAge)
	defer age.Stop()
	for first := true; ; first = false {
		now := time.Now()
		_ = rc.SetWriteDeadline(now.Add(writeTimeout)) // not every writer has one
		s.send(m, now, first)
		if s.err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-m.quit:
			return
		case <-age.C:
			return
		case <-tick.C:
		}
	}
}

// stream is where one stream stands.
type stream struct {
	w        io.Writer
	after    uint64 // the Seq of the latest event sent
	stateVer int    // the version of the latest state sent
	err      error  // the first write error
}

// send writes what changed since the last send: the events, from the
// shared frames if the stream is in step with them, or as a batch of its
// own if not; then the state, if it changed, so that the page compares
// the state with the events it already has. The first send is the state,
// which also tells the browser to reconnect after 1s (not its default
// 3s), then every event kept after the stream's start.
func (s *stream) send(m *Monitor, now time.Time, first bool) {
	cur := m.feed.current(m, now)
	if first {
		state, _ := bytes.CutPrefix(cur.state, []byte("event: state\n"))
		s.write([]byte("event: state\nretry: 1000\n"))
		s.write(state)
		s.stateVer = cur.stateVer
		s.sendEvents(m, cur, true)
		return
	}
	s.sendEvents(m, cur, false)
	if s.stateVer != cur.stateVer {
		s.write(cur.state)
		s.stateVer = cur.stateVer
	}
}

func (s *stream) sendEvents(m *Monitor, cur *frame, first bool) {
	if !first && s.after == cur.last {
		return
	}
	if !first {
		if frames, ok := m.feed.after(s.after, cur); ok {
			for _, fr := range frames {
				if fr.events != nil {
					s.write(fr.events)
				}
			}
			s.after = cur.last
			return
		}
	}
	// A batch of its own, up to the frame, so that the next frame follows.
	b := m.since(s.after, cur.last)
	m.feed.own.Add(1)
	if first || len(b.Events) > 0 || b.Missed > 0 || b.Reset {
		s.write(sseMessage("events", b.Last, b))
	}
	s.after = b.Last
}

func (s *stream) write(p []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
}
