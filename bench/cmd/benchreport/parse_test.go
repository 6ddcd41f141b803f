package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseResult(t *testing.T) {
	cases := []struct {
		name    string
		line    string
		ok      bool
		bench   string
		procs   int
		iters   float64
		metrics map[string]float64
	}{
		{
			name: "procs suffix", line: "BenchmarkThroughput/keys=8/impl=perkey-2 \t 2000\t 853.5 ns/op\t 1172080 inv/s",
			ok: true, bench: "BenchmarkThroughput/keys=8/impl=perkey", procs: 2, iters: 2000,
			metrics: map[string]float64{"ns/op": 853.5, "inv/s": 1172080},
		},
		{
			name: "dash in the impl name", line: "BenchmarkThroughput/keys=8/impl=perkey-wait-16 10 5 ns/op",
			ok: true, bench: "BenchmarkThroughput/keys=8/impl=perkey-wait", procs: 16, iters: 10,
			metrics: map[string]float64{"ns/op": 5},
		},
		{
			name: "no procs suffix", line: "BenchmarkHold/impl=perkey-wait 1 60790927 ns/op 1.005 x-bound",
			ok: true, bench: "BenchmarkHold/impl=perkey-wait", iters: 1,
			metrics: map[string]float64{"ns/op": 60790927, "x-bound": 1.005},
		},
		{name: "name alone", line: "BenchmarkHold/impl=perkey-2"},
		{name: "bad count", line: "BenchmarkHold-2 x 12 ns/op"},
		{name: "bad value", line: "BenchmarkHold-2 1 twelve ns/op"},
		{name: "unit missing", line: "BenchmarkHold-2 1 12 ns/op 5"},
		{name: "not a benchmark", line: "ok  \tgithub.com/perkey/perkey/bench\t2.291s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name, procs, iters, metrics, ok := parseResult(tc.line)
			require.Equal(t, tc.ok, ok)
			if !tc.ok {
				return
			}
			require.Equal(t, tc.bench, name)
			require.Equal(t, tc.procs, procs)
			require.Equal(t, tc.iters, iters)
			require.Equal(t, tc.metrics, metrics)
		})
	}
}

func TestParseMixedOutput(t *testing.T) {
	f, err := os.Open("testdata/mixed.txt")
	require.NoError(t, err)
	defer f.Close()
	r, err := parse(f)
	require.NoError(t, err)

	require.Equal(t, "linux", r.goos)
	require.Equal(t, "amd64", r.goarch)
	require.Equal(t, "Intel(R) Xeon(R) Processor", r.cpu)
	require.Equal(t, []string{"github.com/perkey/perkey/bench"}, r.pkgs)
	require.Equal(t, 2, r.procs)
	require.Len(t, r.results, 12, "the broken line and the logs are skipped")

	// The two lines of one benchmark are averaged.
	res := r.find("Throughput", param{"keys", "1"}, param{"impl", "perkey"})
	require.NotNil(t, res)
	require.Equal(t, 2, res.lines)
	v, ok := res.metric("inv/s")
	require.True(t, ok)
	require.InDelta(t, 1_000_000, v, 1e-6)
	v, _ = res.metric("peak-MB")
	require.InDelta(t, 8.5, v, 1e-9)

	require.Equal(t, []string{"1", "1000"}, r.values("Throughput", "keys"))
	require.Equal(t, []string{"perkey", "errgroup", "naiveactor"}, r.values("Throughput", "impl"))
	require.Equal(t, []string{"1", "4"}, r.values("Latency", "submitters"))
	require.Nil(t, r.find("Throughput", param{"keys", "8"}))
	require.Nil(t, r.find("Nothing"))
}

func TestParseWithoutResults(t *testing.T) {
	for _, in := range []string{"", "PASS\nok  \tx\t0.1s\n", "goos: linux\n"} {
		_, err := parse(strings.NewReader(in))
		require.ErrorIs(t, err, ErrNoResults)
	}
}

// Several lines of one benchmark give their median, and their spread.
func TestMedianAndSpread(t *testing.T) {
	r, err := parse(strings.NewReader(strings.Join([]string{
		"BenchmarkThroughput/keys=1/impl=a-2 10 1 ns/op 300 inv/s",
		"BenchmarkThroughput/keys=1/impl=a-2 10 1 ns/op 100 inv/s",
		"BenchmarkThroughput/keys=1/impl=a-2 10 1 ns/op 900 inv/s",
		"BenchmarkThroughput/keys=1/impl=a-2 10 1 ns/op 200 inv/s",
		"BenchmarkThroughput/keys=1/impl=a-2 10 1 ns/op 250 inv/s",
	}, "\n")))
	require.NoError(t, err)
	res := r.find("Throughput", param{"impl", "a"})
	require.NotNil(t, res)
	med, ok := res.metric("inv/s")
	require.True(t, ok)
	require.Equal(t, 250.0, med, "the median, not the mean (350)")
	lo, hi, n := res.spread("inv/s")
	require.Equal(t, []float64{100, 900, 5}, []float64{lo, hi, float64(n)})
	require.Equal(t, " (±260%)", spreadNote(res, "inv/s"))

	even, err := parse(strings.NewReader("BenchmarkHold/impl=b 1 1 x-bound\nBenchmarkHold/impl=b 1 3 x-bound\n"))
	require.NoError(t, err)
	med, _ = even.find("Hold").metric("x-bound")
	require.Equal(t, 2.0, med, "even: the mean of the middle two")
	_, _, n = even.find("Hold").spread("ns/op")
	require.Zero(t, n, "a unit it lacks")
}
