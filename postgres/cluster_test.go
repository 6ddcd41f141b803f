package postgres_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/internal/pgtest"
	"github.com/perkey/perkey/postgres"
	"github.com/perkey/perkey/scheduler"
)

// cluster is one test's share of the database (a schema of its own), its
// counter, and the worker processes it started.
type cluster struct {
	t       *testing.T
	url     string
	schema  string
	lease   time.Duration
	counter *counter
	pool    *pgxpool.Pool

	mu      sync.Mutex
	workers []*worker
}

func newCluster(t *testing.T, lease time.Duration) *cluster {
	t.Helper()
	c := &cluster{t: t, url: pgtest.URL(t), schema: pgtest.Schema(t), lease: lease}
	c.counter = newCounter(t, spaceLimits)
	pool, err := pgxpool.New(context.Background(), c.url)
	require.NoError(t, err)
	c.pool = pool
	t.Cleanup(func() {
		c.mu.Lock()
		ws := c.workers
		c.mu.Unlock()
		for _, w := range ws {
			w.kill()
		}
		c.pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{c.schema}.Sanitize()+" CASCADE")
		c.pool.Close()
	})
	return c
}

// worker is a worker process: the test binary, re-executed.
type worker struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{}
	once   sync.Once
}

// startWorker starts a worker process that runs the test tasks with
// parallel slots, and waits until it is ready.
func (c *cluster) startWorker(name string, parallel int) *worker {
	c.t.Helper()
	return c.startWorkerAt(name, parallel, c.url)
}

// startWorkerAt starts a worker that connects with url.
func (c *cluster) startWorkerAt(name string, parallel int, url string) *worker {
	c.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envWorker+"="+name, envURL+"="+url, envSchema+"="+c.schema,
		envCounter+"="+c.counter.url, envLease+"="+c.lease.String(), envParallel+"="+fmt.Sprint(parallel))
	stdin, err := cmd.StdinPipe()
	require.NoError(c.t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(c.t, err)
	cmd.Stderr = os.Stderr
	require.NoError(c.t, cmd.Start())
	w := &worker{name: name, cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			if !ok && strings.TrimSpace(sc.Text()) == "ready" {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
		cmd.Wait()
		close(w.exited)
	}()
	c.mu.Lock()
	c.workers = append(c.workers, w)
	c.mu.Unlock()
	require.True(c.t, <-ready, "worker %s did not start", name)
	return w
}

// stop asks the worker to close its scheduler and exit, and waits.
func (w *worker) stop() {
	w.stdin.Close()
	<-w.exited
}

// kill kills the worker with SIGKILL and waits for it.
func (w *worker) kill() {
	w.once.Do(func() { w.cmd.Process.Kill() })
	<-w.exited
}

// scheduler returns a scheduler of the test process on the cluster's
// schema, with the test tasks: a submitter only, unless parallel > 0.
func (c *cluster) scheduler(name string, parallel int, opts ...func(*postgres.Config)) (*scheduler.Scheduler, *taskSet) {
	c.t.Helper()
	cfg := postgres.Config{Schema: c.schema, Worker: name, Lease: c.lease, PollInterval: 200 * time.Millisecond, SubmitOnly: parallel == 0}
	for _, o := range opts {
		o(&cfg)
	}
	backend, err := postgres.Open(context.Background(), c.pool, cfg)
	require.NoError(c.t, err)
	s, err := scheduler.New(scheduler.Config{MaxParallel: max(parallel, 1), Backend: backend, CloseGrace: 200 * time.Millisecond})
	require.NoError(c.t, err)
	c.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Close(ctx)
	})
	ts, err := registerTasks(s, c.counter.url, name)
	require.NoError(c.t, err)
	return s, ts
}

// wait waits for every invocation and returns their results and errors.
func waitAll(t *testing.T, invs []*scheduler.Invocation[done]) ([]done, []error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := make([]done, len(invs))
	errs := make([]error, len(invs))
	for i, inv := range invs {
		out[i], errs[i] = inv.Wait(ctx)
		require.NoError(t, ctx.Err(), "invocation %d did not end", inv.ID())
	}
	return out, errs
}
