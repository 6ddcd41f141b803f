package timeline

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

// base is time 0 of the synthetic event sequences.
var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms float64) time.Time { return base.Add(time.Duration(ms * float64(time.Millisecond))) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func atof(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// step is one event of a synthetic sequence.
type step struct {
	ms    float64
	task  string
	id    uint64
	key   string
	state scheduler.State
	dedup bool
	err   error
}

// life returns the events of one invocation through states at the given
// times (ms).
func life(task string, id uint64, key string, pairs ...any) []step {
	var out []step
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, step{ms: toF(pairs[i+1]), task: task, id: id, key: key, state: pairs[i].(scheduler.State)})
	}
	return out
}

func toF(v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case float64:
		return v
	}
	panic(fmt.Sprintf("bad time %v", v))
}

func (s step) event() scheduler.Event {
	return scheduler.Event{Time: at(s.ms), Task: s.task, ID: s.id, Key: s.key, Label: "op" + strconv.FormatUint(s.id, 10),
		State: s.state, Err: s.err, Deduped: s.dedup}
}

var errBoom = errors.New("boom")

// knownSequence records two sections: the first with every final state and
// an unfinished invocation, the second with dedupes and two tasks.
func knownSequence(t *testing.T) *Recorder {
	t.Helper()
	const (
		Q = scheduler.Queued
		P = scheduler.Pending
		R = scheduler.Running
	)
	r, err := New(Config{Title: "known <sequence>"})
	require.NoError(t, err)
	sec := r.Section("S1 — all the ends")
	var s1 []step
	s1 = append(s1, life("sync", 1, "a", Q, 0, P, 0, R, 1, scheduler.Succeeded, 100)...)
	s1 = append(s1, life("sync", 2, "a", Q, 0, P, 100, R, 100, scheduler.Failed, 150)...)
	s1[len(s1)-1].err = errBoom
	s1 = append(s1, life("sync", 3, "b", Q, 5, scheduler.Dropped, 5)...)
	s1[len(s1)-1].err = scheduler.ErrDropped
	s1 = append(s1, life("sync", 4, "b", Q, 10, P, 10, scheduler.Expired, 60)...)
	s1 = append(s1, life("sync", 5, "c", Q, 20, scheduler.Canceled, 30)...)
	s1 = append(s1, life("sync", 6, "c", Q, 20, P, 20, R, 40)...) // still running
	for _, s := range s1 {
		r.Record(s.event())
	}
	sec.SetSummary("6 submitted")

	sec2 := r.Section("S2 — dedupe")
	s2 := life("refresh", 7, "a", Q, 200)
	for range 3 {
		s2 = append(s2, step{ms: 201, task: "refresh", id: 7, key: "a", state: Q, dedup: true})
	}
	s2 = append(s2, life("refresh", 7, "a", P, 201, R, 202, scheduler.Succeeded, 300)...)
	s2 = append(s2, life("other", 8, "", Q, 210, P, 210, R, 210, scheduler.Succeeded, 250)...)
	for _, s := range s2 {
		r.Record(s.event())
	}
	sec2.SetSummary("4 submitted, 3 deduped")
	return r
}

func TestRenderKnownSequence(t *testing.T) {
	p := render(t, knownSequence(t))
	require.Equal(t, "known <sequence>", p.title)
	require.Len(t, p.sections, 2)

	s1, s2 := p.sections[0], p.sections[1]
	require.Equal(t, "S1 — all the ends", s1.title)
	require.Equal(t, "6 submitted", s1.summary)
	require.Equal(t, "6 invocations: 1 succeeded, 1 failed, 1 dropped, 1 expired, 1 canceled, 1 unfinished; 300ms from first to last event", s1.counts)
	require.Equal(t, "S2 — dedupe", s2.title)
	require.Equal(t, "4 submitted, 3 deduped", s2.summary)

	// One lane per key, grouped by task, in order of appearance.
	type laneID struct{ task, key string }
	lanes := func(s pageSection) []laneID {
		var out []laneID
		for _, l := range s.lanes {
			out = append(out, laneID{l.task, l.key})
		}
		return out
	}
	require.Equal(t, []laneID{{"sync", "a"}, {"sync", "b"}, {"sync", "c"}}, lanes(s1))
	require.Equal(t, []laneID{{"refresh", "a"}, {"other", ""}}, lanes(s2))

	// One bar per invocation, its segments and its end mark.
	tests := []struct {
		lane, bar int
		id, state string
		segs      []string
		marks     []string
	}{
		{0, 0, "1", "succeeded", []string{"queued", "pending", "running"}, []string{"succeeded"}},
		{0, 1, "2", "failed", []string{"queued", "pending", "running"}, []string{"failed"}},
		{1, 0, "3", "dropped", []string{"queued"}, []string{"dropped"}},
		{1, 1, "4", "expired", []string{"queued", "pending"}, []string{"expired"}},
		{2, 0, "5", "canceled", []string{"queued"}, []string{"canceled"}},
		{2, 1, "6", "open", []string{"queued", "pending", "running"}, nil},
	}
	for _, tc := range tests {
		t.Run("bar "+tc.id, func(t *testing.T) {
			b := s1.lanes[tc.lane].bars[tc.bar]
			require.Equal(t, tc.id, b.id)
			require.Equal(t, tc.state, b.state)
			require.Equal(t, "op"+tc.id, b.label)
			require.Equal(t, tc.segs, b.segs)
			require.Equal(t, tc.marks, b.marks)
		})
	}
	require.Equal(t, 2, s1.lanes[0].rows, "#1 and #2 overlap: two rows")
	require.Equal(t, 1, s1.lanes[1].rows, "#3 ends before #4 starts: one row")
	require.Equal(t, 2, s1.lanes[2].rows)

	// Hover: ID, task, key, operation, each phase's duration, the error.
	require.Equal(t, "#2 sync · a · op2\nqueued 100ms\npending 0s\nrunning 50ms\nfailed at +150ms\nerror: boom", s1.lanes[0].bars[1].hover)
	require.Equal(t, "#6 sync · c · op6\nqueued 0s\npending 20ms\nrunning 260ms so far", s1.lanes[2].bars[1].hover,
		"an open bar lasts until the last event recorded, at 300ms")

	// Dedupes sit on the lane of the invocation they collapsed into: the
	// first and the last (here at the same time: one mark), and a count.
	require.Equal(t, []string{"7"}, s2.lanes[0].dedupes)
	require.Equal(t, []string{"+3 deduped"}, s2.lanes[0].texts)
	require.Empty(t, s2.lanes[1].dedupes)
	require.Contains(t, s2.lanes[0].bars[0].hover, "3 submissions deduplicated into it, from +1ms to +1ms")
	require.Equal(t, "(no key)", textOf(p.all("key")[4]))

	// Each section starts at its own first event, on its own scale.
	require.Equal(t, s1.lanes[0].bars[0].segX[0], s2.lanes[0].bars[0].segX[0])
	require.Equal(t, labelW, s2.lanes[0].bars[0].segX[0])
	require.Equal(t, []string{"0ms", "50ms", "100ms", "150ms", "200ms", "250ms", "300ms"}, s1.ticks,
		"S1 lasts until 300ms: its open bar runs until the last event")
	require.Equal(t, []string{"0ms", "10ms", "20ms", "30ms", "40ms", "50ms", "60ms", "70ms", "80ms", "90ms", "100ms"}, s2.ticks,
		"S2 lasts 100ms")

	// Totals: bars, final marks, dedupes; legend swatches are not marks.
	require.Len(t, p.all("bar"), 8)
	require.Len(t, p.all("mark"), 7)
	require.Len(t, p.all("dedupe"), 1+1) // and the legend's swatch
	require.Len(t, p.all("swatch"), len(legendItems))
}

// TestRenderOffline: the page fetches nothing.
func TestRenderOffline(t *testing.T) {
	p := render(t, knownSequence(t))
	for n := range p.doc.Descendants() {
		switch n.Data {
		case "script", "link", "img", "iframe", "object", "embed":
			t.Fatalf("page has a <%s>", n.Data)
		}
		for _, a := range n.Attr {
			if a.Key == "xmlns" {
				continue
			}
			require.NotContains(t, a.Val, "://", "attribute %s of <%s>", a.Key, n.Data)
			require.NotContains(t, []string{"src", "href"}, a.Key, "<%s>", n.Data)
		}
	}
	var css strings.Builder
	for n := range p.doc.Descendants() {
		if n.Data == "style" {
			css.WriteString(textOf(n))
		}
	}
	require.NotContains(t, css.String(), "url(")
	require.NotContains(t, css.String(), "@import")
}

// TestRenderEscapes: names from events are text, never markup.
func TestRenderEscapes(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	r.Section(`<script>alert("t")</script>`).SetSummary(`a & b <i>`)
	evil := `"><script>x</script>`
	for _, st := range []scheduler.State{scheduler.Queued, scheduler.Pending, scheduler.Running, scheduler.Succeeded} {
		r.Record(scheduler.Event{Time: base, Task: evil, ID: 1, Key: evil, Label: evil, State: st})
	}
	p := render(t, r)
	for n := range p.doc.Descendants() {
		require.NotEqual(t, "script", n.Data)
		require.NotEqual(t, "i", n.Data)
	}
	require.Equal(t, `<script>alert("t")</script>`, p.sections[0].title)
	require.Equal(t, `a & b <i>`, p.sections[0].summary)
	require.Equal(t, evil, p.sections[0].lanes[0].key)
	require.Equal(t, evil, p.sections[0].lanes[0].bars[0].label)
	require.Equal(t, DefaultTitle, p.title)
}

// TestLateAndRepeatedEvents: a recorder attached late, or given repeated
// states, still draws one sensible bar per invocation.
func TestLateAndRepeatedEvents(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	// Attached while #1 was queued: the first event seen is a dedupe.
	r.Record(scheduler.Event{Time: at(0), Task: "t", ID: 1, Key: "k", State: scheduler.Queued, Deduped: true})
	r.Record(scheduler.Event{Time: at(1), Task: "t", ID: 1, Key: "k", State: scheduler.Running})
	r.Record(scheduler.Event{Time: at(2), Task: "t", ID: 1, Key: "k", State: scheduler.Running}) // repeated
	r.Record(scheduler.Event{Time: at(3), Task: "t", ID: 1, Key: "k", State: scheduler.Succeeded})
	r.Record(scheduler.Event{Time: at(4), Task: "t", ID: 1, Key: "k", State: scheduler.Failed}) // after final
	p := render(t, r)
	require.Len(t, p.sections, 1)
	require.Empty(t, p.sections[0].title, "no Section call: one untitled section")
	b := p.sections[0].lanes[0].bars
	require.Len(t, b, 1)
	require.Equal(t, []string{"queued", "running"}, b[0].segs)
	require.Equal(t, []string{"succeeded"}, b[0].marks)
	require.Equal(t, []string{"1"}, p.sections[0].lanes[0].dedupes)
}

func TestEmptyRecorder(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	p := render(t, r)
	require.Empty(t, p.sections)
	require.Len(t, p.all("empty"), 1)

	r.Section("nothing ran").SetSummary("0 submitted")
	p = render(t, r)
	require.Len(t, p.sections, 1)
	require.Equal(t, "nothing ran", p.sections[0].title)
	require.Empty(t, p.sections[0].lanes)
}

func TestMaxInvocations(t *testing.T) {
	r, err := New(Config{MaxInvocations: 2})
	require.NoError(t, err)
	for id := range uint64(5) {
		r.Record(scheduler.Event{Time: at(float64(id)), Task: "t", ID: id, Key: "k", State: scheduler.Queued})
		r.Record(scheduler.Event{Time: at(float64(id) + 1), Task: "t", ID: id, Key: "k", State: scheduler.Dropped})
	}
	p := render(t, r)
	require.Len(t, p.all("bar"), 2)
	omitted := p.all("omitted")
	require.Len(t, omitted, 1)
	require.Equal(t, "6 events of invocations past the recorder's cap were not kept.", textOf(omitted[0]))
}

func TestBadInput(t *testing.T) {
	_, err := New(Config{MaxInvocations: -1})
	require.ErrorIs(t, err, ErrBadConfig)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "MaxInvocations")

	var nilRec *Recorder
	require.ErrorIs(t, nilRec.Render(&strings.Builder{}), ErrNilRecorder)
	nilRec.Record(scheduler.Event{})    // ignored
	nilRec.Section("x").SetSummary("y") // a nil Section ignores it

	r, err := New(Config{})
	require.NoError(t, err)
	require.ErrorIs(t, r.Render(nil), ErrNilWriter)
}

// failingWriter fails after n bytes.
type failingWriter struct{ n int }

var errWrite = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errWrite
	}
	w.n -= len(p)
	return len(p), nil
}

func TestRenderWriteError(t *testing.T) {
	for _, n := range []int{0, 100, 5000} {
		require.ErrorIs(t, knownSequence(t).Render(&failingWriter{n: n}), errWrite, "after %d bytes", n)
	}
}

// TestConcurrentRecord: Record from many goroutines, and Render while they
// do, lose nothing (run with -race).
func TestConcurrentRecord(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	const writers, each = 8, 50
	var wg sync.WaitGroup
	renderErrs := make(chan error, 5)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := uint64(w*each + i)
				key := "k" + strconv.Itoa(i%5)
				for j, st := range []scheduler.State{scheduler.Queued, scheduler.Pending, scheduler.Running, scheduler.Succeeded} {
					r.Record(scheduler.Event{Time: at(float64(i + j)), Task: "t", ID: id, Key: key, State: st})
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			var b strings.Builder
			renderErrs <- r.Render(&b)
		}
	})
	wg.Wait()
	close(renderErrs)
	for err := range renderErrs {
		require.NoError(t, err)
	}
	p := render(t, r)
	require.Len(t, p.all("bar"), writers*each)
	for _, m := range p.all("mark") {
		require.Equal(t, "mark succeeded", attr(m, "class"))
	}
	require.Len(t, p.sections[0].lanes, 5)
}

func TestNiceStep(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{1, 1},
		{3, 5},
		{15 * time.Millisecond, 20 * time.Millisecond},
		{160 * time.Millisecond, 200 * time.Millisecond},
		{200 * time.Millisecond, 200 * time.Millisecond},
		{201 * time.Millisecond, 500 * time.Millisecond},
		{600 * time.Millisecond, time.Second},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, niceStep(tc.in), tc.in)
	}
}

func TestFormats(t *testing.T) {
	durs := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"}, {850 * time.Nanosecond, "850ns"}, {85 * time.Microsecond, "85µs"},
		{1340 * time.Microsecond, "1.3ms"}, {412400 * time.Microsecond, "412ms"}, {1604 * time.Millisecond, "1.604s"},
	}
	for _, tc := range durs {
		require.Equal(t, tc.want, fmtDur(tc.in))
	}
	ticks := []struct {
		d, step time.Duration
		want    string
	}{
		{600 * time.Millisecond, 200 * time.Millisecond, "0.6s"},
		{2 * time.Second, time.Second, "2s"},
		{40 * time.Millisecond, 20 * time.Millisecond, "40ms"},
		{500 * time.Microsecond, 500 * time.Microsecond, "0.5ms"},
		{20 * time.Microsecond, 10 * time.Microsecond, "20µs"},
	}
	for _, tc := range ticks {
		require.Equal(t, tc.want, tickLabel(tc.d, tc.step))
	}
}
