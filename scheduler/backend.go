package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/time/rate"
)

// Errors of a scheduler with a Backend.
var (
	// ErrNotFound is returned by Lookup for an ID that names no
	// invocation of the task (never, or no longer: see the backend's
	// retention).
	ErrNotFound = errors.New("scheduler: invocation not found")
	// ErrEncode is wrapped by Submit's error when the arguments cannot be
	// encoded as JSON for a Backend; nothing was created.
	ErrEncode = errors.New("scheduler: cannot encode")
	// ErrDecode is wrapped by Wait's error when a Backend's stored result
	// cannot be decoded into the task's result type, and by the error of
	// an invocation whose arguments could not be decoded where it ran.
	ErrDecode = errors.New("scheduler: cannot decode")
)

// Backend keeps a scheduler's invocations outside its process, so that the
// schedulers of several processes share them: the same per-key guarantees
// for every replica of a service, and work that outlives the process that
// submitted it. Set it in Config.Backend; nil means in memory, the default
// and the fastest. Package github.com/perkey/perkey/postgres provides one,
// on PostgreSQL.
//
// A Backend is driven by exactly one Scheduler: New calls Start once,
// NewTask calls Register, Submit and Wait go through Submit, Done and
// Outcome, and Close calls Close. The scheduler does the typing (JSON for
// arguments and results, the task functions, panics); the backend does the
// state: admission per key, claiming, leases, final states. Its methods
// must be safe for concurrent use.
type Backend interface {
	// Start connects the backend to its scheduler: from then on it claims
	// the invocations of the tasks registered in this process, up to
	// host.MaxParallel at once, and runs them through host.Run. It is
	// called once, by New; an error makes New fail.
	Start(host Host) error

	// Register records a task, so that this process claims its
	// invocations. A task of the same name registered elsewhere with other
	// options is refused with an error wrapping ErrBadOption that names the
	// difference.
	Register(ctx context.Context, spec TaskSpec) error

	// Submit creates one invocation per submission, or finds the
	// unfinished one it collapses into (Registration), and reports each.
	// It is all or nothing: on error nothing was created. Once it returns,
	// the invocations are durable.
	Submit(ctx context.Context, batch []Submission) ([]Receipt, error)

	// Lookup finds invocation id of task. It fails with an error wrapping
	// ErrNotFound if there is none (or no longer: see the backend's
	// retention).
	Lookup(ctx context.Context, task string, id uint64) (Receipt, error)

	// Done returns a channel that is closed once invocation id is final,
	// or once the backend is closed (Outcome then tells which).
	Done(id uint64) <-chan struct{}

	// Outcome returns the invocation's state as last known and, once it
	// is final, its result or error.
	Outcome(ctx context.Context, id uint64) (Outcome, error)

	// Stats returns the backend's counters and gauges; it must not block.
	Stats() Stats

	// Key and Keys report per-key load, as Scheduler.Key and Keys do.
	Key(ctx context.Context, task, key string) (KeyStats, error)
	Keys(ctx context.Context, n int) ([]KeyStats, error)

	// Close stops claiming and drains, or on ctx's end cancels, the work
	// running in this process, as Scheduler.Close describes; work it
	// cancels goes back to the backend for another process.
	Close(ctx context.Context) error
}

// Host is what a Scheduler gives its Backend.
type Host struct {
	// MaxParallel caps the invocations this process runs at once.
	MaxParallel int
	// CloseGrace is how long Close still waits for running tasks once its
	// ctx has ended and their contexts are cancelled (Config.CloseGrace).
	CloseGrace time.Duration
	// Logger receives the backend's reports; never nil.
	Logger *slog.Logger
	// Run runs one claimed invocation of a task registered in this
	// process: it decodes args, calls the task function with ctx (whose
	// values it keeps) and encodes the result. A panic or runtime.Goexit
	// in the task comes back as an error wrapping ErrPanic or ErrGoexit.
	Run func(ctx context.Context, task string, args []byte) (result []byte, err error)
	// Emit reports an event to the scheduler's listeners; Listening
	// reports whether there are any, so that events cost nothing when
	// nobody listens.
	Emit      func(Event)
	Listening func() bool
}

// TaskSpec is a task's name and options as a Backend sees them: the
// options with the functions taken out and the defaults applied (Limit is
// at least 1 with a Running scope, Burst at least 1 with a Rate).
type TaskSpec struct {
	Name         string
	Running      Scope
	Registration Scope
	OnBusy       Policy
	Dedupe       Dedupe
	MaxWait      time.Duration
	Limit        int
	Rate         rate.Limit
	Burst        int
	Group        string
	// MaxQueued bounds each key's waiting invocations (Queued and
	// Pending); a Submit beyond it fails with ErrFull. Zero: no bound.
	MaxQueued int
}

// Keyspace returns the name of the key space the task's keys live in: the
// Group when it has one, its own name otherwise, and "" without a Running
// scope.
func (t TaskSpec) Keyspace() string {
	switch {
	case t.Running == Disabled:
		return ""
	case t.Group != "":
		return t.Group
	}
	return t.Name
}

// Submission is one Submit call, as a Backend sees it.
type Submission struct {
	Task  string
	Key   string // the Running scope's key; for Running=Disabled, Options.Key's value or ""
	Reg   string // the Registration scope's key; "" without a Registration scope
	Label string // Options.Label of the arguments, while someone listens
	Args  []byte // the arguments, as JSON
}

// Receipt tells a Submit or Lookup caller which invocation it got.
type Receipt struct {
	ID      uint64
	Key     string
	State   State // as of the call
	Deduped bool  // the submission collapsed into the existing invocation ID
}

// Outcome is where an invocation stands, as a Backend last knew it.
type Outcome struct {
	State State
	// Result is the task's result as JSON, for Succeeded.
	Result []byte
	// Err is the invocation's error for a final state other than
	// Succeeded: it wraps ErrDropped, ErrExpired or ErrCanceled (and its
	// cause), or, for Failed, is a *RemoteError.
	Err error
	// Worker names the process that ran it last, if one did.
	Worker string
}

// RemoteError is the error of an invocation that failed in a process of a
// Backend: the task's error crosses processes as its text. It wraps
// ErrPanic or ErrGoexit when the task panicked or called runtime.Goexit.
type RemoteError struct {
	Task    string
	ID      uint64
	Worker  string // the process that ran it
	Message string // the task's error text
	Cause   error  // ErrPanic, ErrGoexit or nil
}

// Error returns the task's error text, with the task and ID.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("task %q invocation %d failed on %s: %s", e.Task, e.ID, e.Worker, e.Message)
}

// Unwrap returns ErrPanic or ErrGoexit when the task panicked or called
// runtime.Goexit, and nil otherwise.
func (e *RemoteError) Unwrap() error { return e.Cause }
