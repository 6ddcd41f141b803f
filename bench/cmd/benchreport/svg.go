package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// The plot's geometry, in SVG user units (pixels).
const (
	plotWidth   = 760
	plotHeight  = 440
	marginLeft  = 80
	marginRight = 170 // room for the legend
	marginTop   = 40
	marginBot   = 60
)

// series is one implementation's line: throughput against keys.
type series struct {
	name   string
	points []point
}

type point struct{ keys, rate float64 }

// throughputSeries gathers, for every implementation of the Throughput
// benchmark, its inv/s at each key count, in order of keys.
func throughputSeries(r *benchRun) []series {
	var out []series
	for _, im := range r.values("Throughput", "impl") {
		s := series{name: im}
		for _, k := range r.values("Throughput", "keys") {
			kv, err := strconv.ParseFloat(k, 64)
			res := r.find("Throughput", param{"keys", k}, param{"impl", im})
			v, ok := metricOf(res, "inv/s")
			if err != nil || !ok || kv <= 0 || v <= 0 {
				continue
			}
			s.points = append(s.points, point{kv, v})
		}
		if len(s.points) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// style is how a line is drawn.
type style struct {
	color string
	width float64
	dash  string
}

// styleOf gives perkey a bold line, the unsafe errgroup a dashed grey one,
// and the others the colours of a palette in turn: *next is the palette
// colour to use next, and advances.
func styleOf(name string, next *int) style {
	switch name {
	case "perkey":
		return style{color: "#d62728", width: 3.5}
	case "perkey-wait":
		return style{color: "#ff7f0e", width: 2.5}
	case "errgroup":
		return style{color: "#7f7f7f", width: 2, dash: "6 4"}
	}
	palette := []string{"#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"}
	st := style{color: palette[*next%len(palette)], width: 2}
	*next++
	return st
}

// decades returns the powers of ten that enclose [lo, hi].
func decades(lo, hi float64) (float64, float64) {
	a, b := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if a == b {
		b++
	}
	return a, b
}

// writeSVG draws the throughput of each implementation against the number
// of keys, both axes logarithmic, with a legend: a plain SVG file that
// needs nothing to render. title is shown above the plot.
func writeSVG(w io.Writer, r *benchRun, title string) error {
	all := throughputSeries(r)
	if len(all) == 0 {
		return fmt.Errorf("%w: no Throughput inv/s to plot", ErrNoResults)
	}
	minK, maxK, minR, maxR := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range all {
		for _, p := range s.points {
			minK, maxK = min(minK, p.keys), max(maxK, p.keys)
			minR, maxR = min(minR, p.rate), max(maxR, p.rate)
		}
	}
	x0, x1 := decades(minK, maxK)
	y0, y1 := decades(minR, maxR)
	pw := float64(plotWidth - marginLeft - marginRight)
	ph := float64(plotHeight - marginTop - marginBot)
	px := func(k float64) float64 { return marginLeft + (math.Log10(k)-x0)/(x1-x0)*pw }
	py := func(v float64) float64 { return marginTop + ph - (math.Log10(v)-y0)/(y1-y0)*ph }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		plotWidth, plotHeight, plotWidth, plotHeight)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", plotWidth, plotHeight)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", marginLeft, esc(title))

	// Grid and tick labels at every decade, light lines at 2 and 5.
	for d := x0; d <= x1; d++ {
		x := px(math.Pow(10, d))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#ccc"/>`+"\n", x, marginTop, x, marginTop+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, marginTop+ph+18, esc(tickLabel(d)))
		for _, m := range []float64{2, 5} {
			if d < x1 {
				xm := px(m * math.Pow(10, d))
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", xm, marginTop, xm, marginTop+ph)
			}
		}
	}
	for d := y0; d <= y1; d++ {
		y := py(math.Pow(10, d))
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ccc"/>`+"\n", marginLeft, y, marginLeft+pw, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginLeft-6, y+4, esc(tickLabel(d)))
		for _, m := range []float64{2, 5} {
			if d < y1 {
				ym := py(m * math.Pow(10, d))
				fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", marginLeft, ym, marginLeft+pw, ym)
			}
		}
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%.1f" fill="none" stroke="#333"/>`+"\n", marginLeft, marginTop, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">keys (log scale)</text>`+"\n", marginLeft+pw/2, plotHeight-14)
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">invocations/s (log scale)</text>`+"\n", marginTop+ph/2)

	// One line per implementation, and its legend entry.
	fromPalette := 0
	for i, s := range all {
		st := styleOf(s.name, &fromPalette)
		dash := ""
		if st.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, st.dash)
		}
		var pts []string
		for _, p := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.keys), py(p.rate)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="%.1f"%s points="%s"/>`+"\n", st.color, st.width, dash, strings.Join(pts, " "))
		for _, p := range s.points {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s</title></circle>`+"\n",
				px(p.keys), py(p.rate), st.color, esc(fmt.Sprintf("%s, %s keys: %s inv/s", s.name, grouped(p.keys), rate(p.rate))))
		}
		ly := float64(marginTop + 12 + 22*i)
		lx := float64(plotWidth - marginRight + 16)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"%s/>`+"\n", lx, ly, lx+28, ly, st.color, st.width, dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", lx+36, ly+4, esc(s.name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// tickLabel names the power of ten 10^d: 1, 10, 100, 1k ... 1M, 10M.
func tickLabel(d float64) string {
	switch n := int(d); {
	case n >= 9:
		return "1e" + strconv.Itoa(n)
	case n >= 6:
		return strconv.Itoa(int(math.Pow10(n-6))) + "M"
	case n >= 3:
		return strconv.Itoa(int(math.Pow10(n-3))) + "k"
	case n >= 0:
		return strconv.Itoa(int(math.Pow10(n)))
	default:
		return strconv.FormatFloat(math.Pow10(n), 'g', -1, 64)
	}
}

// esc escapes s for SVG text and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}
