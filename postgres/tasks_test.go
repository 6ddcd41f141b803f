package postgres_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/time/rate"

	"github.com/perkey/perkey/postgres"
	"github.com/perkey/perkey/scheduler"
)

// call is the arguments of every test task.
type call struct {
	Key    string `json:"key"`
	N      int    `json:"n"`              // a sequence number, for order checks
	HoldMS int    `json:"hold_ms"`        // how long the task holds its key
	Gate   string `json:"gate,omitempty"` // wait until the test opens this gate
	Fail   string `json:"fail,omitempty"` // return this error
	Panic  bool   `json:"panic,omitempty"`

	worker string // for the counter's bookkeeping only; never encoded
}

// done is the result of every test task.
type done struct {
	Worker string `json:"worker"`
	Key    string `json:"key"`
	N      int    `json:"n"`
}

// The key spaces of the test tasks and their limits, for the counter.
var spaceLimits = map[string]int{
	"wait1": 1, "wait3": 3, "drop": 1, "dedupe_start": 1, "dedupe_done": 1,
	"max_wait": 1, "accounts": 1, "rated": 1, "replace": 1, "unkeyed": 0,
}

// taskSet is the tasks every test process registers, with the same options.
type taskSet struct {
	wait1, wait3, drop, dedupeStart, dedupeDone, maxWait *scheduler.Task[call, done]
	groupA, groupB, rated, replace, unkeyed              *scheduler.Task[call, done]
}

func byKey(c call) string { return c.Key }

func registerTasks(s *scheduler.Scheduler, counterURL, worker string) (*taskSet, error) {
	cl := &client{base: counterURL, worker: worker, http: &http.Client{Timeout: time.Minute}}
	var ts taskSet
	var errs []error
	reg := func(dst **scheduler.Task[call, done], name, space string, opts scheduler.Options[call]) {
		t, err := scheduler.NewTask(s, name, taskFunc(cl, space), opts)
		*dst = t
		errs = append(errs, err)
	}
	keyed := func(o scheduler.Options[call]) scheduler.Options[call] {
		o.Running, o.Key = scheduler.ByKey, byKey
		return o
	}
	reg(&ts.wait1, "wait1", "wait1", keyed(scheduler.Options[call]{}))
	reg(&ts.wait3, "wait3", "wait3", keyed(scheduler.Options[call]{Limit: 3}))
	reg(&ts.drop, "drop", "drop", keyed(scheduler.Options[call]{OnBusy: scheduler.Drop}))
	reg(&ts.dedupeStart, "dedupe_start", "dedupe_start", keyed(scheduler.Options[call]{Registration: scheduler.ByKey}))
	reg(&ts.dedupeDone, "dedupe_done", "dedupe_done", keyed(scheduler.Options[call]{Registration: scheduler.ByKey, Dedupe: scheduler.UntilDone}))
	reg(&ts.maxWait, "max_wait", "max_wait", keyed(scheduler.Options[call]{MaxWait: 300 * time.Millisecond}))
	reg(&ts.groupA, "group_a", "accounts", keyed(scheduler.Options[call]{Group: "accounts"}))
	reg(&ts.groupB, "group_b", "accounts", keyed(scheduler.Options[call]{Group: "accounts"}))
	reg(&ts.rated, "rated", "rated", keyed(scheduler.Options[call]{Rate: rate.Limit(10), Burst: 1}))
	reg(&ts.replace, "replace", "replace", keyed(scheduler.Options[call]{OnBusy: scheduler.Replace}))
	reg(&ts.unkeyed, "unkeyed", "unkeyed", scheduler.Options[call]{Key: byKey})
	return &ts, errors.Join(errs...)
}

// taskFunc is the body of every test task: it reports to the counter,
// holds its key, and does what its call says.
func taskFunc(cl *client, space string) func(context.Context, call) (done, error) {
	return func(ctx context.Context, c call) (done, error) {
		tok, err := cl.enter(space, c.Key, c.N)
		if err != nil {
			return done{}, err
		}
		defer cl.leave(space, c.Key, tok)
		if c.Gate != "" {
			if err := cl.gate(ctx, c.Gate); err != nil {
				return done{}, err
			}
		}
		if c.HoldMS > 0 {
			t := time.NewTimer(time.Duration(c.HoldMS) * time.Millisecond)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return done{}, context.Cause(ctx)
			}
		}
		switch {
		case c.Panic:
			panic("test panic " + c.Key)
		case c.Fail != "":
			return done{}, errors.New(c.Fail)
		}
		return done{Worker: cl.worker, Key: c.Key, N: c.N}, nil
	}
}

// The worker process: the test binary re-executed with these variables.
const (
	envWorker   = "PERKEY_PGTEST_WORKER" // the worker's name
	envURL      = "PERKEY_PGTEST_URL"
	envSchema   = "PERKEY_PGTEST_SCHEMA"
	envCounter  = "PERKEY_PGTEST_COUNTER"
	envLease    = "PERKEY_PGTEST_LEASE"
	envParallel = "PERKEY_PGTEST_PARALLEL"
)

// runWorker is the main of a worker process: it serves the test tasks until
// its stdin closes (then it closes its scheduler, draining) or it is
// killed. It prints "ready" once its tasks are registered.
func runWorker() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	name := os.Getenv(envWorker)
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "worker %s: %v\n", name, err)
		return 1
	}
	pool, err := pgxpool.New(ctx, os.Getenv(envURL))
	if err != nil {
		return fail(err)
	}
	defer pool.Close()
	lease, _ := time.ParseDuration(os.Getenv(envLease))
	parallel, _ := strconv.Atoi(os.Getenv(envParallel))
	backend, err := postgres.Open(ctx, pool, postgres.Config{
		Schema: os.Getenv(envSchema), Worker: name, Lease: lease, PollInterval: 200 * time.Millisecond,
	})
	if err != nil {
		return fail(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := scheduler.New(scheduler.Config{MaxParallel: parallel, Backend: backend, Logger: log, CloseGrace: 200 * time.Millisecond})
	if err != nil {
		return fail(err)
	}
	if _, err := registerTasks(s, os.Getenv(envCounter), name); err != nil {
		return fail(err)
	}
	fmt.Println("ready")
	stdin := make(chan struct{})
	go func() {
		bufio.NewReader(os.Stdin).ReadString('\n')
		close(stdin)
	}()
	select {
	case <-stdin:
	case <-ctx.Done():
	}
	cctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.Close(cctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fail(err)
	}
	return 0
}
