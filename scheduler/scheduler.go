package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/perkey/perkey/mailbox"
)

// Scheduler runs the invocations of its tasks: one dispatcher goroutine
// routes each to the actor of its key, and at most MaxParallel run at once.
// Create one with New and stop it with Close. Its methods are safe for
// concurrent use.
type Scheduler struct {
	maxParallel int
	grace       time.Duration
	log         *slog.Logger
	onEvent     func(Event)

	// runCtx is the parent of every task's context; Close cancels it when
	// its own ctx ends before the work does.
	runCtx    context.Context
	cancelRun context.CancelFunc

	// mu guards the hand-offs between goroutines: the dispatcher's inbox,
	// the run queue the workers take from, and the worker count.
	mu       sync.Mutex
	inbox    []msg               // messages for the dispatcher, in order
	sleeping bool                // the dispatcher waits on wake
	closed   bool                // Close was called; Submit fails
	runq     mailbox.Queue[*job] // Pending jobs, FIFO: the slot queue
	running  mailbox.Queue[*job] // Running jobs, for Close's report
	live     int                 // worker goroutines, at most maxParallel
	wake     chan struct{}       // capacity 1

	tasksMu sync.Mutex
	tasks   map[string]*taskCore

	d       dispatcher // owned by the dispatcher goroutine
	ids     atomic.Uint64
	stats   counters
	wg      sync.WaitGroup // workers and Submit ctx hooks
	abort   sync.Once
	stopped chan struct{} // closed when every goroutine has exited
}

// New starts a scheduler: its dispatcher goroutine, and worker goroutines
// on demand, never more than MaxParallel. It fails with ErrBadOption for a
// negative MaxParallel or CloseGrace.
func New(cfg Config) (*Scheduler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Scheduler{
		maxParallel: cfg.MaxParallel,
		grace:       cfg.CloseGrace,
		log:         cfg.Logger,
		onEvent:     cfg.OnEvent,
		wake:        make(chan struct{}, 1),
		tasks:       make(map[string]*taskCore),
		stopped:     make(chan struct{}),
	}
	s.runCtx, s.cancelRun = context.WithCancel(context.Background())
	s.d.init()
	go s.dispatch()
	return s, nil
}

// Close stops the scheduler. New submissions fail with ErrClosed at once;
// queued and running work is allowed to finish, and Close returns nil when
// it has and every goroutine the scheduler started has exited.
//
// If ctx ends first, Close cancels the contexts of running tasks, ends all
// waiting work Canceled (its error wraps ErrClosed), and waits up to
// Config.CloseGrace more for the running tasks to return. It then returns
// an error wrapping ctx.Err(), and also ErrLeaked, naming the tasks, if some
// still run: those are left to finish on their own, and their worker
// goroutines exit when they do; a later Close call waits for them.
//
// Close may be called more than once and from several goroutines; each call
// waits as described. A nil ctx gives ErrNilContext and closes nothing.
func (s *Scheduler) Close(ctx context.Context) error {
	if ctx == nil {
		return ErrNilContext
	}
	s.mu.Lock()
	wake := false
	if !s.closed {
		s.closed = true
		wake = s.postLocked(msg{kind: msgClose})
	}
	s.mu.Unlock()
	s.signal(wake)

	select {
	case <-s.stopped:
		return nil
	case <-ctx.Done():
	}
	s.abort.Do(func() { s.post(msg{kind: msgAbort}) })
	grace := time.NewTimer(s.grace)
	defer grace.Stop()
	select {
	case <-s.stopped:
		return fmt.Errorf("scheduler: close: %w", ctx.Err())
	case <-grace.C:
	}
	err := fmt.Errorf("scheduler: close: %w: %w: %s", ctx.Err(), ErrLeaked, s.describeRunning())
	s.log.Warn("scheduler: close gave up on running tasks", "err", err)
	return err
}

// describeRunning lists the running jobs, for Close's error.
func (s *Scheduler) describeRunning() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%d running", s.running.Len())
	sep := ": "
	for n := range s.running.All() {
		j := n.Value
		fmt.Fprintf(&b, "%stask %q key %q id %d", sep, j.task.name, j.key, j.id)
		sep = ", "
	}
	return b.String()
}

// register adds a task, refusing duplicate names and a closed scheduler.
func (s *Scheduler) register(c *taskCore) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("task %q: %w", c.name, ErrClosed)
	}
	s.tasksMu.Lock()
	defer s.tasksMu.Unlock()
	if _, dup := s.tasks[c.name]; dup {
		return fmt.Errorf("task %q: %w", c.name, ErrDuplicateName)
	}
	s.tasks[c.name] = c
	return nil
}

// submit hands a new job to the dispatcher.
func (s *Scheduler) submit(j *job) error {
	c := j.task
	if s.onEvent != nil || c.maxWait > 0 {
		j.at = time.Now()
	}
	j.id = s.ids.Add(1)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("task %q: %w", c.name, ErrClosed)
	}
	if j.ctx.Done() != nil {
		// Registered under mu, so that the dispatcher cannot have exited
		// and the hook's post comes after the submission's.
		s.wg.Add(1)
		j.stop = context.AfterFunc(j.ctx, func() {
			defer s.wg.Done()
			s.post(msg{kind: msgCancel, j: j})
		})
	}
	s.stats.submitted.Add(1)
	s.stats.queued.Add(1)
	wake := s.postLocked(msg{kind: msgSubmit, j: j})
	s.mu.Unlock()
	s.signal(wake)
	return nil
}

// deduped counts a submission collapsed into j and reports it.
func (s *Scheduler) deduped(j *job) {
	s.stats.submitted.Add(1)
	s.stats.deduped.Add(1)
	if s.onEvent != nil {
		s.post(msg{kind: msgDeduped, j: j})
	}
}

// finish puts j in its final state st: the error, the counters, the dedupe
// index, the event, and last the waiters. Exactly one goroutine finishes a
// job: the worker that ran it, or the dispatcher for work that never ran.
// It must not be called with s.mu held.
func (s *Scheduler) finish(j *job, st State, err error) {
	j.err = err
	s.stats.end(j.loadState(), st)
	s.stopHook(j)
	if j.task.registration != Disabled {
		j.task.forget(j)
	}
	j.state.Store(uint32(st))
	s.emit(j, st, err)
	j.closeDone()
}

// stopHook releases the Submit ctx's cancel hook once j no longer waits.
func (s *Scheduler) stopHook(j *job) {
	if j.stop != nil {
		if j.stop() {
			s.wg.Done()
		}
		j.stop = nil
	}
}

// emit reports a state change, happening now, to OnEvent.
func (s *Scheduler) emit(j *job, st State, err error) {
	if s.onEvent != nil {
		s.emitAt(j, st, err, time.Now())
	}
}

// emitAt reports a state change that happened at the given time.
func (s *Scheduler) emitAt(j *job, st State, err error, at time.Time) {
	if s.onEvent != nil {
		s.callHook(Event{Time: at, Task: j.task.name, ID: j.id, Key: j.key, State: st, Err: err})
	}
}

func (s *Scheduler) callHook(ev Event) {
	defer func() {
		if r := recover(); r != nil {
			s.stats.hookPanics.Add(1)
			s.log.Error("scheduler: OnEvent panicked", "panic", r, "task", ev.Task, "id", ev.ID, "state", ev.State)
		}
	}()
	s.onEvent(ev)
}
