package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perkey/perkey/scheduler"
)

// Backend is a scheduler.Backend on PostgreSQL. Make one with Open and
// give it to scheduler.New in Config.Backend; the Scheduler starts it and
// closes it. A Backend serves one Scheduler. The zero Backend is not
// usable.
type Backend struct {
	pool  *pgxpool.Pool
	cfg   Config
	names names
	sql   statements

	host    scheduler.Host
	started atomic.Bool
	closing atomic.Bool // Close was called: claim nothing more

	tasksMu sync.RWMutex
	tasks   map[string]scheduler.TaskSpec // registered in this process
	// claimable is the sorted names of tasks this process runs, for the
	// claim query.
	claimable atomic.Pointer[[]string]

	// life ends when Close has stopped the loops; runCtx is the parent of
	// every task's context and ends when Close gives up on them.
	life       context.Context
	endLife    context.CancelFunc
	runCtx     context.Context
	cancelRuns context.CancelCauseFunc
	loops      sync.WaitGroup // the backend's own goroutines
	runs       sync.WaitGroup // the goroutines running tasks

	wakeClaim chan struct{} // capacity 1: look for work now
	wakeKeep  chan struct{} // capacity 1: check waiters and leases now

	runMu   sync.Mutex
	running map[uint64]*run // invocations running in this process
	// reserved counts the slots held for the claim under way.
	reserved int
	claimMu  sync.Mutex    // held while a claim is under way
	free     chan struct{} // closed and replaced when a running task ends

	completions completer
	failures    failures
	waiters     waiters
	publish     atomic.Bool // some process listens: publish events
	// wasListening: this process's row is in the listeners table (keeper
	// only).
	wasListening bool
	stats        counters
	gauges       atomic.Pointer[gauges]
	statsWanted  atomic.Int64 // unix nanos of the last Stats call
}

// Open checks that the database is reachable, creates or migrates the
// schema (idempotent, and safe when several processes open at once) and
// returns a Backend for scheduler.Config.Backend. It does not start any
// goroutine: scheduler.New does, and the Scheduler's Close stops them.
// The pool stays the caller's: close it after the Scheduler. Open fails
// with an error wrapping scheduler.ErrBadOption for a bad Config,
// ErrSchemaVersion for a schema newer than this build, and the driver's
// error for an unreachable database or a closed pool.
func Open(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Backend, error) {
	if pool == nil {
		return nil, fmt.Errorf("postgres: open: %w: nil pool", scheduler.ErrInvalid)
	}
	if ctx == nil {
		return nil, scheduler.ErrNilContext
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("postgres: open: cannot reach the database: %w", err)
	}
	if err := migrate(ctx, pool, cfg.Schema); err != nil {
		return nil, fmt.Errorf("postgres: open: schema %q: %w", cfg.Schema, err)
	}
	b := &Backend{
		pool:      pool,
		cfg:       cfg,
		names:     newNames(cfg.Schema),
		tasks:     make(map[string]scheduler.TaskSpec),
		wakeClaim: make(chan struct{}, 1),
		wakeKeep:  make(chan struct{}, 1),
		running:   make(map[uint64]*run),
		free:      make(chan struct{}),
	}
	b.sql = newStatements(b.names)
	b.claimable.Store(&[]string{})
	b.waiters.init()
	b.gauges.Store(&gauges{})
	return b, nil
}

// Worker returns the name of this process in the database and in events.
func (b *Backend) Worker() string { return b.cfg.Worker }

// Start implements scheduler.Backend: it starts the listener, the claimer,
// the completer and the keeper (leases, deadlines, retention, stats).
func (b *Backend) Start(host scheduler.Host) error {
	if b == nil || b.pool == nil {
		return fmt.Errorf("postgres: %w: a Backend not made by Open", scheduler.ErrInvalid)
	}
	if !b.started.CompareAndSwap(false, true) {
		return fmt.Errorf("postgres: %w: the Backend already serves a Scheduler", scheduler.ErrInvalid)
	}
	b.host = host
	b.life, b.endLife = context.WithCancel(context.Background())
	b.runCtx, b.cancelRuns = context.WithCancelCause(context.Background())
	b.completions.init(b)
	b.loops.Add(4)
	go b.listen()
	go b.claimLoop()
	go b.completions.loop()
	go b.keep()
	return nil
}

// Register implements scheduler.Backend. It records the task's options
// (and its key space's Limit, Rate and Burst) the first time any process
// registers it, and refuses options that differ from those recorded.
func (b *Backend) Register(ctx context.Context, spec scheduler.TaskSpec) error {
	want, err := json.Marshal(specJSON(spec))
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		ks := spec.Keyspace()
		if ks != "" {
			if _, err := tx.Exec(ctx, b.sql.insertKeyspace, ks, spec.Limit, float64(spec.Rate), max(spec.Burst, 1)); err != nil {
				return err
			}
			var lim, burst int
			var rate float64
			if err := tx.QueryRow(ctx, b.sql.keyspace, ks).Scan(&lim, &rate, &burst); err != nil {
				return err
			}
			if lim != spec.Limit || rate != float64(spec.Rate) || burst != max(spec.Burst, 1) {
				return fmt.Errorf("%w: key space %q is recorded with Limit %d, Rate %v, Burst %d; this process asks Limit %d, Rate %v, Burst %d",
					scheduler.ErrBadOption, ks, lim, rate, burst, spec.Limit, float64(spec.Rate), max(spec.Burst, 1))
			}
		}
		var ksArg any
		if ks != "" {
			ksArg = ks
		}
		var maxWait any
		if spec.MaxWait > 0 {
			maxWait = spec.MaxWait
		}
		dedupe := 0
		if spec.Registration != scheduler.Disabled {
			dedupe = 1 + int(spec.Dedupe)
		}
		if _, err := tx.Exec(ctx, b.sql.insertTask, spec.Name, ksArg, int(spec.OnBusy), dedupe, maxWait, spec.MaxQueued, string(want)); err != nil {
			return err
		}
		var have []byte
		if err := tx.QueryRow(ctx, b.sql.taskSpec, spec.Name).Scan(&have); err != nil {
			return err
		}
		if diff := specDiff(have, want); diff != "" {
			return fmt.Errorf("%w: task %q is registered with other options (%s); give the changed task a new name",
				scheduler.ErrBadOption, spec.Name, diff)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: register: %w", err)
	}
	b.tasksMu.Lock()
	b.tasks[spec.Name] = spec
	names := make([]string, 0, len(b.tasks))
	for name := range b.tasks {
		names = append(names, name)
	}
	b.tasksMu.Unlock()
	sort.Strings(names)
	if !b.cfg.SubmitOnly {
		b.claimable.Store(&names)
	}
	wake(b.wakeClaim)
	return nil
}

// task returns the spec of a task registered in this process.
func (b *Backend) task(name string) (scheduler.TaskSpec, bool) {
	b.tasksMu.RLock()
	defer b.tasksMu.RUnlock()
	spec, ok := b.tasks[name]
	return spec, ok
}

// Close implements scheduler.Backend. It stops claiming, waits for the
// tasks running here (or, once ctx ends, cancels them and waits
// Host.CloseGrace more), writes their outcomes, and stops the backend's
// goroutines. Tasks that Close cancelled and that returned an error go
// back to the database, at the head of their key, for another process;
// tasks still running after the grace are named in an error wrapping
// scheduler.ErrLeaked, and their leases lapse. Queued work stays in the
// database. Waiters of this process are released: Outcome tells them the
// state as last known.
func (b *Backend) Close(ctx context.Context) error {
	if !b.started.Load() {
		return nil
	}
	if !b.closing.CompareAndSwap(false, true) {
		return nil
	}
	wake(b.wakeClaim)
	var err error
	if !b.waitRuns(ctx.Done()) {
		b.cancelRuns(errClosing)
		grace, cancel := context.WithTimeout(context.Background(), b.host.CloseGrace)
		defer cancel()
		if !b.waitRuns(grace.Done()) {
			leaked := b.describeRunning()
			err = fmt.Errorf("postgres: close: %w: %w: %s", ctx.Err(), scheduler.ErrLeaked, leaked)
		} else {
			err = fmt.Errorf("postgres: close: %w", ctx.Err())
		}
	}
	b.completions.drain()
	b.endLife()
	b.loops.Wait()
	b.waiters.closeAll()
	// Not listening any more: say so, so that others stop publishing
	// for us.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	b.pool.Exec(dctx, b.sql.unlisten, b.cfg.Worker)
	cancel()
	if err == nil {
		b.cancelRuns(errClosing)
	}
	return err
}

// waitRuns waits until no task runs here, or until stop is closed; it
// reports whether none runs.
func (b *Backend) waitRuns(stop <-chan struct{}) bool {
	for {
		b.runMu.Lock()
		n, free := len(b.running), b.free
		b.runMu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-free:
		case <-stop:
			return false
		}
	}
}

func (b *Backend) describeRunning() string {
	b.runMu.Lock()
	defer b.runMu.Unlock()
	var parts []string
	for _, r := range b.running {
		parts = append(parts, fmt.Sprintf("task %q key %q id %d", r.task, r.key, r.id))
	}
	slices.Sort(parts)
	return fmt.Sprintf("%d running: %s", len(parts), strings.Join(parts, ", "))
}

// errClosing is the cause of the contexts that Close cancels.
var errClosing = fmt.Errorf("postgres: %w", scheduler.ErrClosed)

// errLeaseLost is the cause of the context of a task whose lease this
// process could not renew in time, or that another process took over.
var errLeaseLost = errors.New("postgres: lease lost: the invocation may run again elsewhere")

// wake signals a capacity-1 channel without blocking.
func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// specJSON is the part of a TaskSpec that processes must agree on.
func specJSON(s scheduler.TaskSpec) map[string]any {
	return map[string]any{
		"running":      s.Running.String(),
		"registration": s.Registration.String(),
		"on_busy":      s.OnBusy.String(),
		"dedupe":       s.Dedupe.String(),
		"max_wait":     s.MaxWait.String(),
		"limit":        s.Limit,
		"rate":         float64(s.Rate),
		"burst":        s.Burst,
		"group":        s.Group,
		"max_queued":   s.MaxQueued,
	}
}

// specDiff names the fields in which two specJSON encodings differ.
func specDiff(have, want []byte) string {
	var h, w map[string]any
	if json.Unmarshal(have, &h) != nil || json.Unmarshal(want, &w) != nil {
		return "unreadable"
	}
	var diffs []string
	for k, wv := range w {
		if hv := h[k]; fmt.Sprint(hv) != fmt.Sprint(wv) {
			diffs = append(diffs, fmt.Sprintf("%s: recorded %v, asked %v", k, hv, wv))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}
