package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/provider"
)

// testHold is the provider's hold in the tests that run whole scenarios:
// short, and still long enough for the keyed guards to matter.
const testHold = "20ms"

// beyondHold and testSlack are -hold and -slack in the tests that run E to
// H: E then holds 25ms per call, G 2.5ms, F and H 100ms. The tests assert
// what is exact (the provider's counts, no collision, no rate violation,
// no run faster than its physical bound) and timings only against bounds
// many holds wide, so that a loaded machine passes: time goals are the
// demo's and the benchmarks' business. The slack takes G's minimum gap
// down to 100ms, half the rate's gap, so that a call delayed on its way
// to the provider is not a rate violation, while starts at once are.
const (
	beyondHold  = "100ms"
	testSlack   = "50ms"
	beyondHoldD = 100 * time.Millisecond
	testSlackD  = 50 * time.Millisecond
)

// simRun is the outcome of one in-process run of the command.
type simRun struct {
	code           int
	stdout, stderr string
}

// runSim runs the command in-process with args.
func runSim(ctx context.Context, args ...string) simRun {
	var stdout, stderr syncBuffer
	code := runContext(ctx, args, &stdout, &stderr)
	return simRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// decodeLines decodes each line of s, which must all be JSON results.
func decodeLines(t *testing.T, s string) []jsonResult {
	t.Helper()
	var out []jsonResult
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		var r jsonResult
		require.NoError(t, dec.Decode(&r), "line %q", sc.Text())
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	return out
}

// syncBuffer is a strings.Builder safe for concurrent use. When ready is
// set, it is closed once what was written contains readyOn (a newline if
// empty).
type syncBuffer struct {
	mu      sync.Mutex
	b       strings.Builder
	ready   chan struct{}
	readyOn string
	once    sync.Once
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if s.ready != nil && strings.Contains(s.b.String(), cmp.Or(s.readyOn, "\n")) {
		s.once.Do(func() { close(s.ready) })
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proxyOptions shape a test proxy in front of a provider.
type proxyOptions struct {
	// delay is added to every call (not to report and reset): a slow
	// network, or a busy machine.
	delay time.Duration
	// floatOnly answers 422, as FastAPI does for `hold: float`, when hold
	// or min_gap is not a plain decimal number of seconds: the
	// reference's api_server.py.
	floatOnly bool
}

// plainDecimal is what a `hold: float` query parameter accepts.
var plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// startProxy starts, on loopback, a proxy to the provider at target,
// shaped by o, and stops it when the test ends.
func startProxy(t *testing.T, target string, o proxyOptions) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	transport := &http.Transport{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = transport
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.floatOnly {
			for _, p := range []string{"hold", "min_gap"} {
				if q := r.URL.Query(); q.Has(p) && !plainDecimal.MatchString(q.Get(p)) {
					http.Error(w, `{"detail":"`+p+`: Input should be a valid number"}`, http.StatusUnprocessableEntity)
					return
				}
			}
		}
		if o.delay > 0 && strings.HasPrefix(r.URL.Path, "/call/") {
			delay := time.NewTimer(o.delay)
			select {
			case <-delay.C:
			case <-r.Context().Done():
				delay.Stop()
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		transport.CloseIdleConnections()
	})
	return srv.URL
}

// startTestProvider starts an in-process provider for a test, logging to
// log if not nil, and closes it when the test ends.
func startTestProvider(t *testing.T, log io.Writer) *provider.Server {
	t.Helper()
	srv, err := provider.Start(provider.Config{Log: log})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	return srv
}
