package main

import (
	"context"
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/provider"
)

// decodeSoak decodes the soak's JSON line, the only line of stdout.
func decodeSoak(t *testing.T, stdout string) soakResult {
	t.Helper()
	require.Equal(t, 1, strings.Count(stdout, "\n"), stdout)
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var r soakResult
	require.NoError(t, dec.Decode(&r))
	return r
}

// TestSoak: a short soak over real HTTP with few accounts, so that keys
// are contended: nothing lost, nothing collided, every fault failed its
// invocation and nothing else failed, the heap flat.
func TestSoak(t *testing.T) {
	r := runSim(t.Context(), "-soak", "2s", "-accounts", "20", "-seed", "7", "-parallel", "4")
	require.Equal(t, exitOK, r.code, "stderr:\n%s\nstdout:\n%s", r.stderr, r.stdout)
	res := decodeSoak(t, r.stdout)

	require.True(t, res.OK)
	// The load runs 2s, then drains: longer on a loaded machine, never
	// shorter.
	require.GreaterOrEqual(t, res.SoakSeconds, 2.0)
	require.Less(t, res.SoakSeconds, 30.0)
	require.Equal(t, 20, res.Accounts)
	require.Equal(t, 4, res.Parallel)
	require.Equal(t, uint64(7), res.Seed)
	require.Positive(t, res.Submitted)
	require.Zero(t, res.Lost)
	require.Equal(t, res.Submitted, res.Completed)
	require.Zero(t, res.Collisions)
	require.Zero(t, res.UnexpectedErrors)
	require.Zero(t, res.SubmitErrors)
	// The scheduler's accounting adds up, and matches the provider's.
	require.Equal(t, res.Submitted, res.Succeeded+res.Failed+res.Dropped+res.Deduped+res.Canceled+res.Expired)
	require.Equal(t, uint64(res.Calls), res.Succeeded, "every call that reached the provider succeeded")
	// Every fault the provider saw failed its run; a fault call whose
	// short client timeout ran out before it reached the provider (a busy
	// machine) failed too, unseen; nothing else failed.
	require.LessOrEqual(t, uint64(res.Faults), res.Failed, "every fault the provider saw failed")
	require.LessOrEqual(t, res.Failed, res.FaultSubmissions, "only fault calls failed")
	require.Positive(t, res.Faults)
	require.Positive(t, res.Dropped, "20 contended accounts: some Drops found their key busy")
	require.Positive(t, res.Deduped)
	require.Zero(t, res.Expired)
	require.Zero(t, res.ActorsEnd, "idle keys are forgotten")
	require.Equal(t, heapLimit(res.HeapStartBytes), res.HeapLimitBytes)
	require.LessOrEqual(t, res.HeapEndBytes, res.HeapLimitBytes)

	lines := regexp.MustCompile(`(?m)^soak +\d+s/2s: +\d+ final/s, running \d+, queued \d+, actors \d+, collisions 0, heap \d+\.\d MiB$`).FindAllString(r.stderr, -1)
	require.NotEmpty(t, lines, r.stderr)
	require.Regexp(t, `^soak: 2s against provider http://127\.0\.0\.1:\d+ \(in-process\), 20 accounts, MaxParallel 4, seed 7\n`, r.stderr)
}

// TestSoakQuietExternal: -quiet prints the JSON line only; -provider runs
// against a provider that another program runs, which logs the reset.
func TestSoakQuietExternal(t *testing.T) {
	var log syncBuffer
	srv, err := provider.Start(provider.Config{Log: &log})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })

	r := runSim(t.Context(), "-soak", "500ms", "-accounts", "3", "-quiet", "-json", "-provider", srv.URL())
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Empty(t, r.stderr)
	res := decodeSoak(t, r.stdout)
	require.True(t, res.OK)
	require.Zero(t, res.Lost)
	require.Zero(t, res.Collisions)
	require.Regexp(t, `(?m)^--- reset @ \d\d:\d\d:\d\d soak: 3 accounts, MaxParallel 8 ---$`, log.String())
	require.Contains(t, log.String(), "[ok       ] ")
}

// TestSoakInterrupted: an interrupt ends the soak early; it still reports,
// nothing is lost, and it exits 1. goleak checks that every goroutine was
// joined.
func TestSoakInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &syncBuffer{ready: make(chan struct{}), readyOn: "final/s"}
	var stdout syncBuffer
	done := make(chan int, 1)
	go func() { done <- runContext(ctx, []string{"-soak", "1h", "-accounts", "50"}, &stdout, stderr) }()
	<-stderr.ready // a progress line: the load runs
	cancel()
	require.Equal(t, exitFail, <-done)
	require.Contains(t, stderr.String(), "sim: soak: interrupted\n")
	res := decodeSoak(t, stdout.String())
	require.False(t, res.OK)
	require.Zero(t, res.Lost)
	require.Equal(t, res.Submitted, res.Completed)
	require.Zero(t, res.Collisions)
}

// TestSoakUnreachableProvider: a -provider nobody listens on fails at once.
func TestSoakUnreachableProvider(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	r := runSim(t.Context(), "-soak", "1s", "-provider", url)
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stderr, "sim: soak: provider "+url+" unreachable")
	require.Contains(t, r.stderr, "connection refused")
	require.Empty(t, r.stdout)
}

func TestSoakProblems(t *testing.T) {
	ok := soakResult{Submitted: 10, Completed: 10, HeapStartBytes: 1 << 20, HeapEndBytes: 2 << 20, HeapLimitBytes: heapLimit(1 << 20)}
	require.Empty(t, soakProblems(ok))
	require.Equal(t, uint64(1<<20+1<<19+8<<20), heapLimit(1<<20))

	tests := []struct {
		name string
		edit func(*soakResult)
		want string
	}{
		{"lost", func(r *soakResult) { r.Completed, r.Lost = 8, 2 }, "2 invocations never reached a final state"},
		{"collided", func(r *soakResult) { r.Collisions = 1 }, "1 collisions, want 0"},
		{"unexpected", func(r *soakResult) { r.UnexpectedErrors = 3 }, "3 unexpected errors and 0 failed submits, want 0"},
		{"heap", func(r *soakResult) { r.HeapEndBytes = r.HeapLimitBytes + 1 }, "heap 9.5 MiB at the end, above 1.5 × 1.0 MiB + 8 MiB = 9.5 MiB"},
		{"uncounted", func(r *soakResult) { r.Completed = 9 }, "9 completed + 0 lost != 10 submitted"},
	}
	for _, tc := range tests {
		r := ok
		tc.edit(&r)
		require.Equal(t, []string{tc.want}, soakProblems(r), tc.name)
	}
}

func TestReportSoak(t *testing.T) {
	tests := []struct {
		name    string
		probs   []string
		stopped string
		code    int
		stderr  string
	}{
		{"ok", nil, "", exitOK, ""},
		{"failed", []string{"2 collisions, want 0", "heap"}, "", exitFail, "sim: soak: FAIL 2 collisions, want 0\nsim: soak: FAIL heap\n"},
		{"interrupted", nil, "interrupted", exitFail, "sim: soak: interrupted\n"},
		{"worker lost", nil, "worker w2 exited unasked: exit status 2", exitFail, "sim: soak: worker w2 exited unasked: exit status 2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			require.Equal(t, tc.code, reportSoak(&stdout, &stderr, soakResult{Submitted: 3, Completed: 3}, tc.probs, tc.stopped))
			require.Equal(t, tc.stderr, stderr.String())
			res := decodeSoak(t, stdout.String())
			require.Equal(t, tc.code == exitOK, res.OK)
			require.Equal(t, uint64(3), res.Submitted)
		})
	}
}
