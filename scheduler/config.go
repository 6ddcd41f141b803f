package scheduler

import (
	"log/slog"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxParallel = 8
	DefaultCloseGrace  = time.Second
)

// Config configures a Scheduler. The zero Config is valid: 8 parallel
// invocations, no bound on the work waiting, no logging, no events, a
// CloseGrace of 1s.
type Config struct {
	// MaxParallel caps how many invocations run at once, across all tasks.
	// Zero means DefaultMaxParallel (8); negative is an error.
	MaxParallel int

	// Logger receives the scheduler's own reports: task panics, panicking
	// OnEvent hooks and tasks still running when Close gives up. Nil means
	// silent.
	Logger *slog.Logger

	// OnEvent, when set, is called for every state change of every
	// invocation (and for every deduplicated submission), in order for any
	// one invocation. It is called synchronously from the scheduler's
	// goroutines, possibly from several at once, so it must be safe for
	// concurrent use and fast: the scheduler waits for it. It may call
	// Submit, Stats, Subscribe and its cancel, and the methods of an
	// Invocation except Wait; calling Wait, Close, Key or Keys from it can
	// deadlock. A panic in it is recovered, logged and counted in
	// Stats.HookPanics, and the invocation is unaffected. A
	// runtime.Goexit in it (t.FailNow does one) ends the goroutine that
	// called it, which the scheduler replaces: nothing is lost, but hooks
	// after it miss that event, and a Goexit on a Running event fails that
	// invocation (ErrGoexit), whose worker is gone. Nil means no events.
	OnEvent func(Event)

	// MaxQueued bounds how many invocations may wait at once in the whole
	// scheduler: Queued or Pending, not yet Running, across all tasks and
	// keys. A Submit that would go beyond it waits or fails, as OnFull
	// says; a deduplicated Submit (Registration) needs no room and never
	// waits. The place is given back when the invocation starts, or ends
	// without running. Options.MaxQueued bounds each key as well. Zero
	// means no bound: Submit never waits, and a producer that outpaces its
	// tasks for long grows the process; negative is an error.
	MaxQueued int
	// OnFull is what a Submit does when MaxQueued is reached: Block (wait
	// for room until its ctx ends or Close is called) or Reject (fail with
	// ErrFull at once); see FullPolicy. Reject needs a MaxQueued. Zero:
	// Block.
	OnFull FullPolicy

	// Backend, when set, keeps the scheduler's invocations outside the
	// process (package github.com/perkey/perkey/postgres provides one on
	// PostgreSQL), so that the schedulers of several processes share them.
	// The scheduler then has no dispatcher of its own: Submit, Wait and the
	// task functions go through the backend, whose package doc states what
	// changes (durability, leases, what Submit's ctx governs). MaxQueued
	// must be zero with a Backend (a task's Options.MaxQueued, with OnFull
	// Reject, is enforced per key by the backend). Nil means in memory: the
	// default, and the fastest.
	Backend Backend

	// CloseGrace is how long Close still waits for running tasks to return
	// after its ctx has ended and their contexts have been cancelled.
	// Tasks still running then are reported in Close's error (ErrLeaked)
	// and left to finish on their own. Zero means DefaultCloseGrace (1s);
	// negative is an error.
	CloseGrace time.Duration
}

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.MaxParallel < 0:
		return c, badOption("Config.MaxParallel %d is negative", c.MaxParallel)
	case c.CloseGrace < 0:
		return c, badOption("Config.CloseGrace %v is negative", c.CloseGrace)
	case c.MaxQueued < 0:
		return c, badOption("Config.MaxQueued %d is negative", c.MaxQueued)
	case c.OnFull > Reject:
		return c, badOption("Config.OnFull %v is not a FullPolicy", c.OnFull)
	case c.OnFull == Reject && c.MaxQueued == 0:
		return c, badOption("Config.OnFull Reject needs a Config.MaxQueued: without one nothing is ever full")
	case c.Backend != nil && c.MaxQueued != 0:
		return c, badOption("Config.MaxQueued %d with a Backend: bound each task with Options.MaxQueued and OnFull Reject instead", c.MaxQueued)
	}
	if c.MaxParallel == 0 {
		c.MaxParallel = DefaultMaxParallel
	}
	if c.CloseGrace == 0 {
		c.CloseGrace = DefaultCloseGrace
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
