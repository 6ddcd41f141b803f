package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ErrNoResults is returned when the input holds no benchmark result.
var ErrNoResults = errors.New("pgreport: no benchmark results in the input")

// scenario is a benchmark name without its impl= part: the runs of every
// system on one workload and shape.
type scenario struct {
	family string // the top-level name without "Benchmark": Noop, Sleep...
	params string // the other key=value parts, in order: "procs=1/mode=total"
}

// samples are every value read for one scenario, system and unit: one
// per result line, so one per -count run.
type samples map[scenario]map[string]map[string][]float64

// capture is what the input holds.
type capture struct {
	header    []string   // goos, goarch, pkg, cpu lines
	scenarios []scenario // in order of first appearance
	impls     []string   // in order of first appearance
	values    samples
}

// get returns the values of one scenario, system and unit.
func (c *capture) get(s scenario, impl, unit string) []float64 {
	return c.values[s][impl][unit]
}

var gomaxprocsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads go test -bench output; lines it does not know are skipped.
func parse(r io.Reader) (*capture, error) {
	c := &capture{values: samples{}}
	seenImpl := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, h := range []string{"goos:", "goarch:", "pkg:", "cpu:"} {
			if strings.HasPrefix(line, h) && !slices.Contains(c.header, line) {
				c.header = append(c.header, line)
			}
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a name alone (a sub-benchmark's parent), or garbage
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		s, impl, ok := splitName(gomaxprocsSuffix.ReplaceAllString(f[0], ""))
		if !ok {
			continue
		}
		if c.values[s] == nil {
			c.values[s] = map[string]map[string][]float64{}
			c.scenarios = append(c.scenarios, s)
		}
		if c.values[s][impl] == nil {
			c.values[s][impl] = map[string][]float64{}
		}
		if !seenImpl[impl] {
			seenImpl[impl] = true
			c.impls = append(c.impls, impl)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("pgreport: %q: value %q: %w", f[0], f[i], err)
			}
			c.values[s][impl][f[i+1]] = append(c.values[s][impl][f[i+1]], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pgreport: reading: %w", err)
	}
	if len(c.scenarios) == 0 {
		return nil, ErrNoResults
	}
	return c, nil
}

// splitName splits BenchmarkFamily/k=v/.../impl=NAME into its scenario and
// its impl; false without an impl= part.
func splitName(name string) (scenario, string, bool) {
	parts := strings.Split(strings.TrimPrefix(name, "Benchmark"), "/")
	var rest []string
	impl := ""
	for _, p := range parts[1:] {
		if v, ok := strings.CutPrefix(p, "impl="); ok {
			impl = v
		} else {
			rest = append(rest, p)
		}
	}
	if impl == "" {
		return scenario{}, "", false
	}
	return scenario{family: parts[0], params: strings.Join(rest, "/")}, impl, true
}

// param returns the value of key in the scenario's parameters, or "".
func (s scenario) param(key string) string {
	for _, p := range strings.Split(s.params, "/") {
		if v, ok := strings.CutPrefix(p, key+"="); ok {
			return v
		}
	}
	return ""
}

// stat is the median of a metric's runs and their spread.
type stat struct {
	median, min, max float64
	n                int
}

func summarize(v []float64) (stat, bool) {
	if len(v) == 0 {
		return stat{}, false
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{median: m, min: s[0], max: s[len(s)-1], n: len(s)}, true
}

// spread is half the range over the median, in percent: the runs lie
// within median ± spread.
func (s stat) spread() float64 {
	if s.median == 0 {
		return 0
	}
	return 100 * (s.max - s.min) / 2 / s.median
}
