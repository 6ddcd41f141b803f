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
// PERKEY_CHROMIUM names another browser binary.
package e2e
