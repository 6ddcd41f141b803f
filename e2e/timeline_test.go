package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
	"github.com/perkey/perkey/timeline"
)

// hold is the provider's hold in the scenarios below: short, and long
// enough for the keyed guards to matter.
const hold = 40 * time.Millisecond

type call struct{ Account, Op string }

// scenario is one of the reference's scenarios, as the sim runs it.
type scenario struct {
	title string
	opts  scheduler.Options[call]
	plan  []call
}

// scenarios are A to D: 12 calls unguarded, keyed with wait, keyed with
// drop, and 24 refreshes deduplicated by account; then G: 4 calls per
// account, keyed, at most 10 starts per second per account, so that each
// call after an account's first waits for a rate token.
func scenarios() []scenario {
	accounts := []string{"acme", "globex", "initech"}
	var each, refreshes []call
	for _, op := range []string{"fetch_profile", "list_invoices", "refresh_usage", "update_metadata"} {
		for _, a := range accounts {
			each = append(each, call{a, op})
		}
	}
	for range 8 {
		for _, a := range accounts {
			refreshes = append(refreshes, call{a, "refresh_usage"})
		}
	}
	key := func(c call) string { return c.Account }
	op := func(c call) string { return c.Op }
	return []scenario{
		{"A. unsafe", scheduler.Options[call]{Key: key, Label: op}, each},
		{"B. keyed", scheduler.Options[call]{Running: scheduler.ByKey, Key: key, Label: op}, each},
		{"C. drop", scheduler.Options[call]{Running: scheduler.ByKey, OnBusy: scheduler.Drop, Key: key, Label: op}, each},
		{"D. dedupe", scheduler.Options[call]{Registration: scheduler.ByKey, Running: scheduler.ByKey,
			Dedupe: scheduler.UntilDone, Key: key, Label: op}, refreshes},
		{"G. rate", scheduler.Options[call]{Running: scheduler.ByKey, Rate: rate.Every(100 * time.Millisecond),
			Key: key, Label: op}, each},
	}
}

// recordScenarios runs A to D on a real scheduler against an in-process
// provider, recording a timeline, and returns the page's path.
func recordScenarios(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	srv, err := provider.Start(provider.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	client, err := provider.NewClient(srv.URL(), provider.ClientConfig{MaxIdleConns: 9})
	require.NoError(t, err)
	t.Cleanup(client.Close)

	rec, err := timeline.New(timeline.Config{Title: "e2e: scenarios A to D"})
	require.NoError(t, err)
	s, err := scheduler.New(scheduler.Config{MaxParallel: 8, OnEvent: rec.Record})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })

	for i, sc := range scenarios() {
		task, err := scheduler.NewTask(s, "task_"+strconv.Itoa(i),
			func(ctx context.Context, c call) (provider.Outcome, error) {
				return client.Call(ctx, c.Account, c.Op, hold)
			}, sc.opts)
		require.NoError(t, err)
		sec := rec.Section(sc.title)
		var invs []*scheduler.Invocation[provider.Outcome]
		for _, c := range sc.plan {
			inv, err := task.Submit(ctx, c)
			require.NoError(t, err)
			invs = append(invs, inv)
		}
		collisions := 0
		for _, inv := range invs {
			out, err := inv.Wait(ctx)
			if err != nil {
				require.ErrorIs(t, err, scheduler.ErrDropped)
			}
			if out == provider.Collision {
				rec.Annotate(inv.ID(), "collision") // as the sim does
				collisions++
			}
		}
		sec.SetSummary(strconv.Itoa(len(sc.plan)) + " enqueued, " + strconv.Itoa(collisions) + " collisions")
	}
	path := filepath.Join(t.TempDir(), "timeline.html")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, errors.Join(rec.Render(f), f.Close()))
	return path
}

// TestTimelineInBrowser loads the timeline page of A to D and counts, in
// the browser's DOM, what the scenarios must show.
func TestTimelineInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	page := recordScenarios(t)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate("file://"+page),
		chromedp.WaitReady(chromedp.CSS("section.section svg.timeline")),
	))
	tests := []struct {
		selector string
		want     int
	}{
		{"section.section", 5},
		{"svg.timeline", 5},
		{"svg.timeline g.bar", 12 + 12 + 12 + 3 + 12},
		{"svg.timeline g.lane", 5 * 3},
		{"svg.timeline g.bar .mark.succeeded", 12 + 12 + 3 + 3 + 12},
		{"svg.timeline g.bar .mark.dropped", 9},
		{"svg.timeline g.bar .mark", 12 + 12 + 12 + 3 + 12}, // every bar ends in one mark
		{"section.section:nth-of-type(4) svg.timeline g.bar", 3},
		{"section.section:nth-of-type(3) svg.timeline g.bar[data-state=dropped]", 9},
		// G: each account's calls after its first wait for a rate token.
		{"section.section:nth-of-type(5) svg.timeline rect.seg.throttled", 3 * 3},
		// No collision where the key is guarded.
		{"section.section:nth-of-type(n+2) svg.timeline path.note", 0},
		{"script, link, img, iframe, [src]", 0}, // nothing to fetch: the page works offline
		// In memory, events name no process: nothing names one.
		{"[data-worker], p.workers, g.legend-item[data-item^=worker]", 0},
		{`g.legend-item[data-item="running"]`, 1},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, count(t, ctx, tc.selector), tc.selector)
	}

	// D: 21 dedupes, drawn as a count per bar with its first and last.
	dedupes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(
		'section.section:nth-of-type(4) text.dedupe-count')).map(function (e) { return e.textContent; })`))
	require.NoError(t, err)
	require.Equal(t, []string{"+7 deduped", "+7 deduped", "+7 deduped"}, dedupes)
	require.LessOrEqual(t, count(t, ctx, "section.section:nth-of-type(4) path.dedupe"), 6)

	// A: every call the provider answered "collision" is marked, and the
	// legend says what the mark means.
	summary, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('section.section p.summary').textContent`))
	require.NoError(t, err)
	collisions, err := strconv.Atoi(strings.TrimSuffix(strings.Split(summary, ", ")[1], " collisions"))
	require.NoError(t, err)
	require.Positive(t, collisions, "A is unguarded: the provider saw collisions")
	require.Equal(t, collisions, count(t, ctx, `section.section:nth-of-type(1) path.note[data-note="collision"]`))
	require.Equal(t, 1, count(t, ctx, `svg.legend g.legend-item[data-item="note:collision"]`))
	require.Equal(t, 1, count(t, ctx, `svg.legend g.legend-item[data-item="throttled"]`))

	// B's lanes are serial: the running segments of a lane never overlap.
	overlaps, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(function () {
		var n = 0;
		document.querySelectorAll('section.section:nth-of-type(2) g.lane').forEach(function (lane) {
			var segs = Array.from(lane.querySelectorAll('rect.seg.running')).map(function (r) {
				return [+r.getAttribute('x'), +r.getAttribute('x') + +r.getAttribute('width')];
			}).sort(function (a, b) { return a[0] - b[0]; });
			for (var i = 1; i < segs.length; i++) if (segs[i][0] < segs[i-1][1] - 0.5) n++;
		});
		return n;
	})()`))
	require.NoError(t, err)
	require.Zero(t, overlaps, "B's running segments overlap within a lane")

	// Hovering shows the ID, the operation and each phase's duration.
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.querySelector('section.section:nth-of-type(2) g.bar title').textContent`))
	require.NoError(t, err)
	require.Regexp(t, `^#\d+ task_1 · acme · fetch_profile\nqueued \S+\npending \S+\nrunning \d+(\.\d+)?ms\nsucceeded at \+`, title)

	screenshot(t, ctx, "timeline.png")
}
