package main

import (
	"time"

	"github.com/perkey/perkey/provider"
)

// scenario is one row of the demo: what it submits, to which tasks, in
// which provider mode, and what must come out. New scenarios are new rows
// of scenarioTable.
type scenario struct {
	letter  string // "A"
	label   string // the task options in perkey's names
	plan    []step // the submissions, in order
	guarded bool   // a collision fails the run
	want    expect // the counts it must reproduce

	// baseline, when set, runs first, on its own after a reset of the
	// provider: the plan without the guard under test (H: without a
	// Group). Its collisions are reported, and must be above zero.
	baseline []step

	// holdDiv divides -hold into the scenario's hold: 4 for E (100ms by
	// default), 40 for G (10ms). Zero means 1.
	holdDiv int
	// slots is the provider's slots per call (F); zero means 1.
	slots int
	// rated makes the provider count rate violations (G): starts of one
	// account closer than minGap.
	rated bool

	// serialPerKey is how many calls of one key must run one after the
	// other, for the physical bound; 0 when nothing is serial.
	serialPerKey int
	// rateGaps is how many 1/ratePerKey gaps the starts of one key must
	// span, for the physical bound (G).
	rateGaps int
	// within is the time goal: the run must end within this fraction
	// above its bound (plus -slack). Zero means no time goal.
	within float64
	// whale is the account with the backlog (E): the other accounts'
	// calls must each end within minnowHolds holds of their submit.
	whale string
}

// step is one submission: a call, to one of the demo's tasks.
type step struct {
	task taskKind
	call call
}

// expect are the counts a scenario must reproduce.
type expect struct {
	calls, dropped, deduped int
}

// minnowHolds and minnowWithin are E's goal: every minnow ends within
// about 2 holds (5% more) of its submit.
const (
	minnowHolds  = 2
	minnowWithin = 0.05
)

// title is the scenario's header text, such as "B. keyed — ...", also the
// label of the provider's reset.
func (sc scenario) title() string { return sc.letter + ". " + sc.label }

// holdFor returns the scenario's hold when -hold is hold: never zero,
// which would leave the hold to the provider.
func (sc scenario) holdFor(hold time.Duration) time.Duration {
	return max(hold/time.Duration(max(sc.holdDiv, 1)), time.Microsecond)
}

// bound is the physical lower bound on the scenario's time: the calls that
// must run, in waves of parallel (one wave when parallel is 0, unknown:
// workers started apart); no fewer than serialPerKey holds; and for a
// rated scenario, the rate's gaps and one hold.
func (sc scenario) bound(hold time.Duration, parallel int) time.Duration {
	h := sc.holdFor(hold)
	waves := min(sc.want.calls, 1)
	if parallel > 0 {
		waves = (sc.want.calls + parallel - 1) / parallel
	}
	b := time.Duration(max(waves, sc.serialPerKey)) * h
	if sc.rateGaps > 0 {
		b = max(b, time.Duration(sc.rateGaps)*rateGap()+h)
	}
	return b
}

// rateGap is the time between two starts of one key at ratePerKey.
func rateGap() time.Duration { return time.Second / ratePerKey }

// minGap is the provider's min_gap for G: three quarters of the rate's
// gap (150ms), less slack, but never below half the gap. The rate spaces
// starts by the full gap at the scheduler; the quarter left absorbs the
// time a call takes to reach the provider on a busy machine, while a
// rate that does not hold (a burst, two starts at once) still shows.
func minGap(slack time.Duration) time.Duration {
	g := rateGap()
	return max(g*3/4-slack, g/2)
}

// mode returns the provider mode of the scenario's calls.
func (sc scenario) mode(hold, slack time.Duration) provider.CallOptions {
	m := provider.CallOptions{Hold: sc.holdFor(hold), Slots: sc.slots}
	if sc.rated {
		m.MinGap = minGap(slack)
	}
	return m
}

// letters returns the letters of scenarios, in order.
func letters(scenarios []scenario) []string {
	var out []string
	for _, sc := range scenarios {
		out = append(out, sc.letter)
	}
	return out
}

// pick returns the scenarios named by letters, in that order.
func pick(table []scenario, names []string) []scenario {
	byLetter := map[string]scenario{}
	for _, sc := range table {
		byLetter[sc.letter] = sc
	}
	var out []scenario
	for _, l := range names {
		if sc, ok := byLetter[l]; ok {
			out = append(out, sc)
		}
	}
	return out
}
