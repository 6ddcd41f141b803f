package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readFile(t *testing.T, name string) *capture {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	c, err := parse(f)
	require.NoError(t, err)
	return c
}

func TestMarkdownTableRatiosAndGoals(t *testing.T) {
	c := readFile(t, "testdata/two.txt")
	var out bytes.Buffer
	require.NoError(t, writeMarkdown(&out, c, "cd bench/pg && ./run", "2 cores, 24 GiB"))
	md := out.String()
	for _, want := range []string{
		"Medians of 3 runs each",
		"| workload | metric | perkey | river-fast | river | perkey / river-fast | perkey / river |\n|---|---|--:|--:|--:|--:|--:|\n",
		// perkey runs 2000, 3000, 2200: median 2200, ± 500/2200.
		"| (a) no-op, 1 process, insert and drain | jobs/s | 2,200 ±23% | 1,000 ±0% |  | 2.20x |  |",
		"| (b) 10ms jobs, 1 process, bound 2.50 s | drain / bound | 1.16 ±0% | 2.02 ±0% |  | 0.57x |  |",
		"| (c) idle submit-to-start | p50 ms | 12 ±0% |  | 4 ±0% |  | 3.00x |",
		"perkey keyed 2.20x River's unkeyed jobs/s (river-fast; goal at least 1.0x): met",
		"perkey drains in 1.16x the bound (goal within 1.2x): met",
		"perkey p50 3.00x River's at its defaults (goal no worse, at most 1.0x): NOT met",
		"issue 11: idle submit-to-start p50 12 ms (goal at most 10 ms): NOT met",
		"| (a) no-op, 1 process, insert and drain | 37% / 106% | 38% / 49% |  |",
		"goos: linux; goarch: amd64; pkg: github.com/perkey/perkey/bench/pg; cpu: Test CPU; 2 cores, 24 GiB.",
		"```\ncd bench/pg && ./run\n```",
	} {
		require.Contains(t, md, want)
	}
}

func TestNumber(t *testing.T) {
	cases := map[float64]string{0: "0", 1.234: "1.23", 12.34: "12.3", 99.9: "99.9", 100: "100", 1234.5: "1,235", 1234567: "1,234,567", -2500: "-2,500"}
	for v, want := range cases {
		require.Equal(t, want, number(v), "%v", v)
	}
}

func TestRunWritesMarkdownAndChart(t *testing.T) {
	dir := t.TempDir()
	svg := filepath.Join(dir, "pg.svg")
	md := filepath.Join(dir, "table.md")
	var stderr bytes.Buffer
	require.NoError(t, run([]string{"-svg", svg, "-out", md, "testdata/two.txt"}, strings.NewReader(""), &bytes.Buffer{}, &stderr))
	raw, err := os.ReadFile(md)
	require.NoError(t, err)
	require.Contains(t, string(raw), "perkey / river-fast")
	raw, err = os.ReadFile(svg)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(raw), "<svg "))

	var stdout bytes.Buffer
	input, err := os.ReadFile("testdata/two.txt")
	require.NoError(t, err)
	require.NoError(t, run(nil, bytes.NewReader(input), &stdout, &stderr), "standard input when no file is named")
	require.Contains(t, stdout.String(), "jobs/s")

	require.ErrorIs(t, run([]string{"-"}, strings.NewReader("nothing\n"), &stdout, &stderr), ErrNoResults)
	require.Error(t, run([]string{filepath.Join(dir, "missing.txt")}, nil, &stdout, &stderr))
}
