package timeline

import (
	"bufio"
	"cmp"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"time"
)

// Render writes the page: a complete HTML document with the CSS inline and
// one SVG timeline per section, all on the same time scale, each starting
// at its section's first event. Invocations still unfinished are drawn up
// to the latest event recorded, without an end mark. It may be called at
// any time, also while events arrive, and more than once. It fails with
// ErrNilRecorder, ErrNilWriter, or the writer's first error.
func (r *Recorder) Render(w io.Writer) error {
	switch {
	case r == nil:
		return ErrNilRecorder
	case w == nil:
		return ErrNilWriter
	}
	lay, sc := arrange(r.snapshot())
	bw := bufio.NewWriter(w)
	p := &printer{w: bw}
	p.page(lay, sc)
	if p.err != nil {
		return p.err
	}
	return bw.Flush()
}

// printer writes the page, keeping the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// esc escapes text for HTML text and for quoted attribute values.
func esc(s string) string { return html.EscapeString(s) }

func (p *printer) page(lay layout, sc scale) {
	p.f("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	p.f("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	p.f("<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n", esc(lay.title), pageCSS)
	p.f("<header>\n<h1>%s</h1>\n", esc(lay.title))
	p.f("<p class=\"meta\">%d invocations, %d deduplicated submissions. Each section starts at its first event; all share one time scale. Hover over a bar for its ID, operation and phase durations.</p>\n",
		lay.total, lay.dedupes)
	p.legend()
	p.f("</header>\n<main>\n")
	if len(lay.sections) == 0 {
		p.f("<p class=\"empty\">No events recorded.</p>\n")
	}
	for _, sl := range lay.sections {
		p.section(sl, lay, sc)
	}
	p.f("</main>\n")
	if lay.omitted > 0 {
		p.f("<footer class=\"omitted\">%d events of invocations past the recorder's cap were not kept.</footer>\n", lay.omitted)
	}
	p.f("</body>\n</html>\n")
}

// legend draws one swatch per phase, final state and dedupe mark, in rows
// as wide as the timelines.
func (p *printer) legend() {
	const rowH = 20.0
	type placed struct {
		it   legendItem
		x, y float64
	}
	var items []placed
	x, y := 0.0, rowH/2
	for _, it := range legendItems {
		w := 15 + 6.6*float64(len(it.text)) + 16
		if it.seg {
			w += 13
		}
		if x > 0 && x+w > svgW {
			x, y = 0, y+rowH
		}
		items = append(items, placed{it, x, y})
		x += w
	}
	h := y + rowH/2
	p.f("<svg class=\"legend\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", svgW, h, svgW, h)
	for _, pl := range items {
		it, x, y := pl.it, pl.x, pl.y
		p.f("<g class=\"legend-item\" data-item=\"%s\">", it.class)
		switch {
		case it.seg:
			p.f("<rect class=\"swatch %s\" x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"%.0f\" rx=\"1.5\"/>", it.class, x, y-barH/2, barH)
			x += 28
		case it.dedupe:
			p.f("<path class=\"swatch dedupe\" d=\"%s\"/>", diamondPath(x+dedupeR, y, dedupeR+0.5))
			x += 15
		default:
			p.f("<path class=\"swatch %s\" d=\"%s\"/>", it.class, markPath(it.mark, x+markR, y, markR))
			x += 15
		}
		p.f("<text x=\"%.1f\" y=\"%.1f\">%s</text></g>\n", x, y, esc(it.text))
	}
	p.f("</svg>\n")
}

func (p *printer) section(sl sectionLayout, lay layout, sc scale) {
	p.f("<section class=\"section\" data-title=\"%s\">\n", esc(sl.title))
	if sl.title != "" {
		p.f("<h2>%s</h2>\n", esc(sl.title))
	}
	if sl.summary != "" {
		p.f("<p class=\"summary\">%s</p>\n", esc(sl.summary))
	}
	p.f("<p class=\"counts\">%s</p>\n", esc(counts(sl)))
	p.f("<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">\n",
		svgW, sl.height, svgW, sl.height, esc(cmp.Or(sl.title, "timeline")))
	// Lane backgrounds first, then the grid over them, then the bars.
	n := 0
	for _, g := range sl.groups {
		for _, ln := range g.lanes {
			odd := ""
			if n%2 == 1 {
				odd = " odd"
			}
			p.f("<rect class=\"lane-bg%s\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\"/>\n", odd, ln.y, svgW, ln.height)
			n++
		}
	}
	p.axis(sl, lay, sc)
	for _, g := range sl.groups {
		p.f("<g class=\"group\" data-task=\"%s\">\n", esc(g.task))
		p.f("<text class=\"task\" x=\"4\" y=\"%.1f\">task %s</text>\n", g.lanes[0].y-5, esc(g.task))
		for _, ln := range g.lanes {
			p.lane(ln, sl, sc)
		}
		p.f("</g>\n")
	}
	p.f("</svg>\n</section>\n")
}

// axis draws the ticks and their grid lines across the section.
func (p *printer) axis(sl sectionLayout, lay layout, sc scale) {
	p.f("<g class=\"axis\">\n")
	for d := time.Duration(0); d <= lay.axis; d += lay.step {
		x := sc.x(d)
		zero := ""
		if d == 0 {
			zero = " zero"
		}
		p.f("<line class=\"grid%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", zero, x, axisH-6, x, sl.height-bottomH)
		p.f("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", x, axisH-10, tickLabel(d, lay.step))
	}
	p.f("</g>\n")
}

func (p *printer) lane(ln laneLayout, sl sectionLayout, sc scale) {
	p.f("<g class=\"lane\" data-task=\"%s\" data-key=\"%s\" data-rows=\"%d\">\n", esc(ln.task), esc(ln.key), ln.rows)
	p.f("<text class=\"key\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", labelW-12, ln.y+lanePad+rowH/2, esc(cmp.Or(ln.key, "(no key)")))
	for _, b := range ln.bars {
		p.bar(b, ln, sl, sc)
	}
	p.f("</g>\n")
}

func (p *printer) bar(b barLayout, ln laneLayout, sl sectionLayout, sc scale) {
	sp := b.sp
	cy := ln.y + lanePad + float64(b.row)*rowH + rowH/2
	last := sp.phases[len(sp.phases)-1]
	state := "open"
	if !b.open {
		state = stateClass(last.state)
	}
	p.f("<g class=\"bar\" data-id=\"%d\" data-task=\"%s\" data-key=\"%s\" data-label=\"%s\" data-state=\"%s\">",
		sp.id, esc(sp.task), esc(sp.key), esc(sp.label), state)
	p.f("<title>%s</title>", esc(hoverText(b, sl.start)))
	for i, ph := range sp.phases {
		if ph.state.Final() {
			break
		}
		end := b.end
		if i+1 < len(sp.phases) {
			end = sp.phases[i+1].at
		}
		x0, x1 := sc.x(ph.at.Sub(sl.start)), sc.x(end.Sub(sl.start))
		p.f("<rect class=\"seg %s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.0f\"/>",
			stateClass(ph.state), x0, cy-barH/2, max(x1-x0, 0), barH)
	}
	if !b.open {
		p.f("<path class=\"mark %s\" d=\"%s\"/>", state, markPath(last.state, b.x1, cy, markR))
	}
	p.f("</g>\n")
	for _, d := range sp.dedupes {
		x := sc.x(d.Sub(sl.start))
		p.f("<path class=\"dedupe\" data-id=\"%d\" d=\"%s\"><title>a submission deduplicated into #%d at +%s</title></path>\n",
			sp.id, diamondPath(x, cy-barH/2-1, dedupeR), sp.id, fmtDur(d.Sub(sl.start)))
	}
	if n := len(sp.dedupes); n > 0 {
		p.f("<text class=\"dedupe-count\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", b.x1+markR+6, cy, dedupeText(n))
	}
}

// hoverText is a bar's tooltip: who it is, and how long each phase took.
func hoverText(b barLayout, start time.Time) string {
	sp := b.sp
	var s strings.Builder
	fmt.Fprintf(&s, "#%d %s", sp.id, sp.task)
	if sp.key != "" {
		fmt.Fprintf(&s, " · %s", sp.key)
	}
	if sp.label != "" {
		fmt.Fprintf(&s, " · %s", sp.label)
	}
	for i, ph := range sp.phases {
		if ph.state.Final() {
			fmt.Fprintf(&s, "\n%s at +%s", stateClass(ph.state), fmtDur(ph.at.Sub(start)))
			break
		}
		end, suffix := b.end, ""
		if i+1 < len(sp.phases) {
			end = sp.phases[i+1].at
		} else {
			suffix = " so far"
		}
		fmt.Fprintf(&s, "\n%s %s%s", stateClass(ph.state), fmtDur(end.Sub(ph.at)), suffix)
	}
	if sp.err != "" {
		fmt.Fprintf(&s, "\nerror: %s", sp.err)
	}
	if n := len(sp.dedupes); n > 0 {
		fmt.Fprintf(&s, "\n%d submissions deduplicated into it", n)
	}
	return s.String()
}

// counts is a section's line of counts, such as
// "12 invocations: 3 succeeded, 9 dropped; 0.41s".
func counts(sl sectionLayout) string {
	var parts []string
	for _, st := range finalStates {
		if n := sl.finals[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, stateClass(st)))
		}
	}
	var fin int
	for _, n := range sl.finals {
		fin += n
	}
	if open := sl.invocations - fin; open > 0 {
		parts = append(parts, fmt.Sprintf("%d unfinished", open))
	}
	s := fmt.Sprintf("%d invocations", sl.invocations)
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if sl.dedupes > 0 {
		s += fmt.Sprintf("; %d submissions deduplicated", sl.dedupes)
	}
	return s + fmt.Sprintf("; %s from first to last event", fmtDur(sl.dur))
}

// dedupeText is the count shown after a bar that absorbed n submissions.
func dedupeText(n int) string { return "+" + strconv.Itoa(n) + " deduped" }

// fmtDur formats d to about three significant digits: 412ms, 1.3ms, 85µs.
func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= 10*time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

// tickLabel formats a tick at d on an axis with ticks every step: in
// seconds from 100ms steps up, in ms or µs below.
func tickLabel(d, step time.Duration) string {
	switch {
	case step >= 100*time.Millisecond:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	case step >= 100*time.Microsecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', -1, 64) + "µs"
}
