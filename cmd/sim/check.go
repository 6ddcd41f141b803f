package main

import (
	"fmt"
	"time"
)

// problems lists what is wrong with a result, each of which fails the run
// on any machine: a collision or a rate violation in a guarded scenario,
// counts that differ, a run faster than its physical bound (calls that
// overlapped, or a provider that did not hold them), a baseline that did
// not collide. None means it holds. Time goals are apart (timeGoalOf): a
// busy machine can miss them without anything being wrong.
func problems(res result) []string {
	var out []string
	sc := res.sc
	if sc.guarded && res.collisions > 0 {
		out = append(out, fmt.Sprintf("%d collisions, want 0", res.collisions))
	}
	if sc.rated && res.rateViolations > 0 {
		out = append(out, fmt.Sprintf("%d rate violations, want 0", res.rateViolations))
	}
	want := sc.want
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"enqueued", res.enqueued, len(sc.plan)},
		{"calls", res.calls, want.calls},
		{"dropped", res.dropped, want.dropped},
		{"deduped", res.deduped, want.deduped},
	} {
		if c.got != c.want {
			out = append(out, fmt.Sprintf("%d %s, want %d", c.got, c.name, c.want))
		}
	}
	if res.elapsed > 0 && res.elapsed+boundTolerance < res.bound {
		out = append(out, fmt.Sprintf("took %s, less than the %s bound: calls overlapped, or the provider did not hold them",
			secs(res.elapsed), secs(res.bound)))
	}
	// With one slot nothing can overlap, so the baseline cannot collide;
	// with workers started apart (parallel 0) the slots are unknown.
	if b := res.baseline; b != nil && res.parallel >= 2 && b.collisions == 0 {
		out = append(out, "0 collisions without Group, want some (the reference's behaviour)")
	}
	return out
}

// boundTolerance is how far below its physical bound a run may end
// without being wrong: the rounding of the rate limiter's arithmetic (G).
// Holds are timers, which never fire early.
const boundTolerance = time.Millisecond

// timeGoal is a scenario's time goal: a time measured, and the most it
// may be. Only a busy machine should miss one; a miss fails the run only
// with -strict.
type timeGoal struct {
	what  string        // what is measured: "took", "minnow p99"
	got   time.Duration // the measure
	limit time.Duration // the goal, -slack included: got must not exceed it
	basis string        // how limit is made, such as "2% above the 1.600s bound"
	slack time.Duration // -slack, included in limit
}

// timeGoalOf returns the time goal of res's scenario, if it has one: E's
// minnow p99 within about 2 holds, F and G within a fraction of their
// bound.
func timeGoalOf(res result) (timeGoal, bool) {
	sc := res.sc
	switch {
	case sc.whale != "":
		return timeGoal{
			what: "minnow p99", got: res.minnowP99, slack: res.slack,
			limit: goal(minnowHolds*res.hold, minnowWithin, res.slack),
			basis: fmt.Sprintf("%d holds of %s, plus %g%%", minnowHolds, secs(res.hold), minnowWithin*100),
		}, true
	case sc.within > 0:
		return timeGoal{
			what: "took", got: res.elapsed, slack: res.slack,
			limit: goal(res.bound, sc.within, res.slack),
			basis: fmt.Sprintf("%g%% above the %s bound", sc.within*100, secs(res.bound)),
		}, true
	}
	return timeGoal{}, false
}

// met reports whether the goal was met, at the precision both are
// printed with (the millisecond): what is printed is what is enforced.
func (g timeGoal) met() bool { return g.got.Round(time.Millisecond) <= g.limit.Round(time.Millisecond) }

// verdict is the goal as the summary line shows it, such as
// "goal 0.210s: met" or "goal 0.260s with -slack 50ms: MISSED".
func (g timeGoal) verdict() string {
	v := "met"
	if !g.met() {
		v = "MISSED"
	}
	return fmt.Sprintf("goal %s%s: %s", secs(g.limit), slackNote(g.slack), v)
}

// String describes a goal, such as "minnow p99 0.213s, goal 0.210s (2
// holds of 0.100s, plus 5%)".
func (g timeGoal) String() string {
	return fmt.Sprintf("%s %s, goal %s (%s%s)", g.what, secs(g.got), secs(g.limit), g.basis, plusSlack(g.slack))
}

// goal is a time goal: t, plus the fraction within of it, plus slack, to
// the millisecond.
func goal(t time.Duration, within float64, slack time.Duration) time.Duration {
	return (t + time.Duration(float64(t)*within) + slack).Round(time.Millisecond)
}

func slackNote(slack time.Duration) string {
	if slack == 0 {
		return ""
	}
	return fmt.Sprintf(" with -slack %v", slack)
}

func plusSlack(slack time.Duration) string {
	if slack == 0 {
		return ""
	}
	return fmt.Sprintf(", plus -slack %v", slack)
}

// secs formats d in seconds, such as "1.604s".
func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
