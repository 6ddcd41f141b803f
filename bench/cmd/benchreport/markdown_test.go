package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNumberFormats(t *testing.T) {
	cases := []struct {
		name string
		f    func(float64) string
		in   float64
		want string
	}{
		{"rate millions", rate, 3_123_456, "3.12M"},
		{"rate thousands", rate, 850_400, "850k"},
		{"rate small", rate, 12.4, "12"},
		{"bytes noise below zero", byteCount, -64.2, "0.0"},
		{"bytes small", byteCount, 7.25, "7.2"},
		{"bytes large", byteCount, 140_304, "140,304"},
		{"allocs fraction", allocs, 1.5, "1.5"},
		{"allocs whole", allocs, 2, "2"},
		{"micros small", micros, 1.846, "1.8"},
		{"micros large", micros, 1493.4, "1,493"},
		{"grouped", grouped, 1_000_000, "1,000,000"},
		{"grouped negative", grouped, -12_345, "-12,345"},
		{"grouped rounds to zero", grouped, -0.2, "0"},
		{"ratio", ratio, 1.0049, "1.00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.f(tc.in))
		})
	}
}

func TestKeysLabel(t *testing.T) {
	require.Equal(t, "1 key", keysLabel("1"))
	require.Equal(t, "1,000,000 keys", keysLabel("1000000"))
	require.Equal(t, "many keys", keysLabel("many"))
}

func TestMarkdownTables(t *testing.T) {
	f, err := os.Open("testdata/mixed.txt")
	require.NoError(t, err)
	defer f.Close()
	r, err := parse(f)
	require.NoError(t, err)

	var b strings.Builder
	require.NoError(t, writeMarkdown(&b, r, options{
		heading: "##", command: "cd bench\ngo test -bench .", machine: "2 cores, 24 GiB", svgLink: "bench/throughput.svg",
	}))
	md := b.String()
	for _, want := range []string{
		"## Performance\n",
		"    cd bench\n    go test -bench .\n",
		"Machine: linux/amd64, Intel(R) Xeon(R) Processor, GOMAXPROCS=2, 2 cores, 24 GiB.\n",
		"### Against the peers\n",
		"| `perkey` | 1 key | 0.79x | – | – | – |\n",
		"| `perkey` | 1,000 keys | 0.55x | – | – | 1.60x |\n\n### Throughput\n",
		"| impl | 1 key | 1,000 keys |\n|---|---:|---:|\n",
		"| `perkey` | 1.00M/s (±10%) · 140,152 B/key | 889k/s · 386 B/key |\n",
		"| `naiveactor` | – | 555k/s · 2,867 B/key |\n",
		"![Throughput against keys, one line per implementation](bench/throughput.svg)",
		"| `errgroup` | 2 allocs · 8 MB · **1,906 overlaps** | 2 allocs · 9 MB |\n",
		"| – | 2 allocs · 11 MB (+3) · 1,000 idle goroutines |",
		"### Latency\n",
		"| impl | 1 submitter p50 | p99 | p99.9 | 4 submitters p50 | p99 | p99.9 |\n",
		"| `perkey` | 96.2 | 96.2 | 96.2 | 1.8 | 21.0 | 21.0 |\n",
		"| `workqueue` | 44.9 | 44.9 | 44.9 | – | – | – |\n",
		"### Noisy neighbour\n",
		"| `perkey` | 1,493 | 10,000 | 1.6 |\n",
		"| `keyedmutex` | 14.9 | 8 | 116 |\n",
		"### Hold\n",
		"| `perkey` | 1.00 | 58.0 | 0 |\n",
		"| `errgroup` | 0.63 | 27.0 | 34 |\n",
	} {
		require.Contains(t, md, want)
	}
	require.NotContains(t, md, "Broken")

	one, err := parse(strings.NewReader("BenchmarkThroughput/keys=1/impl=x-2 1 5 ns/op 1 allocs/op 1 idle-goroutines 9 peak-MB\n"))
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, writeMarkdown(&b, one, options{heading: "##"}))
	require.Contains(t, b.String(), "| `x` | 1 alloc · 9 MB · 1 idle goroutine |")
}

// Workloads without results get no table, and no plot link without a plot.
func TestMarkdownOnlyWhatWasRun(t *testing.T) {
	r, err := parse(strings.NewReader("BenchmarkHold/impl=perkey-2 1 5 ns/op 1.5 x-bound\n"))
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, writeMarkdown(&b, r, options{heading: "#", command: "x"}))
	md := b.String()
	require.Contains(t, md, "# Performance\n")
	require.Contains(t, md, "## Hold\n")
	require.Contains(t, md, "| `perkey` | 1.50 | – | – |\n")
	require.Contains(t, md, "Machine: GOMAXPROCS=2.\n")
	for _, absent := range []string{"Throughput", "Latency", "Noisy", ".svg"} {
		require.NotContains(t, md, absent)
	}
}

// The batch table divides by the goroutines' median.
func TestBatchTable(t *testing.T) {
	r, err := parse(strings.NewReader(strings.Join([]string{
		"BenchmarkBatch/impl=perkey-submitall-2 1000 1 ns/op 3000000 inv/s 0 overlaps 0 allocs/op",
		"BenchmarkBatch/impl=perkey-submitall-2 1000 1 ns/op 2000000 inv/s 0 overlaps 0 allocs/op",
		"BenchmarkBatch/impl=goroutines-2 1000 1 ns/op 2000000 inv/s 3 overlaps 2 allocs/op",
	}, "\n")))
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, writeMarkdown(&b, r, options{heading: "##"}))
	md := b.String()
	require.Contains(t, md, "### Submit, then Wait\n")
	require.Contains(t, md, "| `perkey-submitall` | 2.50M/s (±20%) | 1.25x | 0 | 0 |\n")
	require.Contains(t, md, "| `goroutines` | 2.00M/s | 1.00x | 2 | **3** |\n")
}
