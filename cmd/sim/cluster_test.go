package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// TestTakeovers: the soak's accounting of the cluster's events. A start
// of an invocation started before is a rerun; if its last start was on a
// killed worker, the time from the kill is a takeover; final states and
// dedupes are counted, and nothing is kept of an ended invocation.
func TestTakeovers(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ev := func(id uint64, st scheduler.State, worker string, ms int) scheduler.Event {
		return scheduler.Event{ID: id, State: st, Worker: worker, Time: at(ms)}
	}
	tr := newTakeovers()
	for _, e := range []scheduler.Event{
		ev(1, scheduler.Queued, "", 0),
		ev(1, scheduler.Pending, "", 1),
		ev(1, scheduler.Running, "w1", 2),
		ev(2, scheduler.Running, "w1", 3),
		ev(3, scheduler.Running, "w2", 3),
		{ID: 4, State: scheduler.Running, Deduped: true, Time: at(4)}, // a dedupe, not a start
		ev(3, scheduler.Succeeded, "w2", 10),
	} {
		tr.observe(e)
	}
	tr.killing("w1", at(100))
	for _, e := range []scheduler.Event{
		ev(1, scheduler.Pending, "w1", 2090), // its lease expired: back
		ev(1, scheduler.Running, "w3", 2100),
		ev(2, scheduler.Running, "w2", 2300),
		ev(2, scheduler.Running, "w3", 4000), // w2 stalled: a rerun, no kill
		ev(1, scheduler.Succeeded, "w3", 2200),
		ev(2, scheduler.Failed, "w3", 4100),
		ev(5, scheduler.Dropped, "", 4200),
	} {
		tr.observe(e)
	}
	kills, runs, reruns, n, p50, worst := tr.figures()
	require.Equal(t, 1, kills)
	require.Equal(t, uint64(6), runs)
	require.Equal(t, uint64(3), reruns)
	require.Equal(t, 2, n, "two invocations of the killed w1 started elsewhere")
	require.Equal(t, 2000*time.Millisecond, p50)
	require.Equal(t, 2200*time.Millisecond, worst)
	finals, deduped := tr.outcomes()
	require.Equal(t, uint64(2), finals[scheduler.Succeeded])
	require.Equal(t, uint64(1), finals[scheduler.Failed])
	require.Equal(t, uint64(1), finals[scheduler.Dropped])
	require.Equal(t, uint64(1), deduped)
	require.Empty(t, tr.started, "nothing kept of ended invocations")
}

// TestEventProblems: the soak across processes fails when the cluster's
// events do not add up to its submissions, or disagree with its own count
// of drops and dedupes.
func TestEventProblems(t *testing.T) {
	ok := soakResult{Submitted: 10, Succeeded: 5, Failed: 1, Dropped: 2, Deduped: 2}
	require.Empty(t, eventProblems(ok, scheduler.Stats{Dropped: 2, Deduped: 2}))
	missing := ok
	missing.Succeeded = 4
	require.Equal(t, []string{"the cluster's events count 9 final states and dedupes (4 succeeded, 1 failed, 2 dropped, " +
		"2 deduped, 0 canceled, 0 expired) for 10 submissions"}, eventProblems(missing, scheduler.Stats{Dropped: 2, Deduped: 2}))
	require.Equal(t, []string{"the events count 2 dedupes and 2 drops; the submitter 3 and 2"},
		eventProblems(ok, scheduler.Stats{Dropped: 2, Deduped: 3}))
}

// TestPrefixWriter: each line of a worker's stderr reaches the sim's,
// whole and prefixed with the worker's name, however it was cut.
func TestPrefixWriter(t *testing.T) {
	var out strings.Builder
	p := &prefixWriter{w: &out, prefix: "worker w1: "}
	for _, chunk := range []string{"time=1 level=WARN msg=", "\"lease lost\"\nsecond", " line\n", "no end"} {
		n, err := p.Write([]byte(chunk))
		require.NoError(t, err)
		require.Equal(t, len(chunk), n)
	}
	require.Equal(t, "worker w1: time=1 level=WARN msg=\"lease lost\"\nworker w1: second line\n", out.String())
	p.flush()
	require.Equal(t, "worker w1: time=1 level=WARN msg=\"lease lost\"\nworker w1: second line\nworker w1: no end\n", out.String())
}

// TestCheckCallURL: a worker calls only an http or https provider, as
// the calls in the database name it.
func TestCheckCallURL(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8765", "https://provider.example"} {
		require.NoError(t, checkCallURL(ok), ok)
	}
	for _, bad := range []string{"", "127.0.0.1:8765", "file:///etc/passwd", "http://"} {
		err := checkCallURL(bad)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "want an http or https URL")
	}
	c := newClientCache(provider.ClientConfig{})
	_, err := c.get("ftp://x")
	require.Error(t, err)
	c.close()
	_, err = c.get("http://127.0.0.1:8765")
	require.True(t, errors.Is(err, scheduler.ErrClosed), "a closed cache makes no client: %v", err)
}
