package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startTest starts a Server on a free loopback port, with setup applied to
// its handler, and closes it when the test ends.
func startTest(t *testing.T, cfg Config, setup func(*handler)) *Server {
	t.Helper()
	s, err := start(cfg, setup)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// newTestClient returns a client for url, closed when the test ends.
func newTestClient(t *testing.T, url string, cfg ClientConfig) *Client {
	t.Helper()
	c, err := NewClient(url, cfg)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// serve sends a request without a body to h and returns the recorded
// answer.
func serve(ctx context.Context, h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(ctx, method, target, nil)
	h.ServeHTTP(rec, req)
	return rec
}

// fixedClock is the log's clock in tests: 12:34:56.
func fixedClock() time.Time { return time.Date(2025, 1, 2, 12, 34, 56, 0, time.Local) }

// arrivals returns handler seams that report each arrival and release on
// a channel, buffered for n calls.
func arrivals(n int) (setup func(*handler), arrived, released <-chan string) {
	a, r := make(chan string, n), make(chan string, n)
	return func(h *handler) {
		h.arrived = func(account string) { a <- account }
		h.released = func(account string) { r <- account }
	}, a, r
}
