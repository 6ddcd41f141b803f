package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"time"
)

// envRole, set to "worker" in a worker process's environment, makes a
// test binary run `sim worker` (see TestMain); the sim binary itself goes
// by its first argument.
const envRole = "PERKEY_SIM_ROLE"

// Timeouts of the worker processes: to say they are ready, and to stop
// once told to (they drain for closeTimeout first).
const (
	workerStartTimeout = time.Minute
	workerStopTimeout  = closeTimeout + 5*time.Second
)

// fleet is the worker processes a sim started: the sim binary again, as
// `sim worker`. It owns them: close stops every one still running, and a
// worker that exits on its own, unasked, is reported to onLost.
type fleet struct {
	exe    string
	args   func(name string) []string // the arguments of worker name, after "worker"
	stderr io.Writer                  // the workers' stderr, each line prefixed with the worker's name
	onLost func(error)                // a worker exited unasked; nil: ignored

	mu    sync.Mutex
	procs []*workerProc // live or not, in start order
	count int           // workers started, for names
}

// workerProc is one worker process.
type workerProc struct {
	n        int // its number: name is "w" and n
	name     string
	cmd      *exec.Cmd
	exited   chan struct{} // closed once it has exited and its output is read
	err      error         // its exit, once exited is closed
	mu       sync.Mutex
	expected bool // stop or kill was asked: its exit is no loss
}

// newFleet returns an empty fleet of the running executable.
func newFleet(args func(name string) []string, stderr io.Writer, onLost func(error)) (*fleet, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("workers: cannot find the sim's own executable to start them: %w", err)
	}
	return &fleet{exe: exe, args: args, stderr: stderr, onLost: onLost}, nil
}

// readyLine is the line a worker prints on stdout once it serves.
var readyLine = regexp.MustCompile(`^worker (\S+) ready`)

// start starts worker "wN" (the next N) and waits until it says it is
// ready. On failure the process is gone.
func (f *fleet) start(ctx context.Context) (*workerProc, error) {
	f.mu.Lock()
	f.count++
	n := f.count
	f.mu.Unlock()
	name := fmt.Sprintf("w%d", n)

	cmd := exec.Command(f.exe, append([]string{"worker"}, f.args(name)...)...)
	cmd.Env = append(os.Environ(), envRole+"=worker")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // a terminal's Ctrl-C is the sim's to handle: it stops its workers
		Pdeathsig: syscall.SIGKILL, // if the sim dies, its workers do too
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	errOut := &prefixWriter{w: f.stderr, prefix: "worker " + name + ": "}
	cmd.Stderr = errOut
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("worker %s: %w", name, err)
	}
	p := &workerProc{n: n, name: name, cmd: cmd, exited: make(chan struct{})}
	ready := make(chan struct{})
	go func() { // joined through exited, which stop and kill wait for
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			if !signalled && readyLine.MatchString(sc.Text()) {
				signalled = true
				close(ready)
			}
		}
		io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
		errOut.flush()
		p.mu.Lock()
		lost := !p.expected
		p.mu.Unlock()
		if lost && f.onLost != nil {
			f.onLost(fmt.Errorf("worker %s exited unasked: %v", name, p.err))
		}
		close(p.exited)
	}()
	f.mu.Lock()
	f.procs = append(f.procs, p)
	f.mu.Unlock()

	timer := time.NewTimer(workerStartTimeout)
	defer timer.Stop()
	select {
	case <-ready:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("worker %s exited before it was ready: %v (its stderr is above)", name, p.err)
	case <-timer.C:
		p.kill()
		return nil, fmt.Errorf("worker %s was not ready within %v", name, workerStartTimeout)
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
}

// startN starts n workers at once and waits until all are ready.
func (f *fleet) startN(ctx context.Context, n int) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = f.start(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// live returns the workers still running, by number.
func (f *fleet) live() []*workerProc {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*workerProc
	for _, p := range f.procs {
		select {
		case <-p.exited:
		default:
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *workerProc) int { return cmp.Compare(a.n, b.n) })
	return out
}

// names returns the names of the live workers.
func (f *fleet) names() []string {
	var out []string
	for _, p := range f.live() {
		out = append(out, p.name)
	}
	return out
}

// close stops every live worker, at once, and waits for them.
func (f *fleet) close() {
	var wg sync.WaitGroup
	for _, p := range f.live() {
		wg.Go(p.stop)
	}
	wg.Wait()
}

// markExpected records that the process is about to be told to end.
func (p *workerProc) markExpected() {
	p.mu.Lock()
	p.expected = true
	p.mu.Unlock()
}

// stop asks the worker to end (SIGTERM: it closes its scheduler, draining
// its calls), and kills it if it has not exited within
// workerStopTimeout. It waits until it has exited.
func (p *workerProc) stop() {
	p.markExpected()
	p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(workerStopTimeout)
	defer timer.Stop()
	select {
	case <-p.exited:
	case <-timer.C:
		p.kill()
	}
}

// kill kills the worker with SIGKILL, as a crash would, and waits until it
// has exited.
func (p *workerProc) kill() {
	p.markExpected()
	p.cmd.Process.Kill()
	<-p.exited
}

// prefixWriter writes each line it is given to w, prefixed; it keeps an
// unfinished line until its end comes, or flush. It is safe for
// concurrent use.
type prefixWriter struct {
	w      io.Writer
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.w.Write(append([]byte(p.prefix), p.buf[:i+1]...))
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

// flush writes an unfinished last line, with a newline.
func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		p.w.Write(append(append([]byte(p.prefix), p.buf...), '\n'))
		p.buf = nil
	}
}
