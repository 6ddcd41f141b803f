package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testHold is the provider's hold in the tests that run whole scenarios:
// short, and still long enough for the keyed guards to matter.
const testHold = "20ms"

// beyondHold and testSlack are -hold and -slack in the tests that run E to
// H: E then holds 10ms per call, G 1ms, F and H 40ms; the slack absorbs a
// loaded CI machine's delays (it is added to the time goals of E, F and G
// and taken off G's minimum gap, to 140ms), while the semantic counts stay
// exact.
const (
	beyondHold  = "40ms"
	testSlack   = "50ms"
	beyondHoldD = 40 * time.Millisecond
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
