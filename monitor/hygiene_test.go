package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/internal/displaytext"
	"github.com/perkey/perkey/scheduler"
)

// TestHeadersOnEveryResponse: every answer, errors included, says
// nosniff and forbids framing.
func TestHeadersOnEveryResponse(t *testing.T) {
	s := newScheduler(t, scheduler.Config{})
	m := newMonitor(t, s, Config{MaxStreams: 1})
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)                  // after the stream's client closes
	c := dialStream(t, srv.URL+"/stream") // the one stream allowed
	c.next(t)

	closed := newMonitor(t, s, Config{})
	closed.Close()
	tests := []struct {
		name   string
		h      http.Handler
		method string
		target string
		code   int
	}{
		{"page", m, http.MethodGet, "/", 200},
		{"page HEAD", m, http.MethodHead, "/index.html", 200},
		{"state.json", m, http.MethodGet, "/state.json", 200},
		{"events.json", m, http.MethodGet, "/events.json?after=0", 200},
		{"bad after", m, http.MethodGet, "/events.json?after=x", 400},
		{"bad method", m, http.MethodPost, "/", 405},
		{"bad stream", m, http.MethodGet, "/stream?after=-1", 400},
		{"too many streams", m, http.MethodGet, "/stream", 503},
		{"closed", closed, http.MethodGet, "/stream", 503},
		{"nil scheduler", Handler(nil), http.MethodGet, "/", 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.target, nil))
			require.Equal(t, tc.code, w.Code)
			require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
			csp := w.Header().Get("Content-Security-Policy")
			require.Contains(t, csp, "frame-ancestors 'none'")
			require.Contains(t, csp, "default-src 'none'")
		})
	}
	// The stream's own headers, over HTTP.
	require.Equal(t, "nosniff", c.resp.Header.Get("X-Content-Type-Options"))
	require.Contains(t, c.resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
}

// TestPageCSPAllowsItsOwnScript: the page's policy names its inline
// script and style by hash, so that they run, and nothing else.
func TestPageCSPAllowsItsOwnScript(t *testing.T) {
	w := httptest.NewRecorder()
	newMonitor(t, newScheduler(t, scheduler.Config{}), Config{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	csp := w.Header().Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src '"+hash(pageJS)+"'")
	require.Contains(t, csp, "style-src '"+hash(pageCSS)+"'")
	require.Contains(t, csp, "connect-src 'self'")
	require.NotContains(t, csp, "unsafe")
	require.Contains(t, w.Body.String(), "<script>"+pageJS+"</script>")
	require.Contains(t, w.Body.String(), "<style>"+pageCSS+"</style>")
}

// TestDisplayTextInEvents: keys, labels and errors reach events.json and
// state.json as display text: valid UTF-8, no control or bidirectional
// characters, whatever the task was given.
func TestDisplayTextInEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		release := make(chan struct{})
		task, err := scheduler.NewTask(s, "t\u202e", func(ctx context.Context, c call) (string, error) {
			<-release
			return "", errors.New("boom\n\x1b[2Jcleared\u202e")
		}, scheduler.Options[call]{Running: scheduler.ByKey, Key: func(c call) string { return c.Key },
			Label: func(c call) string { return c.Op }})
		require.NoError(t, err)
		m := newMonitor(t, s, Config{})
		get(t, m, "/events.json", nil) // subscribe
		key, label := "acme\xff\xfe\ninjected", "pending\u202e\u2066deeccus"
		inv, err := task.Submit(context.Background(), call{key, label})
		require.NoError(t, err)
		synctest.Wait()

		st := getState(t, m)
		require.Len(t, st.Keys, 1)
		require.Equal(t, `acme`+"\uFFFD\uFFFD"+`\ninjected`, st.Keys[0].Key)
		require.Equal(t, `t\u202e`, st.Keys[0].Task)

		close(release)
		<-inv.Done()
		w := get(t, m, "/events.json?after=0", nil)
		require.True(t, utf8.Valid(w.Body.Bytes()))
		var b Batch
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b))
		require.Len(t, b.Events, 4)
		for _, e := range b.Events {
			for _, text := range []string{e.Task, e.Key, e.Label, e.Err} {
				require.True(t, utf8.ValidString(text))
				for _, r := range text {
					require.False(t, displaytext.Hidden(r), "%q in %q", r, text)
				}
			}
			require.Equal(t, `acme`+"\uFFFD\uFFFD"+`\ninjected`, e.Key)
			require.Equal(t, `pending\u202e\u2066deeccus`, e.Label)
		}
		require.Equal(t, `boom\n\x1b[2Jcleared\u202e`, b.Events[3].Err)
	})
}

// TestLongTextCut: a key, label or error longer than MaxText is cut and
// marked, and the ring's memory and events.json stay small with keys of
// 16 KiB.
func TestLongTextCut(t *testing.T) {
	s := newScheduler(t, scheduler.Config{})
	task, err := scheduler.NewTask(s, "big", func(context.Context, call) (string, error) {
		return "", errors.New(strings.Repeat("e", 16<<10))
	}, scheduler.Options[call]{Running: scheduler.ByKey, Key: func(c call) string { return c.Key },
		Label: func(c call) string { return c.Op }})
	require.NoError(t, err)
	m := newMonitor(t, s, Config{})
	get(t, m, "/events.json", nil) // subscribe
	before := liveHeap()
	const n = 500 // 2,000 events
	for i := range n {
		long := strconv.Itoa(i) + strings.Repeat("k", 16<<10)
		inv, err := task.Submit(context.Background(), call{long, long})
		require.NoError(t, err)
		<-inv.Done()
	}
	kept := int64(liveHeap()) - int64(before)
	t.Logf("kept %d bytes", kept)
	require.Less(t, kept, int64(4<<20), "the ring keeps cut copies, not 16 KiB keys (%d bytes kept)", kept)
	require.Less(t, getState(t, m).Events.Bytes, int64(2<<20))

	w := get(t, m, "/events.json?after=0", nil)
	require.Less(t, w.Body.Len(), 2<<20, "events.json of 2,000 events with 16 KiB keys")
	var b Batch
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b))
	require.Len(t, b.Events, 4*n)
	for _, e := range b.Events {
		require.True(t, e.Truncated)
		require.LessOrEqual(t, len(e.Key), DefaultMaxText+len("…"))
		require.True(t, strings.HasSuffix(e.Key, "…"), e.Key)
		require.LessOrEqual(t, len(e.Label), DefaultMaxText+len("…"))
		require.LessOrEqual(t, len(e.Err), DefaultMaxText+len("…"))
	}
}

// liveHeap returns the live heap after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	return st.HeapAlloc
}

// TestOmitErrors: with OmitErrors the error text stays out of events.json
// and the stream; by default it is in.
func TestOmitErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		task, err := scheduler.NewTask(s, "t", func(context.Context, int) (int, error) {
			return 0, errors.New("GET https://api.example/?token=s3cr3t: 401")
		}, scheduler.Options[int]{})
		require.NoError(t, err)
		quiet := newMonitor(t, s, Config{OmitErrors: true})
		loud := newMonitor(t, s, Config{})
		for _, m := range []*Monitor{quiet, loud} {
			get(t, m, "/events.json", nil)
		}
		w, cancel, done := openStream(quiet, "/stream")
		synctest.Wait()
		run(t, task)
		synctest.Wait()
		time.Sleep(DefaultInterval)
		synctest.Wait()
		cancel()
		<-done

		var b Batch
		get(t, quiet, "/events.json?after=0", &b)
		require.Equal(t, "failed", b.Events[3].State)
		require.Empty(t, b.Events[3].Err)
		for _, e := range eventsOf(t, w.drain()) {
			require.Empty(t, e.Err)
		}
		get(t, loud, "/events.json?after=0", &b)
		require.Equal(t, "GET https://api.example/?token=s3cr3t: 401", b.Events[3].Err)
	})
}

// TestEventText: every text of an event is cleaned and cut, the worker's
// included; OmitErrors leaves the error out.
func TestEventText(t *testing.T) {
	ev := scheduler.Event{Task: "t", Key: "k", Label: "l", State: scheduler.Failed, Worker: "host-1\u202e",
		Err: errors.New(strings.Repeat("e", 300))}
	e := eventText{limit: 10}.event(ev)
	require.Equal(t, "host-1…", e.Worker, "an escape is not cut in two")
	require.Equal(t, "eeeeeeeeee…", e.Err)
	require.True(t, e.Truncated)
	require.Equal(t, "failed", e.State)
	e = eventText{limit: 10, omitErrors: true}.event(ev)
	require.Empty(t, e.Err)
}
