package scheduler_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// The reference's four demo scenarios in miniature, on fake time: three
// accounts, four operations, a provider call that holds its account for
// 400ms, eight slots.
var (
	accounts = []string{"acme", "globex", "initech"}
	ops      = []string{"fetch_profile", "list_invoices", "refresh_usage", "update_metadata"}
)

const hold = 400 * time.Millisecond

type scenarioResult struct {
	runs, dropped, deduped int
	elapsed                time.Duration
	maxPerKey, maxGlobal   int
}

// runScenario submits calls per account (in rounds, one call per account
// per round), then waits for all of them.
func runScenario(t *testing.T, opts Options[call], perAccount int, beforeRest func()) scenarioResult {
	t.Helper()
	s := newScheduler(t, Config{MaxParallel: 8})
	p := newProbe()
	p.hold = hold
	opts.Key = keyOf
	task := newTask(t, s, "call", p, opts)
	start := time.Now()
	var invs []*Invocation[string]
	for round := range perAccount {
		if round == 1 && beforeRest != nil {
			beforeRest()
		}
		for _, acct := range accounts {
			invs = append(invs, submit(t, task, acct, round))
		}
	}
	var res scenarioResult
	for _, inv := range invs {
		_, err := wait(t, inv)
		if err != nil {
			require.ErrorIs(t, err, ErrDropped)
		}
	}
	res.elapsed = time.Since(start)
	res.runs, res.maxPerKey, res.maxGlobal, _ = p.snapshot()
	st := s.Stats()
	res.dropped, res.deduped = int(st.Dropped), int(st.Deduped)
	return res
}

func TestReferenceScenarios(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options[call]
		perAccount int
		whileFirst bool // submit the rest once the first calls run
		want       scenarioResult
	}{
		{"A unsafe", Options[call]{}, len(ops), false,
			scenarioResult{runs: 12, elapsed: 2 * hold, maxPerKey: -1, maxGlobal: 8}},
		{"B keyed wait", Options[call]{Running: ByKey}, len(ops), false,
			scenarioResult{runs: 12, elapsed: 4 * hold, maxPerKey: 1, maxGlobal: 3}},
		{"C keyed drop", Options[call]{Running: ByKey, OnBusy: Drop}, len(ops), false,
			scenarioResult{runs: 3, dropped: 9, elapsed: hold, maxPerKey: 1, maxGlobal: 3}},
		{"D dedupe until done", Options[call]{Running: ByKey, Registration: ByKey, Dedupe: UntilDone}, 8, false,
			scenarioResult{runs: 3, deduped: 21, elapsed: hold, maxPerKey: 1, maxGlobal: 3}},
		{"D' dedupe until start", Options[call]{Running: ByKey, Registration: ByKey, Dedupe: UntilStart}, 8, true,
			scenarioResult{runs: 6, deduped: 18, elapsed: 2 * hold, maxPerKey: 1, maxGlobal: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var beforeRest func()
				if tt.whileFirst {
					beforeRest = synctest.Wait
				}
				got := runScenario(t, tt.opts, tt.perAccount, beforeRest)
				if tt.want.maxPerKey < 0 { // unsafe: keys overlap, by how much depends on timing
					require.GreaterOrEqual(t, got.maxPerKey, 3)
					got.maxPerKey = -1
				}
				require.Equal(t, tt.want, got)
			})
		})
	}
}
