package main

import (
	"strings"
	"testing"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/stretchr/testify/require"
)

func TestBound(t *testing.T) {
	table := scenarioTable()
	hold := 400 * time.Millisecond
	tests := []struct {
		parallel int
		want     [4]time.Duration // A, B, C, D
	}{
		{8, [4]time.Duration{2 * hold, 4 * hold, hold, hold}},
		{1, [4]time.Duration{12 * hold, 12 * hold, 3 * hold, 3 * hold}},
		{2, [4]time.Duration{6 * hold, 6 * hold, 2 * hold, 2 * hold}},
		{12, [4]time.Duration{hold, 4 * hold, hold, hold}},
	}
	for _, tc := range tests {
		for i, sc := range table {
			require.Equal(t, tc.want[i], sc.bound(hold, tc.parallel), "%s with parallel %d", sc.letter, tc.parallel)
		}
	}
}

func TestSummary(t *testing.T) {
	table := pick(scenarioTable(), []string{"A", "B", "C", "D"})
	tests := []struct {
		res  result
		want string
	}{
		{result{sc: table[1], enqueued: 12, calls: 12, elapsed: 1604 * time.Millisecond, bound: 1600 * time.Millisecond},
			"12 enqueued -> 12 calls, 0 collisions, 1.60s (bound 1.60s)"},
		{result{sc: table[2], enqueued: 12, calls: 3, dropped: 9, elapsed: 401 * time.Millisecond, bound: 400 * time.Millisecond},
			"12 enqueued -> 3 calls (9 dropped), 0 collisions, 0.40s (bound 0.40s)"},
		{result{sc: table[3], enqueued: 24, calls: 3, deduped: 21, elapsed: 401 * time.Millisecond, bound: 400 * time.Millisecond},
			"24 enqueued -> 3 calls (21 deduped), 0 collisions, 0.40s (bound 0.40s)"},
		{result{sc: table[0], enqueued: 12, calls: 12, collisions: 9, elapsed: 803 * time.Millisecond, bound: 800 * time.Millisecond},
			"12 enqueued -> 12 calls, 9 collisions, 0.80s (bound 0.80s)"},
		{result{sc: table[2], enqueued: 12, calls: 12, elapsed: 803 * time.Millisecond, bound: 400 * time.Millisecond},
			"12 enqueued -> 12 calls (0 dropped), 0 collisions, 0.80s (bound 0.40s)"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, summary(tc.res))
	}
}

func TestWriteHuman(t *testing.T) {
	sc := pick(scenarioTable(), []string{"A"})[0]
	res := result{sc: sc, enqueued: 12, calls: 12, collisions: 9, elapsed: 803 * time.Millisecond, bound: 800 * time.Millisecond,
		accounts: map[string]provider.Counts{"acme": {Calls: 4, Collisions: 3}, "globex": {Calls: 4}, "initech": {Calls: 4, Collisions: 6}},
		log:      []string{"[ok       ] acme     fetch_profile", "[COLLISION] acme     list_invoices"}}
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

func TestProblems(t *testing.T) {
	table := pick(scenarioTable(), []string{"A", "B", "C", "D"})
	tests := []struct {
		name string
		res  result
		want []string
	}{
		{"A collides freely", result{sc: table[0], enqueued: 12, calls: 12, collisions: 9}, nil},
		{"A call missing", result{sc: table[0], enqueued: 12, calls: 11}, []string{"11 calls, want 12"}},
		{"B clean", result{sc: table[1], enqueued: 12, calls: 12}, nil},
		{"B collided", result{sc: table[1], enqueued: 12, calls: 12, collisions: 2}, []string{"2 collisions, want 0"}},
		{"C clean", result{sc: table[2], enqueued: 12, calls: 3, dropped: 9}, nil},
		{"C dropped too few", result{sc: table[2], enqueued: 12, calls: 4, dropped: 8},
			[]string{"4 calls, want 3", "8 dropped, want 9"}},
		{"D clean", result{sc: table[3], enqueued: 24, calls: 3, deduped: 21}, nil},
		{"D short", result{sc: table[3], enqueued: 20, calls: 3, deduped: 17},
			[]string{"20 enqueued, want 24", "17 deduped, want 21"}},
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
