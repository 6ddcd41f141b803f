package main

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// svgSummary decodes an SVG document and counts what the plot is made of.
type svgSummary struct {
	polylines int
	circles   int
	texts     []string
}

func summarize(t *testing.T, doc string) svgSummary {
	t.Helper()
	var s svgSummary
	dec := xml.NewDecoder(strings.NewReader(doc))
	inText := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the SVG is well-formed XML")
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "polyline":
				s.polylines++
			case "circle":
				s.circles++
			case "text":
				inText = true
			}
		case xml.EndElement:
			if tok.Name.Local == "text" {
				inText = false
			}
		case xml.CharData:
			if inText {
				s.texts = append(s.texts, string(tok))
			}
		}
	}
	return s
}

func TestSVGPlot(t *testing.T) {
	f, err := os.Open("testdata/mixed.txt")
	require.NoError(t, err)
	defer f.Close()
	r, err := parse(f)
	require.NoError(t, err)

	var b strings.Builder
	require.NoError(t, writeSVG(&b, r, "throughput <&> keys"))
	s := summarize(t, b.String())
	require.Equal(t, 3, s.polylines, "one line per impl")
	require.Equal(t, 5, s.circles, "one marker per measured point")
	for _, want := range []string{"throughput <&> keys", "perkey", "errgroup", "naiveactor", "1", "1k", "100k", "1M", "10M"} {
		require.Contains(t, s.texts, want)
	}
}

func TestSVGNeedsThroughput(t *testing.T) {
	r, err := parse(strings.NewReader("BenchmarkHold/impl=perkey-2 1 5 ns/op 1.5 x-bound\n"))
	require.NoError(t, err)
	require.ErrorIs(t, writeSVG(io.Discard, r, "t"), ErrNoResults)
}

func TestTickLabel(t *testing.T) {
	cases := map[float64]string{-1: "0.1", 0: "1", 2: "100", 3: "1k", 5: "100k", 6: "1M", 7: "10M", 9: "1e9"}
	for d, want := range cases {
		require.Equal(t, want, tickLabel(d))
	}
}
