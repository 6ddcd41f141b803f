package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/internal/pgtest"
	"github.com/perkey/perkey/monitor"
	"github.com/perkey/perkey/postgres"
	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
	"github.com/perkey/perkey/timeline"
)

// clusterWorkers are the worker processes of the run across processes:
// schedulers of their own on one schema, each with its own Backend, as
// separate processes would be. Each runs one call at a time, so that B's
// three accounts, ready at once, are served by several of them.
var clusterWorkers = []string{"w1", "w2", "w3"}

// cluster is a run of scenario B across processes on PostgreSQL: a
// submitter that runs nothing and records the cluster's events, and the
// workers that run the calls.
type cluster struct {
	submitter *scheduler.Scheduler
	keyed     *scheduler.Task[call, provider.Outcome] // the submitter's
	probes    map[string]*scheduler.Task[struct{}, string]
	rec       *timeline.Recorder

	mu     sync.Mutex
	probed chan scheduler.Event   // the probes' events
	finals chan struct{}          // one per final event of keyed
	byKey  map[string][]admission // keyed's admissions, by account
}

// admission is when one invocation of a key was admitted (Pending, from
// then on it holds the key) and when it ended.
type admission struct {
	id       uint64
	from, to time.Time
}

// observe is the submitter's OnEvent: probes to the probe channel, the
// scenario to the recorder and to the admissions.
func (c *cluster) observe(ev scheduler.Event) {
	if strings.HasPrefix(ev.Task, "probe_") {
		c.probed <- ev
		return
	}
	c.rec.Record(ev)
	c.mu.Lock()
	defer c.mu.Unlock()
	adm := c.byKey[ev.Key]
	switch {
	case ev.Deduped || ev.Throttled:
	case ev.State == scheduler.Pending:
		c.byKey[ev.Key] = append(adm, admission{id: ev.ID, from: ev.Time})
	case ev.State.Final():
		for i := range adm {
			if adm[i].id == ev.ID {
				adm[i].to = ev.Time
			}
		}
		c.finals <- struct{}{}
	}
}

// startCluster opens the submitter and the workers on a schema of their
// own, and returns once every worker's events reach the submitter.
func startCluster(t *testing.T, client *provider.Client) *cluster {
	t.Helper()
	ctx := t.Context()
	url := pgtest.URL(t) // skips without the server binaries, fails in CI
	schema := pgtest.Schema(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		require.NoError(t, err)
		pool.Close()
	})
	rec, err := timeline.New(timeline.Config{Title: "e2e: B across 3 worker processes on PostgreSQL"})
	require.NoError(t, err)
	c := &cluster{rec: rec, probes: map[string]*scheduler.Task[struct{}, string]{},
		probed: make(chan scheduler.Event, 1024), finals: make(chan struct{}, 64), byKey: map[string][]admission{}}

	open := func(name string, parallel int, submitOnly bool, onEvent func(scheduler.Event)) *scheduler.Scheduler {
		backend, err := postgres.Open(ctx, pool, postgres.Config{Schema: schema, Worker: name, SubmitOnly: submitOnly,
			PollInterval: 100 * time.Millisecond})
		require.NoError(t, err)
		s, err := scheduler.New(scheduler.Config{MaxParallel: parallel, Backend: backend, OnEvent: onEvent})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
		return s
	}
	key := func(c call) string { return c.Account }
	op := func(c call) string { return c.Op }
	keyed := func(s *scheduler.Scheduler) *scheduler.Task[call, provider.Outcome] {
		task, err := scheduler.NewTask(s, "keyed", func(ctx context.Context, c call) (provider.Outcome, error) {
			return client.Call(ctx, c.Account, c.Op, hold)
		}, scheduler.Options[call]{Running: scheduler.ByKey, Key: key, Label: op})
		require.NoError(t, err)
		return task
	}
	probe := func(s *scheduler.Scheduler, worker string) *scheduler.Task[struct{}, string] {
		// A task only this worker runs: the submitter registers it too, to
		// submit it, and runs nothing.
		task, err := scheduler.NewTask(s, "probe_"+worker, func(context.Context, struct{}) (string, error) { return worker, nil },
			scheduler.Options[struct{}]{})
		require.NoError(t, err)
		return task
	}

	c.submitter = open("submitter", 1, true, c.observe)
	for _, w := range clusterWorkers {
		c.probes[w] = probe(c.submitter, w)
	}
	for _, w := range clusterWorkers {
		// A worker that listens publishes its events from its start.
		s := open(w, 1, false, func(scheduler.Event) {})
		probe(s, w)
		keyed(s)
	}
	for _, w := range clusterWorkers {
		c.awaitPublishing(t, w)
	}
	c.keyed = keyed(c.submitter)
	return c
}

// awaitPublishing probes worker until the submitter hears of a probe's
// whole life, its Queued event (the submitter's) and its final event
// (the worker's): from then on, both publish what they do.
func (c *cluster) awaitPublishing(t *testing.T, worker string) {
	t.Helper()
	ctx := t.Context()
	for range 50 {
		inv, err := c.probes[worker].Submit(ctx, struct{}{})
		require.NoError(t, err)
		ran, err := inv.Wait(ctx)
		require.NoError(t, err)
		require.Equal(t, worker, ran)
		queued := false
		timeout := time.NewTimer(2 * time.Second) // a final event comes just after Wait, or was not published
	probe:
		for {
			select {
			case ev := <-c.probed:
				if ev.ID != inv.ID() {
					continue
				}
				if ev.State == scheduler.Queued {
					queued = true
				}
				if ev.State.Final() {
					timeout.Stop()
					if queued && ev.Worker == worker {
						return
					}
					break probe
				}
			case <-timeout.C:
				break probe
			}
		}
	}
	t.Fatalf("%s's events never reached the submitter", worker)
}

// TestTimelineAcrossProcesses runs scenario B across three worker
// processes on PostgreSQL, watched by the monitor of the submitter, and
// loads the monitor and the timeline in the browser: the three accounts
// are served by several workers, each bar names the worker that ran it,
// and no two calls of one account overlap.
func TestTimelineAcrossProcesses(t *testing.T) {
	srv, err := provider.Start(provider.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	client, err := provider.NewClient(srv.URL(), provider.ClientConfig{MaxIdleConns: 4})
	require.NoError(t, err)
	t.Cleanup(client.Close)
	c := startCluster(t, client)

	mon, err := monitor.New(c.submitter, monitor.Config{Interval: 50 * time.Millisecond})
	require.NoError(t, err)
	msrv := httptest.NewServer(mon)
	t.Cleanup(msrv.Close)
	t.Cleanup(mon.Close) // runs first: ends the page's stream

	ctx := newBrowser(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(msrv.URL+"/"),
		chromedp.WaitReady(chromedp.CSS(`#conn[data-state="live"]`)),
	))
	waitFor(t, ctx, "the monitor watches", `+document.querySelector('#watch').dataset.since > 0`)
	require.Equal(t, 1, count(t, ctx, "#workers-card[hidden]"), "no process named yet: no table")

	// B: 4 calls for each of 3 accounts, keyed, submitted at once.
	sec := c.rec.Section("B. keyed — Running=ByKey(account), OnBusy=Wait")
	var invs []*scheduler.Invocation[provider.Outcome]
	for _, sc := range scenarios()[1].plan {
		inv, err := c.keyed.Submit(t.Context(), sc)
		require.NoError(t, err)
		invs = append(invs, inv)
	}
	for _, inv := range invs {
		out, err := inv.Wait(t.Context())
		require.NoError(t, err)
		require.Equal(t, provider.OK, out, "no collision: the key is guarded across processes")
	}
	for range invs {
		<-c.finals // a final event may come just after Wait
	}
	sec.SetSummary(fmt.Sprintf("%d enqueued, 0 collisions", len(invs)))

	// The events: an account's admissions never overlap.
	c.mu.Lock()
	for account, adm := range c.byKey {
		require.Len(t, adm, 4, account)
		for i := 1; i < len(adm); i++ {
			require.False(t, adm[i].from.Before(adm[i-1].to), "%s: #%d admitted before #%d ended", account, adm[i].id, adm[i-1].id)
		}
	}
	c.mu.Unlock()

	// The monitor: a table of the workers, whose runs add up to B's, and
	// bars that name them.
	waitFor(t, ctx, "the workers' 12 finished calls", `(function () {
		var n = 0;
		document.querySelectorAll('#workers tbody tr').forEach(function (tr) { n += +tr.dataset.finished; });
		return n === 12 && document.querySelectorAll('#timeline g.bar[data-state=succeeded][data-worker]').length === 12;
	})()`)
	require.Zero(t, count(t, ctx, "#workers-card[hidden]"))
	waitFor(t, ctx, "nothing left not yet seen once all ended", `document.querySelectorAll('#timeline g.unknown').length === 0`)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#workers tbody tr')).map(
		function (tr) { return tr.dataset.worker + ' running ' + tr.dataset.running + ' failed ' + tr.dataset.failed; })`))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rows), 2, "several workers: %v", rows)
	for _, r := range rows {
		require.Regexp(t, `^w[123] running 0 failed 0$`, r)
	}
	hover, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#timeline g.bar[data-worker] title').textContent`))
	require.NoError(t, err)
	require.Regexp(t, `^#\d+ keyed · (acme|globex|initech) · \w+ on w[123]\n`, hover)
	screenshot(t, ctx, "monitor-postgres.png")

	// The timeline.
	path := filepath.Join(t.TempDir(), "timeline.html")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, errors.Join(c.rec.Render(f), f.Close()))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate("file://"+path),
		chromedp.WaitReady(chromedp.CSS("section.section svg.timeline")),
	))
	require.Equal(t, 12, count(t, ctx, "svg.timeline g.bar[data-state=succeeded]"))
	require.Equal(t, 3, count(t, ctx, "svg.timeline g.lane"))

	// Each bar names the worker that ran it, as its running segment does.
	workers, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('svg.timeline g.bar')).map(
		function (b) {
			var runs = Array.from(b.querySelectorAll('rect.seg.running')).map(function (r) { return r.dataset.worker; });
			return b.dataset.worker + '=' + runs.join(',');
		})`))
	require.NoError(t, err)
	distinct := map[string]bool{}
	for _, w := range workers {
		name, runs, _ := strings.Cut(w, "=")
		require.Regexp(t, `^w[123]$`, name)
		require.Equal(t, name, runs, "one run, on the bar's worker")
		distinct[name] = true
	}
	require.GreaterOrEqual(t, len(distinct), 2, "B's accounts are served by several workers: %v", workers)

	// The section counts them: 12 runs in all, per worker as drawn.
	perWorker, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]int](`(function () {
		var out = {};
		document.querySelectorAll('p.workers span.worker').forEach(function (s) { out[s.dataset.worker] = +s.dataset.runs; });
		return out;
	})()`))
	require.NoError(t, err)
	drawn := map[string]int{}
	for _, w := range workers {
		name, _, _ := strings.Cut(w, "=")
		drawn[name]++
	}
	require.Equal(t, drawn, perWorker)

	// No two bars of one account overlap from their admission (pending)
	// to their end. (Per worker, a bar may overlap the worker's next one
	// by a few ms: the database stamps a final event when the worker's
	// batch of completions commits, which may come after its next claim.)
	overlaps, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(function () {
		var out = [];
		function check(what, spans) {
			spans.sort(function (a, b) { return a[0] - b[0]; });
			for (var i = 1; i < spans.length; i++) if (spans[i][0] < spans[i-1][1] - 0.5) out.push(what + ': ' + spans[i-1] + ' and ' + spans[i]);
		}
		document.querySelectorAll('svg.timeline g.lane').forEach(function (lane) {
			check(lane.dataset.key, Array.from(lane.querySelectorAll('g.bar')).map(function (b) {
				var segs = Array.from(b.querySelectorAll('rect.seg.pending, rect.seg.running'));
				var first = segs[0], last = segs[segs.length - 1];
				return [+first.getAttribute('x'), +last.getAttribute('x') + +last.getAttribute('width')];
			}));
		});
		return out;
	})()`))
	require.NoError(t, err)
	require.Empty(t, overlaps)
	screenshot(t, ctx, "timeline-e2e-postgres.png")
}
