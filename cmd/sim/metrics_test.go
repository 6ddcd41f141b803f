package main

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMetricsFlag: -metrics serves /metrics while the scenarios run and
// after them, until interrupted; the figures after the scenarios are
// exact.
func TestMetricsFlag(t *testing.T) {
	tests := []struct {
		scenarios string
		tasks     map[string]taskFigures
		rated     int // keys whose rate limiter may still be refilling
	}{
		{"B", map[string]taskFigures{
			"keyed_wait": {submitted: 12, succeeded: 12},
		}, 0},
		{"A,B,C,D", map[string]taskFigures{
			"unsafe":     {submitted: 12, succeeded: 12},
			"keyed_wait": {submitted: 12, succeeded: 12},
			"keyed_drop": {submitted: 12, succeeded: 3, dropped: 9},
			"refresh":    {submitted: 24, deduped: 21, succeeded: 3},
		}, 0},
		// G's rated task sends Throttled notes, which are not submissions;
		// its idle keys stay live actors until their limiters refill.
		{"G", map[string]taskFigures{
			"keyed_rated": {submitted: 30, succeeded: 30},
		}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.scenarios, func(t *testing.T) {
			got := scrapeSim(t, "-hold", testHold, "-quiet", "-scenarios", tc.scenarios)
			require.LessOrEqual(t, got["perkey_keys_with_work"], float64(tc.rated))
			got["perkey_keys_with_work"] = 0
			want := map[string]float64{
				"perkey_slots":          8,
				"perkey_slots_in_use":   0,
				"perkey_keys_with_work": 0,
			}
			for task, f := range tc.tasks {
				maps.Copy(want, f.series(task))
			}
			require.Equal(t, want, got)
		})
	}
}

// taskFigures are the counts of one task after a run, when nothing waits
// or runs any more.
type taskFigures struct {
	submitted, deduped, succeeded, dropped float64
}

// series returns the series the collector serves for task, histogram sums
// and buckets left out: every invocation that ran was observed once in
// each histogram.
func (f taskFigures) series(task string) map[string]float64 {
	q := strconv.Quote(task)
	out := map[string]float64{
		"perkey_submitted_total{task=" + q + "}":          f.submitted,
		"perkey_deduped_total{task=" + q + "}":            f.deduped,
		"perkey_queue_wait_seconds_count{task=" + q + "}": f.succeeded,
		"perkey_run_seconds_count{task=" + q + "}":        f.succeeded,
	}
	for st, v := range map[string]float64{"succeeded": f.succeeded, "failed": 0, "dropped": f.dropped, "expired": 0, "canceled": 0} {
		out[fmt.Sprintf("perkey_invocations_total{state=%q,task=%s}", st, q)] = v
	}
	for _, st := range []string{"queued", "pending", "running"} {
		out[fmt.Sprintf("perkey_invocations{state=%q,task=%s}", st, q)] = 0
	}
	return out
}

// scrapeSim runs the sim with args and -metrics on a free port, scrapes
// /metrics once the scenarios are done, interrupts the sim and checks that
// it exits cleanly and stops serving. It returns the samples by series,
// histogram sums and buckets left out.
func scrapeSim(t *testing.T, args ...string) map[string]float64 {
	t.Helper()
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	var stdout syncBuffer
	stderr := &syncBuffer{ready: make(chan struct{}), readyOn: "until interrupted"}
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, append(args, "-metrics", "127.0.0.1:0"), &stdout, stderr)
	}()
	select {
	case <-stderr.ready:
	case code := <-done:
		t.Fatalf("the sim exited (%d) before serving:\n%s", code, stderr.String())
	}
	m := regexp.MustCompile(`(?m)^metrics: (http://127\.0\.0\.1:\d+/metrics)$`).FindStringSubmatch(stderr.String())
	require.NotNil(t, m, stderr.String())
	url := m[1]

	resp, err := http.Get(url)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got := map[string]float64{}
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		line := lines.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		require.Positive(t, i, line)
		series, value := line[:i], line[i+1:]
		if strings.Contains(series, "_bucket{") || strings.Contains(series, "_sum{") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		require.NoError(t, err, line)
		got[series] = v
	}
	require.NoError(t, lines.Err())
	require.NoError(t, resp.Body.Close())

	interrupt()
	require.Equal(t, exitOK, <-done, stderr.String())
	_, err = http.Get(url)
	require.Error(t, err, "no longer serving")
	return got
}

func TestMetricsFlagAddressInUse(t *testing.T) {
	srv := startTestListener(t)
	r := runSim(t.Context(), "-hold", testHold, "-metrics", srv)
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stderr, "sim: -metrics: listen tcp "+srv)
}

func TestMetricsFlagBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no port", []string{"-metrics", "9100"}, `-metrics "9100": want an address such as 127.0.0.1:9100`},
		{"with soak", []string{"-soak", "1s", "-metrics", "127.0.0.1:0"}, "-metrics does not apply to -soak"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runSim(t.Context(), tc.args...)
			require.Equal(t, exitUsage, r.code)
			require.Contains(t, r.stderr, tc.msg)
		})
	}
}
