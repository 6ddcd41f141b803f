// Package e2e holds perkey's real-browser tests: headless Chromium, driven
// with chromedp, loads the timeline page and the live monitor. It is a
// module of its own so that chromedp does not weigh on perkey's go.mod.
//
// Run it from this directory:
//
//	go test ./...                        # skips if /usr/bin/chromium is missing
//	CI=true go test ./...                # fails instead
//	go test ./... -require-browser       # fails instead, too
//	go test ./... -shots DIR             # also copies the screenshots to DIR
//
// docs/timeline.png is the demo's default run, made with the same tool:
//
//	go run ./cmd/sim -timeline /tmp/timeline.html
//	cd e2e && go test -run TestTimelineScreenshot -timeline-page /tmp/timeline.html -shots ../docs
//
// PERKEY_CHROMIUM names another browser binary.
package e2e
