package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/internal/workercolour"
	"github.com/perkey/perkey/scheduler"
)

// clusterEvents are the events of a run across processes as a Backend
// reports them: each names the process that made the change (the
// submitter "sim" queues, workers promote, run and end), and those of
// invocations that never ran name no runner.
func clusterEvents() []scheduler.Event {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var out []scheduler.Event
	ev := func(id uint64, st scheduler.State, worker string) {
		out = append(out, scheduler.Event{Time: t0.Add(time.Duration(len(out)) * time.Millisecond), Task: "keyed",
			ID: id, Key: fmt.Sprintf("acct%d", id), Label: "list_invoices", State: st, Worker: worker})
	}
	for id := uint64(1); id <= 7; id++ {
		ev(id, scheduler.Queued, "sim")
	}
	ev(1, scheduler.Pending, "w1")
	ev(1, scheduler.Running, "w1")
	ev(1, scheduler.Succeeded, "w1") // finished on w1
	ev(2, scheduler.Pending, "sim")
	ev(2, scheduler.Running, "w2")  // runs on w2
	ev(3, scheduler.Dropped, "sim") // never ran: no runner
	ev(4, scheduler.Pending, "sim")
	ev(4, scheduler.Running, "w1")
	ev(4, scheduler.Pending, "w3") // w1's lease ran out: back
	ev(4, scheduler.Running, "w3")
	ev(4, scheduler.Failed, "w3") // a rerun that failed on w3
	ev(5, scheduler.Pending, "sim")
	ev(5, scheduler.Running, "w2") // runs on w2
	ev(6, scheduler.Pending, "sim")
	ev(6, scheduler.Running, "w3")
	ev(6, scheduler.Canceled, "w3") // replaced while it ran on w3
	ev(7, scheduler.Pending, "sim")
	ev(7, scheduler.Expired, "w2") // expired before it ran: w2 noticed
	out = append(out, scheduler.Event{Time: out[len(out)-1].Time, Task: "keyed", ID: 2, Key: "acct2",
		State: scheduler.Running, Worker: "w9", Deduped: true}) // not a change of state
	return out
}

// TestWorkersTally: the processes named by the events kept, what each
// runs now and has finished; a process that only queued, promoted or
// expired work is not one that ran it.
func TestWorkersTally(t *testing.T) {
	r := newRing(64)
	require.Empty(t, nilIfEmpty(r.workers()))
	r.begin(time.Now())
	text := eventText{limit: DefaultMaxText}
	for _, ev := range clusterEvents() {
		r.add(text.event(ev), kindOf(ev))
	}
	got, more := r.workers()
	require.Equal(t, []Worker{
		{Name: "w1", Running: 0, Finished: 1, Failed: 0},
		{Name: "w2", Running: 2, Finished: 0, Failed: 0},
		{Name: "w3", Running: 0, Finished: 2, Failed: 1},
	}, got)
	require.Zero(t, more)

	// Only the events kept count: with room for the last 6, w2's runs
	// began before them, and #6 ran and was replaced within them.
	small := newRing(6)
	small.begin(time.Now())
	for _, ev := range clusterEvents() {
		small.add(text.event(ev), kindOf(ev))
	}
	got, _ = small.workers()
	require.Equal(t, []Worker{{Name: "w3", Finished: 1}}, got)

	// A watch that ends gives nothing; the next starts afresh.
	r.end()
	require.Empty(t, nilIfEmpty(r.workers()))
	r.begin(time.Now())
	r.add(text.event(scheduler.Event{State: scheduler.Running, ID: 1}), int(scheduler.Running))
	require.Empty(t, nilIfEmpty(r.workers()))
}

// nilIfEmpty drops workers' count, for require.Empty.
func nilIfEmpty(ws []Worker, _ int) []Worker { return ws }

// TestWorkersBounded: at most maxWorkers processes, the busiest, in name
// order; the others are counted.
func TestWorkersBounded(t *testing.T) {
	r := newRing(1024)
	r.begin(time.Now())
	text := eventText{limit: DefaultMaxText}
	id := uint64(0)
	for i := range maxWorkers + 4 {
		for range i + 1 { // p00 ran 1, p01 2, ...
			id++
			for _, st := range []scheduler.State{scheduler.Running, scheduler.Succeeded} {
				ev := scheduler.Event{Task: "t", ID: id, State: st, Worker: fmt.Sprintf("p%02d", i)}
				r.add(text.event(ev), kindOf(ev))
			}
		}
	}
	got, more := r.workers()
	require.Equal(t, 4, more)
	require.Len(t, got, maxWorkers)
	require.Equal(t, "p04", got[0].Name, "the 4 least busy are left out")
	require.Equal(t, 5, got[0].Finished)
	require.Equal(t, fmt.Sprintf("p%02d", maxWorkers+3), got[maxWorkers-1].Name)
}

// TestWorkersInState: with a Backend, state.json and the stream's state
// messages list the processes, their names cleaned and cut to MaxText
// like every text; in memory they list none, and the JSON has no
// "workers" at all.
func TestWorkersInState(t *testing.T) {
	s := newScheduler(t, scheduler.Config{})
	task, err := scheduler.NewTask(s, "t", func(_ context.Context, n int) (int, error) { return n, nil }, scheduler.Options[int]{})
	require.NoError(t, err)
	m := newMonitor(t, s, Config{MaxText: 8})
	var b Batch
	get(t, m, "/events.json", &b) // watch
	run(t, task)
	raw := get(t, m, "/state.json", nil).Body.String()
	require.NotContains(t, raw, `"workers"`, "in memory, events name no process")

	sub := m.sub.Load()
	require.NotNil(t, sub)
	before := getState(t, m)
	for _, ev := range clusterEvents() {
		if ev.Worker == "w2" {
			ev.Worker = "w2\u202e-with-a-long-name" // as a Backend's hook would deliver it
		}
		sub.record(ev)
	}
	st := getState(t, m)
	require.Equal(t, []Worker{
		{Name: "w1", Finished: 1},
		{Name: `w2\u202e…`, Running: 2},
		{Name: "w3", Finished: 2, Failed: 1},
	}, st.Workers)
	require.True(t, changed(before, st), "a stream sends a state whose workers changed")
	var decoded map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(get(t, m, "/state.json", nil).Body.Bytes(), &decoded))
	require.True(t, strings.HasPrefix(string(decoded["workers"]), `[{"name":"w1","running":0,"finished":1,"failed":0}`),
		string(decoded["workers"]))
}

// The page's script colours processes with the palette the timeline uses.
func TestPageUsesWorkerPalette(t *testing.T) {
	require.Contains(t, pageCSS, workercolour.CSS)
	require.Contains(t, pageJS, "% "+strconv.Itoa(workercolour.Count)+");")
}
