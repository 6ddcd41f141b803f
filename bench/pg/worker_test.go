package pg

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A worker runs one system's jobs with 8 slots, in this process or in a
// worker process (the test binary re-executed), and talks to the run
// over lines: the same protocol either way.
//
//	worker -> run   "ready"         set up (and working, unless held)
//	run -> worker   "go"            start working (a held worker)
//	worker -> run   "done N"        N jobs completed so far (River only)
//	run -> worker   end of input    stop, drain, exit
//	worker -> run   "ran R O"       R runs, O overlaps of one key, then exit

// envWorker carries a worker process's workerConfig, as JSON.
const envWorker = "PERKEY_PGBENCH_WORKER"

// workerConfig is what a worker needs.
type workerConfig struct {
	Name   string `json:"name"`
	System system `json:"system"`
	URL    string `json:"url"`
	Schema string `json:"schema"`
	Held   bool   `json:"held"` // wait for "go" before working

	// started is called at the start of every job; in this process only.
	started func(jobArgs, time.Time)
}

// jobRunner is a system's worker side.
type jobRunner interface {
	start(ctx context.Context) error
	stop() error
}

// serveWorker is a worker: it sets up, reports ready, starts working
// (at once, or on "go" when held), and stops when in ends.
func serveWorker(cfg workerConfig, in io.Reader, out io.Writer) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := newPool(ctx, cfg.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
	}
	b := newBody(cfg.started)
	var jr jobRunner
	if cfg.System.River {
		jr, err = newRiverWorker(pool, cfg.System, cfg.Schema, b, func(n int64) { say("done %d", n) })
		if err != nil {
			return err
		}
	} else {
		jr = &perkeyWorker{pool: pool, sys: cfg.System, schema: cfg.Schema, name: cfg.Name, body: b}
	}
	defer func() {
		err = errors.Join(err, jr.stop())
		say("ran %d %d", b.runs.Load(), b.overlaps.Load())
	}()
	working := !cfg.Held
	if working {
		if err := jr.start(ctx); err != nil {
			return err
		}
	}
	say("ready")
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		if strings.TrimSpace(lines.Text()) == "go" && !working {
			working = true
			if err := jr.start(context.Background()); err != nil {
				return err
			}
		}
	}
	return nil
}

// workerMain is the main of a worker process.
func workerMain(raw string) int {
	var cfg workerConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 2
	}
	if err := serveWorker(cfg, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "worker %s: %v\n", cfg.Name, err)
		return 1
	}
	return 0
}

// worker is the run's handle on a worker.
type worker struct {
	name   string
	cmd    *exec.Cmd // nil: in this process
	input  io.WriteCloser
	ready  chan struct{}
	exited chan struct{} // closed once the worker has ended and its output is read

	// Set before exited is closed.
	err           error
	runs, overlap int64
}

// startWorker starts a worker, in this process or as a worker process, and
// waits until it is ready. Its completion reports go to t.
func startWorker(cfg workerConfig, process bool, t *tally) (*worker, error) {
	w := &worker{name: cfg.Name, ready: make(chan struct{}), exited: make(chan struct{})}
	var output io.ReadCloser
	var served chan error
	if process {
		raw, err := json.Marshal(cfg)
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
		cmd.Env = append(os.Environ(), envWorker+"="+string(raw))
		cmd.Stderr = os.Stderr
		// If this process dies, so does the worker.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if w.input, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
		if output, err = cmd.StdoutPipe(); err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		w.cmd = cmd
	} else {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		w.input, output = inW, outR
		served = make(chan error, 1)
		go func() {
			err := serveWorker(cfg, inR, outW)
			inR.Close()
			outW.Close()
			served <- err
		}()
	}
	go func() {
		defer close(w.exited)
		lines := bufio.NewScanner(output)
		for lines.Scan() {
			w.line(lines.Text(), t)
		}
		io.Copy(io.Discard, output)
		if w.cmd != nil {
			w.err = w.cmd.Wait()
		} else {
			w.err = <-served
		}
		if w.err != nil {
			w.err = fmt.Errorf("worker %s: %w", w.name, w.err)
		}
	}()
	select {
	case <-w.ready:
		return w, nil
	case <-w.exited:
		return nil, fmt.Errorf("worker %s ended before it was ready: %v", w.name, w.err)
	case <-time.After(time.Minute):
		w.kill()
		return nil, fmt.Errorf("worker %s: not ready after a minute", w.name)
	}
}

// line handles one line of the worker's output.
func (w *worker) line(text string, t *tally) {
	f := strings.Fields(text)
	switch {
	case len(f) == 1 && f[0] == "ready":
		close(w.ready)
	case len(f) == 2 && f[0] == "done":
		n, _ := strconv.ParseInt(f[1], 10, 64)
		t.report(w.name, n)
	case len(f) == 3 && f[0] == "ran":
		w.runs, _ = strconv.ParseInt(f[1], 10, 64)
		w.overlap, _ = strconv.ParseInt(f[2], 10, 64)
	}
}

// start tells a held worker to start working.
func (w *worker) start() error {
	_, err := io.WriteString(w.input, "go\n")
	return err
}

// stop ends the worker's input, so that it stops, drains and exits, and
// waits for it; a worker process that is not gone after a minute is
// killed.
func (w *worker) stop() error {
	w.input.Close()
	select {
	case <-w.exited:
	case <-time.After(time.Minute):
		w.kill()
		return fmt.Errorf("worker %s did not stop within a minute: killed", w.name)
	}
	return w.err
}

// kill kills a worker process and waits for it. A worker in this process
// cannot be killed: if it has not ended a minute after its input ended,
// kill panics with every goroutine's stack, to show where it hangs.
func (w *worker) kill() {
	if w.cmd != nil {
		w.cmd.Process.Kill()
	}
	w.input.Close()
	select {
	case <-w.exited:
	case <-time.After(time.Minute):
		debug.SetTraceback("all")
		panic(fmt.Sprintf("worker %s in this process has not ended a minute after its input did", w.name))
	}
}

// pid returns the worker process's pid, or 0 in this process.
func (w *worker) pid() int {
	if w.cmd == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

// tally adds up the completions the workers report.
type tally struct {
	mu      sync.Mutex
	total   int64
	last    map[string]int64
	changed chan struct{} // closed and replaced on every report
}

func newTally() *tally {
	return &tally{last: make(map[string]int64), changed: make(chan struct{})}
}

// report records that worker has completed n jobs so far.
func (t *tally) report(worker string, n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n <= t.last[worker] {
		return
	}
	t.total += n - t.last[worker]
	t.last[worker] = n
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *tally) count() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

// waitFor waits until n jobs are reported completed, or ctx ends.
func (t *tally) waitFor(ctx context.Context, n int64) error {
	for {
		t.mu.Lock()
		total, changed := t.total, t.changed
		t.mu.Unlock()
		if total >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%w: %d of %d river jobs done", errTimeout, total, n)
		}
	}
}
