package monitor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

type call struct{ Key, Op string }

// gated is a task whose calls block until released, counting the calls
// that started.
type gated struct {
	task    *scheduler.Task[call, string]
	release chan struct{}
	started chan string
}

// newGated registers a keyed task on s whose calls wait for release.
func newGated(t *testing.T, s *scheduler.Scheduler, name string, opts scheduler.Options[call]) *gated {
	t.Helper()
	g := &gated{release: make(chan struct{}), started: make(chan string, 1024)}
	if opts.Key == nil {
		opts.Key = func(c call) string { return c.Key }
	}
	opts.Label = func(c call) string { return c.Op }
	var err error
	g.task, err = scheduler.NewTask(s, name, func(ctx context.Context, c call) (string, error) {
		g.started <- c.Key
		select {
		case <-g.release:
			return c.Op, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}, opts)
	require.NoError(t, err)
	return g
}

func (g *gated) submit(t *testing.T, keys ...string) []*scheduler.Invocation[string] {
	t.Helper()
	var out []*scheduler.Invocation[string]
	for i, k := range keys {
		inv, err := g.task.Submit(context.Background(), call{k, "op" + strconv.Itoa(i)})
		require.NoError(t, err)
		out = append(out, inv)
	}
	return out
}

func newScheduler(t *testing.T, cfg scheduler.Config) *scheduler.Scheduler {
	t.Helper()
	s, err := scheduler.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	return s
}

func newMonitor(t *testing.T, s *scheduler.Scheduler, cfg Config) *Monitor {
	t.Helper()
	m, err := New(s, cfg)
	require.NoError(t, err)
	t.Cleanup(m.Close)
	return m
}

// get serves one request in-process and decodes its JSON answer into v.
func get(t *testing.T, h http.Handler, target string, v any) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	if v != nil {
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, "application/json", w.Header().Get("Content-Type"))
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), v))
	}
	return w
}

func getState(t *testing.T, h http.Handler) State {
	t.Helper()
	var st State
	get(t, h, "/state.json", &st)
	return st
}

// message is one Server-Sent Events message.
type message struct {
	id, event string
	data      []byte
}

func (m message) state(t *testing.T) State {
	t.Helper()
	require.Equal(t, "state", m.event)
	var st State
	require.NoError(t, json.Unmarshal(m.data, &st))
	return st
}

func (m message) batch(t *testing.T) Batch {
	t.Helper()
	require.Equal(t, "events", m.event)
	var b Batch
	require.NoError(t, json.Unmarshal(m.data, &b))
	return b
}

// parseMessages splits a stream into its complete messages and returns
// what is left over.
func parseMessages(s string) ([]message, string) {
	var out []message
	for {
		i := strings.Index(s, "\n\n")
		if i < 0 {
			return out, s
		}
		var m message
		sc := bufio.NewScanner(strings.NewReader(s[:i]))
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ": ")
			switch k {
			case "id":
				m.id = v
			case "event":
				m.event = v
			case "data":
				m.data = []byte(v)
			}
		}
		if m.event != "" || m.data != nil { // not just "retry: N"
			out = append(out, m)
		}
		s = s[i+2:]
	}
}

// streamWriter is an http.ResponseWriter for a stream served in-process:
// each Flush hands the complete messages written so far to msgs.
type streamWriter struct {
	header http.Header
	mu     sync.Mutex
	buf    bytes.Buffer
	code   int
	msgs   chan message
}

func newStreamWriter() *streamWriter {
	return &streamWriter{header: http.Header{}, msgs: make(chan message, 1024)}
}

func (w *streamWriter) Header() http.Header { return w.header }
func (w *streamWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.code = code
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.buf.Write(p)
}

func (w *streamWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	msgs, rest := parseMessages(w.buf.String())
	w.buf.Reset()
	w.buf.WriteString(rest)
	for _, m := range msgs {
		w.msgs <- m
	}
}

// drain returns the messages flushed so far.
func (w *streamWriter) drain() []message {
	var out []message
	for {
		select {
		case m := <-w.msgs:
			out = append(out, m)
		default:
			return out
		}
	}
}

// openStream serves a stream in-process on a goroutine, until cancel; done
// is closed when the handler has returned.
func openStream(h http.Handler, target string) (w *streamWriter, cancel func(), done chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	w = newStreamWriter()
	done = make(chan struct{})
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	go func() {
		defer close(done)
		h.ServeHTTP(w, req)
	}()
	return w, cancel, done
}

// only returns the messages of msgs of one kind ("state" or "events").
func only(msgs []message, event string) []message {
	var out []message
	for _, m := range msgs {
		if m.event == event {
			out = append(out, m)
		}
	}
	return out
}

// eventsOf returns the events of the batches among msgs.
func eventsOf(t *testing.T, msgs []message) []Event {
	t.Helper()
	var out []Event
	for _, m := range msgs {
		if m.event == "events" {
			out = append(out, m.batch(t).Events...)
		}
	}
	return out
}

// states returns, for invocation id, the states its events carry, dedupes
// marked with a "+".
func states(events []Event, id uint64) []string {
	var out []string
	for _, e := range events {
		if e.ID == id {
			s := e.State
			if e.Deduped {
				s = "+" + s
			}
			out = append(out, s)
		}
	}
	return out
}
