package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/perkey/perkey/provider"
)

// shutdownGrace is how long the provider lets calls in flight finish when
// it is stopped.
const shutdownGrace = 2 * time.Second

// runProvider is `sim provider`: it runs the provider alone, printing its
// log to stdout, until ctx ends.
func runProvider(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sim provider", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage:\n  sim provider [-addr HOST:PORT] [-hold D]\n\n"+
			"Runs the fake provider alone and prints its log until interrupted.\n"+
			"Point the sim at it with: sim -provider http://HOST:PORT\n\nFlags:\n")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8765", "address to listen on (port 0: a free port)")
	hold := fs.Duration("hold", provider.DefaultHold, "hold of calls that do not ask for one")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "sim provider: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	case *hold <= 0:
		fmt.Fprintf(stderr, "sim provider: -hold %v: must be positive\n", *hold)
		fs.Usage()
		return exitUsage
	}

	srv, err := provider.Start(provider.Config{Addr: *addr, DefaultHold: *hold, Log: stdout})
	if err != nil {
		fmt.Fprintf(stderr, "sim provider: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "provider listening on %s (Ctrl-C to stop)\n", srv.URL())
	fmt.Fprintf(stdout, "run the scenarios against it: go run ./cmd/sim -provider %s\n", srv.URL())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "sim provider: shutdown: %v\n", err)
	}
	return exitOK
}
