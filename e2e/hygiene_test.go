package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/monitor"
	"github.com/perkey/perkey/scheduler"
)

// TestMonitorURLsRelative: with the monitor mounted at the root, a link
// whose path starts with //other-host/ must not make the page load its
// data from that host (issue 16, item 7). The other host here serves a
// monitor of its own with permissive CORS, as an attacker would.
func TestMonitorURLsRelative(t *testing.T) {
	ctx := newBrowser(t)
	real := startMonitor(t, 4, nil)
	evil := startMonitor(t, 7, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			h.ServeHTTP(w, r)
		})
	})
	evilHost := strings.TrimPrefix(evil.URL, "http://")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(real.URL+"//"+evilHost+"/"),
		chromedp.WaitReady(chromedp.CSS(`#conn[data-state="live"]`)),
	))
	waitFor(t, ctx, "the real scheduler's slots", `document.querySelector('#slots-max').dataset.value !== '0'`)
	require.Equal(t, "4", text(t, ctx, "#slots-max"), "the page must read its own server, not "+evilHost)
}

// startMonitor serves a monitor of a new scheduler with maxParallel
// slots, wrapped by wrap if not nil.
func startMonitor(t *testing.T, maxParallel int, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	s, err := scheduler.New(scheduler.Config{MaxParallel: maxParallel})
	require.NoError(t, err)
	t.Cleanup(func() { closeScheduler(t, s) })
	mon, err := monitor.New(s, monitor.Config{Interval: 50 * time.Millisecond})
	require.NoError(t, err)
	var h http.Handler = mon
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(mon.Close)
	return srv
}

// refreshPage starts a scheduler with a "refresh" task whose calls wait
// for release and whose duplicates collapse until done, and opens its
// monitor's page in the browser.
func refreshPage(t *testing.T, ctx context.Context) (task *scheduler.Task[call, string], release chan struct{}) {
	t.Helper()
	s, err := scheduler.New(scheduler.Config{MaxParallel: 4})
	require.NoError(t, err)
	t.Cleanup(func() { closeScheduler(t, s) })
	release = make(chan struct{})
	task, err = scheduler.NewTask(s, "refresh", func(ctx context.Context, c call) (string, error) {
		select {
		case <-release:
			return c.Op, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}, scheduler.Options[call]{Running: scheduler.ByKey, Registration: scheduler.ByKey, Dedupe: scheduler.UntilDone,
		Key: func(c call) string { return c.Account }, Label: func(c call) string { return c.Op }})
	require.NoError(t, err)
	mon, err := monitor.New(s, monitor.Config{Interval: 50 * time.Millisecond, Events: 16384})
	require.NoError(t, err)
	srv := httptest.NewServer(mon)
	t.Cleanup(srv.Close)
	t.Cleanup(mon.Close)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitReady(chromedp.CSS(`#conn[data-state="live"]`)),
	))
	return task, release
}

// TestMonitorPageDedupes: the page aggregates the dedupes of an
// invocation: a count with the first and the last, not one mark each
// (issue 16, item 6).
func TestMonitorPageDedupes(t *testing.T) {
	ctx := newBrowser(t)
	task, release := refreshPage(t, ctx)
	const dupes = 5000
	var first *scheduler.Invocation[string]
	for i := range dupes + 1 {
		inv, err := task.Submit(t.Context(), call{"acme", "refresh_usage"})
		require.NoError(t, err)
		if i == 0 {
			first = inv
		}
	}
	waitFor(t, ctx, "+5000 deduped", `(function () { var c = document.querySelector('#timeline text.dedupe-count');
		return !!c && c.textContent === '+5000 deduped'; })()`)
	require.LessOrEqual(t, count(t, ctx, "#timeline path.dedupe"), 2, "the first and the last dedupe, not 5000 marks")
	close(release)
	_, err := first.Wait(t.Context())
	require.NoError(t, err)
	waitFor(t, ctx, "succeeded", `document.querySelectorAll('#timeline g.bar[data-state=succeeded]').length === 1`)
	require.LessOrEqual(t, count(t, ctx, "#timeline path.dedupe"), 2)
	screenshot(t, ctx, "monitor-dedupes.png")
}

// TestMonitorTooltipsClean: keys and labels are shown as inert, cleaned
// text, so that no newline or right-to-left override can make a tooltip
// say what is not so (issue 16, item 9).
func TestMonitorTooltipsClean(t *testing.T) {
	ctx := newBrowser(t)
	task, release := refreshPage(t, ctx)
	inv, err := task.Submit(t.Context(), call{"acme\u202eevil", "pending\nsucceeded"})
	require.NoError(t, err)
	waitFor(t, ctx, "its bar", `document.querySelectorAll('#timeline g.bar').length === 1`)
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#timeline g.bar title').textContent`))
	require.NoError(t, err)
	require.NotContains(t, title, "\u202e", "no bidirectional override reaches the tooltip")
	lines := strings.Split(title, "\n")
	require.Equal(t, `#`+itoa(inv.ID())+` refresh · acme\u202eevil · pending\nsucceeded`, lines[0],
		"key and label on one line, their hidden characters shown as escapes")
	waitFor(t, ctx, "its key in the table", `document.querySelectorAll('#keys tbody tr').length === 1`)
	row, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#keys tbody tr td:nth-child(2)').textContent`))
	require.NoError(t, err)
	require.Equal(t, `acme\u202eevil`, row)
	close(release)
	_, err = inv.Wait(t.Context())
	require.NoError(t, err)
}

// TestMonitorPageRetriesWhenFull: a page refused because MaxStreams are
// open says so, and goes live once a place frees up.
func TestMonitorPageRetriesWhenFull(t *testing.T) {
	ctx := newBrowser(t)
	s, err := scheduler.New(scheduler.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { closeScheduler(t, s) })
	mon, err := monitor.New(s, monitor.Config{MaxStreams: 1})
	require.NoError(t, err)
	srv := httptest.NewServer(mon)
	t.Cleanup(srv.Close)
	t.Cleanup(mon.Close)

	other, cancel := chromedp.NewContext(ctx) // a second tab
	defer cancel()
	require.NoError(t, chromedp.Do(other,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitReady(chromedp.CSS(`#conn[data-state="live"]`)),
	))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	waitFor(t, ctx, "refused: reconnecting", `document.querySelector('#conn').dataset.state === 'reconnecting'`)
	require.NoError(t, chromedp.Do(other, chromedp.Navigate("about:blank")))
	waitFor(t, ctx, "live once the other tab left", `document.querySelector('#conn').dataset.state === 'live'`)
}
