package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/monitor"
	"github.com/perkey/perkey/scheduler"
)

// gatedCalls is a keyed task whose calls each wait for their own gate,
// named by their Op.
type gatedCalls struct {
	task    *scheduler.Task[call, string]
	gates   map[string]chan struct{}
	started chan string
}

func newGatedCalls(t *testing.T, s *scheduler.Scheduler, ops ...string) *gatedCalls {
	t.Helper()
	g := &gatedCalls{gates: map[string]chan struct{}{}, started: make(chan string, len(ops))}
	for _, op := range ops {
		g.gates[op] = make(chan struct{})
	}
	var err error
	g.task, err = scheduler.NewTask(s, "sync", func(ctx context.Context, c call) (string, error) {
		g.started <- c.Op
		select {
		case <-g.gates[c.Op]:
			return c.Op, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}, scheduler.Options[call]{Running: scheduler.ByKey, Key: func(c call) string { return c.Account },
		Label: func(c call) string { return c.Op }})
	require.NoError(t, err)
	return g
}

// closeScheduler closes s at the end of a test. A test that failed may
// leave calls blocked: after 10s their contexts are cancelled, so that the
// failure is reported rather than a hang.
func closeScheduler(t *testing.T, s *scheduler.Scheduler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.Close(ctx)
	if !t.Failed() {
		require.NoError(t, err)
	}
}

// startedOps waits for n calls to start and returns their ops, sorted.
func (g *gatedCalls) startedOps(n int) []string {
	var out []string
	for range n {
		out = append(out, <-g.started)
	}
	slices.Sort(out)
	return out
}

// getJSON fetches url and decodes its JSON into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// lastStates returns the last state events.json gives for each
// invocation, by ID.
func lastStates(b monitor.Batch) map[uint64]string {
	out := map[uint64]string{}
	for _, e := range b.Events {
		if !e.Deduped && !e.Throttled {
			out[e.ID] = e.State
		}
	}
	return out
}

// TestMonitorTellsTheTruth reproduces issue 14's first item the way it
// happened: a viewer watches while work runs, stops watching mid-run, the
// work moves on unseen, and the viewer comes back. The page and
// events.json must then agree with the scheduler: nothing that ended is
// drawn running, and work under way is not hidden behind "no work".
func TestMonitorTellsTheTruth(t *testing.T) {
	ctx := newBrowser(t)
	s, err := scheduler.New(scheduler.Config{MaxParallel: 4})
	require.NoError(t, err)
	t.Cleanup(func() { closeScheduler(t, s) })
	g := newGatedCalls(t, s, "a1", "b1", "c1", "a2", "b2")
	probe, err := scheduler.NewTask(s, "probe", func(context.Context, int) (int, error) { return 0, nil },
		scheduler.Options[int]{})
	require.NoError(t, err)
	mon, err := monitor.New(s, monitor.Config{Interval: 50 * time.Millisecond, Window: 10 * time.Second, Linger: 200 * time.Millisecond})
	require.NoError(t, err)
	srv := httptest.NewServer(mon)
	t.Cleanup(srv.Close)
	t.Cleanup(mon.Close)

	// Watch: three keys run, two calls wait behind them.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitReady(chromedp.CSS(`#conn[data-state="live"]`)),
	))
	invs := map[string]*scheduler.Invocation[string]{}
	for _, c := range []call{{"acme", "a1"}, {"globex", "b1"}, {"initech", "c1"}, {"acme", "a2"}, {"globex", "b2"}} {
		inv, err := g.task.Submit(t.Context(), c)
		require.NoError(t, err)
		invs[c.Op] = inv
	}
	require.Equal(t, []string{"a1", "b1", "c1"}, g.startedOps(3))
	waitFor(t, ctx, "3 running and 2 queued bars", `document.querySelectorAll('#timeline g.bar[data-state=open]').length === 5 &&
		document.querySelectorAll('#timeline rect.seg.running').length === 3 &&
		document.querySelector('#stat-running').dataset.value === '3'`)

	// Stop watching mid-run. Once Linger has passed, the next event ends
	// the monitor's watch; probes make events until it has.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")))
	deadline := time.Now().Add(30 * time.Second)
	pace := time.NewTicker(10 * time.Millisecond) // a probe per tick, not a flood
	defer pace.Stop()
	for range pace.C {
		var st monitor.State
		getJSON(t, srv.URL+"/state.json", &st)
		if !st.Events.Watching {
			break
		}
		require.True(t, time.Now().Before(deadline), "the monitor still watches 30s after the page left")
		inv, err := probe.Submit(t.Context(), 0)
		require.NoError(t, err)
		<-inv.Done()
	}

	// Unwatched, the first calls end and the second ones start.
	for _, op := range []string{"a1", "b1", "c1"} {
		close(g.gates[op])
		_, err := invs[op].Wait(t.Context())
		require.NoError(t, err)
	}
	require.Equal(t, []string{"a2", "b2"}, g.startedOps(2))

	// Come back.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitReady(chromedp.CSS(`#conn[data-state="live"]`)),
	))
	waitFor(t, ctx, "the scheduler's counts: 2 running, 3+probes succeeded",
		`document.querySelector('#stat-running').dataset.value === '2' && document.querySelector('#stat-queued').dataset.value === '0'`)
	for _, op := range []string{"a1", "b1", "c1"} {
		n := count(t, ctx, `#timeline g.bar[data-id="`+itoa(invs[op].ID())+`"][data-state=open]`)
		require.Zero(t, n, "%s ended while nobody watched: the page must not draw it running", op)
	}
	require.Zero(t, count(t, ctx, `#timeline g.bar[data-state=open]`), "nothing is known to be open")
	waitFor(t, ctx, "the two calls under way, counted as not yet seen rather than hidden",
		`(function () { var u = document.querySelector('#timeline g.unknown'); return !!u && u.dataset.running === '2'; })()`)
	since, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#watch').dataset.since`))
	require.NoError(t, err)
	require.NotEqual(t, "0", since, "the page says since when it watches")
	require.Contains(t, text(t, ctx, "#watch"), "Watching since")

	var b monitor.Batch
	getJSON(t, srv.URL+"/events.json?after=0", &b)
	for id, st := range lastStates(b) {
		for op, inv := range invs {
			if inv.ID() == id {
				require.NotEqual(t, "running", st, "events.json says %s runs; the scheduler says %s", op, inv.State())
			}
		}
	}
	screenshot(t, ctx, "monitor-come-back.png")

	// The calls under way end: their bars show, with what was not watched
	// marked, and nothing stays open.
	for _, op := range []string{"a2", "b2"} {
		close(g.gates[op])
		_, err := invs[op].Wait(t.Context())
		require.NoError(t, err)
	}
	waitFor(t, ctx, "a2 and b2 succeeded, first seen at their end", `document.querySelectorAll('#timeline g.bar[data-early="1"][data-state=succeeded]').length === 2 &&
		document.querySelector('#stat-running').dataset.value === '0' && !document.querySelector('#timeline g.unknown')`)
	require.Zero(t, count(t, ctx, `#timeline g.bar[data-state=open]`))
	getJSON(t, srv.URL+"/events.json?after=0", &b)
	last := lastStates(b)
	for _, op := range []string{"a2", "b2"} {
		require.Equal(t, "succeeded", last[invs[op].ID()], op)
		require.Equal(t, scheduler.Succeeded, invs[op].State())
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
