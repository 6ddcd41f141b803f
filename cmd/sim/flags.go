package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// options are what the command line asks for.
type options struct {
	scenarios   []string // letters, in the order to run them
	hold        time.Duration
	parallel    int
	providerURL string // empty: start a provider in-process
	quiet       bool
	json        bool
	timeline    string // a file to write the timeline page to; empty: none
	monitor     string // an address to serve the live monitor on; empty: none

	// unguarded names scenarios to run against the unsafe task instead of
	// their own. It is a hook for tests, not a flag: it checks that the
	// exit status catches a guard that does not hold.
	unguarded map[string]bool
}

// defaultOptions are the options of a command line without flags.
func defaultOptions() options {
	return options{
		scenarios: letters(scenarioTable()),
		hold:      provider.DefaultHold,
		parallel:  scheduler.DefaultMaxParallel,
	}
}

const usageText = `Usage:
  sim [flags]                               run the reference scenarios
  sim provider [-addr HOST:PORT] [-hold D]  run the provider alone

sim runs the scenarios against a provider over HTTP: an in-process one on a
free loopback port, or the one -provider names. It exits 1 if B, C or D
collided or if counts differ from the reference, 2 for bad flags.

Flags:
`

// parseFlags parses the flags of a scenario run. On failure (or -h) it
// has printed the usage to stderr and returns ok false with the exit
// status.
func parseFlags(args []string, stderr io.Writer) (o options, code int, ok bool) {
	o = defaultOptions()
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	scen := strings.Join(o.scenarios, ",")
	fs.StringVar(&scen, "scenarios", scen, "which scenarios to run, in order, comma-separated")
	fs.DurationVar(&o.hold, "hold", o.hold, "how long the provider holds an account per call")
	fs.IntVar(&o.parallel, "parallel", o.parallel, "the scheduler's MaxParallel: invocations running at once")
	fs.StringVar(&o.providerURL, "provider", "", "base URL of a provider already running, such as http://127.0.0.1:8765\n(default: start one in-process)")
	fs.BoolVar(&o.quiet, "quiet", false, "print summaries only: no account lines, no call log")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per scenario per line on stdout;\nhuman output goes to stderr")
	fs.StringVar(&o.timeline, "timeline", "", "write an HTML timeline of every scenario run to this `file`")
	fs.StringVar(&o.monitor, "monitor", "", "serve the live monitor on this `address`, such as 127.0.0.1:8000, while\nthe scenarios run and after them, until interrupted")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, exitOK, false
		}
		return o, exitUsage, false // the flag package printed the error and the usage
	}
	var err error
	o.scenarios, err = parseScenarios(scen)
	switch {
	case err != nil:
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.hold <= 0:
		err = fmt.Errorf("-hold %v: must be positive", o.hold)
	case o.parallel < 1:
		err = fmt.Errorf("-parallel %d: must be at least 1", o.parallel)
	case o.providerURL != "":
		err = checkProviderURL(o.providerURL)
	}
	if err == nil && o.monitor != "" {
		err = checkMonitorAddr(o.monitor)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sim: %v\n", err)
		fs.Usage()
		return o, exitUsage, false
	}
	return o, exitOK, true
}

// parseScenarios reads a list such as "A,B" (any case, spaces allowed).
func parseScenarios(s string) ([]string, error) {
	known := map[string]bool{}
	for _, l := range letters(scenarioTable()) {
		known[l] = true
	}
	var out []string
	seen := map[string]bool{}
	for f := range strings.SplitSeq(s, ",") {
		l := strings.ToUpper(strings.TrimSpace(f))
		switch {
		case !known[l]:
			return nil, fmt.Errorf("-scenarios %q: unknown scenario %q (known: %s)", s, f, strings.Join(letters(scenarioTable()), ","))
		case seen[l]:
			return nil, fmt.Errorf("-scenarios %q: %s given twice", s, l)
		}
		seen[l] = true
		out = append(out, l)
	}
	return out, nil
}

func checkMonitorAddr(s string) error {
	if _, _, err := net.SplitHostPort(s); err != nil {
		return fmt.Errorf("-monitor %q: want an address such as 127.0.0.1:8000", s)
	}
	return nil
}

func checkProviderURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-provider %q: want a URL such as http://127.0.0.1:8765", s)
	}
	return nil
}
