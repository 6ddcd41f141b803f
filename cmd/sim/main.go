// Command sim is perkey's demo: it runs the reference scenarios A to D
// against a fake provider over real HTTP and shows, from the provider's own
// counts, that keyed tasks never collide.
//
// Usage:
//
//	sim [flags]                              run the scenarios
//	sim provider [-addr HOST:PORT] [-hold D] run the provider alone
//
// With no flags, sim starts the provider in-process on a free loopback
// port, builds one scheduler with MaxParallel 8 and four tasks (unsafe,
// keyed wait, keyed drop, refresh with registration dedupe), and runs
// A, B, C and D in order. For each scenario it prints the summary, one line
// per account and the provider's call log. It exits 1 if B, C or D
// collided or if a scenario's counts differ from the reference, and 2 for
// bad flags.
//
// To watch the provider on its own, run it in one terminal and point the
// sim at it from another:
//
//	go run ./cmd/sim provider -addr 127.0.0.1:8765
//	go run ./cmd/sim -provider http://127.0.0.1:8765
//
// To see the runs: -timeline writes every scenario run to one HTML page
// (package timeline), and -monitor serves the live monitor (package
// monitor) while the scenarios run and after them, until interrupted:
//
//	go run ./cmd/sim -timeline timeline.html
//	go run ./cmd/sim -monitor 127.0.0.1:8000
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
	exitOK    = 0 // every scenario matched the reference
	exitFail  = 1 // a scenario fell short, or the run failed
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
	if len(args) > 0 && args[0] == "provider" {
		return runProvider(ctx, args[1:], stdout, stderr)
	}
	o, code, ok := parseFlags(args, stderr)
	if !ok {
		return code
	}
	return simulate(ctx, o, stdout, stderr)
}
