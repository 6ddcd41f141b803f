package main

import (
	"fmt"
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
			provider.CallOptions{Hold: 10 * time.Millisecond, MinGap: 150 * time.Millisecond}, 0},
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
	require.Equal(t, 150*time.Millisecond, minGap(0), "three quarters of the rate's 200ms")
	require.Equal(t, 110*time.Millisecond, minGap(40*time.Millisecond))
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
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	e := scenarioByLetter(t, "E")
	tests := []struct {
		name string
		res  result
		want string
	}{
		{"B", result{sc: scenarioByLetter(t, "B"), phase: phase{enqueued: 12, calls: 12, elapsed: ms(1604)}, bound: ms(1600)},
			"12 enqueued -> 12 calls, 0 collisions, 1.60s (bound 1.60s)"},
		{"C", result{sc: scenarioByLetter(t, "C"), phase: phase{enqueued: 12, calls: 3, dropped: 9, elapsed: ms(401)}, bound: ms(400)},
			"12 enqueued -> 3 calls (9 dropped), 0 collisions, 0.40s (bound 0.40s)"},
		{"D", result{sc: scenarioByLetter(t, "D"), phase: phase{enqueued: 24, calls: 3, deduped: 21, elapsed: ms(401)}, bound: ms(400)},
			"24 enqueued -> 3 calls (21 deduped), 0 collisions, 0.40s (bound 0.40s)"},
		{"A", result{sc: scenarioByLetter(t, "A"), phase: phase{enqueued: 12, calls: 12, collisions: 9, elapsed: ms(803)}, bound: ms(800)},
			"12 enqueued -> 12 calls, 9 collisions, 0.80s (bound 0.80s)"},
		{"C unguarded", result{sc: scenarioByLetter(t, "C"), phase: phase{enqueued: 12, calls: 12, elapsed: ms(803)}, bound: ms(400)},
			"12 enqueued -> 12 calls (0 dropped), 0 collisions, 0.80s (bound 0.40s)"},
		// The goal printed is the goal enforced: 2 holds plus 5%.
		{"E met", result{sc: e, phase: phase{enqueued: 50, calls: 50, elapsed: ms(4040)}, bound: 4 * time.Second,
			hold: ms(100), minnowP99: ms(203), whale: ms(4040)},
			"50 enqueued -> 50 calls, 0 collisions, 4.04s (bound 4.00s), minnow p99 0.203s (goal 0.210s: met), whale 4.04s"},
		{"E met at the goal", result{sc: e, phase: phase{enqueued: 50, calls: 50, elapsed: ms(4040)}, bound: 4 * time.Second,
			hold: ms(100), minnowP99: ms(210), whale: ms(4040)},
			"50 enqueued -> 50 calls, 0 collisions, 4.04s (bound 4.00s), minnow p99 0.210s (goal 0.210s: met), whale 4.04s"},
		{"E missed", result{sc: e, phase: phase{enqueued: 50, calls: 50, elapsed: ms(4040)}, bound: 4 * time.Second,
			hold: ms(100), minnowP99: ms(213), whale: ms(4040)},
			"50 enqueued -> 50 calls, 0 collisions, 4.04s (bound 4.00s), minnow p99 0.213s (goal 0.210s: MISSED), whale 4.04s"},
		{"E missed with slack", result{sc: e, phase: phase{enqueued: 50, calls: 50, elapsed: ms(4040)}, bound: 4 * time.Second,
			hold: ms(100), slack: ms(50), minnowP99: ms(261), whale: ms(4040)},
			"50 enqueued -> 50 calls, 0 collisions, 4.04s (bound 4.00s), minnow p99 0.261s (goal 0.260s with -slack 50ms: MISSED), whale 4.04s"},
		{"F met", result{sc: scenarioByLetter(t, "F"), phase: phase{enqueued: 24, calls: 24, elapsed: ms(1605)}, bound: ms(1600)},
			"24 enqueued -> 24 calls, 0 collisions, 1.605s (bound 1.600s, goal 1.632s: met)"},
		{"G", result{sc: scenarioByLetter(t, "G"), phase: phase{enqueued: 30, calls: 30, rateViolations: 2, elapsed: ms(1820)}, bound: ms(1810)},
			"30 enqueued -> 30 calls, 0 collisions, 1.820s (bound 1.810s, goal 1.901s: met), 2 rate violations (min gap 150ms)"},
		{"G missed", result{sc: scenarioByLetter(t, "G"), phase: phase{enqueued: 30, calls: 30, elapsed: ms(1902)}, bound: ms(1810)},
			"30 enqueued -> 30 calls, 0 collisions, 1.902s (bound 1.810s, goal 1.901s: MISSED), 0 rate violations (min gap 150ms)"},
		{"H", result{sc: scenarioByLetter(t, "H"), phase: phase{enqueued: 15, calls: 15, elapsed: ms(2010)}, bound: 2 * time.Second,
			baseline: &phase{enqueued: 15, calls: 15, collisions: 3, elapsed: ms(1610)}},
			"15 enqueued -> 15 calls, 0 collisions, 2.01s (bound 2.00s); without Group: 15 calls, 3 collisions, 1.61s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, summary(tc.res))
		})
	}
}

// TestTimeGoals: the goal of E, F and G, the one both printed and
// enforced, and whether it is met, at and around its edge.
func TestTimeGoals(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	sc := func(l string) scenario { return scenarioByLetter(t, l) }
	tests := []struct {
		name  string
		res   result
		limit time.Duration
		met   bool
		str   string
	}{
		{"E at the goal", result{sc: sc("E"), hold: ms(100), minnowP99: ms(210)}, ms(210), true,
			"minnow p99 0.210s, goal 0.210s (2 holds of 0.100s, plus 5%)"},
		{"E late", result{sc: sc("E"), hold: ms(100), minnowP99: ms(211)}, ms(210), false,
			"minnow p99 0.211s, goal 0.210s (2 holds of 0.100s, plus 5%)"},
		{"E late with slack", result{sc: sc("E"), hold: ms(100), slack: ms(50), minnowP99: ms(261)}, ms(260), false,
			"minnow p99 0.261s, goal 0.260s (2 holds of 0.100s, plus 5%, plus -slack 50ms)"},
		{"F at the goal", result{sc: sc("F"), bound: ms(1600), phase: phase{elapsed: ms(1632)}}, ms(1632), true,
			"took 1.632s, goal 1.632s (2% above the 1.600s bound)"},
		{"F slow", result{sc: sc("F"), bound: ms(1600), phase: phase{elapsed: ms(1633)}}, ms(1632), false,
			"took 1.633s, goal 1.632s (2% above the 1.600s bound)"},
		{"G slow", result{sc: sc("G"), bound: ms(1810), phase: phase{elapsed: ms(1902)}}, ms(1901), false,
			"took 1.902s, goal 1.901s (5% above the 1.810s bound)"},
		// Compared as printed, to the ms: never "1.901s, goal 1.901s: MISSED".
		{"G at the goal to the ms", result{sc: sc("G"), bound: ms(1810), phase: phase{elapsed: ms(1901) + 400*time.Microsecond}}, ms(1901), true,
			"took 1.901s, goal 1.901s (5% above the 1.810s bound)"},
		{"G over the goal to the ms", result{sc: sc("G"), bound: ms(1810), phase: phase{elapsed: ms(1901) + 600*time.Microsecond}}, ms(1901), false,
			"took 1.902s, goal 1.901s (5% above the 1.810s bound)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, ok := timeGoalOf(tc.res)
			require.True(t, ok)
			require.Equal(t, tc.limit, g.limit)
			require.Equal(t, tc.met, g.met())
			require.Equal(t, tc.str, g.String())
			require.Contains(t, summary(tc.res), "goal "+secs(tc.limit), "the summary prints the goal enforced")
		})
	}
	for _, l := range []string{"A", "B", "C", "D", "H"} {
		_, ok := timeGoalOf(result{sc: sc(l)})
		require.False(t, ok, "%s has no time goal", l)
	}
}

func TestWriteHuman(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	res := result{sc: scenarioByLetter(t, "A"), bound: ms(800), phase: phase{
		enqueued: 12, calls: 12, collisions: 9, elapsed: ms(803),
		accounts: map[string]provider.Counts{"acme": {Calls: 4, Collisions: 3}, "globex": {Calls: 4}, "initech": {Calls: 4, Collisions: 6}},
		log:      []callLine{{ms(0), "[ok       ] acme     fetch_profile"}, {ms(1), "[COLLISION] acme     list_invoices"}},
	}}
	var b strings.Builder
	writeHuman(&b, res, false)
	require.Equal(t, ""+
		"=== A. unsafe — no concurrency control ===\n"+
		"  12 enqueued -> 12 calls, 9 collisions, 0.80s (bound 0.80s)\n"+
		"   X acme     calls=4  collisions=3\n"+
		"  OK globex   calls=4  collisions=0\n"+
		"   X initech  calls=4  collisions=6\n"+
		"    +0.000s [ok       ] acme     fetch_profile\n"+
		"    +0.001s [COLLISION] acme     list_invoices\n"+
		"\n", b.String())
}

// TestWriteHumanDrops: C says which calls the scheduler dropped, per
// account and one by one, with when.
func TestWriteHumanDrops(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	res := result{sc: scenarioByLetter(t, "C"), bound: ms(400), phase: phase{
		enqueued: 12, calls: 3, dropped: 9, elapsed: ms(401),
		accounts: map[string]provider.Counts{"acme": {Calls: 1}, "globex": {Calls: 1}, "initech": {Calls: 1}},
		log:      []callLine{{0, "[ok       ] acme     fetch_profile"}},
		drops: []droppedCall{
			{0, "acme", "list_invoices"}, {ms(1), "acme", "refresh_usage"}, {ms(1), "globex", "list_invoices"},
		},
	}}
	var b strings.Builder
	writeHuman(&b, res, false)
	require.Equal(t, ""+
		"=== "+res.sc.title()+" ===\n"+
		"  12 enqueued -> 3 calls (9 dropped), 0 collisions, 0.40s (bound 0.40s)\n"+
		"  OK acme     calls=1  collisions=0 dropped=2\n"+
		"  OK globex   calls=1  collisions=0 dropped=1\n"+
		"  OK initech  calls=1  collisions=0 dropped=0\n"+
		"    +0.000s [ok       ] acme     fetch_profile\n"+
		"  dropped by the scheduler, never sent (3):\n"+
		"    +0.000s acme     list_invoices\n"+
		"    +0.001s acme     refresh_usage\n"+
		"    +0.001s globex   list_invoices\n"+
		"\n", b.String())
}

// TestCallLogFolds: a long run of one account's calls with one outcome
// (E's whale) folds into its first two calls, one line for the rest and
// its last; shorter runs, and runs broken by another account or another
// outcome, print whole.
func TestCallLogFolds(t *testing.T) {
	line := func(ms int, tag, account, op string) callLine {
		return callLine{time.Duration(ms) * time.Millisecond, fmt.Sprintf("[%-9s] %-8s %s", tag, account, op)}
	}
	var whale []callLine
	whale = append(whale, line(0, "ok", "minnow01", "fetch_profile"))
	for i := range 40 {
		whale = append(whale, line(100*i, "ok", "whale", referenceOps()[i%4]))
	}
	tests := []struct {
		name string
		log  []callLine
		want string
	}{
		{"E's whale", whale, "" +
			"    +0.000s [ok       ] minnow01 fetch_profile\n" +
			"    +0.000s [ok       ] whale    fetch_profile\n" +
			"    +0.100s [ok       ] whale    list_invoices\n" +
			"            [ok       ] whale ... 37 more, +0.200s to +3.800s\n" +
			"    +3.900s [ok       ] whale    update_metadata\n"},
		{"four in a row print whole", []callLine{
			line(0, "ok", "acme", "a"), line(1, "ok", "acme", "b"), line(2, "ok", "acme", "c"), line(3, "ok", "acme", "d"),
		}, "" +
			"    +0.000s [ok       ] acme     a\n" +
			"    +0.001s [ok       ] acme     b\n" +
			"    +0.002s [ok       ] acme     c\n" +
			"    +0.003s [ok       ] acme     d\n"},
		{"five in a row fold", []callLine{
			line(0, "ok", "acme", "a"), line(1, "ok", "acme", "b"), line(2, "ok", "acme", "c"), line(3, "ok", "acme", "d"), line(4, "ok", "acme", "e"),
		}, "" +
			"    +0.000s [ok       ] acme     a\n" +
			"    +0.001s [ok       ] acme     b\n" +
			"            [ok       ] acme ... 2 more, +0.002s to +0.003s\n" +
			"    +0.004s [ok       ] acme     e\n"},
		{"another outcome breaks a run", []callLine{
			line(0, "ok", "acme", "a"), line(1, "ok", "acme", "b"), line(2, "COLLISION", "acme", "c"), line(3, "ok", "acme", "d"), line(4, "ok", "acme", "e"),
		}, "" +
			"    +0.000s [ok       ] acme     a\n" +
			"    +0.001s [ok       ] acme     b\n" +
			"    +0.002s [COLLISION] acme     c\n" +
			"    +0.003s [ok       ] acme     d\n" +
			"    +0.004s [ok       ] acme     e\n"},
		{"lines in another format never fold", []callLine{
			{0, "x"}, {0, "x"}, {0, "x"}, {0, "x"}, {0, "x"}, {0, "x"},
		}, strings.Repeat("    +0.000s x\n", 6)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			writeCallLog(&b, tc.log)
			require.Equal(t, tc.want, b.String())
		})
	}
}

func TestWriteHumanNewScenarios(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	g := result{sc: scenarioByLetter(t, "G"), bound: ms(1810), phase: phase{
		enqueued: 30, calls: 30, rateViolations: 1, elapsed: ms(1820),
		accounts: map[string]provider.Counts{"acme": {Calls: 10, RateViolations: 1}, "globex": {Calls: 10}, "initech": {Calls: 10}},
		log:      []callLine{{ms(1203), "[TOO SOON ] acme     list_invoices"}},
	}}
	var b strings.Builder
	writeHuman(&b, g, false)
	require.Equal(t, ""+
		"=== "+g.sc.title()+" ===\n"+
		"  30 enqueued -> 30 calls, 0 collisions, 1.820s (bound 1.810s, goal 1.901s: met), 1 rate violations (min gap 150ms)\n"+
		"   X acme     calls=10 collisions=0 rate_violations=1\n"+
		"  OK globex   calls=10 collisions=0 rate_violations=0\n"+
		"  OK initech  calls=10 collisions=0 rate_violations=0\n"+
		"    +1.203s [TOO SOON ] acme     list_invoices\n"+
		"  FAIL: 1 rate violations, want 0\n"+
		"\n", b.String())

	h := result{sc: scenarioByLetter(t, "H"), bound: 2 * time.Second, parallel: 8,
		baseline: &phase{calls: 15, collisions: 3, log: []callLine{{ms(2), "[COLLISION] acme     refresh_usage"}}},
		phase:    phase{enqueued: 15, calls: 15, elapsed: 2 * time.Second, log: []callLine{{ms(400), "[ok       ] acme     refresh_usage"}}},
	}
	b.Reset()
	writeHuman(&b, h, true)
	require.Equal(t, "=== "+h.sc.title()+" ===\n  "+summary(h)+"\n", b.String())
	b.Reset()
	writeHuman(&b, h, false)
	require.Contains(t, b.String(), ""+
		"    --- without Group ---\n"+
		"    +0.002s [COLLISION] acme     refresh_usage\n"+
		"    --- with Group ---\n"+
		"    +0.400s [ok       ] acme     refresh_usage\n")
}

func TestProblems(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
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
		{"B faster than its bound", result{sc: sc("B"), bound: ms(1600), phase: phase{enqueued: 12, calls: 12, elapsed: ms(1598)}},
			[]string{"took 1.598s, less than the 1.600s bound: calls overlapped, or the provider did not hold them"}},
		{"B at its bound", result{sc: sc("B"), bound: ms(1600), phase: phase{enqueued: 12, calls: 12, elapsed: ms(1600)}}, nil},
		{"C clean", result{sc: sc("C"), phase: phase{enqueued: 12, calls: 3, dropped: 9}}, nil},
		{"C dropped too few", result{sc: sc("C"), phase: phase{enqueued: 12, calls: 4, dropped: 8}},
			[]string{"4 calls, want 3", "8 dropped, want 9"}},
		{"D clean", result{sc: sc("D"), phase: phase{enqueued: 24, calls: 3, deduped: 21}}, nil},
		{"D short", result{sc: sc("D"), phase: phase{enqueued: 20, calls: 3, deduped: 17}},
			[]string{"20 enqueued, want 24", "17 deduped, want 21"}},

		// A missed time goal is not a problem: a busy machine misses them.
		{"E minnows late", result{sc: sc("E"), hold: hold / 4, minnowP99: ms(400), phase: phase{enqueued: 50, calls: 50}}, nil},
		{"F slow", result{sc: sc("F"), bound: ms(1600), phase: phase{enqueued: 24, calls: 24, elapsed: ms(3000)}}, nil},
		{"F collided", result{sc: sc("F"), bound: ms(1600), phase: phase{enqueued: 24, calls: 24, collisions: 1, elapsed: time.Second}},
			[]string{"1 collisions, want 0", "took 1.000s, less than the 1.600s bound: calls overlapped, or the provider did not hold them"}},
		{"G clean", result{sc: sc("G"), bound: ms(1810), phase: phase{enqueued: 30, calls: 30, elapsed: ms(1900)}}, nil},
		{"G within the rounding of the rate", result{sc: sc("G"), bound: ms(1810), phase: phase{enqueued: 30, calls: 30, elapsed: ms(1810) - time.Microsecond}}, nil},
		{"G too fast", result{sc: sc("G"), bound: ms(1810), phase: phase{enqueued: 30, calls: 30, rateViolations: 3, elapsed: ms(100)}},
			[]string{"3 rate violations, want 0", "took 0.100s, less than the 1.810s bound: calls overlapped, or the provider did not hold them"}},
		{"G slow", result{sc: sc("G"), bound: ms(1810), phase: phase{enqueued: 30, calls: 30, elapsed: ms(5000)}}, nil},
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

// TestVerdict: the run's last line and exit status. Anything wrong fails
// the run; a missed time goal only with -strict.
func TestVerdict(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	late := &timeGoal{what: "minnow p99", got: ms(213), limit: ms(210), basis: "2 holds of 0.100s, plus 5%"}
	ok := func(l string) scenarioCheck { return scenarioCheck{letter: l} }
	tests := []struct {
		name     string
		checks   []scenarioCheck
		strict   bool
		line     string
		code     int
		failures []string
	}{
		{"all hold", []scenarioCheck{ok("A"), ok("B"), ok("C"), ok("D"), ok("E"), ok("F"), ok("G"), ok("H")}, false,
			"8 scenarios: all hold", exitOK, nil},
		{"all hold, strict", []scenarioCheck{ok("A"), ok("B")}, true, "2 scenarios: all hold", exitOK, nil},
		{"one scenario", []scenarioCheck{ok("C")}, false, "1 scenario: all hold", exitOK, nil},
		{"a goal missed is reported, not fatal", []scenarioCheck{ok("D"), {letter: "E", missed: late}}, false,
			"2 scenarios: all hold; time goal missed (not fatal without -strict): E (minnow p99 0.213s, goal 0.210s (2 holds of 0.100s, plus 5%))",
			exitOK, nil},
		{"a goal missed with -strict is fatal", []scenarioCheck{ok("D"), {letter: "E", missed: late}}, true,
			"2 scenarios: all hold; time goal missed (fatal with -strict): E (minnow p99 0.213s, goal 0.210s (2 holds of 0.100s, plus 5%))",
			exitFail, []string{"E: time goal missed: minnow p99 0.213s, goal 0.210s (2 holds of 0.100s, plus 5%)"}},
		{"wrong is always fatal", []scenarioCheck{{letter: "B", problems: []string{"2 collisions, want 0"}}, ok("C"),
			{letter: "D", problems: []string{"4 calls, want 3", "20 deduped, want 21"}}}, false,
			"3 scenarios: 2 failed: B (2 collisions, want 0), D (4 calls, want 3; 20 deduped, want 21)",
			exitFail, []string{"B: 2 collisions, want 0", "D: 4 calls, want 3", "D: 20 deduped, want 21"}},
		{"wrong and late", []scenarioCheck{{letter: "B", problems: []string{"2 collisions, want 0"}}, {letter: "E", missed: late}}, false,
			"2 scenarios: 1 failed: B (2 collisions, want 0); time goal missed (not fatal without -strict): E (minnow p99 0.213s, goal 0.210s (2 holds of 0.100s, plus 5%))",
			exitFail, []string{"B: 2 collisions, want 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			line, code := verdict(tc.checks, tc.strict)
			require.Equal(t, tc.line, line)
			require.Equal(t, tc.code, code)
			require.Equal(t, tc.failures, failures(tc.checks, tc.strict))
		})
	}
}

func TestLogTap(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 12, 0, 0, 0, time.UTC)
	now := t0
	tap := logTap{now: func() time.Time { return now }}
	require.Empty(t, tap.take())
	_, _ = tap.Write([]byte("one\ntwo\nthr"))
	now = t0.Add(time.Second)
	_, _ = tap.Write([]byte("ee\n"))
	require.Equal(t, []logLine{{t0, "one"}, {t0, "two"}, {t0.Add(time.Second), "three"}}, tap.take())
	require.Empty(t, tap.take())
	_, _ = tap.Write([]byte("\n"))
	require.Equal(t, []logLine{{t0.Add(time.Second), ""}}, tap.take())
}
