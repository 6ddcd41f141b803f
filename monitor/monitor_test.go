package monitor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/perkey/perkey/scheduler"
)

// TestStateFollowsWork: state.json changes as work is submitted, runs and
// ends: totals, gauges, slots and the busiest keys.
func TestStateFollowsWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{MaxParallel: 2})
		g := newGated(t, s, "sync", scheduler.Options[call]{Running: scheduler.ByKey})
		m := newMonitor(t, s, Config{})

		st := getState(t, m)
		require.Equal(t, Slots{Used: 0, Max: 2}, st.Slots)
		require.Equal(t, Stats{}, st.Stats)
		require.Empty(t, st.Keys)
		require.False(t, st.Events.Watching, "state.json alone does not subscribe")
		require.InDelta(t, float64(DefaultWindow/time.Millisecond), st.WindowMs, 0)

		invs := g.submit(t, "a", "b", "a", "a", "b")
		synctest.Wait()
		time.Sleep(DefaultInterval) // past the shared keys' lifetime
		st = getState(t, m)
		require.Equal(t, Slots{Used: 2, Max: 2}, st.Slots)
		require.Equal(t, Stats{Submitted: 5, Running: 2, Queued: 3, Actors: 2}, st.Stats)
		require.Equal(t, []Key{
			{Task: "sync", Key: "a", Running: 1, Queued: 2},
			{Task: "sync", Key: "b", Running: 1, Queued: 1},
		}, st.Keys, "busiest first")
		require.Equal(t, st.Now, st.KeysAt, "taken now")

		close(g.release)
		for _, inv := range invs {
			<-inv.Done()
		}
		st = getState(t, m)
		require.Equal(t, Slots{Used: 0, Max: 2}, st.Slots)
		require.Equal(t, Stats{Submitted: 5, Succeeded: 5}, st.Stats)
		require.Empty(t, st.Keys, "no live key: no key listed, at once")
	})
}

// TestKeysShared: viewers within Interval/2 of each other share the
// busiest keys, taken once; Stats are always fresh.
func TestKeysShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		g := newGated(t, s, "sync", scheduler.Options[call]{Running: scheduler.ByKey})
		m := newMonitor(t, s, Config{Interval: time.Second})
		g.submit(t, "a")
		synctest.Wait()
		before := getState(t, m)
		require.Len(t, before.Keys, 1)
		g.submit(t, "b")
		synctest.Wait()
		st := getState(t, m)
		require.Equal(t, 2, st.Stats.Running, "Stats are fresh")
		require.Equal(t, before.Keys, st.Keys, "within Interval/2: the same keys")
		require.Equal(t, before.KeysAt, st.KeysAt)
		time.Sleep(time.Second / 2)
		require.Len(t, getState(t, m).Keys, 2)
		require.Equal(t, 2, m.keys.walks)
		close(g.release)
	})
}

// TestEventsPolling: events.json subscribes, gives the events after a
// sequence number, and the monitor unsubscribes once Linger has passed
// without a poll.
func TestEventsPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		g := newGated(t, s, "sync", scheduler.Options[call]{Running: scheduler.ByKey})
		m := newMonitor(t, s, Config{Linger: 5 * time.Second})

		g.submit(t, "a") // nobody watches: not recorded
		<-g.started
		var b Batch
		get(t, m, "/events.json", &b)
		require.Equal(t, Batch{Events: []Event{}, Watching: true, Since: unixMillis(time.Now())}, b)
		require.True(t, m.subscribed())

		inv := g.submit(t, "a")[0]
		synctest.Wait()
		get(t, m, "/events.json?after=0", &b)
		require.Equal(t, []string{"queued"}, states(b.Events, inv.ID()))
		require.Equal(t, uint64(1), b.Events[0].Seq)
		require.Equal(t, "sync", b.Events[0].Task)
		require.Equal(t, "a", b.Events[0].Key)
		require.Equal(t, "op0", b.Events[0].Label)
		require.Equal(t, uint64(1), b.Last)

		g.release <- struct{}{} // the first call ends; the second starts
		<-g.started
		synctest.Wait()
		get(t, m, "/events.json?after=1", &b)
		require.Equal(t, []string{"pending", "running"}, states(b.Events, inv.ID()))
		require.Equal(t, uint64(2), b.Events[0].Seq)

		// Linger passes without a poll: the next event unsubscribes and
		// ends the watch.
		time.Sleep(5 * time.Second)
		g.release <- struct{}{}
		<-inv.Done()
		synctest.Wait()
		require.False(t, m.subscribed())
		require.False(t, getState(t, m).Events.Watching)

		// A poll of the old watch starts a new one, and is told to forget:
		// how #2 ended was not watched.
		get(t, m, "/events.json?after=3", &b)
		require.True(t, b.Reset)
		require.Empty(t, b.Events)
		require.True(t, m.subscribed())

		w := get(t, m, "/events.json?after=x", nil)
		require.Equal(t, http.StatusBadRequest, w.Code)
		require.Contains(t, w.Body.String(), `after="x": want a sequence number`)
	})
}

// TestStream: the stream sends the events and the state as work runs, and
// the monitor stays subscribed for Linger after its client leaves.
func TestStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{MaxParallel: 4})
		g := newGated(t, s, "sync", scheduler.Options[call]{Running: scheduler.ByKey,
			Registration: scheduler.ByKey, Dedupe: scheduler.UntilDone})
		m := newMonitor(t, s, Config{Interval: 100 * time.Millisecond, Linger: time.Second})
		require.False(t, m.subscribed())

		w, cancel, done := openStream(m, "/stream")
		synctest.Wait()
		require.Equal(t, "text/event-stream", w.Header().Get("Content-Type"))
		msgs := w.drain()
		require.Len(t, msgs, 2, "a state and an (empty) batch at once")
		require.Equal(t, Slots{Max: 4}, msgs[0].state(t).Slots)
		b := msgs[1].batch(t)
		require.Empty(t, b.Events)
		require.True(t, b.Watching)
		require.True(t, m.subscribed())

		inv := g.submit(t, "a", "a", "a")[0] // two collapse into the first
		<-g.started
		synctest.Wait()
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		msgs = w.drain()
		require.Len(t, msgs, 2)
		b = msgs[0].batch(t)
		var changes []string
		deduped := 0
		for _, s := range states(b.Events, inv.ID()) {
			if strings.HasPrefix(s, "+") {
				deduped++ // its state is whatever it was when the dispatcher saw it
				continue
			}
			changes = append(changes, s)
		}
		require.Equal(t, []string{"queued", "pending", "running"}, changes)
		require.Equal(t, 2, deduped)
		require.Equal(t, "5", msgs[0].id, "the SSE id is the batch's Last")
		st := msgs[1].state(t)
		require.Equal(t, Stats{Submitted: 3, Deduped: 2, Running: 1, Actors: 1}, st.Stats)
		require.Equal(t, Slots{Used: 1, Max: 4}, st.Slots)
		require.Equal(t, 1, st.Streams)

		// Nothing changes: nothing is sent.
		time.Sleep(time.Second)
		synctest.Wait()
		require.Empty(t, w.drain())

		close(g.release)
		<-inv.Done()
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		msgs = w.drain()
		require.Len(t, msgs, 2)
		require.Equal(t, []string{"succeeded"}, states(msgs[0].batch(t).Events, inv.ID()))
		require.Equal(t, uint64(1), msgs[1].state(t).Stats.Succeeded)

		// The client leaves: the monitor stays subscribed for Linger, then
		// unsubscribes at the next event.
		cancel()
		<-done
		require.True(t, m.subscribed())
		inv2 := g.submit(t, "b")[0]
		<-inv2.Done()
		require.True(t, m.subscribed(), "within Linger")
		require.Equal(t, uint64(10), m.ring.head.Load(), "and recording")
		time.Sleep(time.Second)
		<-g.submit(t, "c")[0].Done()
		require.False(t, m.subscribed())
		require.Equal(t, uint64(11), m.ring.head.Load(), "nothing recorded once nobody watches, but the watch's end")
	})
}

// TestStreamResume: a stream that starts after a sequence number, from
// Last-Event-ID or ?after=, gets only what followed.
func TestStreamResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		g := newGated(t, s, "sync", scheduler.Options[call]{Running: scheduler.ByKey})
		close(g.release)
		m := newMonitor(t, s, Config{})
		_, cancel, done := openStream(m, "/stream") // keeps the monitor subscribed
		defer func() { cancel(); <-done }()
		synctest.Wait()
		for _, inv := range g.submit(t, "a", "b") {
			<-inv.Done()
		}
		synctest.Wait()

		tests := []struct {
			name     string
			target   string
			header   string
			want     int
			reset    bool
			badInput bool
		}{
			{"all", "/stream", "", 8, false, false},
			{"after", "/stream?after=5", "", 3, false, false},
			{"Last-Event-ID", "/stream", "6", 2, false, false},
			{"Last-Event-ID over ?after=", "/stream?after=2", "6", 2, false, false},
			{"unknown: afresh", "/stream?after=99", "", 8, true, false},
			{"bad", "/stream?after=-1", "", 0, false, true},
		}
		for _, tc := range tests { // no t.Run in a synctest bubble
			ctx, cancel := context.WithCancel(context.Background())
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, tc.target, nil)
			if tc.header != "" {
				req.Header.Set("Last-Event-ID", tc.header)
			}
			w := newStreamWriter()
			done := make(chan struct{})
			go func() { defer close(done); m.ServeHTTP(w, req) }()
			synctest.Wait()
			cancel()
			<-done
			if tc.badInput {
				require.Equal(t, http.StatusBadRequest, w.code, tc.name)
				continue
			}
			msgs := only(w.drain(), "events")
			require.Len(t, msgs, 1, tc.name)
			b := msgs[0].batch(t)
			require.Len(t, b.Events, tc.want, tc.name)
			require.Equal(t, tc.reset, b.Reset, tc.name)
			require.Equal(t, uint64(8), b.Events[len(b.Events)-1].Seq, tc.name)
		}
	})
}

// TestViewersShareOneSubscription: the monitor stays subscribed while any
// stream is open, and for Linger after the last.
func TestViewersShareOneSubscription(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		task, err := scheduler.NewTask(s, "t", func(context.Context, int) (int, error) { return 0, nil },
			scheduler.Options[int]{})
		require.NoError(t, err)
		m := newMonitor(t, s, Config{Linger: time.Second})
		_, cancel1, done1 := openStream(m, "/stream")
		_, cancel2, done2 := openStream(m, "/stream")
		synctest.Wait()
		require.True(t, m.subscribed())
		sub := m.sub.Load()
		cancel1()
		<-done1
		time.Sleep(30 * time.Second) // past Linger, within MaxStreamAge
		run(t, task)
		require.Same(t, sub, m.sub.Load(), "one viewer left: the same subscription")
		cancel2()
		<-done2
		run(t, task)
		require.True(t, m.subscribed(), "within Linger of the last")
		time.Sleep(time.Second)
		run(t, task)
		require.False(t, m.subscribed())
	})
}

// run runs one invocation of task to its end.
func run(t *testing.T, task *scheduler.Task[int, int]) {
	t.Helper()
	inv, err := task.Submit(context.Background(), 0)
	require.NoError(t, err)
	<-inv.Done()
}

// TestRingBounded: however many events, the monitor keeps Events of them
// and counts the rest by state.
func TestRingBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		task, err := scheduler.NewTask(s, "t", func(context.Context, int) (int, error) { return 0, nil },
			scheduler.Options[int]{})
		require.NoError(t, err)
		m := newMonitor(t, s, Config{Events: 8})
		var b Batch
		get(t, m, "/events.json", &b) // subscribe
		for range 25 {
			run(t, task)
		}
		synctest.Wait()
		get(t, m, "/events.json?after=0", &b)
		require.Len(t, b.Events, 8)
		require.Equal(t, uint64(100), b.Last, "4 events per invocation")
		require.Equal(t, uint64(92), b.Missed)
		require.Equal(t, uint64(93), b.Events[0].Seq)
		st := getState(t, m)
		require.Equal(t, 8, st.Events.Kept)
		require.Equal(t, 8, st.Events.Capacity)
		require.Equal(t, map[string]uint64{"queued": 23, "pending": 23, "running": 23, "succeeded": 23}, st.Events.Evicted)
	})
}

func TestRing(t *testing.T) {
	r := newRing(4)
	events, last, missed, reset := r.since(0, 0)
	require.Empty(t, events)
	require.Zero(t, last)
	require.Zero(t, missed)
	require.False(t, reset)
	r.begin(time.Now())
	for i := range 10 {
		if i%2 == 0 {
			r.add(Event{State: "running", Deduped: true}, kindDeduped)
		} else {
			r.add(Event{State: "running"}, int(scheduler.Running))
		}
	}
	require.Zero(t, unsafe.Sizeof(slot{})%64, "a slot shares no cache line with the next")
	tests := []struct {
		after, upTo uint64
		seqs        []uint64
		last        uint64
		missed      uint64
		reset       bool
	}{
		{0, 0, []uint64{7, 8, 9, 10}, 10, 6, false},
		{6, 0, []uint64{7, 8, 9, 10}, 10, 0, false},
		{8, 0, []uint64{9, 10}, 10, 0, false},
		{6, 8, []uint64{7, 8}, 8, 0, false},
		{10, 0, nil, 10, 0, false},
		{11, 0, []uint64{7, 8, 9, 10}, 10, 6, true},
	}
	for _, tc := range tests {
		events, last, missed, reset := r.since(tc.after, tc.upTo)
		var seqs []uint64
		for _, e := range events {
			seqs = append(seqs, e.Seq)
		}
		require.Equal(t, tc.seqs, seqs, "after %d", tc.after)
		require.Equal(t, tc.last, last, "after %d", tc.after)
		require.Equal(t, tc.missed, missed, "after %d", tc.after)
		require.Equal(t, tc.reset, reset, "after %d", tc.after)
	}
	require.Equal(t, map[string]uint64{"deduped": 3, "running": 3}, r.info().Evicted)
	require.Equal(t, uint64(6), r.evictedTotal())

	// The watch ends: its events are no longer given, and a reader of it
	// is told to start afresh; the next watch starts after a marker.
	r.end()
	events, last, _, reset = r.since(10, 0)
	require.Empty(t, events)
	require.True(t, reset)
	require.Equal(t, uint64(11), last)
	require.False(t, r.info().Watching)
	r.begin(time.Now())
	require.Zero(t, r.evictedTotal())
	require.Zero(t, r.info().Kept)
	r.add(Event{State: "queued"}, int(scheduler.Queued))
	events, last, _, reset = r.since(10, 0)
	require.True(t, reset, "10 was of the earlier watch")
	require.Len(t, events, 1)
	require.Equal(t, uint64(13), events[0].Seq, "Seqs are never reused: 11 ended a watch, 12 began one")
	require.Equal(t, uint64(13), last)
	events, _, _, reset = r.since(12, 0)
	require.False(t, reset, "12 is where this watch began")
	require.Len(t, events, 1)
}

// TestPage: the page is self-contained HTML with the elements its script
// fills in, and works under any mount point.
func TestPage(t *testing.T) {
	s := newScheduler(t, scheduler.Config{})
	m := newMonitor(t, s, Config{})
	mux := http.NewServeMux()
	mux.Handle("/debug/perkey/", http.StripPrefix("/debug/perkey", m))
	mux.Handle("/raw/", m)
	for _, target := range []string{"/debug/perkey/", "/raw/", "/raw/index.html"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		require.Equal(t, http.StatusOK, w.Code, target)
		require.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
		doc, err := html.Parse(strings.NewReader(w.Body.String()))
		require.NoError(t, err)
		ids := map[string]bool{}
		scripts := 0
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode {
				continue
			}
			for _, a := range n.Attr {
				switch a.Key {
				case "id":
					ids[a.Val] = true
				case "src", "href", "style":
					t.Fatalf("%s: <%s %s=%q>: the page must fetch nothing and need no inline style attribute", target, n.Data, a.Key, a.Val)
				}
			}
			if n.Data == "script" {
				scripts++
			}
			require.NotContains(t, []string{"link", "img", "iframe"}, n.Data)
		}
		require.Equal(t, 1, scripts, "one inline script")
		for _, id := range []string{"conn", "slots-used", "slots-max", "keys", "timeline", "stat-running", "stat-queued",
			"stat-pending", "stat-succeeded", "stat-failed", "stat-dropped", "stat-expired", "stat-canceled", "stat-deduped",
			"stat-submitted", "stat-actors", "stat-hook_panics", "watch", "workers-card", "workers", "workers-info"} {
			require.True(t, ids[id], "%s: #%s", target, id)
		}
		body := w.Body.String()
		require.NotContains(t, body, "http://")
		require.NotContains(t, body, "https://")
		require.NotContains(t, body, "location.", "URLs relative to the document, never built from location")
		require.Contains(t, body, "new EventSource('stream'")
	}
	// Every endpoint under a prefix.
	var st State
	get(t, mux, "/debug/perkey/state.json", &st)
	require.Equal(t, s.MaxParallel(), st.Slots.Max)
	var b Batch
	get(t, mux, "/raw/events.json", &b)
}

func TestBadInput(t *testing.T) {
	_, err := New(nil, Config{})
	require.ErrorIs(t, err, ErrNilScheduler)
	require.ErrorIs(t, err, ErrInvalid)

	s := newScheduler(t, scheduler.Config{})
	for _, cfg := range []Config{{Keys: -1}, {Events: -1}, {Window: -1}, {Interval: -1}, {Linger: -1},
		{MaxText: -1}, {MaxStreams: -1}, {MaxStreamAge: -1}} {
		_, err := New(s, cfg)
		require.ErrorIs(t, err, ErrBadConfig, "%+v", cfg)
	}

	w := httptest.NewRecorder()
	Handler(nil).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	require.Equal(t, http.StatusInternalServerError, w.Code)
	require.Contains(t, w.Body.String(), ErrNilScheduler.Error())

	w = httptest.NewRecorder()
	Handler(s).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/state.json", nil))
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	require.Equal(t, "GET, HEAD", w.Header().Get("Allow"))
}

// TestThrottledEvents: a wait for a Rate token reaches events.json as an
// event of its own, which the page draws as a segment.
func TestThrottledEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		task, err := scheduler.NewTask(s, "rated", func(context.Context, int) (int, error) { return 0, nil },
			scheduler.Options[int]{Running: scheduler.ByKey, Rate: 10, Key: func(int) string { return "acme" }})
		require.NoError(t, err)
		m := newMonitor(t, s, Config{})
		get(t, m, "/events.json", nil)
		first, err := task.Submit(context.Background(), 1)
		require.NoError(t, err)
		second, err := task.Submit(context.Background(), 2)
		require.NoError(t, err)
		<-first.Done()
		<-second.Done()
		var b Batch
		get(t, m, "/events.json?after=0", &b)
		var got []string
		for _, e := range b.Events {
			if e.ID == second.ID() {
				s := e.State
				if e.Throttled {
					s = "throttled"
				}
				got = append(got, s)
			}
		}
		require.Equal(t, []string{"queued", "throttled", "pending", "running", "succeeded"}, got)
	})
}
