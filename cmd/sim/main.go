// Command sim is perkey's demo: it runs the reference scenarios A to D,
// and E to H that go beyond the reference, against a fake provider over
// real HTTP and shows, from the provider's own counts, that keyed tasks
// never collide; and with -soak it drives random load for a while to show
// that nothing is lost and memory stays flat.
//
// Usage:
//
//	sim [flags]                              run the scenarios
//	sim -soak D [-accounts N] [flags]        run the soak
//	sim provider [-addr HOST:PORT] [-hold D] run the provider alone
//	sim worker -database URL [flags]         run a worker process (-backend postgres)
//
// With no flags, sim starts the provider in-process on a free loopback
// port, builds one scheduler with MaxParallel 8 and the demo's tasks, and
// runs A to H in order (-scenarios picks some). For each scenario it prints
// the summary, one line per account, the provider's call log with each
// call's time from the scenario's first submit (long runs of one
// account's calls folded into one line) and the calls the scheduler
// dropped; or with -json one JSON object per line. A last line gives the
// verdict, such as "8 scenarios: all hold".
//
// What each scenario must show:
//
//	A  unsafe: 12 calls; collisions expected
//	B  keyed, Wait: 12 calls, 0 collisions
//	C  keyed, Drop: 3 calls, 9 dropped, 0 collisions
//	D  keyed + dedupe until done: 3 calls, 21 deduped, 0 collisions
//	E  noisy neighbour: the whale submits 40 calls, then 10 minnows one
//	   each; 0 collisions; time goal: every minnow ends within about 2
//	   holds of its submit (minnow_p99_seconds ≤ 2 holds + 5%)
//	F  N slots: Limit 2 against a provider that allows 2 calls per
//	   account (slots=2); 24 calls, 0 collisions; time goal: within 2%
//	   of the bound
//	G  rate per key: Rate 5/s, Burst 1, against a provider that counts
//	   starts of one account closer than 150ms (min_gap, three quarters
//	   of the rate's 200ms); 30 calls, 0 rate violations; time goal:
//	   within 5% of the bound
//	H  shared key: ops and refresh for the same accounts, first as tasks
//	   with keys of their own (collisions_without_group > 0, the
//	   reference's behaviour), then in one Group (0 collisions)
//
// Exit status: 0 when every scenario holds; 1 when one is wrong (a
// collision where it is guarded, a rate violation, counts that differ:
// calls, drops, dedupes; a run faster than its physical bound) or the run
// failed (provider or database unreachable, a call failed, a worker
// process exited unasked, interrupted); 2 for bad flags. A time goal is printed as met or MISSED, with the goal enforced;
// a busy machine can miss one without anything being wrong, so a miss
// fails the run (exit 1) only with -strict, for benchmarks and bars on a
// quiet machine.
//
// Holds: -hold (default 400ms) is the reference's hold, used by A to D, F
// and H; E holds -hold/4 (100ms) per call and G -hold/40 (10ms). G's rate
// does not scale: its time is set by the rate, about 1.8s. -slack adds to
// the time goals of E, F and G (and takes off G's minimum gap, down to
// half the rate's gap).
//
// The soak (-soak 60s -accounts 1000) submits bursts of 1 to 4 calls for
// random accounts, with random ops and holds of 1 to 20ms, to a mix of
// tasks: Wait, Drop, dedupe until start and until done, and calls that ask
// the provider for a fault, all in one Group; Limit 2 with slots=2, and a
// per-key rate, on keys of their own. It prints a progress line a second
// on stderr and one JSON line on stdout at the end, and exits 1 if an
// invocation never became final, a call collided, a call failed without
// asking for a fault, or the heap after a GC grew beyond 1.5 times its
// start plus 8 MiB. The heap includes an in-process provider, which counts
// calls per account (a few hundred bytes for each account called, three
// families of them): past a few thousand accounts, run the provider apart
// with -provider, so that the check measures the scheduler and the sim.
//
// Across processes (-backend postgres) the invocations live in
// PostgreSQL (package postgres) and the calls run in worker processes:
// the sim binary again, as "sim worker", started by the sim (-workers, 3
// by default, each with MaxParallel -parallel) or apart. The sim itself
// only submits and waits (postgres.Config.SubmitOnly), so that every call
// crosses the database and the provider counts what the workers do:
//
//	go run ./cmd/sim -backend postgres
//
// Without -database the sim starts a private server from the installed
// binaries (as the tests do; as the unprivileged user postgres when run as
// root) and removes it at the end; with -database URL it runs on a fresh
// schema of that server and drops it at the end (or on -schema, kept).
// Each call carries the provider's URL in its arguments, so a worker needs
// no provider flag. Each run of consecutive calls to one task is
// submitted with one SubmitAll (one round trip, one transaction), so that
// C's drops and D's dedupes are decided as in memory however loaded the
// database is. The scenarios, counts and checks are those of the
// in-memory run; the bounds count the workers' slots (workers × -parallel);
// each account line says which workers made its calls (workers=w1:2,w3:2),
// and -json adds "workers" to each scenario and account.
//
// The four-terminal flow: the provider, one or more workers, and the sim
// with -workers 0, which only submits and waits (and, if no worker answers
// within 3s, says how to start one). Workers may start before or after
// the sim, and run until interrupted: they stop claiming, let their calls
// finish for 5s and hand the rest back. Both sides default to the schema
// perkey_sim:
//
//	go run ./cmd/sim provider -addr 127.0.0.1:8765
//	go run ./cmd/sim worker -database postgres://USER@HOST/DB
//	go run ./cmd/sim -backend postgres -database postgres://USER@HOST/DB -workers 0 -provider http://127.0.0.1:8765
//
// -monitor works on any of them, and -timeline on the sim: while anyone
// listens every process publishes its events, and the timeline draws
// each call's run in the colour of the worker that ran it (data-worker,
// "ran on w2" when hovered) and counts each scenario's runs per worker
// ("ran on: w1 5, w2 4, w3 3"). The workers the sim starts publish from
// their start (sim worker -events); one started apart, from its next poll
// after a listener appears.
//
// The chaos soak (-soak D -backend postgres -chaos 5s) drives the soak's
// random load across the workers, and every 5s kills one with SIGKILL and
// starts another. Its workers hold 2s leases (-lease), poll every 200ms
// and keep final invocations 5s, so that a killed worker's calls run again
// within about a lease and storage is seen bounded. Its JSON line adds
// backend, workers, lease_seconds, retention_seconds, chaos_seconds,
// kills, runs, reruns (starts of an invocation started before: its lease
// expired), takeovers, takeover_p50_seconds and takeover_max_seconds
// (from a kill to the start elsewhere of each invocation the killed worker
// had started, from the cluster's events, which the database stamps with
// this machine's clock) and db_rows_end (invocations left once retention
// ran); succeeded to expired are then the cluster's, from its events.
// Collisions are the provider's, all of them: a killed worker's call stops
// holding its account at once (the kernel closes the dead process's
// connections, and the provider ends a call whose client is gone), and
// its invocation runs again only once its lease has expired, about a lease
// after the kill; so a collision means two live workers in one account at
// once. The soak fails if an invocation is lost, a call collides, a call
// fails unasked, the events do not add up to the submissions, or rows are
// left 10s past the retention:
//
//	go run ./cmd/sim -soak 60s -backend postgres -workers 3 -chaos 5s
//
// To watch the provider on its own, run it in one terminal and point the
// sim at it from another:
//
//	go run ./cmd/sim provider -addr 127.0.0.1:8765
//	go run ./cmd/sim -provider http://127.0.0.1:8765
//
// Any provider that speaks the interface of package provider will do,
// the reference's own api_server.py included: the client sends holds as
// seconds (hold=0.4), follows no redirects, and prints what the provider
// says in an error cleaned of terminal escapes and cut short.
//
// To see the runs: -timeline writes every scenario run to one HTML page
// (package timeline), and -monitor serves the live monitor (package
// monitor) while the scenarios run and after them, until interrupted:
//
//	go run ./cmd/sim -timeline timeline.html
//	go run ./cmd/sim -monitor 127.0.0.1:8000
//
// The monitor has no authentication and shows the tasks' labels (the ops)
// and error texts: on an address that is not loopback, such as :8000,
// anyone who can reach it sees them, and the sim warns so on stderr.
//
// -metrics serves the scheduler's Prometheus metrics (package promperkey)
// on /metrics while the scenarios run and after them, until interrupted:
//
//	go run ./cmd/sim -metrics 127.0.0.1:9100
//
// promperkey is a module of its own, so that the core go.mod does not
// depend on client_golang; the sim finds it through the repository's
// go.work. It therefore builds in workspace mode only (the default in a
// clone): with GOWORK=off the go command reports that no required module
// provides package github.com/perkey/perkey/promperkey.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses.
const (
	exitOK    = 0 // every scenario holds (a time goal may be missed without -strict)
	exitFail  = 1 // a scenario is wrong, the run failed, or with -strict a time goal was missed
	exitUsage = 2 // bad flags
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command with args (without the program name) and returns
// its exit status. An interrupt or SIGTERM stops it early.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// runContext is run, stopped early when ctx ends.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "provider":
			return runProvider(ctx, args[1:], stdout, stderr)
		case "worker":
			return runWorker(ctx, args[1:], stdout, stderr)
		}
	}
	o, code, ok := parseFlags(args, stderr)
	switch {
	case !ok:
		return code
	case o.soak > 0:
		return runSoak(ctx, o, stdout, stderr)
	}
	return simulate(ctx, o, stdout, stderr)
}
