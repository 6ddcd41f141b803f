package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTimeGoalMissedOnASlowMachine: a network (or a machine) slow enough
// that E and F surely miss their time goals, while nothing is wrong. The
// goals are printed as MISSED, with the goal enforced; the run passes
// without -strict, and fails with it.
func TestTimeGoalMissedOnASlowMachine(t *testing.T) {
	srv := startTestProvider(t, nil)
	// 40ms more per call: F's 4 waves of 40ms take 320ms at least, twice
	// its 163ms goal; a minnow's call 50ms, against 21ms.
	slow := startProxy(t, srv.URL(), proxyOptions{delay: 40 * time.Millisecond})

	tests := []struct {
		name   string
		strict bool
		code   int
		fails  []string
	}{
		{"reported, not fatal", false, exitOK, nil},
		{"fatal with -strict", true, exitFail, []string{
			`(?m)^sim: FAIL E: time goal missed: minnow p99 0\.\d{3}s, goal 0\.021s \(2 holds of 0\.010s, plus 5%\)$`,
			`(?m)^sim: FAIL F: time goal missed: took 0\.\d{3}s, goal 0\.163s \(2% above the 0\.160s bound\)$`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"-provider", slow, "-hold", "40ms", "-scenarios", "E,F"}
			if tc.strict {
				args = append(args, "-strict")
			}
			r := runSim(t.Context(), args...)
			require.Equal(t, tc.code, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			require.Regexp(t, `(?m)^  50 enqueued -> 50 calls, 0 collisions, .*, minnow p99 0\.\d{3}s \(goal 0\.021s: MISSED\), whale`, r.stdout)
			require.Regexp(t, `(?m)^  24 enqueued -> 24 calls, 0 collisions, 0\.\d{3}s \(bound 0\.160s, goal 0\.163s: MISSED\)$`, r.stdout)
			note := "not fatal without -strict"
			if tc.strict {
				note = "fatal with -strict"
			}
			require.Regexp(t, `\n2 scenarios: all hold; time goal missed \(`+regexp.QuoteMeta(note)+`\): E \(minnow p99 .*\), F \(took .*\)\n$`, r.stdout)
			if len(tc.fails) == 0 {
				require.NotContains(t, r.stderr, "FAIL")
			}
			for _, re := range tc.fails {
				require.Regexp(t, re, r.stderr)
			}
		})
	}
}

// TestStrictOnTime: -strict changes nothing when the goals are met or
// there are none.
func TestStrictOnTime(t *testing.T) {
	r := runSim(t.Context(), "-hold", testHold, "-strict", "-quiet", "-scenarios", "B,C")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Regexp(t, `\n2 scenarios: all hold\n$`, r.stdout)
	require.Empty(t, r.stderr)
}
