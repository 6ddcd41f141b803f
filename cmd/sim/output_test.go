package main

import (
	"strings"
	"testing"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/stretchr/testify/require"
)

// scenarioByLetter returns the scenario of the table with that letter.
func scenarioByLetter(t *testing.T, l string) scenario {
	t.Helper()
	got := pick(scenarioTable(), []string{l})
	require.Len(t, got, 1)
	return got[0]
}

func TestBound(t *testing.T) {
	hold := 400 * time.Millisecond
	e, g := hold/4, hold/40
	rated := 9*200*time.Millisecond + g // G: 9 gaps of 1/5s, then one hold
	tests := []struct {
		parallel int
		want     [8]time.Duration // A to H
	}{
		{8, [8]time.Duration{2 * hold, 4 * hold, hold, hold, 40 * e, 4 * hold, rated, 5 * hold}},
		{1, [8]time.Duration{12 * hold, 12 * hold, 3 * hold, 3 * hold, 50 * e, 24 * hold, rated, 15 * hold}},
		{2, [8]time.Duration{6 * hold, 6 * hold, 2 * hold, 2 * hold, 40 * e, 12 * hold, rated, 8 * hold}},
		{12, [8]time.Duration{hold, 4 * hold, hold, hold, 40 * e, 4 * hold, rated, 5 * hold}},
	}
	for _, tc := range tests {
		for i, sc := range scenarioTable() {
			require.Equal(t, tc.want[i], sc.bound(hold, tc.parallel), "%s with parallel %d", sc.letter, tc.parallel)
		}
	}
	require.Equal(t, "ABCDEFGH", strings.Join(letters(scenarioTable()), ""))
}

// TestScenarioShapes: what E to H submit, and the provider mode of their
// calls.
func TestScenarioShapes(t *testing.T) {
	hold := 400 * time.Millisecond
	tests := []struct {
		letter       string
		enqueued     int
		perAccount   map[string]int
		tasks        map[taskKind]int
		mode         provider.CallOptions
		baselineSize int
	}{
		{"E", 50, map[string]int{"whale": 40, "minnow01": 1, "minnow10": 1}, map[taskKind]int{keyedWaitTask: 50},
			provider.CallOptions{Hold: 100 * time.Millisecond}, 0},
		{"F", 24, map[string]int{"acme": 8, "globex": 8, "initech": 8}, map[taskKind]int{slotsTask: 24},
			provider.CallOptions{Hold: hold, Slots: 2}, 0},
		{"G", 30, map[string]int{"acme": 10, "globex": 10, "initech": 10}, map[taskKind]int{ratedTask: 30},
			provider.CallOptions{Hold: 10 * time.Millisecond, MinGap: 190 * time.Millisecond}, 0},
		{"H", 15, map[string]int{"acme": 5, "globex": 5, "initech": 5}, map[taskKind]int{groupedOpsTask: 12, groupedRefreshTask: 3},
			provider.CallOptions{Hold: hold}, 15},
	}
	for _, tc := range tests {
		t.Run(tc.letter, func(t *testing.T) {
			sc := scenarioByLetter(t, tc.letter)
			require.Len(t, sc.plan, tc.enqueued)
			require.Equal(t, tc.enqueued, sc.want.calls)
			per, tasks := map[string]int{}, map[taskKind]int{}
			for _, st := range sc.plan {
				per[st.call.Account]++
				tasks[st.task]++
			}
			for a, n := range tc.perAccount {
				require.Equal(t, n, per[a], a)
			}
			require.Equal(t, tc.tasks, tasks)
			require.Equal(t, tc.mode, sc.mode(hold, 0))
			require.Len(t, sc.baseline, tc.baselineSize)
			require.True(t, sc.guarded)
		})
	}
	// H's baseline: the same calls, on tasks with keys of their own; each
	// account's first op and refresh come first, so that they overlap.
	h := scenarioByLetter(t, "H")
	for i, st := range h.baseline {
		require.Equal(t, h.plan[i].call, st.call)
		require.Contains(t, []taskKind{keyedWaitTask, refreshTask}, st.task)
	}
	require.Equal(t, step{refreshTask, call{Account: "acme", Op: "refresh_usage"}}, h.baseline[1])
}

func TestMinGap(t *testing.T) {
	require.Equal(t, 190*time.Millisecond, minGap(0))
	require.Equal(t, 150*time.Millisecond, minGap(40*time.Millisecond))
	require.Equal(t, 100*time.Millisecond, minGap(time.Hour), "never below half the gap")
	require.Equal(t, time.Microsecond, scenarioByLetter(t, "G").holdFor(time.Nanosecond), "never zero")
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	require.Zero(t, percentile(nil, 99))
	require.Equal(t, 5*time.Millisecond, percentile(ms(5), 99))
	require.Equal(t, 10*time.Millisecond, percentile(ms(3, 10, 1, 2, 4, 5, 6, 7, 8, 9), 99))
	require.Equal(t, 5*time.Millisecond, percentile(ms(3, 10, 1, 2, 4, 5, 6, 7, 8, 9), 50))
	require.Equal(t, 99*time.Millisecond, percentile(ms(rangeN(100)...), 99))
}

func rangeN(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestNoisyTimes(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	timings := []timing{
		{"whale", at(0), at(100)},
		{"whale", at(0), at(4000)},
		{"minnow01", at(1), at(101)},
		{"minnow02", at(1), at(202)},
	}
	p99, whale := noisyTimes(timings, "whale")
	require.Equal(t, 201*time.Millisecond, p99)
	require.Equal(t, 4*time.Second, whale)
}

func TestSummary(t *testing.T) {
	tests := []struct {
		res  result
		want string
	}{
		{result{sc: scenarioByLetter(t, "B"), phase: phase{enqueued: 12, calls: 12, elapsed: 1604 * time.Millisecond}, bound: 1600 * time.Millisecond},
			"12 enqueued -> 12 calls, 0 collisions, 1.60s (bound 1.60s)"},
		{result{sc: scenarioByLetter(t, "C"), phase: phase{enqueued: 12, calls: 3, dropped: 9, elapsed: 401 * time.Millisecond}, bound: 400 * time.Millisecond},
			"12 enqueued -> 3 calls (9 dropped), 0 collisions, 0.40s (bound 0.40s)"},
		{result{sc: scenarioByLetter(t, "D"), phase: phase{enqueued: 24, calls: 3, deduped: 21, elapsed: 401 * time.Millisecond}, bound: 400 * time.Millisecond},
			"24 enqueued -> 3 calls (21 deduped), 0 collisions, 0.40s (bound 0.40s)"},
		{result{sc: scenarioByLetter(t, "A"), phase: phase{enqueued: 12, calls: 12, collisions: 9, elapsed: 803 * time.Millisecond}, bound: 800 * time.Millisecond},
			"12 enqueued -> 12 calls, 9 collisions, 0.80s (bound 0.80s)"},
		{result{sc: scenarioByLetter(t, "C"), phase: phase{enqueued: 12, calls: 12, elapsed: 803 * time.Millisecond}, bound: 400 * time.Millisecond},
			"12 enqueued -> 12 calls (0 dropped), 0 collisions, 0.80s (bound 0.40s)"},
		{result{sc: scenarioByLetter(t, "E"), phase: phase{enqueued: 50, calls: 50, elapsed: 4040 * time.Millisecond}, bound: 4 * time.Second,
			hold: 100 * time.Millisecond, minnowP99: 203 * time.Millisecond, whale: 4040 * time.Millisecond},
			"50 enqueued -> 50 calls, 0 collisions, 4.04s (bound 4.00s), minnow p99 0.203s (goal 0.200s), whale 4.04s"},
		{result{sc: scenarioByLetter(t, "G"), phase: phase{enqueued: 30, calls: 30, rateViolations: 2, elapsed: 1820 * time.Millisecond}, bound: 1810 * time.Millisecond},
			"30 enqueued -> 30 calls, 0 collisions, 1.82s (bound 1.81s), 2 rate violations (min gap 190ms)"},
		{result{sc: scenarioByLetter(t, "H"), phase: phase{enqueued: 15, calls: 15, elapsed: 2010 * time.Millisecond}, bound: 2 * time.Second,
			baseline: &phase{enqueued: 15, calls: 15, collisions: 3, elapsed: 1610 * time.Millisecond}},
			"15 enqueued -> 15 calls, 0 collisions, 2.01s (bound 2.00s); without Group: 15 calls, 3 collisions, 1.61s"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, summary(tc.res))
	}
}

func TestWriteHuman(t *testing.T) {
	res := result{sc: scenarioByLetter(t, "A"), bound: 800 * time.Millisecond, phase: phase{
		enqueued: 12, calls: 12, collisions: 9, elapsed: 803 * time.Millisecond,
		accounts: map[string]provider.Counts{"acme": {Calls: 4, Collisions: 3}, "globex": {Calls: 4}, "initech": {Calls: 4, Collisions: 6}},
		log:      []string{"[ok       ] acme     fetch_profile", "[COLLISION] acme     list_invoices"},
	}}
	var b strings.Builder
	writeHuman(&b, res, false)
	require.Equal(t, ""+
		"=== A. unsafe — no concurrency control ===\n"+
		"  12 enqueued -> 12 calls, 9 collisions, 0.80s (bound 0.80s)\n"+
		"   X acme     calls=4  collisions=3\n"+
		"  OK globex   calls=4  collisions=0\n"+
		"   X initech  calls=4  collisions=6\n"+
		"    [ok       ] acme     fetch_profile\n"+
		"    [COLLISION] acme     list_invoices\n"+
		"\n", b.String())
}

func TestWriteHumanNewScenarios(t *testing.T) {
	g := result{sc: scenarioByLetter(t, "G"), bound: 1810 * time.Millisecond, phase: phase{
		enqueued: 30, calls: 30, rateViolations: 1, elapsed: 1820 * time.Millisecond,
		accounts: map[string]provider.Counts{"acme": {Calls: 10, RateViolations: 1}, "globex": {Calls: 10}, "initech": {Calls: 10}},
		log:      []string{"[TOO SOON ] acme     list_invoices"},
	}}
	var b strings.Builder
	writeHuman(&b, g, false)
	require.Equal(t, ""+
		"=== "+g.sc.title()+" ===\n"+
		"  30 enqueued -> 30 calls, 0 collisions, 1.82s (bound 1.81s), 1 rate violations (min gap 190ms)\n"+
		"   X acme     calls=10 collisions=0 rate_violations=1\n"+
		"  OK globex   calls=10 collisions=0 rate_violations=0\n"+
		"  OK initech  calls=10 collisions=0 rate_violations=0\n"+
		"    [TOO SOON ] acme     list_invoices\n"+
		"  FAIL: 1 rate violations, want 0\n"+
		"\n", b.String())

	h := result{sc: scenarioByLetter(t, "H"), bound: 2 * time.Second, parallel: 8,
		baseline: &phase{calls: 15, collisions: 3, log: []string{"[COLLISION] acme     refresh_usage"}},
		phase:    phase{enqueued: 15, calls: 15, log: []string{"[ok       ] acme     refresh_usage"}},
	}
	b.Reset()
	writeHuman(&b, h, true)
	require.Equal(t, "=== "+h.sc.title()+" ===\n  "+summary(h)+"\n", b.String())
	b.Reset()
	writeHuman(&b, h, false)
	require.Contains(t, b.String(), ""+
		"    --- without Group ---\n"+
		"    [COLLISION] acme     refresh_usage\n"+
		"    --- with Group ---\n"+
		"    [ok       ] acme     refresh_usage\n")
}

func TestProblems(t *testing.T) {
	sc := func(l string) scenario { return scenarioByLetter(t, l) }
	hold := 400 * time.Millisecond
	tests := []struct {
		name string
		res  result
		want []string
	}{
		{"A collides freely", result{sc: sc("A"), phase: phase{enqueued: 12, calls: 12, collisions: 9}}, nil},
		{"A call missing", result{sc: sc("A"), phase: phase{enqueued: 12, calls: 11}}, []string{"11 calls, want 12"}},
		{"B clean", result{sc: sc("B"), phase: phase{enqueued: 12, calls: 12}}, nil},
		{"B collided", result{sc: sc("B"), phase: phase{enqueued: 12, calls: 12, collisions: 2}}, []string{"2 collisions, want 0"}},
		{"C clean", result{sc: sc("C"), phase: phase{enqueued: 12, calls: 3, dropped: 9}}, nil},
		{"C dropped too few", result{sc: sc("C"), phase: phase{enqueued: 12, calls: 4, dropped: 8}},
			[]string{"4 calls, want 3", "8 dropped, want 9"}},
		{"D clean", result{sc: sc("D"), phase: phase{enqueued: 24, calls: 3, deduped: 21}}, nil},
		{"D short", result{sc: sc("D"), phase: phase{enqueued: 20, calls: 3, deduped: 17}},
			[]string{"20 enqueued, want 24", "17 deduped, want 21"}},

		{"E clean", result{sc: sc("E"), hold: hold / 4, minnowP99: 210 * time.Millisecond, phase: phase{enqueued: 50, calls: 50}}, nil},
		{"E minnows late", result{sc: sc("E"), hold: hold / 4, minnowP99: 211 * time.Millisecond, phase: phase{enqueued: 50, calls: 50}},
			[]string{"minnow p99 0.211s, want about 2 holds: 0.210s"}},
		{"E minnows late, with slack", result{sc: sc("E"), hold: hold / 4, slack: 50 * time.Millisecond, minnowP99: 261 * time.Millisecond, phase: phase{enqueued: 50, calls: 50}},
			[]string{"minnow p99 0.261s, want about 2 holds: 0.260s (with -slack 50ms)"}},
		{"F clean", result{sc: sc("F"), bound: 1600 * time.Millisecond, phase: phase{enqueued: 24, calls: 24, elapsed: 1632 * time.Millisecond}}, nil},
		{"F slow", result{sc: sc("F"), bound: 1600 * time.Millisecond, phase: phase{enqueued: 24, calls: 24, elapsed: 1633 * time.Millisecond}},
			[]string{"took 1.633s, want within 2% of the 1.600s bound: 1.632s"}},
		{"F collided", result{sc: sc("F"), bound: 1600 * time.Millisecond, phase: phase{enqueued: 24, calls: 24, collisions: 1, elapsed: time.Second}},
			[]string{"1 collisions, want 0"}},
		{"G clean", result{sc: sc("G"), bound: 1810 * time.Millisecond, phase: phase{enqueued: 30, calls: 30, elapsed: 1900 * time.Millisecond}}, nil},
		{"G too fast", result{sc: sc("G"), bound: 1810 * time.Millisecond, phase: phase{enqueued: 30, calls: 30, rateViolations: 3, elapsed: 100 * time.Millisecond}},
			[]string{"3 rate violations, want 0"}},
		{"G slow", result{sc: sc("G"), bound: 1810 * time.Millisecond, phase: phase{enqueued: 30, calls: 30, elapsed: 1902 * time.Millisecond}},
			[]string{"took 1.902s, want within 5% of the 1.810s bound: 1.901s"}},
		{"H clean", result{sc: sc("H"), parallel: 8, baseline: &phase{collisions: 3}, phase: phase{enqueued: 15, calls: 15}}, nil},
		{"H baseline did not collide", result{sc: sc("H"), parallel: 8, baseline: &phase{}, phase: phase{enqueued: 15, calls: 15}},
			[]string{"0 collisions without Group, want some (the reference's behaviour)"}},
		{"H with one slot nothing can collide", result{sc: sc("H"), parallel: 1, baseline: &phase{}, phase: phase{enqueued: 15, calls: 15}}, nil},
		{"H grouped collided", result{sc: sc("H"), parallel: 8, baseline: &phase{collisions: 3}, phase: phase{enqueued: 15, calls: 15, collisions: 1}},
			[]string{"1 collisions, want 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, problems(tc.res))
		})
	}
}

func TestLogTap(t *testing.T) {
	var tap logTap
	require.Empty(t, tap.take())
	_, _ = tap.Write([]byte("one\ntwo\nthr"))
	require.Equal(t, []string{"one", "two"}, tap.take())
	_, _ = tap.Write([]byte("ee\n"))
	require.Equal(t, []string{"three"}, tap.take())
	require.Empty(t, tap.take())
}
