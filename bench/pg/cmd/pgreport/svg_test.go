package main

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSVGDrawsABarPerSystemAndScenario(t *testing.T) {
	c := readFile(t, "testdata/two.txt")
	var out bytes.Buffer
	require.NoError(t, writeSVG(&out, c, "a <title>"))
	svg := out.String()

	// Well-formed XML, with the title escaped.
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := dec.Token()
		if err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
	}
	require.Contains(t, svg, "a &lt;title&gt;")
	// Two scenarios with jobs/s, two systems each; latency is not drawn.
	require.Equal(t, 4, strings.Count(svg, "<title>"))
	require.Contains(t, svg, "perkey, (a) no-op, insert+drain, 1 process: 2,200 jobs/s (runs 2,000 to 3,000)")
	require.Contains(t, svg, `fill="`+perkeyColour+`"`)
	require.Contains(t, svg, "(b) 10ms jobs")
}

func TestSVGNeedsThroughput(t *testing.T) {
	c, err := parse(strings.NewReader("BenchmarkLatency/impl=perkey-2 1 5 ns/op 3 p50-ms\n"))
	require.NoError(t, err)
	require.ErrorIs(t, writeSVG(&bytes.Buffer{}, c, "t"), ErrNoResults)
}

func TestNiceStep(t *testing.T) {
	cases := map[float64]float64{0: 1, 0.3: 0.5, 7: 10, 12: 20, 450: 500, 1999: 2000, 2001: 5000}
	for raw, want := range cases {
		require.InDelta(t, want, niceStep(raw), 1e-9, "%v", raw)
	}
}
