package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sample is the raw output of the bench module's benchmarks, captured on
// the CI-sized machine: the input the README's section is made from.
const sample = "../../testdata/sample.txt"

// The captured sample holds every benchmark of the harness, and the whole
// pipeline turns it into the Markdown, the plot and the README section.
func TestRunOnCapturedSample(t *testing.T) {
	dir := t.TempDir()
	readme := filepath.Join(dir, "README.md")
	require.NoError(t, os.WriteFile(readme, []byte("# perkey\n"+beginMarker+"\n"+endMarker+"\nrest\n"), 0o644))
	svg := filepath.Join(dir, "throughput.svg")
	out := filepath.Join(dir, "perf.md")

	var stdout, stderr bytes.Buffer
	err := run([]string{"-svg", svg, "-readme", readme, "-out", out, "-machine", "2 cores", sample}, nil, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	require.Empty(t, stdout.String(), "the Markdown went to -out")

	md, err := os.ReadFile(out)
	require.NoError(t, err)
	for _, want := range []string{"### Against the peers", "### Throughput", "### Submit, then Wait", "### Latency", "### Noisy neighbour", "### Hold", "(bench/throughput.svg)", ", 2 cores."} {
		require.Contains(t, string(md), want)
	}
	for _, im := range []string{"perkey", "perkey-wait", "perkey-go", "errgroup", "keyedmutex", "workqueue", "naiveactor", "perkey-submitall", "goroutines"} {
		require.Contains(t, string(md), "| `"+im+"` |")
	}
	require.NotContains(t, string(md), "| – ", "every cell of the sample is measured")

	doc, err := os.ReadFile(readme)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(doc), "# perkey\n"+beginMarker+"\n## Performance\n"))
	require.True(t, strings.HasSuffix(string(doc), endMarker+"\nrest\n"))

	plot, err := os.ReadFile(svg)
	require.NoError(t, err)
	s := summarize(t, string(plot))
	require.Equal(t, 7, s.polylines)
	require.Equal(t, 7*5, s.circles, "7 impls at 5 key counts")
}

// Standard input is read when no file is named, and the Markdown goes to
// standard output; without -svg the section links no plot.
func TestRunFromStdin(t *testing.T) {
	in := strings.NewReader("goos: linux\nBenchmarkHold/impl=perkey-2 1 5 ns/op 1.5 x-bound\n")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run([]string{"-heading", "#"}, in, &stdout, &stderr))
	require.Contains(t, stdout.String(), "# Performance\n")
	require.Contains(t, stdout.String(), "| `perkey` | 1.50 |")
	require.Contains(t, stdout.String(), "Machine: linux, GOMAXPROCS=2.")
	require.NotContains(t, stdout.String(), "![")
}

func TestRunErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.ErrorIs(t, run([]string{"-h"}, nil, &stdout, &stderr), flag.ErrHelp)
	require.Error(t, run([]string{"-nosuchflag"}, nil, &stdout, &stderr))
	require.ErrorIs(t, run([]string{filepath.Join(t.TempDir(), "missing.txt")}, nil, &stdout, &stderr), ErrUsage)
	require.ErrorIs(t, run(nil, strings.NewReader("PASS\n"), &stdout, &stderr), ErrNoResults)
	readme := filepath.Join(t.TempDir(), "README.md")
	require.NoError(t, os.WriteFile(readme, []byte("no markers"), 0o644))
	require.ErrorIs(t, run([]string{"-readme", readme, "testdata/mixed.txt"}, nil, &stdout, &stderr), ErrNoMarkers)
}
