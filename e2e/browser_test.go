package e2e

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

var (
	requireBrowser = flag.Bool("require-browser", false, "fail, rather than skip, when Chromium is missing (as CI=true does)")
	shotsDir       = flag.String("shots", "", "also copy the screenshots to this directory")
)

// defaultChromium is Debian's chromium package's binary.
const defaultChromium = "/usr/bin/chromium"

// browserTimeout bounds each browser test.
const browserTimeout = 90 * time.Second

// required reports whether a missing browser is a failure: in CI (CI set
// to anything but "false" or empty) or with -require-browser.
func required() bool {
	ci := strings.ToLower(os.Getenv("CI"))
	return *requireBrowser || (ci != "" && ci != "false" && ci != "0")
}

// chromiumPath returns the browser to drive, or ends the test: it fails in
// CI and skips elsewhere when the browser is missing.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("PERKEY_CHROMIUM")
	if path == "" {
		path = defaultChromium
	}
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		msg := "Chromium not found at " + path + ": install it with `apt-get install -y chromium` or set PERKEY_CHROMIUM"
		if required() {
			t.Fatal(msg + " (CI=true or -require-browser: a missing browser is a failure)")
		}
		t.Skip(msg + " (skipping outside CI)")
	}
	return path
}

// newBrowser starts a headless Chromium for one test, with a fresh profile
// in the test's temp dir, and returns a context for chromedp actions. The
// browser is stopped, and its process waited for, when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser) // closes the browser and waits for its process
	// The first action starts the browser, which lives as long as bctx.
	require.NoError(t, chromedp.Do(bctx), "starting %s", path)
	return bctx
}

// screenshot saves a full-page PNG under the test's temp dir (and under
// -shots, if set) and returns its path.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.Greater(t, len(png), 1000, "a screenshot with something in it")
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	if *shotsDir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(*shotsDir, name), png, 0o644))
	}
	t.Logf("screenshot: %s", path)
	return path
}

// count returns how many elements match a CSS selector.
func count(t *testing.T, ctx context.Context, selector string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll("+jsString(selector)+").length"))
	require.NoError(t, err, selector)
	return n
}

// waitFor waits until a JavaScript expression is true.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(t, err, "waiting for %s", what)
	require.True(t, ok, what)
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}
