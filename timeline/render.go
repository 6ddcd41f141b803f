package timeline

import (
	"bufio"
	"cmp"
	"fmt"
	"html"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/perkey/perkey/internal/displaytext"
	"github.com/perkey/perkey/scheduler"
)

// Render writes the page: a complete HTML document, valid UTF-8, with the
// CSS inline and one SVG timeline per section, each starting at its
// section's first event and on its own time scale. Invocations still
// unfinished are drawn up to the latest event recorded, without an end
// mark. Every text shown (titles, summaries, keys, labels, errors, notes,
// process names) is display text: control and bidirectional characters
// are written as escapes such as \n or \u202e, so that none can change
// how the page reads. It may be called at any time, also while events
// arrive, and more than once. It fails with ErrNilRecorder, ErrNilWriter,
// or the writer's first error.
func (r *Recorder) Render(w io.Writer) error {
	switch {
	case r == nil:
		return ErrNilRecorder
	case w == nil:
		return ErrNilWriter
	}
	lay := arrange(r.snapshot())
	bw := bufio.NewWriter(w)
	p := &printer{w: bw, workers: lay.workers}
	p.page(lay)
	if p.err != nil {
		return p.err
	}
	return bw.Flush()
}

// printer writes the page, keeping the first write error.
type printer struct {
	w       io.Writer
	err     error
	workers workers // the page's processes, for their colours
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// esc escapes display text for HTML text and for quoted attribute values.
// Text from events is cleaned when recorded; this cleans the rest (titles,
// summaries) and escapes all.
func esc(s string) string {
	c, _ := displaytext.Clean(s, maxTitle)
	return html.EscapeString(c)
}

// maxTitle bounds a title or summary on the page.
const maxTitle = 2000

func (p *printer) page(lay layout) {
	p.f("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	p.f("<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n", pageCSP)
	p.f("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	p.f("<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n", esc(lay.title), pageCSS)
	p.f("<header>\n<h1>%s</h1>\n", esc(lay.title))
	p.f("<p class=\"meta\">%d invocations, %d deduplicated submissions. Each section starts at its first event and has its own time scale. Hover over a bar for its ID, operation and phase durations.</p>\n",
		lay.total, lay.dedupes)
	p.legend(lay.notes, lay.workers)
	p.f("</header>\n<main>\n")
	if len(lay.sections) == 0 {
		p.f("<p class=\"empty\">No events recorded.</p>\n")
	}
	for _, sl := range lay.sections {
		p.section(sl)
	}
	p.f("</main>\n")
	if lay.omitted > 0 {
		p.f("<footer class=\"omitted\">%d events of invocations past the recorder's cap were not kept.</footer>\n", lay.omitted)
	}
	p.f("</body>\n</html>\n")
}

// legend draws one swatch per phase, process (with a Backend), final
// state, dedupe mark and note, in rows as wide as the timelines.
func (p *printer) legend(notes []string, ws workers) {
	const rowH = 20.0
	type placed struct {
		it   legendItem
		x, y float64
	}
	var items []placed
	x, y := 0.0, rowH/2
	var all []legendItem
	for _, it := range legendItems {
		if it.class != "running" || len(ws.names) == 0 {
			all = append(all, it)
			continue
		}
		if ws.anonymous {
			all = append(all, it) // runs that name no process are blue
		}
		for _, name := range ws.names[:min(len(ws.names), maxListedWorkers)] {
			all = append(all, legendItem{class: "running " + ws.class(name), item: "worker:" + name, text: "running on " + name, seg: true})
		}
		if more := len(ws.names) - maxListedWorkers; more > 0 {
			all = append(all, legendItem{item: "workers:more", text: fmt.Sprintf("and %d more processes", more), plain: true})
		}
	}
	for _, n := range notes {
		all = append(all, legendItem{class: "note", item: "note:" + n, text: n, note: true})
	}
	for _, it := range all {
		w := 15 + 6.6*float64(utf8.RuneCountInString(it.text)) + 16
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
		p.f("<g class=\"legend-item\" data-item=\"%s\">", esc(cmp.Or(it.item, it.class)))
		switch {
		case it.plain:
		case it.seg:
			p.f("<rect class=\"swatch %s\" x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"%.0f\" rx=\"1.5\"/>", it.class, x, y-barH/2, barH)
			x += 28
		case it.dedupe:
			p.f("<path class=\"swatch dedupe\" d=\"%s\"/>", diamondPath(x+dedupeR, y, dedupeR+0.5))
			x += 15
		case it.note:
			p.f("<path class=\"swatch note\" d=\"%s\"/>", notePath(x+noteR, y+noteR/2, noteR))
			x += 15
		default:
			p.f("<path class=\"swatch %s\" d=\"%s\"/>", it.class, markPath(it.mark, x+markR, y, markR))
			x += 15
		}
		p.f("<text x=\"%.1f\" y=\"%.1f\">%s</text></g>\n", x, y, esc(it.text))
	}
	p.f("</svg>\n")
}

func (p *printer) section(sl sectionLayout) {
	p.f("<section class=\"section\" data-title=\"%s\">\n", esc(sl.title))
	if sl.title != "" {
		p.f("<h2>%s</h2>\n", esc(sl.title))
	}
	if sl.summary != "" {
		p.f("<p class=\"summary\">%s</p>\n", esc(sl.summary))
	}
	p.f("<p class=\"counts\">%s</p>\n", esc(counts(sl)))
	if len(sl.runs) > 0 {
		p.ranOn(sl)
	}
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
	p.axis(sl)
	for _, g := range sl.groups {
		p.f("<g class=\"group\" data-task=\"%s\">\n", esc(g.task))
		p.f("<text class=\"task\" x=\"4\" y=\"%.1f\">task %s</text>\n", g.lanes[0].y-5, esc(g.task))
		for _, ln := range g.lanes {
			p.lane(ln, sl)
		}
		p.f("</g>\n")
	}
	p.f("</svg>\n</section>\n")
}

// ranOn is a section's line of runs by process, with a Backend, such as
// "ran on: w1 5, w2 4, w3 3; 1 rerun", each name after its colour.
func (p *printer) ranOn(sl sectionLayout) {
	names := slices.Sorted(maps.Keys(sl.runs))
	p.f("<p class=\"workers\">ran on: ")
	for i, name := range names[:min(len(names), maxListedWorkers)] {
		if i > 0 {
			p.f(", ")
		}
		p.f("<span class=\"worker\" data-worker=\"%s\" data-runs=\"%d\"><i class=\"%s\"></i>%s %d</span>",
			esc(name), sl.runs[name], p.workers.class(name), esc(name), sl.runs[name])
	}
	if rest := names[min(len(names), maxListedWorkers):]; len(rest) > 0 {
		n := 0
		for _, name := range rest {
			n += sl.runs[name]
		}
		p.f(", and %d more processes %d", len(rest), n)
	}
	switch {
	case sl.reruns == 1:
		p.f("; 1 rerun")
	case sl.reruns > 1:
		p.f("; %d reruns", sl.reruns)
	}
	p.f("</p>\n")
}

// axis draws the section's ticks and their grid lines.
func (p *printer) axis(sl sectionLayout) {
	p.f("<g class=\"axis\">\n")
	for d := time.Duration(0); d <= sl.axis; d += sl.step {
		x := sl.sc.x(d)
		zero := ""
		if d == 0 {
			zero = " zero"
		}
		p.f("<line class=\"grid%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", zero, x, axisH-6, x, sl.height-bottomH)
		p.f("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", x, axisH-10, tickLabel(d, sl.step))
	}
	p.f("</g>\n")
}

func (p *printer) lane(ln laneLayout, sl sectionLayout) {
	p.f("<g class=\"lane\" data-task=\"%s\" data-key=\"%s\" data-rows=\"%d\">\n", esc(ln.task), esc(ln.key), ln.rows)
	p.f("<text class=\"key\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", labelW-12, ln.y+lanePad+rowH/2, esc(cmp.Or(ln.key, "(no key)")))
	for _, b := range ln.bars {
		p.bar(b, ln, sl)
	}
	p.f("</g>\n")
}

func (p *printer) bar(b barLayout, ln laneLayout, sl sectionLayout) {
	sp, sc := b.sp, sl.sc
	cy := ln.y + lanePad + float64(b.row)*rowH + rowH/2
	last := sp.phases[len(sp.phases)-1]
	state := "open"
	if !b.open {
		state = stateClass(last.state)
	}
	class := "bar"
	if len(sp.notes) > 0 {
		class = "bar noted"
	}
	p.f("<g class=\"%s\" data-id=\"%d\" data-task=\"%s\" data-key=\"%s\" data-label=\"%s\" data-state=\"%s\"%s>",
		class, sp.id, esc(sp.task), esc(sp.key), esc(sp.label), state, workerAttr(lastOf(sp.workers())))
	// Its parts were cleaned when recorded; its line breaks are its own.
	p.f("<title>%s</title>", html.EscapeString(hoverText(b, sl.start)))
	noteX := b.x1
	for i, ph := range sp.phases {
		if ph.state.Final() {
			break
		}
		end := b.end
		if i+1 < len(sp.phases) {
			end = sp.phases[i+1].at
		}
		x0, x1 := sc.x(ph.at.Sub(sl.start)), sc.x(end.Sub(sl.start))
		if ph.state == scheduler.Running {
			noteX = (x0 + x1) / 2
		}
		class := phaseClass(ph)
		if ph.worker != "" {
			class += " " + p.workers.class(ph.worker)
		}
		p.f("<rect class=\"seg %s\"%s x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.0f\"/>",
			class, workerAttr(ph.worker), x0, cy-barH/2, max(x1-x0, 0), barH)
	}
	if !b.open {
		// Just after the bar's end, not over it: a 10ms bar a few pixels
		// long stays visible.
		p.f("<path class=\"mark %s\" d=\"%s\"/>", state, markPath(last.state, b.x1+markR, cy, markR))
	}
	if len(sp.notes) > 0 {
		p.f("<path class=\"note\" data-id=\"%d\" data-note=\"%s\" d=\"%s\"/>",
			sp.id, esc(strings.Join(sp.notes, ", ")), notePath(noteX, cy-barH/2-1, noteR))
	}
	p.f("</g>\n")
	if d := sp.dedupes; d.n > 0 {
		// The first and the last dedupe, and the count: a burst of a
		// million is two marks, not a million.
		for i, t := range []time.Time{d.first, d.last} {
			if i == 1 && d.last.Equal(d.first) {
				break
			}
			p.f("<path class=\"dedupe\" data-id=\"%d\" d=\"%s\"><title>%s deduplicated submission into #%d at +%s</title></path>\n",
				sp.id, diamondPath(sc.x(t.Sub(sl.start)), cy-barH/2-1, dedupeR), [2]string{"the first", "the last"}[i], sp.id, fmtDur(t.Sub(sl.start)))
		}
		p.f("<text class=\"dedupe-count\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", b.x1+2*markR+5, cy, dedupeText(d.n))
	}
}

// workerAttr is the data-worker attribute naming a process, or nothing
// for none (in memory).
func workerAttr(name string) string {
	if name == "" {
		return ""
	}
	return " data-worker=\"" + esc(name) + "\""
}

// lastOf returns the last of ss, or "".
func lastOf(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[len(ss)-1]
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
		fmt.Fprintf(&s, "\n%s %s%s", phaseName(ph), fmtDur(end.Sub(ph.at)), suffix)
	}
	if ws := sp.workers(); len(ws) > 0 {
		fmt.Fprintf(&s, "\nran on %s", strings.Join(ws, ", then "))
	}
	if sp.lost > 0 {
		fmt.Fprintf(&s, "\n(%d later events not kept)", sp.lost)
	}
	if sp.err != "" {
		fmt.Fprintf(&s, "\nerror: %s", sp.err)
	}
	for _, n := range sp.notes {
		fmt.Fprintf(&s, "\nnote: %s", n)
	}
	if n := sp.dedupes.n; n > 0 {
		fmt.Fprintf(&s, "\n%d submissions deduplicated into it, from +%s to +%s", n,
			fmtDur(sp.dedupes.first.Sub(start)), fmtDur(sp.dedupes.last.Sub(start)))
	}
	if sp.cut {
		fmt.Fprintf(&s, "\n(text cut to %d bytes)", MaxText)
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
	for _, n := range slices.Sorted(maps.Keys(sl.notes)) {
		s += fmt.Sprintf("; %d noted %s", sl.notes[n], n)
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
