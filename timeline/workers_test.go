package timeline

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/perkey/perkey/scheduler"
)

// clusterRun records, in a section titled title, the invocations of one
// task across processes, as a Backend reports them: runs[key][i] lists
// the processes that ran the key's i-th invocation, one per run (two for
// a rerun), and an empty list for one dropped without running. IDs count
// from firstID. A key's
// invocations run one after another, 100ms each. rerunVia says how a
// second run begins: "pending" (its lease ran out and it went back) or
// "direct" (the next Running event, with no Pending between).
func clusterRun(r *Recorder, title string, firstID uint64, keys []string, runs map[string][][]string, rerunVia map[uint64]string) {
	sec := r.Section(title)
	id := firstID - 1
	for _, key := range keys {
		for i, ran := range runs[key] {
			id++
			t0 := float64(100 * i)
			ev := func(ms float64, st scheduler.State, worker string) {
				r.Record(scheduler.Event{Time: at(ms), Task: "keyed", ID: id, Key: key, Label: fmt.Sprintf("op%d", i),
					State: st, Worker: worker})
			}
			ev(0, scheduler.Queued, "")
			if len(ran) == 0 {
				ev(0, scheduler.Dropped, "")
				continue
			}
			ev(t0, scheduler.Pending, "")
			for j, w := range ran {
				if j > 0 && rerunVia[id] == "pending" {
					ev(t0+float64(40*j)-10, scheduler.Pending, "") // its lease ran out: back, naming no process
				}
				ev(t0+float64(40*j), scheduler.Running, w)
			}
			ev(t0+100, scheduler.Succeeded, ran[len(ran)-1])
		}
	}
	sec.SetSummary(title)
}

// barsOf returns the bars of a page section, by data-id, as elements.
func barsOf(p page, section int) map[string]*html.Node {
	out := map[string]*html.Node{}
	i := -1
	for n := range p.doc.Descendants() {
		if hasClass(n, "section") {
			i++
		}
		if i == section && hasClass(n, "bar") {
			out[attr(n, "data-id")] = n
		}
	}
	return out
}

// runningWorkers returns the data-worker and the colour class of each
// running segment of a bar, in order.
func runningWorkers(bar *html.Node) (workers, colours []string) {
	for c := range bar.Descendants() {
		if hasClass(c, "seg") && hasClass(c, "running") {
			workers = append(workers, attr(c, "data-worker"))
			cls := strings.Fields(attr(c, "class"))
			colours = append(colours, cls[len(cls)-1])
		}
	}
	return workers, colours
}

// TestWorkersDrawn: with a Backend, each bar names the process that ran
// it (the last one, for a rerun), each running segment the process of its
// run, in its colour; the hover text says where it ran, both processes
// for a rerun; each section counts its runs per process, and the legend
// lists the processes with their colours.
func TestWorkersDrawn(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	keys := []string{"acme", "globex", "initech"}
	clusterRun(r, "B", 1, keys, map[string][][]string{
		"acme":    {{"w1"}, {"w2"}, {"w3"}, {"w1"}},             // #1-#4
		"globex":  {{"w2"}, {"w3"}, {"w1"}, {"w2"}},             // #5-#8
		"initech": {{"w3"}, {"w1", "w3"}, {"w2"}, {"w2", "w3"}}, // #9-#12: two reruns
	}, map[uint64]string{10: "pending", 12: "direct"})
	clusterRun(r, "C", 13, keys, map[string][][]string{"acme": {{"w2"}, {}}, "globex": {{}}, "initech": {{}}}, nil)
	p := render(t, r)
	require.Len(t, p.sections, 2)

	b := barsOf(p, 0)
	require.Len(t, b, 12)
	want := map[string][]string{
		"1": {"w1"}, "2": {"w2"}, "3": {"w3"}, "4": {"w1"},
		"5": {"w2"}, "6": {"w3"}, "7": {"w1"}, "8": {"w2"},
		"9": {"w3"}, "10": {"w1", "w3"}, "11": {"w2"}, "12": {"w2", "w3"},
	}
	colour := map[string]string{"w1": "w0", "w2": "w1", "w3": "w2"} // in name order
	for id, ran := range want {
		require.Equal(t, ran[len(ran)-1], attr(b[id], "data-worker"), "bar #%s: the process that ran it last", id)
		workers, colours := runningWorkers(b[id])
		require.Equal(t, ran, workers, "bar #%s: a running segment per run", id)
		for i, w := range ran {
			require.Equal(t, colour[w], colours[i], "bar #%s", id)
		}
		require.Equal(t, "ran on "+strings.Join(ran, ", then "), hoverLine(textOf(b[id]), "ran on"), "bar #%s", id)
	}
	require.Equal(t, []string{"queued", "pending", "running w0", "pending", "running w2"}, p.sections[0].lanes[2].bars[1].segs,
		"#10: back to pending when its lease ran out, then run on w3")
	require.Equal(t, []string{"queued", "pending", "running w1", "running w2"}, p.sections[0].lanes[2].bars[3].segs,
		"#12: a Running event naming another process is a run of its own")

	// Each section's runs per process, exact; C ran one call.
	lines := p.all("workers")
	require.Len(t, lines, 2)
	require.Equal(t, "ran on: w1 4, w2 5, w3 5; 2 reruns", textOf(lines[0]))
	require.Equal(t, "ran on: w2 1", textOf(lines[1]))
	var runs []string
	for c := range lines[0].Descendants() {
		if hasClass(c, "worker") {
			runs = append(runs, attr(c, "data-worker")+"="+attr(c, "data-runs"))
		}
	}
	require.Equal(t, []string{"w1=4", "w2=5", "w3=5"}, runs)

	// C: the dropped calls never ran: no process named.
	c := barsOf(p, 1)
	require.Len(t, c, 4)
	for id, bar := range c {
		if attr(bar, "data-state") == "dropped" {
			_, ok := attrOK(bar, "data-worker")
			require.False(t, ok, "#%s never ran", id)
			require.NotContains(t, textOf(bar), "ran on", "#%s", id)
		}
	}

	// The legend: a swatch per process in its colour, instead of the
	// plain running one, since every run names its process.
	var items []string
	for _, it := range p.all("legend-item") {
		items = append(items, attr(it, "data-item"))
	}
	require.Contains(t, items, "worker:w1")
	require.Contains(t, items, "worker:w3")
	require.NotContains(t, items, "running")
	for _, it := range p.all("legend-item") {
		if attr(it, "data-item") == "worker:w2" {
			require.Equal(t, "running on w2", textOf(it))
		}
	}
}

// hoverLine returns the line of a hover text that starts with prefix, or
// "".
func hoverLine(hover, prefix string) string {
	for line := range strings.Lines(hover) {
		if strings.HasPrefix(line, prefix) {
			return strings.TrimSuffix(line, "\n")
		}
	}
	return ""
}

// attrOK returns an attribute and whether n has it.
func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// TestWorkersInMemory: without a Backend, events name no process, and the
// page has no trace of processes: no data-worker, no line of runs, the
// plain running swatch.
func TestWorkersInMemory(t *testing.T) {
	p := render(t, knownSequence(t))
	for n := range p.doc.Descendants() {
		_, ok := attrOK(n, "data-worker")
		require.False(t, ok, "<%s class=%q>", n.Data, attr(n, "class"))
		for _, c := range strings.Fields(attr(n, "class")) {
			require.NotRegexp(t, `^w\d$`, c, "<%s>", n.Data)
		}
	}
	require.Empty(t, p.all("workers"))
	var items []string
	for _, it := range p.all("legend-item") {
		items = append(items, attr(it, "data-item"))
	}
	require.Contains(t, items, "running")
	for _, it := range items {
		require.False(t, strings.HasPrefix(it, "worker"), it)
	}
	for _, b := range p.all("bar") {
		require.NotContains(t, textOf(b), "ran on")
	}
}

// TestWorkersMixed: runs that name no process beside runs that do (a
// page with in-memory and Backend sections) keep the plain running
// swatch beside the processes'.
func TestWorkersMixed(t *testing.T) {
	r := knownSequence(t)
	clusterRun(r, "B", 100, []string{"acme"}, map[string][][]string{"acme": {{"w1"}}}, nil)
	var items []string
	for _, it := range render(t, r).all("legend-item") {
		items = append(items, attr(it, "data-item"))
	}
	require.Contains(t, items, "running")
	require.Contains(t, items, "worker:w1")
}

// TestWorkerNames: a process's name is display text, cut to MaxText like
// the rest, and the hover says it was cut.
func TestWorkerNames(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	long := strings.Repeat("w", 300)
	for id, w := range map[uint64]string{1: "host-1\u202e\n", 2: long, 3: `"><script>x</script>`} {
		r.Record(scheduler.Event{Time: at(0), Task: "t", ID: id, Key: "k", State: scheduler.Queued})
		r.Record(scheduler.Event{Time: at(1), Task: "t", ID: id, Key: "k", State: scheduler.Running, Worker: w})
		r.Record(scheduler.Event{Time: at(2), Task: "t", ID: id, Key: "k", State: scheduler.Succeeded, Worker: w})
	}
	p := render(t, r)
	b := barsOf(p, 0)
	require.Equal(t, `host-1\u202e\n`, attr(b["1"], "data-worker"))
	require.Equal(t, `ran on host-1\u202e\n`, hoverLine(textOf(b["1"]), "ran on"))
	cut := strings.Repeat("w", MaxText) + "…"
	require.Equal(t, cut, attr(b["2"], "data-worker"))
	require.Contains(t, textOf(b["2"]), fmt.Sprintf("\n(text cut to %d bytes)", MaxText))
	require.Equal(t, `"><script>x</script>`, attr(b["3"], "data-worker"))
	for n := range p.doc.Descendants() {
		require.NotEqual(t, "script", n.Data)
	}
	require.Equal(t, "ran on: \"><script>x</script> 1, host-1\\u202e\\n 1, "+cut+" 1", textOf(p.all("workers")[0]))
}

// TestWorkersBounded: the legend and a section's line name at most
// maxListedWorkers processes and count the rest; colours repeat past
// workerColours.
func TestWorkersBounded(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	runs := map[string][][]string{}
	var keys []string
	for i := range maxListedWorkers + 3 {
		key := fmt.Sprintf("k%02d", i)
		keys = append(keys, key)
		runs[key] = [][]string{{fmt.Sprintf("p%02d", i)}}
	}
	clusterRun(r, "many", 1, keys, runs, nil)
	p := render(t, r)
	line := textOf(p.all("workers")[0])
	require.True(t, strings.HasPrefix(line, "ran on: p00 1, p01 1, "), line)
	require.True(t, strings.HasSuffix(line, ", p11 1, and 3 more processes 3"), line)
	var workerItems []string
	for _, it := range p.all("legend-item") {
		if item := attr(it, "data-item"); strings.HasPrefix(item, "worker") {
			workerItems = append(workerItems, item)
		}
	}
	require.Len(t, workerItems, maxListedWorkers+1)
	require.Equal(t, "workers:more", workerItems[maxListedWorkers])
	_, colours := runningWorkers(barsOf(p, 0)["9"]) // p08
	require.Equal(t, []string{"w0"}, colours, "the ninth process takes the first colour again")
}

// TestPhasesBounded: an invocation run again and again keeps MaxPhases
// changes of state, its final one included, and says how many it let go.
func TestPhasesBounded(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	ev := func(ms float64, st scheduler.State, w string) {
		r.Record(scheduler.Event{Time: at(ms), Task: "t", ID: 1, Key: "k", State: st, Worker: w})
	}
	ev(0, scheduler.Queued, "")
	for i := range 20 {
		ev(float64(10*i), scheduler.Pending, "")
		ev(float64(10*i+5), scheduler.Running, fmt.Sprintf("w%d", i%2))
	}
	ev(300, scheduler.Failed, "w1")
	p := render(t, r)
	bar := p.sections[0].lanes[0].bars[0]
	require.Len(t, bar.segs, MaxPhases-1)
	require.Equal(t, []string{"failed"}, bar.marks, "the final state is always kept")
	require.Contains(t, bar.hover, fmt.Sprintf("\n(%d later events not kept)", 1+2*20-(MaxPhases-1)))
	require.Equal(t, "ran on w0, then w1, then w0, then w1, then w0, then w1, then w0", hoverLine(bar.hover, "ran on"))
	require.Equal(t, "ran on: w0 4, w1 3; 6 reruns", textOf(p.all("workers")[0]))
}
