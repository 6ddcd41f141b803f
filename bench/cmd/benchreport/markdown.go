package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// options shape the Markdown section.
type options struct {
	// heading is the Markdown heading of the section, "##" for a second
	// level; the tables get one level more.
	heading string
	// command is the exact command that produced the input.
	command string
	// machine describes the machine beyond what the input's header says.
	machine string
	// svgLink is the throughput plot's path as the README sees it; empty
	// leaves the plot out.
	svgLink string
}

// writeMarkdown writes the Performance section for r: the command, the
// machine, and a table per workload that r has results for.
func writeMarkdown(w io.Writer, r *benchRun, o options) error {
	var b strings.Builder
	sub := o.heading + "#"
	fmt.Fprintf(&b, "%s Performance\n\n", o.heading)
	b.WriteString("Measured with the benchmarks of `bench/`, every implementation on the same workload in the same run, " +
		"each capped at 8 invocations at once. `perkey` is a task with Running=ByKey, OnBusy=Wait; " +
		"`perkey-wait` also calls Wait on every handle; `perkey-go` submits with Task.Go, which returns no handle; `errgroup` is errgroup.Group with SetLimit(8) and no key guard " +
		"(unsafe: it lets calls of one key overlap); `keyedmutex` is a map of mutexes plus errgroup(8); " +
		"`workqueue` is client-go's util/workqueue with 8 workers; `naiveactor` is a goroutine and channel per key, never reclaimed.\n\n")
	b.WriteString("Command:\n\n")
	for _, line := range strings.Split(strings.TrimSpace(o.command), "\n") {
		fmt.Fprintf(&b, "    %s\n", line)
	}
	fmt.Fprintf(&b, "\nMachine: %s.\n", machineLine(r, o.machine))

	ratioTable(&b, r, sub)
	throughputTables(&b, r, sub, o.svgLink)
	batchTable(&b, r, sub)
	latencyTable(&b, r, sub)
	noisyTable(&b, r, sub)
	holdTable(&b, r, sub)
	_, err := io.WriteString(w, b.String())
	return err
}

// machineLine describes the machine from the input's header lines and the
// -machine flag.
func machineLine(r *benchRun, extra string) string {
	var parts []string
	if platform := strings.Trim(r.goos+"/"+r.goarch, "/"); platform != "" {
		parts = append(parts, platform)
	}
	if r.cpu != "" {
		parts = append(parts, strings.TrimSpace(r.cpu))
	}
	if r.procs > 0 {
		parts = append(parts, "GOMAXPROCS="+strconv.Itoa(r.procs))
	}
	if extra = strings.TrimSpace(extra); extra != "" {
		parts = append(parts, extra)
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, ", ")
}

// table writes a Markdown table; the first column is left-aligned, the
// others right-aligned.
func table(b *strings.Builder, header []string, rows [][]string) {
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|---|")
	for range header[1:] {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, row := range rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	b.WriteString("\n")
}

// cell formats a metric of res with f, or gives "–" when it is missing.
func cell(res *result, unit string, f func(float64) string) string {
	if res == nil {
		return "–"
	}
	v, ok := res.metric(unit)
	if !ok {
		return "–"
	}
	return f(v)
}

// plural formats a metric of res with f and appends noun, plural unless the
// value shows as 1: "1 alloc", "2 allocs".
func plural(res *result, unit string, f func(float64) string, noun string) string {
	v := cell(res, unit, f)
	if v != "1" {
		noun += "s"
	}
	return v + " " + noun
}

// keysLabel is the column header of a key count: "1 key", "1,000 keys".
func keysLabel(k string) string {
	n, err := strconv.ParseFloat(k, 64)
	if err != nil {
		return k + " keys"
	}
	if n == 1 {
		return "1 key"
	}
	return grouped(n) + " keys"
}

func throughputTables(b *strings.Builder, r *benchRun, sub, svgLink string) {
	const bench = "Throughput"
	keys, impls := r.values(bench, "keys"), r.values(bench, "impl")
	if len(keys) == 0 || len(impls) == 0 {
		return
	}
	if !strings.HasSuffix(b.String(), "\n\n") {
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "%s Throughput\n\n", sub)
	b.WriteString("No-op invocations per second from one submitter, invocation i on key i mod K " +
		"(the median over the runs, and in parentheses how far the farthest run was from it), " +
		"and the bytes (heap and goroutine stacks) still held per key used once the implementation is idle.\n\n")
	header := []string{"impl"}
	for _, k := range keys {
		header = append(header, keysLabel(k))
	}
	var rows, details [][]string
	for _, im := range impls {
		row, det := []string{"`" + im + "`"}, []string{"`" + im + "`"}
		for _, k := range keys {
			res := r.find(bench, param{"keys", k}, param{"impl", im})
			if res == nil {
				row, det = append(row, "–"), append(det, "–")
				continue
			}
			row = append(row, cell(res, "inv/s", rate)+"/s"+spreadNote(res, "inv/s")+" · "+cell(res, "B/key", byteCount)+" B/key")
			d := plural(res, "allocs/op", allocs, "alloc") + " · " + cell(res, "peak-MB", megabytes) + " MB"
			if peak, ok := res.metric("peak-MB"); ok {
				if base, ok := res.metric("base-MB"); ok {
					d += " (+" + grouped(max(peak-base, 0)) + ")"
				}
			}
			if g, ok := res.metric("idle-goroutines"); ok && g > 0 {
				d += " · " + plural(res, "idle-goroutines", grouped, "idle goroutine")
			}
			if o, ok := res.metric("overlaps"); ok && o > 0 {
				d += " · **" + grouped(o) + " overlaps**"
			}
			det = append(det, d)
		}
		rows, details = append(rows, row), append(details, det)
	}
	table(b, header, rows)
	if svgLink != "" {
		fmt.Fprintf(b, "![Throughput against keys, one line per implementation](%s)\n\n", svgLink)
	}
	b.WriteString("Allocations per invocation; the process's peak RSS during the run, and in parentheses its growth " +
		"over the RSS at the start of the run (earlier runs leave the process bigger: the Go runtime never frees " +
		"a goroutine's descriptor); goroutines still alive once idle; and the overlaps of one key's invocations " +
		"that were let through. B/key divides by the keys used, so it is mostly fixed costs at 1 and 8 keys.\n\n")
	table(b, header, details)
}

// ratioPeers are the implementations that perkey's ratios are taken
// against, in the order of the ratio table's columns: the unkeyed
// baseline, then the keyed peers.
var ratioPeers = []string{"errgroup", "keyedmutex", "workqueue", "naiveactor"}

// ratioTable writes the headline: at each key count, the median
// throughput of each perkey variant divided by each peer's, all from the
// same run.
func ratioTable(b *strings.Builder, r *benchRun, sub string) {
	const bench = "Throughput"
	keys := r.values(bench, "keys")
	var variants []string
	for _, im := range r.values(bench, "impl") {
		if strings.HasPrefix(im, "perkey") {
			variants = append(variants, im)
		}
	}
	if len(keys) == 0 || len(variants) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s Against the peers\n\n", sub)
	b.WriteString("perkey's throughput divided by each peer's, from the medians of the same runs below " +
		"(above 1: perkey is faster). The ratios are what carries over to another machine; " +
		"the absolute figures are this machine's.\n\n")
	header := []string{"impl", "keys"}
	for _, peer := range ratioPeers {
		header = append(header, "vs `"+peer+"`")
	}
	var rows [][]string
	for _, k := range keys {
		for _, v := range variants {
			mine, ok := metricOf(r.find(bench, param{"keys", k}, param{"impl", v}), "inv/s")
			if !ok {
				continue
			}
			row := []string{"`" + v + "`", keysLabel(k)}
			for _, peer := range ratioPeers {
				theirs, ok := metricOf(r.find(bench, param{"keys", k}, param{"impl", peer}), "inv/s")
				if !ok || theirs <= 0 {
					row = append(row, "–")
					continue
				}
				row = append(row, ratio(mine/theirs)+"x")
			}
			rows = append(rows, row)
		}
	}
	table(b, header, rows)
}

// spreadNote gives, when res has several values of unit, how far the
// farthest one is from their median, in percent: " (±3%)".
func spreadNote(res *result, unit string) string {
	lo, hi, n := res.spread(unit)
	med, ok := res.metric(unit)
	if n < 2 || !ok || med == 0 {
		return ""
	}
	dev := max(hi-med, med-lo) / med * 100
	return " (±" + strconv.FormatFloat(dev, 'f', 0, 64) + "%)"
}

// metricOf is res.metric for a result that may be nil.
func metricOf(res *result, unit string) (float64, bool) {
	if res == nil {
		return 0, false
	}
	return res.metric(unit)
}

// implSection starts the section of bench, one row per implementation:
// its heading and its description. It returns the implementations, or
// nil, having written nothing, when bench has no results.
func implSection(b *strings.Builder, r *benchRun, bench, sub, title, description string) []string {
	impls := r.values(bench, "impl")
	if len(impls) == 0 {
		return nil
	}
	fmt.Fprintf(b, "%s %s\n\n%s\n\n", sub, title, description)
	return impls
}

// batchBaseline is the implementation BenchmarkBatch's ratios divide by.
const batchBaseline = "goroutines"

func batchTable(b *strings.Builder, r *benchRun, sub string) {
	const bench = "Batch"
	impls := implSection(b, r, bench, sub, "Submit, then Wait", "1,000 keys, batches of 4,096 no-op invocations, each batch's results waited for before the next: "+
		"`perkey-submitall` is Task.SubmitAll then Wait on each handle, `perkey-submit` is Submit of each then Wait, "+
		"`goroutines` a goroutine per call behind a cap-8 channel semaphore and a WaitGroup per batch "+
		"(no key guard: unsafe). Medians, the farthest run in parentheses.")
	if impls == nil {
		return
	}
	base, _ := metricOf(r.find(bench, param{"impl", batchBaseline}), "inv/s")
	var rows [][]string
	for _, im := range impls {
		res := r.find(bench, param{"impl", im})
		vs := "–"
		if v, ok := res.metric("inv/s"); ok && base > 0 {
			vs = ratio(v/base) + "x"
		}
		over := cell(res, "overlaps", grouped)
		if o, ok := res.metric("overlaps"); ok && o > 0 {
			over = "**" + over + "**"
		}
		rows = append(rows, []string{"`" + im + "`", cell(res, "inv/s", rate) + "/s" + spreadNote(res, "inv/s"),
			vs, cell(res, "allocs/op", allocs), over})
	}
	table(b, []string{"impl", "throughput", "vs `" + batchBaseline + "`", "allocs/op", "overlaps"}, rows)
}

func latencyTable(b *strings.Builder, r *benchRun, sub string) {
	const bench = "Latency"
	subs, impls := r.values(bench, "submitters"), r.values(bench, "impl")
	if len(subs) == 0 || len(impls) == 0 {
		return
	}
	fmt.Fprintf(b, "%s Latency\n\n", sub)
	b.WriteString("Submit-to-start latency below saturation, in µs: each submitter submits one invocation, " +
		"waits for it to start and submits the next, over 1,000 keys.\n\n")
	header := []string{"impl"}
	for _, s := range subs {
		who := s + " submitters"
		if s == "1" {
			who = "1 submitter"
		}
		header = append(header, who+" p50", "p99", "p99.9")
	}
	var rows [][]string
	for _, im := range impls {
		row := []string{"`" + im + "`"}
		for _, s := range subs {
			res := r.find(bench, param{"submitters", s}, param{"impl", im})
			row = append(row, cell(res, "p50-us", micros), cell(res, "p99-us", micros), cell(res, "p999-us", micros))
		}
		rows = append(rows, row)
	}
	table(b, header, rows)
}

func noisyTable(b *strings.Builder, r *benchRun, sub string) {
	const bench = "NoisyNeighbour"
	impls := implSection(b, r, bench, sub, "Noisy neighbour", "100 hot keys with 100 invocations of 10 µs each, then one invocation of a cold key: "+
		"the cold key's latency from its Submit call until it is done, the hot invocations still outstanding "+
		"when it was submitted, and how long submitting the hot ones took (an implementation whose Submit blocks "+
		"makes its caller wait there instead of queueing).")
	if impls == nil {
		return
	}
	var rows [][]string
	for _, im := range impls {
		res := r.find(bench, param{"impl", im})
		rows = append(rows, []string{"`" + im + "`",
			cell(res, "cold-us", micros), cell(res, "backlog", grouped), cell(res, "submit-ms", millis)})
	}
	table(b, []string{"impl", "cold key (µs)", "hot backlog", "hot submits (ms)"}, rows)
}

func holdTable(b *strings.Builder, r *benchRun, sub string) {
	const bench = "Hold"
	impls := implSection(b, r, bench, sub, "Hold", "Invocations that hold their key for a 1 ms external call, 8 keys × 50, submitted key by key: "+
		"the makespan divided by its bound, max(largest per-key total, total / 8); 1.00 is perfect. "+
		"errgroup beats the bound only by overlapping calls of one key.")
	if impls == nil {
		return
	}
	var rows [][]string
	for _, im := range impls {
		res := r.find(bench, param{"impl", im})
		rows = append(rows, []string{"`" + im + "`",
			cell(res, "x-bound", ratio), cell(res, "makespan-ms", millis), cell(res, "overlaps", grouped)})
	}
	table(b, []string{"impl", "makespan / bound", "makespan (ms)", "overlaps"}, rows)
}

// rate formats a per-second rate: 3.12M, 850k.
func rate(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 0, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// byteCount formats a byte count; measurement noise below zero shows as 0.
func byteCount(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(max(v, 0), 'f', 1, 64)
	}
	return grouped(v)
}

func allocs(v float64) string {
	if v < 10 && v != math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return grouped(v)
}

func megabytes(v float64) string { return grouped(v) }

func micros(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return grouped(v)
}

func millis(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return grouped(v)
}

func ratio(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// grouped rounds v to an integer and groups its digits by thousands:
// 1,234,567.
func grouped(v float64) string {
	s := strconv.FormatFloat(math.Round(math.Abs(v)), 'f', 0, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if v < 0 && s != "0" {
		s = "-" + s
	}
	return s
}
