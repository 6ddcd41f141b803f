package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"time"
)

// writeHuman prints a scenario in the reference's format: the header, the
// summary, and unless quiet one line per account, the provider's call log
// and what fell short.
func writeHuman(w io.Writer, res result, quiet bool) {
	fmt.Fprintf(w, "=== %s ===\n", res.sc.title())
	fmt.Fprintf(w, "  %s\n", summary(res))
	if quiet {
		return
	}
	for _, a := range accountNames(res) {
		c := res.accounts[a]
		mark := "OK"
		if c.Collisions > 0 || c.RateViolations > 0 {
			mark = " X"
		}
		line := fmt.Sprintf("  %s %-8s calls=%-2d collisions=%d", mark, a, c.Calls, c.Collisions)
		if res.sc.rated {
			line += fmt.Sprintf(" rate_violations=%d", c.RateViolations)
		}
		fmt.Fprintln(w, line)
	}
	if b := res.baseline; b != nil && len(b.log) > 0 {
		fmt.Fprintln(w, "    --- without Group ---")
		for _, l := range b.log {
			fmt.Fprintf(w, "    %s\n", l)
		}
		fmt.Fprintln(w, "    --- with Group ---")
	}
	for _, l := range res.log {
		fmt.Fprintf(w, "    %s\n", l)
	}
	for _, p := range problems(res) {
		fmt.Fprintf(w, "  FAIL: %s\n", p)
	}
	fmt.Fprintln(w)
}

// summary is the scenario's summary line, such as
// "12 enqueued -> 3 calls (9 dropped), 0 collisions, 0.40s (bound 0.40s)",
// with the figures of E, G and H after it.
func summary(res result) string {
	calls := fmt.Sprintf("%d calls", res.calls)
	if res.dropped > 0 || res.sc.want.dropped > 0 {
		calls += fmt.Sprintf(" (%d dropped)", res.dropped)
	}
	if res.deduped > 0 || res.sc.want.deduped > 0 {
		calls += fmt.Sprintf(" (%d deduped)", res.deduped)
	}
	s := fmt.Sprintf("%d enqueued -> %s, %d collisions, %.2fs (bound %.2fs)",
		res.enqueued, calls, res.collisions, res.elapsed.Seconds(), res.bound.Seconds())
	if res.sc.rated {
		s += fmt.Sprintf(", %d rate violations (min gap %v)", res.rateViolations, minGap(res.slack))
	}
	if res.sc.whale != "" {
		s += fmt.Sprintf(", minnow p99 %.3fs (goal %.3fs), %s %.2fs",
			res.minnowP99.Seconds(), (minnowHolds * res.hold).Seconds(), res.sc.whale, res.whale.Seconds())
	}
	if b := res.baseline; b != nil {
		s += fmt.Sprintf("; without Group: %d calls, %d collisions, %.2fs", b.calls, b.collisions, b.elapsed.Seconds())
	}
	return s
}

// accountNames returns, sorted, the accounts the scenario submitted for and
// those the provider reported.
func accountNames(res result) []string {
	names := map[string]bool{}
	for _, st := range res.sc.plan {
		names[st.call.Account] = true
	}
	for a := range res.accounts {
		names[a] = true
	}
	return slices.Sorted(maps.Keys(names))
}

// jsonResult is the -json form of a result: one object per line. The
// fields after Accounts are only in the rows of the scenarios they belong
// to.
type jsonResult struct {
	Scenario     string                `json:"scenario"`
	Label        string                `json:"label"`
	Enqueued     int                   `json:"enqueued"`
	Calls        int                   `json:"calls"`
	Collisions   int                   `json:"collisions"`
	Dropped      int                   `json:"dropped"`
	Deduped      int                   `json:"deduped"`
	Seconds      float64               `json:"seconds"`
	BoundSeconds float64               `json:"bound_seconds"`
	HoldSeconds  float64               `json:"hold_seconds"`
	Accounts     map[string]jsonCounts `json:"accounts"`

	RateViolations         *int     `json:"rate_violations,omitempty"`          // G
	MinnowP99Seconds       *float64 `json:"minnow_p99_seconds,omitempty"`       // E
	WhaleSeconds           *float64 `json:"whale_seconds,omitempty"`            // E
	CollisionsWithoutGroup *int     `json:"collisions_without_group,omitempty"` // H
}

// jsonCounts are the provider's counts of one account; RateViolations only
// in G's row.
type jsonCounts struct {
	Calls          int  `json:"calls"`
	Collisions     int  `json:"collisions"`
	RateViolations *int `json:"rate_violations,omitempty"`
}

// toJSON returns the -json form of res.
func toJSON(res result) jsonResult {
	j := jsonResult{
		Scenario:     res.sc.letter,
		Label:        res.sc.label,
		Enqueued:     res.enqueued,
		Calls:        res.calls,
		Collisions:   res.collisions,
		Dropped:      res.dropped,
		Deduped:      res.deduped,
		Seconds:      seconds(res.elapsed),
		BoundSeconds: seconds(res.bound),
		HoldSeconds:  seconds(res.hold),
		Accounts:     make(map[string]jsonCounts),
	}
	for _, a := range accountNames(res) {
		c := res.accounts[a]
		jc := jsonCounts{Calls: c.Calls, Collisions: c.Collisions}
		if res.sc.rated {
			jc.RateViolations = &c.RateViolations
		}
		j.Accounts[a] = jc
	}
	if res.sc.rated {
		j.RateViolations = &res.rateViolations
	}
	if res.sc.whale != "" {
		p99, whale := seconds(res.minnowP99), seconds(res.whale)
		j.MinnowP99Seconds, j.WhaleSeconds = &p99, &whale
	}
	if res.baseline != nil {
		j.CollisionsWithoutGroup = &res.baseline.collisions
	}
	return j
}

// writeJSON prints res as one line of JSON.
func writeJSON(w io.Writer, res result) error {
	b, err := json.Marshal(toJSON(res))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// seconds is d in seconds, to the microsecond.
func seconds(d time.Duration) float64 {
	return math.Round(d.Seconds()*1e6) / 1e6
}
