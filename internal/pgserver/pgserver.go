// Package pgserver starts a private, throwaway PostgreSQL server from the
// binaries installed on the machine (Debian's postgresql package), for
// tests, the demo and the benchmarks.
//
// The server lives in a new temporary directory, listens only on a unix
// socket inside it, runs with fsync off, and belongs to the process that
// started it: Stop shuts it down and removes the directory, and the server
// is told to quit if that process dies first. initdb refuses to run as
// root, so a root process runs the server as the unprivileged "postgres"
// user, which the Debian package creates.
package pgserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled is returned by Start when the PostgreSQL server binaries
// (initdb and postgres) cannot be found.
var ErrNotInstalled = errors.New("pgserver: the PostgreSQL server binaries (initdb, postgres) are not installed; " +
	"on Debian or Ubuntu: apt-get install postgresql; or set PERKEY_DATABASE_URL to a server of your own")

// Options configures Start. The zero Options is valid.
type Options struct {
	// Settings are extra server settings, such as "max_connections":
	// "300". The defaults are fsync off and 200 connections.
	Settings map[string]string
	// Log receives the server's log; nil discards it.
	Log io.Writer
	// StartTimeout bounds initdb and the server's start. Zero means 60s.
	StartTimeout time.Duration
}

// Server is a running private PostgreSQL server.
type Server struct {
	dir    string
	cmd    *exec.Cmd
	url    string
	exited chan struct{} // closed when the server process has exited
	stop   sync.Once
	err    error
}

// URL returns the connection string of the server's "postgres" database,
// as superuser "postgres", over its unix socket.
func (s *Server) URL() string { return s.url }

// Dir returns the server's temporary directory: its data and its socket.
func (s *Server) Dir() string { return s.dir }

// Start creates a database cluster in a new temporary directory and starts
// a server on it. It fails with ErrNotInstalled when the binaries are
// missing. The caller must call Stop.
func Start(ctx context.Context, opts Options) (_ *Server, err error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "perkey-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgserver: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("pgserver: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pgserver: initdb: %w: %s", err, strings.TrimSpace(string(out)))
	}

	settings := map[string]string{
		"listen_addresses":        "",
		"unix_socket_directories": dir,
		"fsync":                   "off",
		"full_page_writes":        "off",
		"max_connections":         "200",
		"log_min_messages":        "warning",
		"logging_collector":       "off",
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	args := []string{"-D", data}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-c", k+"="+settings[k])
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		Setpgid:    true,            // a terminal's Ctrl-C is ours to handle, not the server's
		Pdeathsig:  syscall.SIGQUIT, // if we die, the server quits at once
	}
	logs, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("pgserver: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgserver: start postgres: %w", err)
	}
	s := &Server{dir: dir, cmd: cmd, exited: make(chan struct{})}
	ready := make(chan struct{})
	var tail lastLines
	go func() {
		// The server writes its log to stderr; "ready to accept
		// connections" says it is up. The log is drained until the server
		// exits, so that it never blocks on a full pipe.
		sc := bufio.NewScanner(logs)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			tail.add(line)
			if opts.Log != nil {
				fmt.Fprintln(opts.Log, line)
			}
			if !signalled && strings.Contains(line, "ready to accept connections") {
				signalled = true
				close(ready)
			}
		}
		io.Copy(io.Discard, logs)
		s.err = cmd.Wait()
		close(s.exited)
	}()
	select {
	case <-ready:
	case <-s.exited:
		return nil, fmt.Errorf("pgserver: postgres exited during start: %v: %s", s.err, tail.String())
	case <-ctx.Done():
		s.Stop()
		return nil, fmt.Errorf("pgserver: postgres did not start: %w: %s", ctx.Err(), tail.String())
	}
	q := url.Values{"host": {dir}, "sslmode": {"disable"}}
	s.url = "postgres://postgres@/postgres?" + q.Encode()
	return s, nil
}

// Stop shuts the server down (a fast shutdown: sessions are ended), waits
// for it to exit and removes its directory. It may be called more than
// once.
func (s *Server) Stop() error {
	if s == nil {
		return nil
	}
	s.stop.Do(func() {
		s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
		os.RemoveAll(s.dir)
	})
	return nil
}

// BinDir returns the directory of the server binaries: $PERKEY_PG_BIN, the
// newest /usr/lib/postgresql/N/bin, or the directory of an initdb on PATH.
func BinDir() (string, error) {
	if dir := os.Getenv("PERKEY_PG_BIN"); dir != "" {
		return dir, nil
	}
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
		sort.Slice(dirs, func(i, k int) bool { return version(dirs[i]) > version(dirs[k]) })
		for _, d := range dirs {
			if usable(d) {
				return d, nil
			}
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && usable(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	return "", ErrNotInstalled
}

func usable(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// credential returns the user to run the server as: nil (ourselves) unless
// we are root, and then "postgres".
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgserver: running as root, and initdb refuses root: "+
			"need the unprivileged user \"postgres\" (Debian's postgresql package creates it): %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgserver: user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// lastLines keeps the last few lines of the server's log, for errors.
type lastLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *lastLines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 10 {
		l.lines = l.lines[1:]
	}
	l.lines = append(l.lines, line)
}

func (l *lastLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
