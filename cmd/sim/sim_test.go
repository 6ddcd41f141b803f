package main

import (
	"context"
	"encoding/json"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/stretchr/testify/require"
)

// TestScenariosEndToEnd runs A to D over real HTTP against the in-process
// provider and checks the provider's counts against the reference.
func TestScenariosEndToEnd(t *testing.T) {
	r := runSim(t.Context(), "-hold", testHold, "-json", "-scenarios", "A,B,C,D")
	require.Equal(t, exitOK, r.code, "stderr:\n%s", r.stderr)
	got := decodeLines(t, r.stdout)
	require.Len(t, got, 4)

	hold := 0.020
	tests := []struct {
		scenario                                   string
		enqueued, calls, dropped, deduped, perAcct int
		guarded                                    bool
		bound                                      float64
	}{
		{"A", 12, 12, 0, 0, 4, false, 2 * hold},
		{"B", 12, 12, 0, 0, 4, true, 4 * hold},
		{"C", 12, 3, 9, 0, 1, true, hold},
		{"D", 24, 3, 0, 21, 1, true, hold},
	}
	for i, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			g := got[i]
			require.Equal(t, tc.scenario, g.Scenario)
			require.Equal(t, tc.enqueued, g.Enqueued)
			require.Equal(t, tc.calls, g.Calls)
			require.Equal(t, tc.dropped, g.Dropped)
			require.Equal(t, tc.deduped, g.Deduped)
			require.InDelta(t, tc.bound, g.BoundSeconds, 1e-9)
			require.InDelta(t, hold, g.HoldSeconds, 1e-9)
			require.GreaterOrEqual(t, g.Seconds, g.BoundSeconds, "no run beats the physical bound")
			if tc.guarded {
				require.Zero(t, g.Collisions)
			}
			sum := 0
			for _, a := range referenceAccounts() {
				require.Equal(t, tc.perAcct, g.Accounts[a].Calls, a)
				sum += g.Accounts[a].Collisions
			}
			require.Len(t, g.Accounts, 3)
			require.Equal(t, g.Collisions, sum)
		})
	}
}

// TestJSONSchema: every line holds exactly the documented fields, with
// the documented types.
func TestJSONSchema(t *testing.T) {
	r := runSim(t.Context(), "-hold", testHold, "-json", "-scenarios", "C,A")
	require.Equal(t, exitOK, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 2)
	for i, line := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		require.ElementsMatch(t, []string{"scenario", "label", "enqueued", "calls", "collisions",
			"dropped", "deduped", "seconds", "bound_seconds", "hold_seconds", "accounts"}, keys)
		require.Equal(t, []string{"C", "A"}[i], m["scenario"])
		require.IsType(t, "", m["label"])
		require.NotEmpty(t, m["label"])
		for _, k := range []string{"enqueued", "calls", "collisions", "dropped", "deduped"} {
			n, ok := m[k].(float64)
			require.True(t, ok, k)
			require.Equal(t, float64(int(n)), n, "%s is an integer", k)
		}
		for _, k := range []string{"seconds", "bound_seconds", "hold_seconds"} {
			require.IsType(t, float64(0), m[k], k)
		}
		accounts, ok := m["accounts"].(map[string]any)
		require.True(t, ok)
		require.Len(t, accounts, 3)
		for a, v := range accounts {
			require.Contains(t, referenceAccounts(), a)
			counts, ok := v.(map[string]any)
			require.True(t, ok)
			require.Len(t, counts, 2)
			require.IsType(t, float64(0), counts["calls"])
			require.IsType(t, float64(0), counts["collisions"])
		}
	}
	require.Contains(t, r.stderr, "=== C. drop", "human output goes to stderr with -json")
}

// TestHumanOutput: the default run, A to H: headers, summaries with the
// time goals, account lines, each scenario's own call log with the time
// of each call, C's drops, E's whale folded, and the verdict, on stdout.
func TestHumanOutput(t *testing.T) {
	r := runSim(t.Context(), "-hold", beyondHold, "-slack", testSlack)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Empty(t, r.stderr)
	out := r.stdout
	require.Regexp(t, `^provider http://127\.0\.0\.1:\d+ \(in-process\), MaxParallel 8, hold 100ms \(with -slack 50ms\)\n\n`, out)
	goal := `goal \d\.\d{3}s with -slack 50ms: (met|MISSED)`
	for _, re := range []string{
		`(?m)^=== A\. unsafe — no concurrency control ===\n  12 enqueued -> 12 calls, \d+ collisions, \d+\.\d\ds \(bound 0\.20s\)\n`,
		`(?m)^=== B\. keyed — Running=ByKey\(account\), OnBusy=Wait ===\n  12 enqueued -> 12 calls, 0 collisions, \d+\.\d\ds \(bound 0\.40s\)\n` +
			`  OK acme     calls=4  collisions=0\n  OK globex   calls=4  collisions=0\n  OK initech  calls=4  collisions=0\n`,
		`(?m)^=== C\. drop — Running=ByKey\(account\), OnBusy=Drop ===\n  12 enqueued -> 3 calls \(9 dropped\), 0 collisions, \d+\.\d\ds \(bound 0\.10s\)\n` +
			`  OK acme     calls=1  collisions=0 dropped=3\n`,
		`(?m)^=== D\. dedupe — .* ===\n  24 enqueued -> 3 calls \(21 deduped\), 0 collisions, \d+\.\d\ds \(bound 0\.10s\)\n`,
		`(?m)^=== E\. noisy neighbour — .* ===\n  50 enqueued -> 50 calls, 0 collisions, \d+\.\d\ds \(bound 1\.00s\), minnow p99 \d\.\d{3}s \(` + goal + `\), whale \d+\.\d\ds\n` +
			`  OK minnow01 calls=1  collisions=0\n(  OK minnow\d\d calls=1  collisions=0\n){9}  OK whale    calls=40 collisions=0\n`,
		`(?m)^=== F\. N slots — .* ===\n  24 enqueued -> 24 calls, 0 collisions, \d+\.\d{3}s \(bound 0\.400s, ` + goal + `\)\n`,
		`(?m)^=== G\. rate per key — .* ===\n  30 enqueued -> 30 calls, 0 collisions, \d+\.\d{3}s \(bound 1\.80\ds, ` + goal + `\), 0 rate violations \(min gap 100ms\)\n` +
			`  OK acme     calls=10 collisions=0 rate_violations=0\n`,
		`(?m)^=== H\. shared key — .* ===\n  15 enqueued -> 15 calls, 0 collisions, \d+\.\d\ds \(bound 0\.50s\); without Group: 15 calls, [1-9]\d* collisions, \d+\.\d\ds\n` +
			`  OK acme     calls=5  collisions=0\n`,
	} {
		require.Regexp(t, re, out)
	}
	require.Regexp(t, `\n8 scenarios: all hold(; time goal missed \(not fatal without -strict\): .*)?\n$`, out)

	// Each scenario prints its own calls, each with its time: 12 + 12 + 3
	// + 3 + 50 + 24 + 30 + 15 + 15, E's whale folded: a line says how
	// many calls it stands for.
	calls := regexp.MustCompile(`(?m)^    \+\d+\.\d{3}s \[(ok       |COLLISION|TOO SOON )\] \S+ +\S+$`).FindAllString(out, -1)
	folds := regexp.MustCompile(`(?m)^            \[ok       \] whale \.\.\. (\d+) more, \+\d\.\d{3}s to \+\d\.\d{3}s$`).FindAllStringSubmatch(out, -1)
	require.Len(t, folds, 1, "E's whale, folded once")
	folded, err := strconv.Atoi(folds[0][1])
	require.NoError(t, err)
	require.Equal(t, 164, len(calls)+folded)
	e := out[strings.Index(out, "=== E."):strings.Index(out, "=== F.")]
	require.LessOrEqual(t, strings.Count(e, "] whale    "), 5, "not 40 whale lines:\n%s", e)
	b := out[strings.Index(out, "=== B."):strings.Index(out, "=== C.")]
	require.NotContains(t, b, "COLLISION")
	require.Equal(t, 12, strings.Count(b, "s [ok       ] "))
	c := out[strings.Index(out, "=== C."):strings.Index(out, "=== D.")]
	require.Contains(t, c, "  dropped by the scheduler, never sent (9):\n")
	require.Len(t, regexp.MustCompile(`(?m)^    \+\d\.\d{3}s (acme|globex|initech) +(list_invoices|refresh_usage|update_metadata)$`).FindAllString(c, -1), 9)
	h := out[strings.Index(out, "=== H."):]
	without, with := h[:strings.Index(h, "--- with Group ---")], h[strings.Index(h, "--- with Group ---"):]
	require.Contains(t, without, "--- without Group ---")
	require.Contains(t, without, "[COLLISION]", "the reference's behaviour: ops and refresh collide")
	require.NotContains(t, with, "COLLISION")
	require.Equal(t, 15, strings.Count(with, "s [ok       ] "))
	require.NotContains(t, out, "--- reset", "the reset line is the header's job")
	require.NotContains(t, out, "FAIL")
}

func TestQuiet(t *testing.T) {
	r := runSim(t.Context(), "-hold", testHold, "-quiet", "-scenarios", "c")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Regexp(t, `^=== C\. drop — Running=ByKey\(account\), OnBusy=Drop ===\n`+
		`  12 enqueued -> 3 calls \(9 dropped\), 0 collisions, \d\.\d\ds \(bound 0\.02s\)\n`+
		`1 scenario: all hold\n$`, r.stdout)
}

// TestUnguardedScenarioFails: a guarded scenario run against a task
// without its guard must fail the run.
func TestUnguardedScenarioFails(t *testing.T) {
	tests := []struct {
		scenario string
		want     []string
	}{
		// A hold long enough that the unguarded calls surely overlap.
		{"B", []string{"collisions, want 0"}},
		{"C", []string{"12 calls, want 3", "0 dropped, want 9"}},
		{"D", []string{"24 calls, want 3", "0 deduped, want 21"}},
		{"E", []string{"collisions, want 0"}},
		{"F", []string{"collisions, want 0"}},
		{"G", []string{"rate violations, want 0"}},
		{"H", []string{"collisions, want 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			o := defaultOptions()
			o.hold = 150 * time.Millisecond
			o.scenarios = []string{tc.scenario}
			o.unguarded = map[string]bool{tc.scenario: true}
			o.quiet = true
			var stdout, stderr syncBuffer
			code := simulate(t.Context(), o, &stdout, &stderr)
			require.Equal(t, exitFail, code)
			for _, w := range tc.want {
				require.Contains(t, stderr.String(), "sim: FAIL "+tc.scenario+": ")
				require.Contains(t, stderr.String(), w)
			}
		})
	}
}

// TestExternalProvider: the multi-terminal flow, in-process: a provider
// that another program runs, named with -provider.
func TestExternalProvider(t *testing.T) {
	var log syncBuffer
	srv, err := provider.Start(provider.Config{Log: &log})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })

	r := runSim(t.Context(), "-provider", srv.URL(), "-hold", testHold, "-json", "-scenarios", "B,D")
	require.Equal(t, exitOK, r.code, r.stderr)
	got := decodeLines(t, r.stdout)
	require.Len(t, got, 2)
	require.Equal(t, 12, got[0].Calls)
	require.Equal(t, 3, got[1].Calls)
	require.Equal(t, 21, got[1].Deduped)
	require.Contains(t, r.stderr, "(external: its call log is in its own output)")
	require.Regexp(t, `--- reset @ \d\d:\d\d:\d\d B\. keyed — Running=ByKey\(account\), OnBusy=Wait ---\n`, log.String())
	require.Regexp(t, `--- reset @ \d\d:\d\d:\d\d D\. dedupe`, log.String())
}

// TestUnreachableProvider: a -provider nobody listens on fails at once,
// with a clear message.
func TestUnreachableProvider(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())

	start := time.Now()
	r := runSim(t.Context(), "-provider", url)
	require.Equal(t, exitFail, r.code)
	require.Less(t, time.Since(start), probeTimeout+time.Second)
	require.Contains(t, r.stderr, "sim: provider "+url+" unreachable")
	require.Contains(t, r.stderr, "connection refused")
	require.Empty(t, r.stdout)
}

// TestInterrupted: a run whose ctx ends stops early and fails.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := runSim(ctx, "-hold", testHold, "-scenarios", "B")
	require.Equal(t, exitFail, r.code)
	require.Equal(t, "sim: B: interrupted\n", r.stderr)
}

// TestInterruptedMidCall: an interrupt while calls are held stops the sim
// at once: the scheduler cancels the running calls, and every goroutine is
// joined (goleak checks).
func TestInterruptedMidCall(t *testing.T) {
	log := &syncBuffer{ready: make(chan struct{}), readyOn: "[ok       ]"}
	srv, err := provider.Start(provider.Config{Log: log})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan simRun, 1)
	go func() { done <- runSim(ctx, "-provider", srv.URL(), "-hold", "1h", "-scenarios", "B") }()
	<-log.ready // a call is held
	start := time.Now()
	cancel()
	r := <-done
	require.Less(t, time.Since(start), closeTimeout, "the held calls were cancelled, not waited for")
	require.Equal(t, exitFail, r.code)
	require.Equal(t, "sim: B: interrupted\n", r.stderr)
}
