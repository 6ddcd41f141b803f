package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/perkey/perkey/internal/pgtest"
)

// The tests across processes (-backend postgres) run the sim in this
// process; its workers are this test binary again (see TestMain). They
// assert what is exact: the provider's counts, no collision where a guard
// holds, where each call ran; no timing but against the physical bounds.

// TestPostgresScenarios: A to H across 3 worker processes on a private
// server that the sim starts and removes, with the counts of the
// in-memory run, and a timeline whose bars name the worker that ran them.
func TestPostgresScenarios(t *testing.T) {
	args := []string{"-backend", "postgres", "-workers", "3", "-parallel", "4",
		"-hold", beyondHold, "-slack", testSlack, "-json"}
	if url := os.Getenv(pgtest.EnvURL); url != "" {
		args = append(args, "-database", url) // a server of one's own
	} else {
		pgtest.URL(t) // skips without the server binaries, fails in CI
	}
	path := filepath.Join(t.TempDir(), "timeline.html")
	r := runSim(t.Context(), append(args, "-timeline", path)...)
	require.Equal(t, exitOK, r.code, "stderr:\n%s", r.stderr)
	require.NotContains(t, r.stderr, "FAIL")
	require.Regexp(t, `(?m)^provider http://127\.0\.0\.1:\d+ \(in-process\), PostgreSQL \((private server|-database), schema sim_[0-9a-f]{12}\), `+
		`3 worker processes \(w1, w2, w3\) x MaxParallel 4, hold 100ms \(with -slack 50ms\)$`, r.stderr)
	got := decodeLines(t, r.stdout)
	require.Len(t, got, 8)

	workers := []string{"w1", "w2", "w3"}
	tests := []struct {
		scenario                          string
		enqueued, calls, dropped, deduped int
		guarded                           bool
	}{
		{"A", 12, 12, 0, 0, false},
		{"B", 12, 12, 0, 0, true},
		{"C", 12, 3, 9, 0, true},
		{"D", 24, 3, 0, 21, true},
		{"E", 50, 50, 0, 0, true},
		{"F", 24, 24, 0, 0, true},
		{"G", 30, 30, 0, 0, true},
		{"H", 15, 15, 0, 0, true},
	}
	for i, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			g := got[i]
			require.Equal(t, tc.scenario, g.Scenario)
			require.Equal(t, tc.enqueued, g.Enqueued)
			require.Equal(t, tc.calls, g.Calls)
			require.Equal(t, tc.dropped, g.Dropped)
			require.Equal(t, tc.deduped, g.Deduped)
			require.GreaterOrEqual(t, g.Seconds, g.BoundSeconds, "no run beats the physical bound")
			if tc.guarded {
				require.Zero(t, g.Collisions)
			}
			// Every call ran in one of the workers, as its reply says.
			sum := 0
			for name, n := range g.Workers {
				require.Contains(t, workers, name)
				sum += n
			}
			require.Equal(t, tc.calls, sum)
			for a, c := range g.Accounts {
				perAccount := 0
				for _, n := range c.Workers {
					perAccount += n
				}
				require.Equal(t, c.Calls, perAccount, a)
			}
		})
	}
	require.Zero(t, *got[6].RateViolations, "G: the rate holds across processes")
	require.Positive(t, *got[7].CollisionsWithoutGroup, "H: without a Group, keys of their own collide")

	// The timeline: the scenarios' bars, and none of the probes; each
	// bar that ran names its worker (data-worker), each of its runs too,
	// and each section's runs per worker are the calls the provider saw
	// from each.
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	doc, err := html.Parse(f)
	require.NoError(t, err)
	sections := tagged(doc, "section")
	require.Len(t, sections, 8)
	ran := regexp.MustCompile(`^w[123]$`)
	for i, tc := range []struct {
		bars, succeeded, dropped int
	}{{12, 12, 0}, {12, 12, 0}, {12, 3, 9}, {3, 3, 0}} {
		sec := sections[i]
		bars := elements(sec, "bar")
		require.Len(t, bars, tc.bars, tests[i].scenario)
		require.Len(t, elements(sec, "succeeded"), tc.succeeded, tests[i].scenario)
		require.Len(t, elements(sec, "dropped"), tc.dropped, tests[i].scenario)
		for _, b := range bars {
			require.Contains(t, referenceOps(), attrOf(b, "data-label"), "the label is the call's op")
			if attrOf(b, "data-state") == "dropped" {
				require.Empty(t, attrOf(b, "data-worker"), "a dropped call never ran")
				continue
			}
			require.Regexp(t, ran, attrOf(b, "data-worker"))
			runs := elements(b, "running")
			require.Len(t, runs, 1, "one run: no lease ran out")
			require.Equal(t, attrOf(b, "data-worker"), attrOf(runs[0], "data-worker"))
		}
	}
	for i, sec := range sections {
		perWorker, runs := map[string]int{}, 0
		for _, w := range elements(sec, "worker") {
			n, err := strconv.Atoi(attrOf(w, "data-runs"))
			require.NoError(t, err)
			perWorker[attrOf(w, "data-worker")] = n
			runs += n
		}
		if tests[i].scenario == "H" {
			// Its calls without the Group are drawn too; the JSON counts
			// those with it.
			require.Equal(t, 2*tests[i].calls, runs, "H: runs with and without its Group")
			continue
		}
		require.Equal(t, got[i].Workers, perWorker, "%s: runs per worker, as the provider saw them", tests[i].scenario)
	}
	for _, b := range elements(doc, "bar") {
		require.NotEqual(t, probeTaskName, attrOf(b, "data-task"))
		require.NotEqual(t, "open", attrOf(b, "data-state"), "every final event is drawn")
	}
}

// TestPostgresChaosSoak: a short soak across 3 workers, one killed with
// SIGKILL every 2s and replaced: nothing lost, no collision, every run
// accounted for (a killed worker's invocations ran again), and no row
// left once retention ran.
func TestPostgresChaosSoak(t *testing.T) {
	url := pgtest.URL(t)
	r := runSim(t.Context(), "-soak", "6s", "-accounts", "50", "-seed", "7", "-parallel", "4", "-quiet",
		"-backend", "postgres", "-database", url, "-workers", "3", "-chaos", "2s")
	require.Equal(t, exitOK, r.code, "stderr:\n%s\nstdout:\n%s", r.stderr, r.stdout)
	res := decodeSoak(t, r.stdout)
	require.True(t, res.OK)
	require.NotNil(t, res.ClusterSoak)
	c := *res.ClusterSoak
	require.Equal(t, "postgres", c.Backend)
	require.Equal(t, 3, c.Workers)
	require.InDelta(t, soakLease.Seconds(), c.LeaseSeconds, 1e-9)
	require.InDelta(t, 2.0, c.ChaosSeconds, 1e-9)

	require.Positive(t, res.Submitted)
	require.Zero(t, res.Lost)
	require.Equal(t, res.Submitted, res.Completed)
	require.Zero(t, res.Collisions)
	require.Zero(t, res.UnexpectedErrors)
	require.Zero(t, res.SubmitErrors)
	require.Zero(t, res.Expired)
	require.Zero(t, res.Canceled)
	require.Zero(t, res.ActorsEnd)
	// Every submission reached one final state, or was collapsed into
	// another: the cluster's events, counted in the sim.
	require.Equal(t, res.Submitted, res.Succeeded+res.Failed+res.Dropped+res.Deduped)
	// Every run ended, or was run again: a killed worker's runs were.
	require.Equal(t, c.Runs, res.Succeeded+res.Failed+c.Reruns)
	require.GreaterOrEqual(t, c.Reruns, uint64(c.Takeovers))
	require.GreaterOrEqual(t, uint64(res.Calls), res.Succeeded, "a run that succeeded made its call")
	// Only fault calls failed. The provider's count is no bound either
	// way: a killed worker's fault runs again, and a fault call's short
	// client timeout can run out before the call reaches the provider.
	require.LessOrEqual(t, res.Failed, res.FaultSubmissions, "a run that failed asked for a fault")
	require.Positive(t, res.Faults)
	require.Positive(t, c.Kills)
	if c.Takeovers > 0 {
		require.Positive(t, c.TakeoverP50Seconds)
		require.GreaterOrEqual(t, c.TakeoverMaxSeconds, c.TakeoverP50Seconds)
	}
	require.Zero(t, c.DBRowsEnd)
	require.LessOrEqual(t, res.HeapEndBytes, res.HeapLimitBytes)
}

// TestFourTerminalFlow: the sim with -workers 0 only submits and waits,
// and says how to start a worker; a `sim worker` started after it serves
// the scenarios and prints a line per call; interrupted, it stops.
func TestFourTerminalFlow(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t)
	t.Cleanup(func() { dropSchema(t, url, schema) })
	srv := startTestProvider(t, nil)

	simOut, simErr := &syncBuffer{}, &syncBuffer{ready: make(chan struct{}), readyOn: "sim: waiting for a worker"}
	simDone := make(chan int, 1)
	go func() {
		simDone <- runContext(t.Context(), []string{"-backend", "postgres", "-database", url, "-schema", schema,
			"-workers", "0", "-provider", srv.URL(), "-hold", "50ms", "-json", "-scenarios", "B,C,D"}, simOut, simErr)
	}()
	select {
	case <-simErr.ready:
	case code := <-simDone:
		t.Fatalf("the sim ended (%d) before it waited for a worker:\n%s", code, simErr.String())
	}
	require.Contains(t, simErr.String(), "start one with `go run ./cmd/sim worker -database URL -schema "+schema+"`")

	wctx, stopWorker := context.WithCancel(t.Context())
	defer stopWorker()
	wOut, wErr := &syncBuffer{}, &syncBuffer{}
	workerDone := make(chan int, 1)
	go func() {
		workerDone <- runContext(wctx, []string{"worker", "-database", url, "-schema", schema, "-name", "t1", "-parallel", "4"}, wOut, wErr)
	}()
	code := <-simDone
	require.Equal(t, exitOK, code, "stderr:\n%s", simErr.String())
	got := decodeLines(t, simOut.String())
	require.Len(t, got, 3)
	for i, want := range []struct{ calls, dropped, deduped int }{{12, 0, 0}, {3, 9, 0}, {3, 0, 21}} {
		require.Equal(t, want.calls, got[i].Calls, got[i].Scenario)
		require.Equal(t, want.dropped, got[i].Dropped, got[i].Scenario)
		require.Equal(t, want.deduped, got[i].Deduped, got[i].Scenario)
		require.Zero(t, got[i].Collisions, got[i].Scenario)
		require.Equal(t, map[string]int{"t1": want.calls}, got[i].Workers, got[i].Scenario)
	}
	require.Contains(t, simErr.String(), "PostgreSQL (-database, schema "+schema+"), workers started apart (sim worker)")

	stopWorker()
	require.Equal(t, exitOK, <-workerDone, "stderr:\n%s", wErr.String())
	out := wOut.String()
	require.Regexp(t, `^worker t1 ready: schema `+schema+`, MaxParallel 4, lease 30s \(Ctrl-C to stop\)\n`, out)
	lines := regexp.MustCompile(`(?m)^t1 (keyed_wait|keyed_drop|refresh) +(acme|globex|initech) +\S+ +ok$`).FindAllString(out, -1)
	require.Len(t, lines, 18, "a line per call: 12 of B, 3 of C, 3 of D:\n%s", out)
	require.Empty(t, wErr.String())
}

// TestWorkerWithoutDatabase: a worker whose database is unreachable fails
// at once, with the driver's reason.
func TestWorkerWithoutDatabase(t *testing.T) {
	dir := t.TempDir() // no server's socket in it
	r := runSim(t.Context(), "worker", "-database", "postgres://postgres@/postgres?host="+dir+"&sslmode=disable")
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stderr, "sim worker: database")
	require.Empty(t, r.stdout)
}

// dropSchema drops schema, for tests that name one of their own.
func dropSchema(t *testing.T, url, schema string) {
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	defer pool.Close()
	_, err = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	require.NoError(t, err)
}
