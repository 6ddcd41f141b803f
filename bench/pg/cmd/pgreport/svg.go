package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// The chart's geometry, in SVG user units (pixels), and its colours:
// bench/'s throughput chart's, so that the two read alike.
const (
	chartWidth   = 760
	chartHeight  = 440
	chartLeft    = 80
	chartRight   = 170 // room for the legend
	chartTop     = 40
	chartBottom  = 70 // room for three lines of group labels
	perkeyColour = "#d62728"
)

var palette = []string{"#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"}

// colourOf gives perkey its red and the others the palette in turn.
func colourOf(impl string, others map[string]string) string {
	if impl == "perkey" {
		return perkeyColour
	}
	if c, ok := others[impl]; ok {
		return c
	}
	c := palette[len(others)%len(palette)]
	others[impl] = c
	return c
}

// bar is one system's jobs/s in one scenario.
type bar struct {
	impl string
	st   stat
}

// group is one scenario's bars, and its label's lines.
type group struct {
	label []string
	bars  []bar
}

// throughputGroups gathers the jobs/s of the Noop and Sleep scenarios.
func throughputGroups(c *capture) []group {
	var out []group
	for _, s := range c.scenarios {
		if s.family != "Noop" && s.family != "Sleep" {
			continue
		}
		procs := s.param("procs") + " processes"
		if procs == "1 processes" {
			procs = "1 process"
		}
		g := group{label: []string{"(a) no-op", "drain only", procs}}
		switch {
		case s.family == "Sleep":
			g.label = []string{"(b) " + s.param("sleep") + " jobs", "drain", procs}
		case s.param("mode") == "total":
			g.label[1] = "insert+drain"
		}
		for _, im := range implOrder(c.impls) {
			if st, ok := summarize(c.get(s, im, "jobs/s")); ok && st.median > 0 {
				g.bars = append(g.bars, bar{im, st})
			}
		}
		if len(g.bars) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// writeSVG draws jobs/s per scenario, one bar per system at its median,
// with a whisker from the slowest run to the fastest: a plain SVG file
// that needs nothing to render.
func writeSVG(w io.Writer, c *capture, title string) error {
	groups := throughputGroups(c)
	if len(groups) == 0 {
		return fmt.Errorf("%w: no jobs/s to plot", ErrNoResults)
	}
	top := 0.0
	for _, g := range groups {
		for _, b := range g.bars {
			top = math.Max(top, b.st.max)
		}
	}
	step := niceStep(top / 5)
	yMax := math.Ceil(top/step) * step
	pw := float64(chartWidth - chartLeft - chartRight)
	ph := float64(chartHeight - chartTop - chartBottom)
	py := func(v float64) float64 { return chartTop + ph - v/yMax*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, chartHeight, chartWidth, chartHeight)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartWidth, chartHeight)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", chartLeft, esc(title))
	for v := 0.0; v <= yMax+step/2; v += step {
		y := py(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ccc"/>`+"\n", chartLeft, y, chartLeft+pw, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", chartLeft-6, y+4, esc(number(v)))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%.1f" fill="none" stroke="#333"/>`+"\n", chartLeft, chartTop, pw, ph)
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">jobs/s (whiskers: slowest to fastest run)</text>`+"\n", chartTop+ph/2)

	others := map[string]string{}
	legend := []string{}
	gw := pw / float64(len(groups))
	for gi, g := range groups {
		x0 := chartLeft + gw*float64(gi)
		bw := gw * 0.8 / float64(len(g.bars))
		for bi, bb := range g.bars {
			colour := colourOf(bb.impl, others)
			if !slices.Contains(legend, bb.impl) {
				legend = append(legend, bb.impl)
			}
			x := x0 + gw*0.1 + bw*float64(bi)
			y := py(bb.st.median)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n",
				x+1, y, bw-2, chartTop+ph-y, colour,
				esc(fmt.Sprintf("%s, %s: %s jobs/s (runs %s to %s)", bb.impl, strings.Join(g.label, ", "), number(bb.st.median), number(bb.st.min), number(bb.st.max))))
			cx := x + bw/2
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", cx, py(bb.st.min), cx, py(bb.st.max))
		}
		cx := x0 + gw/2
		for li, line := range g.label {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", cx, chartTop+ph+18+16*float64(li), esc(line))
		}
	}
	for i, im := range legend {
		ly := float64(chartTop + 12 + 22*i)
		lx := float64(chartWidth - chartRight + 16)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="28" height="10" fill="%s"/>`+"\n", lx, ly-5, colourOf(im, others))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", lx+36, ly+4, esc(im))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceStep rounds a grid step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// esc escapes s for SVG text and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}
