package postgres

import (
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/perkey/perkey/scheduler"
)

// Defaults for the zero values of Config.
const (
	DefaultSchema       = "perkey"
	DefaultLease        = 30 * time.Second
	DefaultPollInterval = time.Second
	DefaultRetention    = 24 * time.Hour
)

// Config configures a Backend. The zero Config is valid: schema "perkey",
// 30s leases, a 1s polling fallback, final invocations kept for 24h.
type Config struct {
	// Schema is the PostgreSQL schema that holds perkey's tables; Open
	// creates or migrates it. Processes that share work use the same
	// schema. Zero means DefaultSchema ("perkey"). It must be a plain
	// identifier: letters, digits and underscores, at most 50 bytes.
	Schema string

	// Worker names this process in events, in the monitor and in the
	// database (the worker column of a running invocation). Zero means
	// host:pid. Two live processes must not share a name.
	Worker string

	// Lease is how long a running invocation stays claimed without a
	// heartbeat. A process renews its leases every Lease/4; a process that
	// cannot renew for 3/4 of Lease cancels its tasks' contexts, before the
	// lease runs out; once a lease has run out, another process runs the
	// invocation again. Zero means DefaultLease (30s); it must be at least
	// 100ms.
	Lease time.Duration

	// PollInterval is how often a process looks for work, finished
	// invocations, expired leases and deadlines when no notification
	// came: notifications (LISTEN/NOTIFY) wake it at once, polling covers
	// lost ones. Zero means DefaultPollInterval (1s).
	PollInterval time.Duration

	// SubmitOnly makes this process a submitter: it submits and waits, and
	// never runs an invocation, as a web front end that hands work to
	// worker processes does. Its tasks still need their functions (the
	// types say what to encode and decode), which are never called here.
	SubmitOnly bool

	// Retention is how long final invocations are kept (for Wait, Lookup
	// and Outcome) before one process deletes them. Zero means
	// DefaultRetention (24h).
	Retention time.Duration
}

var schemaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,49}$`)

func (c Config) withDefaults() (Config, error) {
	if c.Schema == "" {
		c.Schema = DefaultSchema
	}
	if c.Worker == "" {
		host, _ := os.Hostname()
		c.Worker = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if c.Lease == 0 {
		c.Lease = DefaultLease
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	switch {
	case !schemaName.MatchString(c.Schema):
		return c, badConfig("Schema %q is not a plain identifier of at most 50 bytes", c.Schema)
	case c.Lease < 100*time.Millisecond:
		return c, badConfig("Lease %v is below 100ms", c.Lease)
	case c.PollInterval < 0:
		return c, badConfig("PollInterval %v is negative", c.PollInterval)
	case c.Retention < 0:
		return c, badConfig("Retention %v is negative", c.Retention)
	case len(c.Worker) > 200:
		return c, badConfig("Worker name is %d bytes; at most 200", len(c.Worker))
	}
	return c, nil
}

func badConfig(format string, args ...any) error {
	return fmt.Errorf("postgres: %w: "+format, append([]any{scheduler.ErrBadOption}, args...)...)
}
