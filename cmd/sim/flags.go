package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/perkey/perkey/postgres"
	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// options are what the command line asks for.
type options struct {
	scenarios   []string // letters, in the order to run them
	hold        time.Duration
	parallel    int
	slack       time.Duration // added to the time goals of E, F and G
	strict      bool          // a time goal missed fails the run
	providerURL string        // empty: start a provider in-process
	quiet       bool
	json        bool
	timeline    string // a file to write the timeline page to; empty: none
	monitor     string // an address to serve the live monitor on; empty: none
	metrics     string // an address to serve Prometheus metrics on (/metrics); empty: none

	soak     time.Duration // above zero: run the soak this long instead of the scenarios
	accounts int           // the soak's accounts
	seed     uint64        // the soak's random seed; 0: from the clock

	// Across processes (-backend postgres).
	backend  string        // backendMemory or backendPostgres
	database string        // the database's URL; empty: start a private server
	workers  int           // worker processes to start; 0: only submit, to workers started apart
	schema   string        // empty: a fresh one per run, or defaultSchema with -workers 0
	lease    time.Duration // the workers' lease; 0: the default (the soak's is shorter)
	chaos    time.Duration // with -soak: kill a worker this often, and start another

	// unguarded names scenarios to run against the unsafe task instead of
	// their own. It is a hook for tests, not a flag: it checks that the
	// exit status catches a guard that does not hold.
	unguarded map[string]bool
}

// defaultSoakAccounts is -accounts when not given.
const defaultSoakAccounts = 1000

// The backends of -backend.
const (
	backendMemory   = "memory"
	backendPostgres = "postgres"
)

// defaultWorkers is -workers when not given.
const defaultWorkers = 3

// defaultOptions are the options of a command line without flags.
func defaultOptions() options {
	return options{
		scenarios: letters(scenarioTable()),
		hold:      provider.DefaultHold,
		parallel:  scheduler.DefaultMaxParallel,
		accounts:  defaultSoakAccounts,
		backend:   backendMemory,
	}
}

const usageText = `Usage:
  sim [flags]                               run the scenarios A to H
  sim -soak D [-accounts N] [flags]         run random load for D, then report
  sim provider [-addr HOST:PORT] [-hold D]  run the provider alone
  sim worker -database URL [flags]          run a worker process (sim worker -h)

sim runs the scenarios against a provider over HTTP: an in-process one on a
free loopback port, or the one -provider names. Exit status: 0 when every
scenario holds; 1 when one is wrong (a collision where it is guarded, a
rate violation, counts that differ from the reference: calls, drops,
dedupes; a run faster than physically possible) or the run failed, and
with -strict when a time goal of E, F or G is missed; 2 for bad flags.
Time goals are printed as met or MISSED with the goal enforced; a busy
machine can miss them, so without -strict a miss does not fail the run.

-hold is the reference's hold (400ms); E holds hold/4 per call, G hold/40,
the others hold. G's rate (5/s per account) does not scale with -hold.

-soak drives random load over HTTP for D and prints a progress line a
second on stderr and one JSON line on stdout at the end; it exits 1 if an
invocation was lost, a call collided or the heap grew. It takes -accounts,
-seed, -parallel, -provider, -quiet and -json (a no-op), the flags of
-backend postgres and -chaos, and no other flag.

-backend postgres runs across processes on one PostgreSQL database: the
sim submits and waits, and -workers worker processes (3; the sim binary
again, as "sim worker") run the calls, each with MaxParallel -parallel.
Without -database it starts a private server and removes it at the end.
-workers 0 only submits and waits, for workers started apart with
"sim worker -database URL" (same -schema).

Flags:
`

// parseFlags parses the command line of a scenario or soak run. On
// failure (or -h) it has printed the usage to stderr and returns ok false
// with the exit status.
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
	fs.DurationVar(&o.hold, "hold", o.hold, "the reference's hold: how long the provider holds an account per call")
	fs.IntVar(&o.parallel, "parallel", o.parallel, "the scheduler's MaxParallel: invocations running at once")
	fs.DurationVar(&o.slack, "slack", 0, "extra time allowed on the time goals of E, F and G, and taken off G's\nminimum gap (down to half the rate's gap), for loaded machines")
	fs.BoolVar(&o.strict, "strict", false, "fail the run (exit 1) when a time goal of E, F or G is missed; without\nit a missed goal is reported and the run passes")
	fs.StringVar(&o.providerURL, "provider", "", "base URL of a provider already running, such as http://127.0.0.1:8765\n(default: start one in-process)")
	fs.BoolVar(&o.quiet, "quiet", false, "print summaries only: no account lines, no call log (with -soak: no\nprogress lines)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per scenario per line on stdout;\nhuman output goes to stderr")
	fs.StringVar(&o.timeline, "timeline", "", "write an HTML timeline of every scenario run to this `file`")
	fs.StringVar(&o.monitor, "monitor", "", "serve the live monitor on this `address`, such as 127.0.0.1:8000, while\nthe scenarios run and after them, until interrupted; it has no\nauthentication and shows labels and error texts: keep it on loopback")
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics on http://`address`/metrics, such as 127.0.0.1:9100,\nwhile the scenarios run and after them, until interrupted")
	fs.DurationVar(&o.soak, "soak", 0, "run random load for this `duration` instead of the scenarios")
	fs.IntVar(&o.accounts, "accounts", o.accounts, "the soak's accounts")
	fs.Uint64Var(&o.seed, "seed", 0, "the soak's random seed (default: from the clock; the JSON line says\nwhich)")
	fs.StringVar(&o.backend, "backend", o.backend, "where invocations live: memory (one process), or postgres (across\nprocesses, on one database)")
	fs.StringVar(&o.database, "database", "", "with -backend postgres: the database's `URL`, such as\npostgres://user@host/db (default: start a private server from the\ninstalled binaries, and remove it at the end)")
	fs.IntVar(&o.workers, "workers", defaultWorkers, "with -backend postgres: worker processes to start; 0 only submits and\nwaits, for workers started apart with \"sim worker -database URL\"")
	fs.StringVar(&o.schema, "schema", "", "with -backend postgres: the schema of the run (default: a fresh one,\ndropped at the end; with -workers 0, "+defaultSchema+", as sim worker)")
	fs.DurationVar(&o.lease, "lease", 0, "with -backend postgres: the workers' lease, after which a dead worker's\ninvocations run again (default: "+postgres.DefaultLease.String()+"; "+soakLease.String()+" for -soak)")
	fs.DurationVar(&o.chaos, "chaos", 0, "with -soak and -backend postgres: kill a worker with SIGKILL this often,\nand start another")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, exitOK, false
		}
		return o, exitUsage, false // the flag package printed the error and the usage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["workers"] && o.backend != backendPostgres {
		o.workers = 0
	}
	err := checkOptions(&o, scen, set)
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "sim: %v\n", err)
		fs.Usage()
		return o, exitUsage, false
	}
	return o, exitOK, true
}

// checkOptions checks the parsed flags (set names those given) and fills
// in o.scenarios from scen; a soak runs none.
func checkOptions(o *options, scen string, set map[string]bool) error {
	soak := set["soak"]
	switch {
	case soak && o.soak <= 0:
		return fmt.Errorf("-soak %v: must be positive", o.soak)
	case o.parallel < 1:
		return fmt.Errorf("-parallel %d: must be at least 1", o.parallel)
	case o.accounts < 1:
		return fmt.Errorf("-accounts %d: must be at least 1", o.accounts)
	case o.hold <= 0:
		return fmt.Errorf("-hold %v: must be positive", o.hold)
	case o.slack < 0:
		return fmt.Errorf("-slack %v: must not be negative", o.slack)
	}
	if o.providerURL != "" {
		if err := checkProviderURL(o.providerURL); err != nil {
			return err
		}
	}
	if o.monitor != "" {
		if err := checkMonitorAddr(o.monitor); err != nil {
			return err
		}
	}
	if o.metrics != "" {
		if err := checkMetricsAddr(o.metrics); err != nil {
			return err
		}
	}
	for _, f := range []string{"scenarios", "hold", "slack", "strict", "timeline", "monitor", "metrics"} {
		if soak && set[f] {
			return fmt.Errorf("-%s does not apply to -soak: the soak picks its own calls and holds", f)
		}
	}
	for _, f := range []string{"accounts", "seed", "chaos"} {
		if !soak && set[f] {
			return fmt.Errorf("-%s needs -soak", f)
		}
	}
	if err := checkBackend(o, set); err != nil {
		return err
	}
	if soak {
		o.scenarios = nil
		return nil
	}
	var err error
	o.scenarios, err = parseScenarios(scen)
	return err
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

// checkBackend checks -backend and the flags that go with it.
func checkBackend(o *options, set map[string]bool) error {
	switch o.backend {
	case backendMemory:
		for _, f := range []string{"database", "workers", "schema", "lease", "chaos"} {
			if set[f] {
				return fmt.Errorf("-%s needs -backend postgres", f)
			}
		}
		return nil
	case backendPostgres:
	default:
		return fmt.Errorf("-backend %q: want memory or postgres", o.backend)
	}
	switch {
	case o.workers < 0:
		return fmt.Errorf("-workers %d: must not be negative", o.workers)
	case o.workers == 0 && o.database == "":
		return errors.New("-workers 0 needs -database URL: the workers you start apart must reach the same database")
	case set["lease"] && o.lease < 100*time.Millisecond:
		return fmt.Errorf("-lease %v: must be at least 100ms", o.lease)
	case set["chaos"] && o.chaos <= 0:
		return fmt.Errorf("-chaos %v: must be positive", o.chaos)
	case o.chaos > 0 && o.workers == 0:
		return errors.New("-chaos needs -workers 1 or more: it kills the workers the sim started")
	}
	if o.schema != "" && !schemaName.MatchString(o.schema) {
		return fmt.Errorf("-schema %q: want a plain identifier (letters, digits, underscores; at most 50 bytes)", o.schema)
	}
	if o.database != "" {
		if err := checkDatabaseURL(o.database); err != nil {
			return err
		}
	}
	return nil
}

// schemaName is what postgres.Config.Schema accepts.
var schemaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,49}$`)

// checkDatabaseURL checks -database: a URL the driver can parse. It does
// not connect.
func checkDatabaseURL(s string) error {
	if _, err := pgx.ParseConfig(s); err != nil {
		return fmt.Errorf("-database: want a URL such as postgres://user@host:5432/db: %v", err)
	}
	return nil
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
