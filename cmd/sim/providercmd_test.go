package main

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProviderCommand: `sim provider` serves until its ctx ends, and the
// sim runs against it with -provider, as in the multi-terminal flow.
func TestProviderCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	log := &syncBuffer{ready: make(chan struct{})}
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() { code <- runContext(ctx, []string{"provider", "-addr", "127.0.0.1:0"}, log, &stderr) }()
	select {
	case <-log.ready:
	case c := <-code:
		t.Fatalf("provider exited with %d: %s", c, stderr.String())
	}
	m := regexp.MustCompile(`^provider listening on (http://127\.0\.0\.1:\d+) `).FindStringSubmatch(log.String())
	require.NotNil(t, m, log.String())

	r := runSim(t.Context(), "-provider", m[1], "-hold", testHold, "-scenarios", "C", "-quiet")
	require.Equal(t, exitOK, r.code, r.stderr)

	cancel()
	require.Equal(t, exitOK, <-code)
	require.Empty(t, stderr.String())
	out := log.String()
	require.Regexp(t, `(?m)^--- reset @ \d\d:\d\d:\d\d C\. drop — Running=ByKey\(account\), OnBusy=Drop ---$`, out)
	require.Equal(t, 3, strings.Count(out, "[ok       ] "))
}

func TestProviderCommandAddrInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	r := runSim(t.Context(), "provider", "-addr", ln.Addr().String())
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stderr, "address already in use")
}
