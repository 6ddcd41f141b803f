package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// result is one benchmark: the median of its result lines (several with
// -count, or with the same name in several inputs), and their spread.
type result struct {
	// bench is the top-level name without "Benchmark": "Throughput".
	bench string
	// params are the sub-benchmark name's key=value parts, in order:
	// keys=1000, impl=perkey.
	params []param
	// iters is the mean iteration count.
	iters float64
	// samples maps a unit (ns/op, inv/s, B/key...) to its values, one
	// per result line that had it, in input order.
	samples map[string][]float64
	// lines is how many result lines were merged.
	lines int
}

// param is one key=value part of a sub-benchmark name.
type param struct{ key, value string }

// get returns the value of the parameter key, or "".
func (r *result) get(key string) string {
	for _, p := range r.params {
		if p.key == key {
			return p.value
		}
	}
	return ""
}

// metric returns the median of unit's values and whether the result has
// it. With an even number of values it is the mean of the middle two.
func (r *result) metric(unit string) (float64, bool) {
	vs := r.samples[unit]
	if len(vs) == 0 {
		return 0, false
	}
	sorted := slices.Sorted(slices.Values(vs))
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid], true
	}
	return (sorted[mid-1] + sorted[mid]) / 2, true
}

// spread returns the smallest and largest of unit's values, and how many
// there are (0 when the result lacks unit).
func (r *result) spread(unit string) (lo, hi float64, n int) {
	vs := r.samples[unit]
	if len(vs) == 0 {
		return 0, 0, 0
	}
	return slices.Min(vs), slices.Max(vs), len(vs)
}

// benchRun is everything read from go test -bench output.
type benchRun struct {
	goos, goarch, cpu string
	pkgs              []string
	procs             int       // GOMAXPROCS, from the names' -N suffix; 0 if absent
	results           []*result // in order of first appearance
}

// find returns the result of bench whose parameters include all of want.
func (r *benchRun) find(bench string, want ...param) *result {
next:
	for _, res := range r.results {
		if res.bench != bench {
			continue
		}
		for _, w := range want {
			if res.get(w.key) != w.value {
				continue next
			}
		}
		return res
	}
	return nil
}

// values returns, in order of first appearance, the distinct values the
// parameter key takes among the results of bench.
func (r *benchRun) values(bench, key string) []string {
	var out []string
	seen := map[string]bool{}
	for _, res := range r.results {
		if v := res.get(key); res.bench == bench && v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// parse reads go test -bench output. Header lines (goos, goarch, cpu,
// pkg) and result lines are used; everything else (PASS, ok, logs) is
// skipped. Result lines with the same name are merged: see result.
func parse(in io.Reader) (*benchRun, error) {
	r := &benchRun{}
	byName := map[string]*result{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "Benchmark") {
			switch k {
			case "goos":
				r.goos = v
			case "goarch":
				r.goarch = v
			case "cpu":
				r.cpu = v
			case "pkg":
				if !slices.Contains(r.pkgs, v) {
					r.pkgs = append(r.pkgs, v)
				}
			}
			continue
		}
		name, procs, iters, metrics, ok := parseResult(line)
		if !ok {
			continue
		}
		if procs > 0 {
			r.procs = procs
		}
		res, seen := byName[name]
		if !seen {
			res = newResult(name)
			byName[name] = res
			r.results = append(r.results, res)
		}
		res.add(iters, metrics)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("benchreport: reading input: %w", err)
	}
	if len(r.results) == 0 {
		return nil, ErrNoResults
	}
	return r, nil
}

// parseResult parses a result line: the name (with an optional -N
// GOMAXPROCS suffix), the iteration count, then value-unit pairs.
func parseResult(line string) (name string, procs int, iters float64, metrics map[string]float64, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", 0, 0, nil, false
	}
	name = f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil && n > 0 {
			name, procs = name[:i], n
		}
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return "", 0, 0, nil, false
	}
	metrics = make(map[string]float64, (len(f)-2)/2)
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", 0, 0, nil, false
		}
		metrics[f[i+1]] = v
	}
	return name, procs, float64(n), metrics, true
}

// newResult splits a benchmark name into its top-level name and its
// key=value parameters; a part without "=" is kept with an empty key.
func newResult(name string) *result {
	parts := strings.Split(strings.TrimPrefix(name, "Benchmark"), "/")
	res := &result{bench: parts[0], samples: map[string][]float64{}}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			k, v = "", p
		}
		res.params = append(res.params, param{k, v})
	}
	return res
}

// add merges one more result line into the samples.
func (r *result) add(iters float64, metrics map[string]float64) {
	r.lines++
	r.iters += (iters - r.iters) / float64(r.lines)
	for unit, v := range metrics {
		r.samples[unit] = append(r.samples[unit], v)
	}
}
