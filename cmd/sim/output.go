package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/perkey/perkey/provider"
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
		if c.Collisions > 0 {
			mark = " X"
		}
		fmt.Fprintf(w, "  %s %-8s calls=%-2d collisions=%d\n", mark, a, c.Calls, c.Collisions)
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
// "12 enqueued -> 3 calls (9 dropped), 0 collisions, 0.40s (bound 0.40s)".
func summary(res result) string {
	calls := fmt.Sprintf("%d calls", res.calls)
	if res.dropped > 0 || res.sc.want.dropped > 0 {
		calls += fmt.Sprintf(" (%d dropped)", res.dropped)
	}
	if res.deduped > 0 || res.sc.want.deduped > 0 {
		calls += fmt.Sprintf(" (%d deduped)", res.deduped)
	}
	return fmt.Sprintf("%d enqueued -> %s, %d collisions, %.2fs (bound %.2fs)",
		res.enqueued, calls, res.collisions, res.elapsed.Seconds(), res.bound.Seconds())
}

// accountNames returns, sorted, the accounts the scenario submitted for and
// those the provider reported.
func accountNames(res result) []string {
	names := map[string]bool{}
	for _, c := range res.sc.plan {
		names[c.Account] = true
	}
	for a := range res.accounts {
		names[a] = true
	}
	return slices.Sorted(maps.Keys(names))
}

// jsonResult is the -json form of a result: one object per line.
type jsonResult struct {
	Scenario     string                     `json:"scenario"`
	Label        string                     `json:"label"`
	Enqueued     int                        `json:"enqueued"`
	Calls        int                        `json:"calls"`
	Collisions   int                        `json:"collisions"`
	Dropped      int                        `json:"dropped"`
	Deduped      int                        `json:"deduped"`
	Seconds      float64                    `json:"seconds"`
	BoundSeconds float64                    `json:"bound_seconds"`
	HoldSeconds  float64                    `json:"hold_seconds"`
	Accounts     map[string]provider.Counts `json:"accounts"`
}

// writeJSON prints res as one line of JSON.
func writeJSON(w io.Writer, res result) error {
	accounts := make(map[string]provider.Counts)
	for _, a := range accountNames(res) {
		accounts[a] = res.accounts[a]
	}
	b, err := json.Marshal(jsonResult{
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
		Accounts:     accounts,
	})
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
