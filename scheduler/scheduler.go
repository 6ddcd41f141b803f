package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scheduler runs the invocations of its tasks: one dispatcher goroutine
// routes each to the actor of its key, and at most MaxParallel run at once.
// Create one with New and stop it with Close. Its methods are safe for
// concurrent use. A nil or zero Scheduler (not made by New) does nothing:
// Close and NewTask report ErrNilScheduler, the rest return zero values.
type Scheduler struct {
	// Read-only after New, or rarely written: read on every Submit, so
	// kept off the lines that the hot paths write.
	backend     Backend // nil in memory
	backendErr  error   // the first Close's result, with a Backend
	maxParallel int
	grace       time.Duration
	log         *slog.Logger
	// runCtx is the parent of every task's context; the dispatcher
	// cancels it when Close gives up waiting, and when it exits.
	runCtx    context.Context
	cancelRun context.CancelFunc
	stopped   chan struct{}             // closed when the dispatcher has joined everything
	closing   chan struct{}             // closed by the first Close: blocked Submits give up
	queued    *globalBound              // Config.MaxQueued; nil without a bound
	onFull    FullPolicy                // Config.OnFull
	closed    atomic.Bool               // Close was called: Submit fails
	listeners atomic.Pointer[listeners] // nil when nobody listens
	_         cacheLinePad

	inbox   inbox   // messages to the dispatcher (padded inside)
	ring    ring    // Pending jobs for the workers (padded inside)
	workers workers // worker goroutines (padded inside)
	stats   counters
	d       dispatcher // owned by the dispatcher goroutine
	_       cacheLinePad

	// closeMu orders Submits that register a ctx hook (and count it in wg)
	// before Close, so that wg.Add never races the final wg.Wait.
	closeMu sync.RWMutex
	wg      sync.WaitGroup // workers and Submit ctx hooks
	abort   sync.Once

	tasksMu sync.Mutex
	tasks   map[string]*taskCore
	groups  map[string]*keyspace

	subMu   sync.Mutex
	nextSub int

	askMu sync.Mutex
	asks  []func() // run on the dispatcher goroutine at the next msgAsk

	notesMu sync.Mutex
	notes   []dedupeNote // Deduped events for the dispatcher to send

	watchMu sync.Mutex
	watches shrinkMap[context.Context, *watch] // by Submit ctx, for the jobs waiting under it

	waiters sync.Pool // channels lent to Wait calls: see sigWaiter

	// epoch is the time New ran, with its monotonic reading: see now.
	epoch time.Time
}

// now is the scheduler's clock, for events, Submit times and rate
// tokens: the wall time New ran plus the monotonic time since. It reads
// one clock where time.Now reads two (wall and monotonic), which counts
// where a listener makes every invocation take four timestamps; its
// times never go backwards, even when the system's clock is set, and
// compare with time.Now's through their monotonic readings.
func (s *Scheduler) now() time.Time { return s.epoch.Add(time.Since(s.epoch)) }

// cacheLinePad keeps the fields around it on cache lines of their own, so
// that goroutines on different cores writing them do not take each
// other's lines: two lines, as CPUs fetch lines in adjacent pairs.
type cacheLinePad [128]byte

// New starts a scheduler: its dispatcher goroutine, and worker goroutines
// on demand, never more than MaxParallel. Only Close stops the dispatcher:
// a Scheduler dropped without Close keeps it. New fails with ErrBadOption
// for a negative MaxParallel or CloseGrace.
func New(cfg Config) (*Scheduler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Scheduler{
		epoch:       time.Now(),
		maxParallel: cfg.MaxParallel,
		grace:       cfg.CloseGrace,
		log:         cfg.Logger,
		tasks:       make(map[string]*taskCore),
		groups:      make(map[string]*keyspace),
		stopped:     make(chan struct{}),
		closing:     make(chan struct{}),
		queued:      newGlobalBound(cfg.MaxQueued),
		onFull:      cfg.OnFull,
	}
	s.waiters.New = newWaiter
	s.runCtx, s.cancelRun = context.WithCancel(context.Background())
	if cfg.OnEvent != nil {
		s.Subscribe(cfg.OnEvent)
	}
	if cfg.Backend != nil {
		if err := s.startBackend(cfg); err != nil {
			s.cancelRun()
			return nil, err
		}
		return s, nil
	}
	s.inbox.init()
	s.workers.max = int64(cfg.MaxParallel)
	s.d.init()
	go s.dispatch()
	return s, nil
}

// Close stops the scheduler. New submissions fail with ErrClosed at once,
// and so do Submits blocked on a full MaxQueued (see FullPolicy); queued
// and running work is allowed to finish, and Close returns nil when it has
// and every goroutine the scheduler started has exited.
//
// If ctx ends first, Close ends all waiting work Canceled (its error wraps
// ErrClosed), cancels the contexts of running tasks, and waits up to
// Config.CloseGrace more for them to return. It then returns an error
// wrapping ctx.Err(), and also ErrLeaked, naming the tasks, if some still
// run: those are left to finish on their own, and their worker goroutines
// exit when they do; a later Close call waits for them.
//
// Close may be called more than once and from several goroutines; each call
// waits as described. Called from inside a task, it waits for that task
// too: with a ctx that ends, it then reports the calling task as leaked.
// A nil ctx gives ErrNilContext and closes nothing.
func (s *Scheduler) Close(ctx context.Context) error {
	switch {
	case !s.made():
		return ErrNilScheduler
	case ctx == nil:
		return ErrNilContext
	}
	s.closeMu.Lock()
	first := !s.closed.Swap(true)
	s.closeMu.Unlock()
	if s.backend != nil {
		return s.closeBackend(ctx, first)
	}
	if first {
		close(s.closing)
		s.inbox.push(&msgNode{kind: msgClose})
	}

	select {
	case <-s.stopped:
		return nil
	default:
	}
	select {
	case <-s.stopped:
		return nil
	case <-ctx.Done():
	}
	s.abort.Do(func() { s.inbox.push(&msgNode{kind: msgAbort}) })
	grace := time.NewTimer(s.grace)
	defer grace.Stop()
	select {
	case <-s.stopped:
		return fmt.Errorf("scheduler: close: %w", ctx.Err())
	case <-grace.C:
	}
	running := s.describeRunning()
	if running == "" {
		return fmt.Errorf("scheduler: close: %w", ctx.Err())
	}
	err := fmt.Errorf("scheduler: close: %w: %w: %s", ctx.Err(), ErrLeaked, running)
	s.log.Warn("scheduler: close gave up on running tasks", "err", err)
	return err
}

// made reports whether s was made by New.
func (s *Scheduler) made() bool { return s != nil && s.stopped != nil }

// describeRunning lists the running jobs, for Close's error; it returns ""
// if there are none.
func (s *Scheduler) describeRunning() string {
	var b strings.Builder
	n := 0
	s.ask(func() {
		for j := range s.takenJobs() {
			if j.loadState().public() == Running {
				if n > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "task %q key %q id %d", j.task.name, j.key, j.id)
				n++
			}
		}
	})
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d running: %s", n, b.String())
}

// ask runs f on the dispatcher goroutine, where it may read the
// dispatcher's state, and waits for it. It returns false, without running
// f and keeping nothing, once the dispatcher has stopped.
func (s *Scheduler) ask(f func()) bool {
	select {
	case <-s.stopped:
		return false
	default:
	}
	done := make(chan struct{})
	s.askMu.Lock()
	s.asks = append(s.asks, func() { f(); close(done) })
	s.askMu.Unlock()
	if !s.inbox.push(&msgNode{kind: msgAsk}) {
		// The dispatcher has stopped: it answered every ask whose
		// message got in, so what is queued now will never run.
		s.askMu.Lock()
		s.asks = nil
		s.askMu.Unlock()
		return false
	}
	select {
	case <-done:
		return true
	case <-s.stopped:
		return false
	}
}

// answer runs the functions queued by ask; the dispatcher calls it.
func (s *Scheduler) answer() {
	s.askMu.Lock()
	asks := s.asks
	s.asks = nil
	s.askMu.Unlock()
	for _, f := range asks {
		f()
	}
}

// register adds a task, refusing duplicate names, a Group whose settings
// differ, and a closed scheduler. A grouped task takes the Group's
// keyspace, and a keyed task its keyspace's bound.
func (s *Scheduler) register(c *taskCore) error {
	if s.closed.Load() {
		return taskError(c.name, "", ErrClosed)
	}
	s.tasksMu.Lock()
	defer s.tasksMu.Unlock()
	if _, dup := s.tasks[c.name]; dup {
		return badInput(c.name, ErrDuplicateName, "name is taken by another task")
	}
	if c.ks != nil && c.ks.group {
		if g, ok := s.groups[c.ks.name]; ok {
			if err := g.conflicts(c.ks); err != nil {
				err.task = c.name
				return err
			}
			c.ks = g
		} else {
			s.groups[c.ks.name] = c.ks
		}
	}
	if c.ks != nil {
		c.keyBound = c.ks.bound
	}
	c.bounded = c.keyBound != nil || s.queued != nil
	s.tasks[c.name] = c
	return nil
}

// submit hands a new job to the dispatcher.
func (s *Scheduler) submit(j *job) error {
	c := j.task
	if j.submitCtx().Done() != nil {
		return s.submitCancelable(j)
	}
	if s.closed.Load() || !s.push(j) {
		return taskError(c.name, "", ErrClosed)
	}
	return nil
}

// submitCancelable submits a job whose ctx can end: a watch on the ctx
// cancels it while it waits. The watch's hook goroutine is counted in wg,
// which must not grow once Close has begun.
func (s *Scheduler) submitCancelable(j *job) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return taskError(j.task.name, "", ErrClosed)
	}
	s.watchCtx(j)
	s.push(j) // cannot fail: the inbox is sealed only after Close
	return nil
}

// push counts a submission, numbers it, and sends it to the dispatcher.
// The count gives the ID: unique, and increasing in Submit order.
func (s *Scheduler) push(j *job) bool {
	j.id = s.stats.submitted.Add(1)
	j.msg.kind = msgSubmit
	if !s.inbox.push(&j.msg) {
		s.stats.refused.Add(1)
		return false
	}
	return true
}

// deduped counts a submission collapsed into j and reports it.
func (s *Scheduler) deduped(j *job) {
	s.stats.submitted.Add(1)
	s.stats.deduped.Add(1)
	if s.listening() {
		// The event goes through the dispatcher, so that it follows the
		// invocation's Queued event, but keeps the time and state of now.
		s.notesMu.Lock()
		s.notes = append(s.notes, dedupeNote{j: j, at: s.now(), st: j.loadState().public()})
		s.notesMu.Unlock()
		if !s.inbox.push(&msgNode{kind: msgDeduped}) {
			s.notesMu.Lock() // stopped: nobody will report them
			s.notes = nil
			s.notesMu.Unlock()
		}
	}
}

// dedupeNote is a deduplicated submission waiting to be reported.
type dedupeNote struct {
	j  *job
	at time.Time
	st State
}

// reportDedupes sends the Deduped events noted so far whose invocation has
// been routed (its Queued event sent); the dispatcher calls it. The notes
// are shared, so a message may find notes whose invocation's submission
// is still on its way (a later batch): they wait for it, in order. Each
// note's own message comes after its invocation's submission, so every
// note is sent by then.
func (s *Scheduler) reportDedupes() {
	s.notesMu.Lock()
	notes := s.notes
	s.notes = nil
	s.notesMu.Unlock()
	d := &s.d
	if !s.listening() {
		d.heldNotes = nil
		return
	}
	for i, n := range notes {
		if n.j.routed {
			s.queueDedupes(notes[i : i+1])
			continue
		}
		// Its invocation's Submit message is still on its way: route
		// reports the note right after the Queued event. Held by job,
		// so that no note is looked at twice however long it waits.
		if d.heldNotes == nil {
			d.heldNotes = make(map[*job][]dedupeNote)
		}
		d.heldNotes[n.j] = append(d.heldNotes[n.j], n)
	}
}

// queueDedupes queues the Deduped events of notes, whose invocation has
// been routed.
func (s *Scheduler) queueDedupes(notes []dedupeNote) {
	if !s.listening() {
		return
	}
	for _, n := range notes {
		ev := n.j.event(n.st, nil, n.at)
		ev.Deduped = true
		s.d.events = append(s.d.events, ev)
	}
}

// finish ends j, which was in state from, in the final state to (shard
// is the counters of the worker that ran it, nil on the dispatcher): the error,
// the state, the counters, the Submit ctx's watch, the run ctx and the
// dedupe index. Exactly one goroutine finishes a job: the worker that ran
// it, or the dispatcher for work that never ran. The caller then reports
// the final event, and the waiters are woken once the job's key has moved
// on (closeDone).
func (s *Scheduler) finish(j *job, from, to State, err error, shard *workerCounts) {
	if from < Running && j.task.bounded {
		j.task.givePlaces(j.key) // it never ran: its places go now
	}
	if !j.pooled { // nobody reads a recycled job's error
		j.err = err
	}
	if j.loadState() != to { // a worker's compare-and-swap may have set it
		j.state.Store(uint32(to))
	}
	s.stats.ended(from, to, shard)
	s.unwatch(j)
	if j.x != nil {
		if cancel := j.x.cancel.Load(); cancel != nil {
			(*cancel)(nil) // release the job's own run ctx
		}
	}
	if j.task.registration != Disabled {
		j.task.forget(j)
	}
}
