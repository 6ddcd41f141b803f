package main

import (
	"fmt"
	"strings"
)

// scenarioCheck is what one scenario's result showed: what is wrong with
// it (problems), and its time goal when missed.
type scenarioCheck struct {
	letter   string
	problems []string
	missed   *timeGoal
}

// checkResult checks one scenario's result.
func checkResult(res result) scenarioCheck {
	c := scenarioCheck{letter: res.sc.letter, problems: problems(res)}
	if g, ok := timeGoalOf(res); ok && !g.met() {
		c.missed = &g
	}
	return c
}

// failures returns the lines that fail the run, such as "B: 2 collisions,
// want 0": every problem, and with strict a missed time goal.
func failures(checks []scenarioCheck, strict bool) []string {
	var out []string
	for _, c := range checks {
		for _, p := range c.problems {
			out = append(out, c.letter+": "+p)
		}
		if strict && c.missed != nil {
			out = append(out, c.letter+": time goal missed: "+c.missed.String())
		}
	}
	return out
}

// verdict returns the run's last line and its exit status. The line is
// "8 scenarios: all hold" when nothing is wrong and every time goal is
// met; otherwise it names the scenarios that failed and those that
// missed a time goal, and says whether that is fatal. A time goal missed
// fails the run (exitFail) only with strict; anything wrong always does.
func verdict(checks []scenarioCheck, strict bool) (string, int) {
	var failed, missed []string
	for _, c := range checks {
		if len(c.problems) > 0 {
			failed = append(failed, fmt.Sprintf("%s (%s)", c.letter, strings.Join(c.problems, "; ")))
		}
		if c.missed != nil {
			missed = append(missed, fmt.Sprintf("%s (%s)", c.letter, c.missed))
		}
	}
	n := fmt.Sprintf("%d scenarios", len(checks))
	if len(checks) == 1 {
		n = "1 scenario"
	}
	var parts []string
	code := exitOK
	if len(failed) > 0 {
		parts = append(parts, fmt.Sprintf("%d failed: %s", len(failed), strings.Join(failed, ", ")))
		code = exitFail
	} else {
		parts = append(parts, "all hold")
	}
	if len(missed) > 0 {
		note := "not fatal without -strict"
		if strict {
			note = "fatal with -strict"
			code = exitFail
		}
		parts = append(parts, fmt.Sprintf("time goal missed (%s): %s", note, strings.Join(missed, ", ")))
	}
	return n + ": " + strings.Join(parts, "; "), code
}
