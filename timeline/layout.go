package timeline

import (
	"cmp"
	"slices"
	"time"

	"github.com/perkey/perkey/internal/workercolour"
	"github.com/perkey/perkey/scheduler"
)

// Geometry of the SVG, in pixels.
const (
	labelW  = 120.0 // the key labels, left of the plot
	plotW   = 790.0 // the time axis
	rightW  = 90.0  // room for end marks and dedupe counts
	svgW    = labelW + plotW + rightW
	axisH   = 26.0 // tick labels above the lanes
	groupH  = 18.0 // a task's heading
	rowH    = 16.0 // one row of bars in a lane
	lanePad = 4.0  // above and below the rows of a lane
	barH    = 8.0  // a bar's thickness
	markR   = 4.5  // half the size of an end mark
	dedupeR = 4.0  // half the size of a dedupe mark
	rowGap  = 2.0  // horizontal room kept between bars sharing a row
	bottomH = 8.0  // below the last lane
	ticks   = 10   // about this many intervals on the axis
)

// layout is a snapshot arranged for drawing: sections of task groups of
// lanes of rows of bars, each section on its own time scale, so that a
// short section's bars are as visible as a long one's.
type layout struct {
	title    string
	sections []sectionLayout
	omitted  int
	total    int      // invocations drawn
	dedupes  int      // submissions deduplicated into them
	notes    []string // the distinct notes drawn, in order of first appearance
	workers  workers  // the processes that ran them, with a Backend
}

// workers are the processes named by the runs drawn, in name order, each
// with its colour: the i-th has colour i modulo workercolour.Count; with more processes, colours repeat, and the names in the hover text and the data-worker attributes still tell them apart.
type workers struct {
	names     []string
	colour    map[string]int
	anonymous bool // some run names no process (in memory)
}

// class is the CSS class of the colour of the process name.
func (w workers) class(name string) string {
	return workercolour.Class(w.colour[name])
}

type sectionLayout struct {
	title, summary string
	start          time.Time     // time 0 of its axis: its first event
	dur            time.Duration // its first to its last event
	axis           time.Duration // its axis runs from 0 to axis
	step           time.Duration // between ticks
	sc             scale
	groups         []groupLayout
	invocations    int
	dedupes        int
	finals         map[scheduler.State]int
	notes          map[string]int // invocations by note
	runs           map[string]int // runs by the process that ran them, with a Backend
	reruns         int            // runs of an invocation after its first
	height         float64
}

type groupLayout struct {
	task  string
	lanes []laneLayout
}

type laneLayout struct {
	task, key string
	rows      int
	bars      []barLayout
	y         float64 // top, within the section's SVG
	height    float64
}

type barLayout struct {
	sp     span
	row    int
	x0, x1 float64 // the bar's ends on the plot, from the section's start
	end    time.Time
	open   bool // not final yet: drawn up to the last event seen
}

// scale converts a duration from a section's start into a plot x.
type scale struct{ pxPerNs float64 }

func (s scale) x(d time.Duration) float64 { return labelW + float64(d)*s.pxPerNs }

// arrange lays a snapshot out.
func arrange(sn snapshot) layout {
	lay := layout{title: sn.title, omitted: sn.omitted}
	bySection := make([][]span, len(sn.sections))
	for _, sp := range sn.spans {
		if len(sp.phases) == 0 {
			continue
		}
		bySection[sp.section] = append(bySection[sp.section], sp)
	}
	seenNote := map[string]bool{}
	lay.workers.colour = map[string]int{}
	for i, sec := range sn.sections {
		spans := bySection[i]
		if len(spans) == 0 && sec.title == "" && sec.summary == "" {
			continue // the implicit first section, unused
		}
		sl := sectionLayout{title: sec.title, summary: sec.summary, finals: map[scheduler.State]int{},
			notes: map[string]int{}, runs: map[string]int{}}
		if len(spans) > 0 {
			first, last := bounds(spans, sn.last)
			sl.start, sl.dur = first, last.Sub(first)
		}
		sl.step = niceStep(max(sl.dur, time.Millisecond) / ticks)
		sl.axis = (max(sl.dur, sl.step) + sl.step - 1) / sl.step * sl.step
		sl.sc = scale{pxPerNs: plotW / float64(sl.axis)}
		sl.groups = groups(spans)
		y := axisH
		for g := range sl.groups {
			y += groupH
			for l := range sl.groups[g].lanes {
				ln := &sl.groups[g].lanes[l]
				placeBars(ln, sl.start, sn.last, sl.sc)
				ln.y = y
				ln.height = 2*lanePad + float64(max(ln.rows, 1))*rowH
				y += ln.height
				for _, b := range ln.bars {
					sl.invocations++
					sl.dedupes += b.sp.dedupes.n
					if !b.open {
						sl.finals[b.sp.phases[len(b.sp.phases)-1].state]++
					}
					for _, n := range b.sp.notes {
						sl.notes[n]++
						if !seenNote[n] {
							seenNote[n] = true
							lay.notes = append(lay.notes, n)
						}
					}
					sl.countRuns(b.sp, &lay.workers)
				}
			}
		}
		sl.height = y + bottomH
		lay.total += sl.invocations
		lay.dedupes += sl.dedupes
		lay.sections = append(lay.sections, sl)
	}
	slices.Sort(lay.workers.names)
	for i, name := range lay.workers.names {
		lay.workers.colour[name] = i
	}
	return lay
}

// countRuns counts the runs of sp by the process that ran each, and notes
// the processes in w.
func (sl *sectionLayout) countRuns(sp span, w *workers) {
	runs := 0
	for _, ph := range sp.phases {
		if ph.state != scheduler.Running {
			continue
		}
		runs++
		if ph.worker == "" {
			w.anonymous = true
			continue
		}
		sl.runs[ph.worker]++
		if _, ok := w.colour[ph.worker]; !ok {
			w.colour[ph.worker] = -1 // its colour is set once all are known
			w.names = append(w.names, ph.worker)
		}
	}
	sl.reruns += max(runs-1, 0)
}

// bounds returns the first and the last time of spans: open spans last
// until now, the latest event seen.
func bounds(spans []span, now time.Time) (first, last time.Time) {
	first = spans[0].phases[0].at
	for _, sp := range spans {
		start, end, open := sp.extent(now)
		if start.Before(first) {
			first = start
		}
		if end.After(last) {
			last = end
		}
		if d := sp.dedupes; d.n > 0 {
			if d.first.Before(first) {
				first = d.first
			}
			if !open && d.last.After(last) {
				last = d.last
			}
		}
	}
	return first, last
}

// extent returns when a span starts and ends: its final state, or now if it
// has none yet (open).
func (sp span) extent(now time.Time) (start, end time.Time, open bool) {
	start = sp.phases[0].at
	lastPhase := sp.phases[len(sp.phases)-1]
	if lastPhase.state.Final() {
		return start, lastPhase.at, false
	}
	return start, later(now, lastPhase.at), true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// groups sorts spans into one group per task and one lane per key, both in
// the order they first appear.
func groups(spans []span) []groupLayout {
	slices.SortStableFunc(spans, func(a, b span) int {
		return cmp.Or(a.phases[0].at.Compare(b.phases[0].at), cmp.Compare(a.id, b.id))
	})
	var out []groupLayout
	groupOf := map[string]int{}
	laneOf := map[[2]string]int{}
	for _, sp := range spans {
		g, ok := groupOf[sp.task]
		if !ok {
			g = len(out)
			groupOf[sp.task] = g
			out = append(out, groupLayout{task: sp.task})
		}
		lk := [2]string{sp.task, sp.key}
		l, ok := laneOf[lk]
		if !ok {
			l = len(out[g].lanes)
			laneOf[lk] = l
			out[g].lanes = append(out[g].lanes, laneLayout{task: sp.task, key: sp.key})
		}
		out[g].lanes[l].bars = append(out[g].lanes[l].bars, barLayout{sp: sp})
	}
	return out
}

// placeBars computes the bars' x and stacks bars that overlap on the plot
// into rows: each goes to the first row free at its start.
func placeBars(ln *laneLayout, start, now time.Time, sc scale) {
	var rowEnd []float64
	for i := range ln.bars {
		b := &ln.bars[i]
		s, e, open := b.sp.extent(now)
		b.end, b.open = e, open
		b.x0, b.x1 = sc.x(s.Sub(start)), sc.x(e.Sub(start))
		reach := b.x1 + 2*markR + rowGap // the end mark takes room too
		if n := b.sp.dedupes.n; n > 0 {
			reach += dedupeTextW(n)
		}
		row := slices.IndexFunc(rowEnd, func(end float64) bool { return end <= b.x0 })
		if row < 0 {
			row = len(rowEnd)
			rowEnd = append(rowEnd, 0)
		}
		rowEnd[row] = reach
		b.row = row
	}
	ln.rows = len(rowEnd)
}

// dedupeTextW is the room taken by a bar's dedupe count, "+N deduped".
func dedupeTextW(n int) float64 {
	return 6 + 6.5*float64(len(dedupeText(n)))
}

// niceStep returns the smallest of 1, 2 or 5 times a power of ten
// nanoseconds that is at least d.
func niceStep(d time.Duration) time.Duration {
	p := time.Duration(1)
	for p*10 <= d {
		p *= 10
	}
	for _, m := range []time.Duration{1, 2, 5} {
		if m*p >= d {
			return m * p
		}
	}
	return 10 * p
}
