package e2e

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/monitor"
	"github.com/perkey/perkey/scheduler"
)

// TestMonitorInBrowser loads the live monitor while work runs, and checks
// that its counts, keys and timeline follow the work without a reload.
func TestMonitorInBrowser(t *testing.T) {
	ctx := newBrowser(t)

	s, err := scheduler.New(scheduler.Config{MaxParallel: 4})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	started := make(chan string, 16)
	release := make(chan struct{})
	task, err := scheduler.NewTask(s, "sync",
		func(ctx context.Context, c call) (string, error) {
			started <- c.Account
			select {
			case <-release:
				return c.Op, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		},
		scheduler.Options[call]{Running: scheduler.ByKey, Key: func(c call) string { return c.Account },
			Label: func(c call) string { return c.Op }})
	require.NoError(t, err)

	mon, err := monitor.New(s, monitor.Config{Interval: 50 * time.Millisecond, Window: 3 * time.Second})
	require.NoError(t, err)
	srv := httptest.NewServer(mon)
	t.Cleanup(srv.Close)
	t.Cleanup(mon.Close) // runs first: ends the page's stream, so srv.Close need not wait

	// The page is live before any work.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitReady(chromedp.CSS(`#conn[data-state="live"]`)),
		chromedp.WaitReady(chromedp.CSS(`#slots-max[data-value="4"]`)),
		chromedp.Evaluate[chromedp.Void](`window.perkeyMarker = 'same page'`),
	))
	require.Equal(t, "0", text(t, ctx, "#stat-submitted"))

	// Three keys run one call each; three more calls wait behind them.
	var invs []*scheduler.Invocation[string]
	for i, a := range []string{"acme", "globex", "initech", "acme", "globex", "acme"} {
		inv, err := task.Submit(t.Context(), call{a, "op" + strconv.Itoa(i)})
		require.NoError(t, err)
		invs = append(invs, inv)
	}
	for range 3 {
		<-started
	}
	waitFor(t, ctx, "running 3, queued 3", `document.querySelector('#stat-running').dataset.value === '3' &&
		document.querySelector('#stat-queued').dataset.value === '3' &&
		document.querySelector('#slots-used').dataset.value === '3'`)
	waitFor(t, ctx, "acme first among the busiest keys",
		`(function () { var r = document.querySelector('#keys tbody tr'); return !!r && r.dataset.key === 'acme' &&
			r.querySelector('td.queued').textContent === '2' && r.querySelector('td.running').textContent === '1'; })()`)
	waitFor(t, ctx, "three running bars", `document.querySelectorAll('#timeline g.bar[data-state=open]').length === 6 &&
		document.querySelectorAll('#timeline rect.seg.running').length === 3`)
	require.Equal(t, 3, count(t, ctx, "#timeline g.lane"))
	screenshot(t, ctx, "monitor-running.png")

	// Let everything finish: the counts move on the same page.
	close(release)
	for _, inv := range invs {
		_, err := inv.Wait(t.Context())
		require.NoError(t, err)
	}
	waitFor(t, ctx, "six succeeded, nothing running", `document.querySelector('#stat-succeeded').dataset.value === '6' &&
		document.querySelector('#stat-running').dataset.value === '0' &&
		document.querySelector('#slots-used').dataset.value === '0'`)
	waitFor(t, ctx, "six succeeded bars", `document.querySelectorAll('#timeline g.bar[data-state=succeeded] .mark.succeeded').length === 6`)
	waitFor(t, ctx, "no busy key", `document.querySelectorAll('#keys tbody tr').length === 0`)
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.perkeyMarker`))
	require.NoError(t, err)
	require.Equal(t, "same page", marker, "the page was not reloaded")
	require.Equal(t, 0, count(t, ctx, "script[src], link, img, iframe"), "nothing fetched from elsewhere")
	// In memory, events name no process: no table of them, no bar names one.
	require.Equal(t, 1, count(t, ctx, "#workers-card[hidden]"))
	require.Zero(t, count(t, ctx, "#timeline [data-worker]"))
	screenshot(t, ctx, "monitor-done.png")
}

// text returns the text of the first element matching selector.
func text(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(selector)))
	require.NoError(t, err, selector)
	return s
}
