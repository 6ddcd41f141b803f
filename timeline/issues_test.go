package timeline

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/internal/displaytext"
	"github.com/perkey/perkey/scheduler"
)

// TestDedupesAggregated: a million dedupes of one invocation take a count
// and two times, not a million marks: memory and page stay small.
func TestDedupesAggregated(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	r.Record(scheduler.Event{Time: at(0), Task: "t", ID: 1, Key: "k", State: scheduler.Queued})
	const n = 1_000_000
	for i := range n {
		r.Record(scheduler.Event{Time: at(1 + float64(i)/1000), Task: "t", ID: 1, Key: "k", State: scheduler.Queued, Deduped: true})
	}
	r.Record(scheduler.Event{Time: at(2000), Task: "t", ID: 1, Key: "k", State: scheduler.Succeeded})
	allocs := testing.AllocsPerRun(100, func() {
		r.Record(scheduler.Event{Time: at(1000), Task: "t", ID: 1, Key: "k", State: scheduler.Queued, Deduped: true})
	})
	require.Zero(t, allocs, "a dedupe allocates nothing")
	// n, and AllocsPerRun's 100 runs and its warm-up: n+101 in all.

	var buf bytes.Buffer
	require.NoError(t, r.Render(&buf))
	require.Less(t, buf.Len(), 16<<10, "the page of one invocation")
	p := parsePage(t, buf.String())
	ln := p.sections[0].lanes[0]
	require.Equal(t, []string{"1", "1"}, ln.dedupes, "the first and the last")
	require.Equal(t, []string{"+" + strconv.Itoa(n+101) + " deduped"}, ln.texts)
	require.Contains(t, ln.bars[0].hover, strconv.Itoa(n+101)+" submissions deduplicated into it, from +1ms to +1.001s")
}

// TestThrottledSegment: waiting for a Rate token is a segment of its own,
// from the Throttled event to the next.
func TestThrottledSegment(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	for _, ev := range []scheduler.Event{
		{Time: at(0), State: scheduler.Queued},
		{Time: at(10), State: scheduler.Queued, Throttled: true},
		{Time: at(10), State: scheduler.Queued, Throttled: true}, // repeated: ignored
		{Time: at(210), State: scheduler.Pending},
		{Time: at(210), State: scheduler.Running},
		{Time: at(220), State: scheduler.Succeeded},
		{Time: at(0), ID: 2, State: scheduler.Queued},
		{Time: at(5), ID: 2, State: scheduler.Queued, Throttled: true},
		{Time: at(50), ID: 2, State: scheduler.Expired}, // ends while it waits
	} {
		ev.Task, ev.Key = "rated", "acme"
		if ev.ID == 0 {
			ev.ID = 1
		}
		r.Record(ev)
	}
	p := render(t, r)
	bars := p.sections[0].lanes[0].bars
	require.Equal(t, []string{"queued", "throttled", "pending", "running"}, bars[0].segs)
	require.Equal(t, "#1 rated · acme\nqueued 10ms\nthrottled (waiting for a rate token) 200ms\npending 0s\nrunning 10ms\nsucceeded at +220ms",
		bars[0].hover)
	require.Equal(t, []string{"queued", "throttled"}, bars[1].segs)
	require.Equal(t, []string{"expired"}, bars[1].marks)
	require.Len(t, p.all("throttled"), 2+1, "two segments and the legend's swatch")
}

// TestAnnotate: a note marks its invocation's bar, and is listed in the
// legend, the hover text and the section's counts.
func TestAnnotate(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	sec := r.Section("A. unsafe")
	for id := range uint64(3) {
		for i, st := range []scheduler.State{scheduler.Queued, scheduler.Pending, scheduler.Running, scheduler.Succeeded} {
			r.Record(scheduler.Event{Time: at(float64(i * 100)), Task: "unsafe", ID: id, Key: "acme", State: st})
		}
	}
	sec.SetSummary("3 calls, 2 collisions")
	r.Annotate(0, "collision")
	r.Annotate(0, "collision") // repeated: once
	r.Annotate(1, "collision")
	r.Annotate(1, "slow\n\u202e")
	r.Annotate(2, "")       // empty: ignored
	r.Annotate(99, "ghost") // unknown ID: ignored
	var nilRec *Recorder
	nilRec.Annotate(0, "x") // a nil Recorder ignores it

	p := render(t, r)
	bars := p.sections[0].lanes[0].bars
	notes := p.all("note")
	var marks []string
	for _, n := range notes {
		if attr(n, "data-note") != "" {
			marks = append(marks, attr(n, "data-id")+": "+attr(n, "data-note"))
		}
	}
	require.Equal(t, []string{"0: collision", "1: collision, slow\\n\\u202e"}, marks)
	require.True(t, hasClass(p.all("bar")[0], "noted"))
	require.False(t, hasClass(p.all("bar")[2], "noted"))
	require.Contains(t, bars[0].hover, "\nnote: collision")
	require.Contains(t, p.sections[0].counts, "; 2 noted collision; 1 noted slow\\n\\u202e")
	var legend []string
	for _, it := range p.all("legend-item") {
		legend = append(legend, attr(it, "data-item"))
	}
	require.Contains(t, legend, "note:collision")
	require.NotContains(t, strings.Join(legend, " "), "ghost")

	for i := range MaxNotes + 2 {
		r.Annotate(2, "n"+strconv.Itoa(i))
	}
	require.Contains(t, render(t, r).sections[0].counts, "; 1 noted n3")
	require.NotContains(t, render(t, r).sections[0].counts, "n4", "at most MaxNotes per invocation")
}

// TestAnnotateConcurrent: Annotate, Record and Render at once lose nothing
// (run with -race).
func TestAnnotateConcurrent(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	const n = 200
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range n {
				id := uint64(w*n + i)
				r.Record(scheduler.Event{Time: at(float64(i)), Task: "t", ID: id, Key: "k", State: scheduler.Queued})
				r.Annotate(id, "collision")
				r.Record(scheduler.Event{Time: at(float64(i + 1)), Task: "t", ID: id, Key: "k", State: scheduler.Succeeded})
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			var b strings.Builder
			_ = r.Render(&b)
		}
	})
	wg.Wait()
	require.Contains(t, render(t, r).sections[0].counts, "; 800 noted collision")
}

// TestDisplayText: keys, labels, errors, titles and summaries are shown
// as display text: the page is valid UTF-8, and no control or
// bidirectional character reaches it.
func TestDisplayText(t *testing.T) {
	r, err := New(Config{Title: "run \u202eevil"})
	require.NoError(t, err)
	r.Section("sec\x1b[2J").SetSummary("sum\u2066mary")
	key, label := "acme\xff\xfe\nx", "pending\u202e\u2066deeccus"
	for _, st := range []scheduler.State{scheduler.Queued, scheduler.Failed} {
		r.Record(scheduler.Event{Time: at(0), Task: "t\u200f", ID: 1, Key: key, Label: label, State: st,
			Err: errString("boom\r\n\u2028")})
	}
	var buf bytes.Buffer
	require.NoError(t, r.Render(&buf))
	out := buf.String()
	require.True(t, utf8.ValidString(out), "valid UTF-8")
	for _, c := range out {
		if c != '\n' {
			require.False(t, displaytext.Hidden(c), "%q on the page", c)
		}
	}
	p := parsePage(t, out)
	ln := p.sections[0].lanes[0]
	require.Equal(t, "acme\uFFFD\uFFFD\\nx", ln.key)
	require.Equal(t, `pending\u202e\u2066deeccus`, ln.bars[0].label)
	require.Equal(t, "#1 t\\u200f · acme\uFFFD\uFFFD\\nx · pending\\u202e\\u2066deeccus\nqueued 0s\nfailed at +0s\nerror: boom\\r\\n\\u2028",
		ln.bars[0].hover)
	require.Equal(t, `run \u202eevil`, p.title)
	require.Equal(t, `sec\x1b[2J`, p.sections[0].title)
	require.Equal(t, `sum\u2066mary`, p.sections[0].summary)
}

type errString string

func (e errString) Error() string { return string(e) }

// TestLongTextCut: keys and labels of 16 KiB are cut to MaxText, marked,
// and do not stay in memory.
func TestLongTextCut(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	long := strings.Repeat("k", 16<<10)
	for id := range uint64(100) {
		key := strconv.FormatUint(id, 10) + long
		r.Record(scheduler.Event{Time: at(float64(id)), Task: "t", ID: id, Key: key, Label: key, State: scheduler.Queued})
	}
	p := render(t, r)
	ln := p.sections[0].lanes[0]
	require.LessOrEqual(t, len(ln.key), MaxText+len("…"))
	require.True(t, strings.HasSuffix(ln.key, "…"))
	require.LessOrEqual(t, len(ln.bars[0].label), MaxText+len("…"))
	require.Contains(t, ln.bars[0].hover, "(text cut to 200 bytes)")
}

// TestEachSectionOwnScale: a section of 10ms calls next to a section of
// seconds still shows its calls as bars.
func TestEachSectionOwnScale(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	r.Section("long")
	r.Record(scheduler.Event{Time: at(0), Task: "t", ID: 1, Key: "k", State: scheduler.Running})
	r.Record(scheduler.Event{Time: at(20_000), Task: "t", ID: 1, Key: "k", State: scheduler.Succeeded})
	r.Section("short")
	for i := range uint64(10) {
		r.Record(scheduler.Event{Time: at(30_000 + float64(i)*20), Task: "t", ID: 2 + i, Key: "k", State: scheduler.Running})
		r.Record(scheduler.Event{Time: at(30_010 + float64(i)*20), Task: "t", ID: 2 + i, Key: "k", State: scheduler.Succeeded})
	}
	p := render(t, r)
	require.Equal(t, "20s", p.sections[0].ticks[len(p.sections[0].ticks)-1])
	require.Equal(t, "200ms", p.sections[1].ticks[len(p.sections[1].ticks)-1])
	for _, n := range p.all("seg") {
		if n.Parent != nil && attr(n.Parent, "data-id") != "1" {
			require.GreaterOrEqual(t, atof(attr(n, "width")), 20.0, "a 10ms bar in a 200ms section")
		}
	}
	// The end mark starts where the bar ends: it does not hide a short bar.
	for _, bar := range p.all("bar") {
		var segEnd, markStart float64
		for c := range bar.Descendants() {
			switch {
			case hasClass(c, "seg"):
				segEnd = atof(attr(c, "x")) + atof(attr(c, "width"))
			case hasClass(c, "mark"):
				markStart = atof(strings.Fields(strings.TrimPrefix(attr(c, "d"), "M"))[0])
			}
		}
		require.InDelta(t, segEnd, markStart, 0.11, "bar %s", attr(bar, "data-id"))
	}
}

// TestWorker: with a Backend, the bar says which process ran it.
func TestWorker(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	r.Record(scheduler.Event{Time: at(0), Task: "t", ID: 1, Key: "k", State: scheduler.Queued})
	r.Record(scheduler.Event{Time: at(1), Task: "t", ID: 1, Key: "k", State: scheduler.Running, Worker: "host-1\n"})
	r.Record(scheduler.Event{Time: at(2), Task: "t", ID: 1, Key: "k", State: scheduler.Succeeded, Worker: "host-1\n"})
	require.Contains(t, render(t, r).sections[0].lanes[0].bars[0].hover, "\nran on host-1\\n")
}
