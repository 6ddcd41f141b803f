package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBeyondReferenceEndToEnd runs E to H over real HTTP against the
// in-process provider, with short holds: the provider's counts exactly,
// and the time goals of the issue with the test's slack.
func TestBeyondReferenceEndToEnd(t *testing.T) {
	r := runSim(t.Context(), "-hold", beyondHold, "-slack", testSlack, "-json", "-scenarios", "E,F,G,H")
	require.Equal(t, exitOK, r.code, "stderr:\n%s", r.stderr)
	got := decodeLines(t, r.stdout)
	require.Len(t, got, 4)
	hold := beyondHoldD.Seconds()
	slack := testSlackD.Seconds()
	const eps = 1e-9

	t.Run("E noisy neighbour", func(t *testing.T) {
		e := got[0]
		require.Equal(t, "E", e.Scenario)
		h := hold / 4
		require.InDelta(t, h, e.HoldSeconds, eps)
		require.Equal(t, 50, e.Enqueued)
		require.Equal(t, 50, e.Calls)
		require.Zero(t, e.Collisions)
		require.Len(t, e.Accounts, 11)
		require.Equal(t, jsonCounts{Calls: 40}, e.Accounts["whale"])
		for i := 1; i <= 10; i++ {
			require.Equal(t, jsonCounts{Calls: 1}, e.Accounts[fmt.Sprintf("minnow%02d", i)])
		}
		require.InDelta(t, 40*h, e.BoundSeconds, eps)
		// The whale is served serially: 40 holds at least.
		require.NotNil(t, e.WhaleSeconds)
		require.GreaterOrEqual(t, *e.WhaleSeconds, 40*h)
		// Every minnow ends within about 2 holds of its submit, not after
		// the whale's backlog.
		require.NotNil(t, e.MinnowP99Seconds)
		require.GreaterOrEqual(t, *e.MinnowP99Seconds, h, "a minnow holds once at least")
		require.LessOrEqual(t, *e.MinnowP99Seconds, 2*h*1.05+slack)
		require.Nil(t, e.RateViolations)
		require.Nil(t, e.CollisionsWithoutGroup)
	})
	t.Run("F N slots", func(t *testing.T) {
		f := got[1]
		require.Equal(t, "F", f.Scenario)
		require.Equal(t, 24, f.Calls)
		require.Zero(t, f.Collisions)
		for _, a := range referenceAccounts() {
			require.Equal(t, jsonCounts{Calls: 8}, f.Accounts[a])
		}
		require.InDelta(t, 4*hold, f.BoundSeconds, eps)
		require.GreaterOrEqual(t, f.Seconds, f.BoundSeconds)
		require.LessOrEqual(t, f.Seconds, f.BoundSeconds*1.02+slack)
	})
	t.Run("G rate per key", func(t *testing.T) {
		g := got[2]
		require.Equal(t, "G", g.Scenario)
		require.InDelta(t, hold/40, g.HoldSeconds, eps)
		require.Equal(t, 30, g.Calls)
		require.Zero(t, g.Collisions)
		require.NotNil(t, g.RateViolations)
		require.Zero(t, *g.RateViolations)
		zero := 0
		for _, a := range referenceAccounts() {
			require.Equal(t, jsonCounts{Calls: 10, RateViolations: &zero}, g.Accounts[a])
		}
		require.InDelta(t, 1.8+hold/40, g.BoundSeconds, eps)
		require.GreaterOrEqual(t, g.Seconds, 1.8, "9 gaps of 200ms per account")
		require.LessOrEqual(t, g.Seconds, g.BoundSeconds*1.05+slack)
	})
	t.Run("H shared key", func(t *testing.T) {
		h := got[3]
		require.Equal(t, "H", h.Scenario)
		require.Equal(t, 15, h.Calls)
		require.Zero(t, h.Collisions, "with the Group")
		require.NotNil(t, h.CollisionsWithoutGroup)
		require.Positive(t, *h.CollisionsWithoutGroup, "without a Group, the reference's behaviour")
		for _, a := range referenceAccounts() {
			require.Equal(t, jsonCounts{Calls: 5}, h.Accounts[a])
		}
		require.InDelta(t, 5*hold, h.BoundSeconds, eps)
		require.GreaterOrEqual(t, h.Seconds, h.BoundSeconds, "5 serial calls per account")
	})

	// The rows hold the usual fields and each its own extras.
	extras := map[string][]string{
		"E": {"minnow_p99_seconds", "whale_seconds"},
		"F": nil,
		"G": {"rate_violations"},
		"H": {"collisions_without_group"},
	}
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		want := append([]string{"scenario", "label", "enqueued", "calls", "collisions",
			"dropped", "deduped", "seconds", "bound_seconds", "hold_seconds", "accounts"}, extras[m["scenario"].(string)]...)
		require.ElementsMatch(t, want, slices.Collect(maps.Keys(m)), line)
	}
}
