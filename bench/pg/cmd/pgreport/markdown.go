package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// metricRow is a metric that the table shows for every scenario of a
// family.
type metricRow struct {
	unit  string
	label string
}

// familyRows says which metrics each benchmark family shows, in order.
var familyRows = map[string][]metricRow{
	"Noop":    {{"jobs/s", "jobs/s"}},
	"Sleep":   {{"jobs/s", "jobs/s"}, {"drain-s", "drain s"}, {"x-bound", "drain / bound"}},
	"Latency": {{"p50-ms", "p50 ms"}, {"p99-ms", "p99 ms"}},
	"Insert":  {{"rows/s", "rows/s"}, {"batch-p50-ms", "ms per batch (p50)"}},
}

// familyOrder is the order of the families in the table.
var familyOrder = []string{"Noop", "Sleep", "Latency", "Insert"}

// implOrder puts the systems in a reading order: perkey first, the
// Rivers after.
func implOrder(impls []string) []string {
	rank := func(s string) int {
		switch {
		case s == "perkey":
			return 0
		case strings.HasPrefix(s, "perkey"):
			return 1
		case s == "river-fast":
			return 2
		case strings.HasPrefix(s, "river"):
			return 3
		}
		return 4
	}
	out := slices.Clone(impls)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// peers are the River systems perkey's ratios are taken against.
func peers(impls []string) []string {
	var out []string
	for _, im := range implOrder(impls) {
		if strings.HasPrefix(im, "river") {
			out = append(out, im)
		}
	}
	return out
}

// describe names a scenario for a reader.
func describe(c *capture, s scenario) string {
	procs := s.param("procs") + " processes"
	if procs == "1 processes" {
		procs = "1 process"
	}
	switch s.family {
	case "Noop":
		what := "insert and drain"
		if s.param("mode") == "drain" {
			what = "drain only"
		}
		return fmt.Sprintf("(a) no-op, %s, %s", procs, what)
	case "Sleep":
		label := fmt.Sprintf("(b) %s jobs, %s", s.param("sleep"), procs)
		for _, im := range c.impls {
			if st, ok := summarize(c.get(s, im, "bound-s")); ok {
				return label + fmt.Sprintf(", bound %.2f s", st.median)
			}
		}
		return label
	case "Latency":
		return "(c) idle submit-to-start"
	case "Insert":
		return "(d) insert batches"
	}
	return s.family + " " + s.params
}

// writeMarkdown writes the results table, the CPU table and the goals.
func writeMarkdown(w io.Writer, c *capture, command, machine string) error {
	var b strings.Builder
	impls := implOrder(c.impls)
	rivers := peers(c.impls)
	runs := 0
	for _, s := range c.scenarios {
		for _, im := range impls {
			for _, v := range c.values[s][im] {
				runs = max(runs, len(v))
			}
		}
	}
	fmt.Fprintf(&b, "Medians of %d runs each, ± half their range in percent of the median.", runs)
	b.WriteString(" A ratio is perkey's median over River's: above 1 is better for jobs/s and rows/s, below 1 for times.\n\n")

	head := []string{"workload", "metric"}
	head = append(head, impls...)
	for _, r := range rivers {
		head = append(head, "perkey / "+r)
	}
	writeRow(&b, head)
	writeRule(&b, 2, len(head))
	for _, fam := range familyOrder {
		for _, s := range c.scenarios {
			if s.family != fam {
				continue
			}
			for _, mr := range familyRows[fam] {
				cells := []string{describe(c, s), mr.label}
				have := false
				for _, im := range impls {
					st, ok := summarize(c.get(s, im, mr.unit))
					cells = append(cells, cell(st, ok))
					have = have || ok
				}
				if !have {
					continue
				}
				for _, r := range rivers {
					cells = append(cells, ratioCell(c, s, r, mr.unit))
				}
				writeRow(&b, cells)
			}
		}
	}

	b.WriteString("\nCPU over the measured time, in percent of one core: Go processes (the benchmark and its workers) / PostgreSQL processes.\n\n")
	head = append([]string{"workload"}, impls...)
	writeRow(&b, head)
	writeRule(&b, 1, len(head))
	for _, s := range c.scenarios {
		cells := []string{describe(c, s)}
		have := false
		for _, im := range impls {
			g, okG := summarize(c.get(s, im, "go-cpu-%"))
			p, okP := summarize(c.get(s, im, "pg-cpu-%"))
			switch {
			case okG && okP:
				cells = append(cells, fmt.Sprintf("%.0f%% / %.0f%%", g.median, p.median))
				have = true
			case okG:
				cells = append(cells, fmt.Sprintf("%.0f%% / ?", g.median))
				have = true
			default:
				cells = append(cells, "")
			}
		}
		if have {
			writeRow(&b, cells)
		}
	}

	b.WriteString("\nGoals:\n\n")
	for _, g := range goals(c) {
		b.WriteString("- " + g + "\n")
	}
	b.WriteString("\nMachine: ")
	header := slices.Clone(c.header)
	if machine != "" {
		header = append(header, machine)
	}
	b.WriteString(strings.Join(header, "; "))
	b.WriteString(".\n\nCommand:\n\n```\n" + command + "\n```\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeRow(b *strings.Builder, cells []string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// writeRule writes the header rule: text columns left, numbers right.
func writeRule(b *strings.Builder, text, n int) {
	b.WriteString(strings.Repeat("|---", text) + strings.Repeat("|--:", n-text) + "|\n")
}

// cell shows a median and its spread.
func cell(st stat, ok bool) string {
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s ±%.0f%%", number(st.median), st.spread())
}

// ratioCell is perkey's median over peer's for unit.
func ratioCell(c *capture, s scenario, peer, unit string) string {
	r, ok := ratio(c, s, "perkey", peer, unit)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%.2fx", r)
}

func ratio(c *capture, s scenario, a, b, unit string) (float64, bool) {
	sa, okA := summarize(c.get(s, a, unit))
	sb, okB := summarize(c.get(s, b, unit))
	if !okA || !okB || sb.median == 0 {
		return 0, false
	}
	return sa.median / sb.median, true
}

// number formats v with thousands separators above 100, and three
// significant digits below.
func number(v float64) string {
	if math.Abs(v) >= 100 {
		s := strconv.FormatInt(int64(math.Round(v)), 10)
		var out []byte
		for i := range s {
			if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
				out = append(out, ',')
			}
			out = append(out, s[i])
		}
		return string(out)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// goals checks issue 12's goals and reports issue 11's numbers, from the
// medians.
func goals(c *capture) []string {
	var out []string
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	for _, s := range c.scenarios {
		switch s.family {
		case "Noop", "Sleep":
			if r, ok := ratio(c, s, "perkey", "river-fast", "jobs/s"); ok {
				out = append(out, fmt.Sprintf("%s: perkey keyed %.2fx River's unkeyed jobs/s (river-fast; goal at least 1.0x): %s",
					describe(c, s), r, verdict(r >= 1)))
			}
		}
		if s.family == "Sleep" {
			if st, ok := summarize(c.get(s, "perkey", "x-bound")); ok {
				out = append(out, fmt.Sprintf("%s: perkey drains in %.2fx the bound (goal within 1.2x): %s",
					describe(c, s), st.median, verdict(st.median <= 1.2)))
			}
		}
		if s.family == "Latency" {
			if r, ok := ratio(c, s, "perkey", "river", "p50-ms"); ok {
				out = append(out, fmt.Sprintf("%s: perkey p50 %.2fx River's at its defaults (goal no worse, at most 1.0x): %s",
					describe(c, s), r, verdict(r <= 1)))
			}
			if st, ok := summarize(c.get(s, "perkey", "p50-ms")); ok {
				out = append(out, fmt.Sprintf("issue 11: idle submit-to-start p50 %s ms (goal at most 10 ms): %s",
					number(st.median), verdict(st.median <= 10)))
			}
		}
		if s.family == "Noop" && s.param("procs") == "3" {
			if st, ok := summarize(c.get(s, "perkey", "jobs/s")); ok {
				out = append(out, fmt.Sprintf("issue 11: %s: perkey %s jobs/s at 1,000 keys", describe(c, s), number(st.median)))
			}
		}
	}
	return out
}
