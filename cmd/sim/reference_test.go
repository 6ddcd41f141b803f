package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// TestReferenceProviderSpeaksFloatSeconds: against a provider that takes
// hold (and min_gap) only as float seconds, as the reference's
// api_server.py does (`hold: float = 0.4`, 422 otherwise), every scenario
// runs: the client sends seconds.
func TestReferenceProviderSpeaksFloatSeconds(t *testing.T) {
	var log syncBuffer
	srv := startTestProvider(t, &log)
	floats := startProxy(t, srv.URL(), proxyOptions{floatOnly: true})

	r := runSim(t.Context(), "-provider", floats, "-hold", testHold, "-slack", testSlack, "-json", "-scenarios", "B,G")
	require.Equal(t, exitOK, r.code, r.stderr)
	got := decodeLines(t, r.stdout)
	require.Len(t, got, 2)
	require.Equal(t, 12, got[0].Calls)
	require.Zero(t, got[0].Collisions)
	require.Equal(t, 30, got[1].Calls)
	require.Zero(t, *got[1].RateViolations)
}

// TestProviderErrorTextCleaned: what a provider says in an error reaches
// the sim's output as one short line, without the escape sequences that
// would rewrite the terminal.
func TestProviderErrorTextCleaned(t *testing.T) {
	hostile := "\x1b]0;owned\x07\x1b[2J\x1b[31mquota exceeded\x1b[0m\r\n\u202e" + strings.Repeat("x", 100_000)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/report":
			_, _ = w.Write([]byte(`{"calls":0,"collisions":0,"accounts":{}}`))
		case r.URL.Path == "/reset":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(hostile))
		}
	}))
	t.Cleanup(fake.Close)

	r := runSim(t.Context(), "-provider", fake.URL, "-hold", testHold, "-quiet", "-scenarios", "B")
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stderr, "status 429: quota exceeded xxx")
	require.Contains(t, r.stderr, "... (truncated)")
	require.NotContains(t, r.stderr, "owned")
	require.Less(t, len(r.stderr), 1000)
	for _, c := range strings.TrimSuffix(r.stderr, "\n") {
		require.False(t, unicode.IsControl(c) || unicode.Is(unicode.Cf, c), "%q in %q", c, r.stderr)
	}
}
