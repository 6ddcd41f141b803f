package main

import (
	"fmt"
	"time"
)

// problems lists how a result falls short of what its scenario must show:
// a collision or a rate violation in a guarded scenario, counts that
// differ, a time goal missed, a baseline that did not collide. None means
// it passes.
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
	if sc.within > 0 {
		if limit := goal(res.bound, sc.within, res.slack); res.elapsed > limit {
			out = append(out, fmt.Sprintf("took %s, want within %g%% of the %s bound: %s%s",
				secs(res.elapsed), sc.within*100, secs(res.bound), secs(limit), slackNote(res.slack)))
		}
	}
	if sc.whale != "" {
		if limit := goal(minnowHolds*res.hold, minnowWithin, res.slack); res.minnowP99 > limit {
			out = append(out, fmt.Sprintf("minnow p99 %s, want about %d holds: %s%s",
				secs(res.minnowP99), minnowHolds, secs(limit), slackNote(res.slack)))
		}
	}
	// With one slot nothing can overlap, so the baseline cannot collide.
	if b := res.baseline; b != nil && res.parallel >= 2 && b.collisions == 0 {
		out = append(out, "0 collisions without Group, want some (the reference's behaviour)")
	}
	return out
}

// goal is a time goal: t, plus the fraction within of it, plus slack.
func goal(t time.Duration, within float64, slack time.Duration) time.Duration {
	return t + time.Duration(float64(t)*within) + slack
}

func slackNote(slack time.Duration) string {
	if slack == 0 {
		return ""
	}
	return fmt.Sprintf(" (with -slack %v)", slack)
}

// secs formats d in seconds, such as "1.604s".
func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
