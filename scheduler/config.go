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
// invocations, no logging, no events, a CloseGrace of 1s.
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
		return c, badOption("MaxParallel %d is negative", c.MaxParallel)
	case c.CloseGrace < 0:
		return c, badOption("CloseGrace %v is negative", c.CloseGrace)
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
