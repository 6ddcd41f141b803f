package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// writeHuman prints a scenario in the reference's format: the header, the
// summary, and unless quiet one line per account, the provider's call log
// with each call's time from the first submit (long runs of one account's
// calls folded into one line), the calls the scheduler dropped, and what
// is wrong.
func writeHuman(w io.Writer, res result, quiet bool) {
	fmt.Fprintf(w, "=== %s ===\n", res.sc.title())
	fmt.Fprintf(w, "  %s\n", summary(res))
	if quiet {
		return
	}
	drops := map[string]int{}
	for _, d := range res.drops {
		drops[d.account]++
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
		if res.sc.want.dropped > 0 || drops[a] > 0 {
			line += fmt.Sprintf(" dropped=%d", drops[a])
		}
		if ws := res.workers[a]; len(ws) > 0 {
			line += " workers=" + workerCounts(ws)
		}
		fmt.Fprintln(w, line)
	}
	if b := res.baseline; b != nil && len(b.log) > 0 {
		fmt.Fprintln(w, "    --- without Group ---")
		writeCallLog(w, b.log)
		fmt.Fprintln(w, "    --- with Group ---")
	}
	writeCallLog(w, res.log)
	if len(res.drops) > 0 {
		fmt.Fprintf(w, "  dropped by the scheduler, never sent (%d):\n", len(res.drops))
		for _, d := range res.drops {
			fmt.Fprintf(w, "    %s %-8s %s\n", offset(d.offset), d.account, d.op)
		}
	}
	for _, p := range problems(res) {
		fmt.Fprintf(w, "  FAIL: %s\n", p)
	}
	fmt.Fprintln(w)
}

// foldAfter is the shortest run of consecutive calls of one account, with
// one outcome, that writeCallLog folds: it prints the first two, one line
// for those between, and the last.
const foldAfter = 5

// writeCallLog prints a call log, one line per call with its time, such
// as "    +0.401s [ok       ] acme     list_invoices". A run of foldAfter
// or more consecutive calls of one account with one outcome (E's whale)
// is folded.
func writeCallLog(w io.Writer, log []callLine) {
	for i := 0; i < len(log); {
		j := i + 1
		for j < len(log) && sameRun(log[i].text, log[j].text) {
			j++
		}
		if j-i < foldAfter {
			for _, l := range log[i:j] {
				fmt.Fprintf(w, "    %s %s\n", offset(l.offset), l.text)
			}
			i = j
			continue
		}
		first, last := log[i+2], log[j-2]
		fmt.Fprintf(w, "    %s %s\n", offset(log[i].offset), log[i].text)
		fmt.Fprintf(w, "    %s %s\n", offset(log[i+1].offset), log[i+1].text)
		fmt.Fprintf(w, "    %*s %s ... %d more, %s to %s\n", len(offset(first.offset)), "",
			runKey(log[i].text), j-i-3, offset(first.offset), offset(last.offset))
		fmt.Fprintf(w, "    %s %s\n", offset(log[j-1].offset), log[j-1].text)
		i = j
	}
}

// workerCounts formats calls per worker process, such as "w1:2,w3:2".
func workerCounts(ws map[string]int) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(ws)) {
		parts = append(parts, fmt.Sprintf("%s:%d", name, ws[name]))
	}
	return strings.Join(parts, ",")
}

// workerTotals sums calls per worker process over the accounts; nil in
// memory.
func workerTotals(byAccount map[string]map[string]int) map[string]int {
	var out map[string]int
	for _, ws := range byAccount {
		for name, n := range ws {
			if out == nil {
				out = make(map[string]int)
			}
			out[name] += n
		}
	}
	return out
}

// runKey is what calls of one run share: a log line without its op, such
// as "[ok       ] whale   ". It is the whole line when the line is not
// in the provider's format.
func runKey(line string) string {
	tag := strings.IndexByte(line, ']')
	if !strings.HasPrefix(line, "[") || tag < 0 {
		return line
	}
	rest := line[tag+1:]
	account := strings.TrimLeft(rest, " ")
	end := strings.IndexByte(account, ' ')
	if end < 0 {
		return line
	}
	return line[:len(line)-len(account)+end]
}

// sameRun reports whether two log lines are calls of one account with
// one outcome.
func sameRun(a, b string) bool {
	ka, kb := runKey(a), runKey(b)
	return ka != a && ka == kb
}

// offset formats a time from a scenario's first submit, such as
// "+0.401s".
func offset(d time.Duration) string { return fmt.Sprintf("%+.3fs", d.Seconds()) }

// summary is the scenario's summary line, such as
// "12 enqueued -> 3 calls (9 dropped), 0 collisions, 0.40s (bound 0.40s)",
// with the time goal of E, F and G (the goal enforced, and whether it was
// met) and the figures of E, G and H.
func summary(res result) string {
	calls := fmt.Sprintf("%d calls", res.calls)
	if res.dropped > 0 || res.sc.want.dropped > 0 {
		calls += fmt.Sprintf(" (%d dropped)", res.dropped)
	}
	if res.deduped > 0 || res.sc.want.deduped > 0 {
		calls += fmt.Sprintf(" (%d deduped)", res.deduped)
	}
	g, hasGoal := timeGoalOf(res)
	var s string
	if hasGoal && res.sc.whale == "" { // the goal is on the time: to the ms
		s = fmt.Sprintf("%d enqueued -> %s, %d collisions, %s (bound %s, %s)",
			res.enqueued, calls, res.collisions, secs(res.elapsed), secs(res.bound), g.verdict())
	} else {
		s = fmt.Sprintf("%d enqueued -> %s, %d collisions, %.2fs (bound %.2fs)",
			res.enqueued, calls, res.collisions, res.elapsed.Seconds(), res.bound.Seconds())
	}
	if res.sc.rated {
		s += fmt.Sprintf(", %d rate violations (min gap %v)", res.rateViolations, minGap(res.slack))
	}
	if res.sc.whale != "" {
		s += fmt.Sprintf(", minnow p99 %s (%s), %s %.2fs", secs(res.minnowP99), g.verdict(), res.sc.whale, res.whale.Seconds())
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

	// Across processes: the calls each worker process made.
	Workers map[string]int `json:"workers,omitempty"`

	RateViolations         *int     `json:"rate_violations,omitempty"`          // G
	MinnowP99Seconds       *float64 `json:"minnow_p99_seconds,omitempty"`       // E
	WhaleSeconds           *float64 `json:"whale_seconds,omitempty"`            // E
	CollisionsWithoutGroup *int     `json:"collisions_without_group,omitempty"` // H

	// E, F and G: the time goal enforced (-slack included): the most
	// minnow_p99_seconds (E) or seconds (F, G) may be; and whether it was
	// met. A goal missed fails the run only with -strict.
	TimeGoalSeconds *float64 `json:"time_goal_seconds,omitempty"`
	TimeGoalMet     *bool    `json:"time_goal_met,omitempty"`
}

// jsonCounts are the provider's counts of one account; RateViolations only
// in G's row.
type jsonCounts struct {
	Calls          int            `json:"calls"`
	Collisions     int            `json:"collisions"`
	RateViolations *int           `json:"rate_violations,omitempty"`
	Workers        map[string]int `json:"workers,omitempty"` // across processes: its calls per worker process
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
		Workers:      workerTotals(res.workers),
	}
	for _, a := range accountNames(res) {
		c := res.accounts[a]
		jc := jsonCounts{Calls: c.Calls, Collisions: c.Collisions, Workers: res.workers[a]}
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
	if g, ok := timeGoalOf(res); ok {
		limit, met := seconds(g.limit), g.met()
		j.TimeGoalSeconds, j.TimeGoalMet = &limit, &met
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
