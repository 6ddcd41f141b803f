package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseKeepsEveryRun(t *testing.T) {
	c := readFile(t, "testdata/two.txt")
	require.Equal(t, []string{"goos: linux", "goarch: amd64", "pkg: github.com/perkey/perkey/bench/pg", "cpu: Test CPU"}, c.header)
	require.Equal(t, []scenario{
		{"Noop", "procs=1/mode=total"},
		{"Sleep", "sleep=10ms/procs=1"},
		{"Latency", ""},
	}, c.scenarios)
	require.Equal(t, []string{"perkey", "river-fast", "river"}, c.impls)
	noop := c.scenarios[0]
	require.Equal(t, []float64{2000, 3000, 2200}, c.get(noop, "perkey", "jobs/s"), "the -2 suffix is dropped; every run kept")
	require.Equal(t, []float64{1000, 1000}, c.get(noop, "river-fast", "jobs/s"))
	require.Equal(t, "10ms", c.scenarios[1].param("sleep"))
	require.Equal(t, "", c.scenarios[1].param("mode"))
}

func TestParseRefusesEmptyAndBadInput(t *testing.T) {
	cases := []struct {
		name, input string
		want        string
	}{
		{"nothing", "", ErrNoResults.Error()},
		{"no impl", "BenchmarkNoop/procs=1-2 1 5 ns/op\n", ErrNoResults.Error()},
		{"bad value", "BenchmarkNoop/impl=perkey-2 1 x ns/op\n", `value "x"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(strings.NewReader(tc.input))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestSummarize(t *testing.T) {
	cases := []struct {
		name   string
		values []float64
		want   stat
		spread float64
	}{
		{"one", []float64{5}, stat{median: 5, min: 5, max: 5, n: 1}, 0},
		{"odd", []float64{3, 1, 2}, stat{median: 2, min: 1, max: 3, n: 3}, 50},
		{"even", []float64{4, 1, 2, 3}, stat{median: 2.5, min: 1, max: 4, n: 4}, 60},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := summarize(tc.values)
			require.True(t, ok)
			require.Equal(t, tc.want, got)
			require.InDelta(t, tc.spread, got.spread(), 1e-9)
		})
	}
	_, ok := summarize(nil)
	require.False(t, ok)
}
