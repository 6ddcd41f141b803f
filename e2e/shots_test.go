package e2e

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

var (
	timelinePage = flag.String("timeline-page", "",
		"screenshot this timeline `file` (written by go run ./cmd/sim -timeline FILE) as -timeline-shot, under -shots")
	timelineShot = flag.String("timeline-shot", "timeline.png", "the `name` of the screenshot of -timeline-page")
)

// TestTimelineScreenshot is the tool that makes docs/timeline.png from
// the demo's default run:
//
//	go run ./cmd/sim -timeline /tmp/timeline.html
//	cd e2e && go test -run TestTimelineScreenshot -timeline-page /tmp/timeline.html -shots ../docs
//
// and docs/timeline-postgres.png from A to D across 3 worker processes:
//
//	go run ./cmd/sim -backend postgres -timeline /tmp/timeline-postgres.html -scenarios A,B,C,D
//	cd e2e && go test -run TestTimelineScreenshot -timeline-page /tmp/timeline-postgres.html \
//		-timeline-shot timeline-postgres.png -shots ../docs
//
// Without -timeline-page it has nothing to do.
func TestTimelineScreenshot(t *testing.T) {
	if *timelinePage == "" {
		t.Skip("no -timeline-page: nothing to screenshot")
	}
	path, err := filepath.Abs(*timelinePage)
	require.NoError(t, err)
	ctx := newBrowser(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.EmulateViewport(1048, 1000), // the page's width: 1000px of timeline and its margins
		chromedp.Navigate("file://"+path),
		chromedp.WaitReady(chromedp.CSS("section.section svg.timeline")),
	))
	require.Positive(t, count(t, ctx, "svg.timeline g.bar"))
	screenshot(t, ctx, *timelineShot)
}
