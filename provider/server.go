package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults for the zero values of Config.
const (
	// DefaultAddr listens on a free loopback port.
	DefaultAddr = "127.0.0.1:0"
	// DefaultHold is how long a call without ?hold= holds its account.
	DefaultHold = 400 * time.Millisecond
)

// Config configures a Server. The zero Config is valid: a free loopback
// port, a 400ms default hold, no log.
type Config struct {
	// Addr is the TCP address to listen on, such as "127.0.0.1:8765".
	// Empty means DefaultAddr, a free loopback port: read it from URL.
	Addr string

	// DefaultHold is how long a call without ?hold= holds its account.
	// Zero means DefaultHold (400ms); negative is an error.
	DefaultHold time.Duration

	// Log receives one line per call and per reset, in the order the
	// calls were counted. The server writes one line at a time, from its
	// request goroutines, and waits for the write: a slow Log slows the
	// calls down. Write errors are ignored. Nil means no log.
	Log io.Writer
}

// Server is a running provider: an HTTP server on a TCP port, with its
// counts. Create one with Start and stop it with Close or Shutdown. Its
// methods are safe for concurrent use. A Server not made by Start (nil or
// zero) has an empty URL and fails Close and Shutdown with ErrInvalid.
type Server struct {
	h    *handler
	srv  *http.Server
	url  string
	done chan struct{} // closed when the serve goroutine has returned

	// conns counts the connection goroutines of srv, so that Close can
	// wait for them.
	conns sync.WaitGroup
}

// Start listens on cfg.Addr and serves the provider on a goroutine of its
// own until Close or Shutdown. It fails with ErrInvalid for a negative
// DefaultHold, and with the listener's error when the address cannot be
// had (in use, say).
func Start(cfg Config) (*Server, error) {
	return start(cfg, nil)
}

// start is Start with a hook to set the handler's test seams before it
// serves.
func start(cfg Config, setup func(*handler)) (*Server, error) {
	switch {
	case cfg.DefaultHold < 0:
		return nil, invalid("DefaultHold %v is negative", cfg.DefaultHold)
	case cfg.DefaultHold == 0:
		cfg.DefaultHold = DefaultHold
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("provider: listen: %w", err)
	}
	s := &Server{
		h:    newHandler(cfg.DefaultHold, callLog{w: cfg.Log}),
		url:  "http://" + ln.Addr().String(),
		done: make(chan struct{}),
	}
	if setup != nil {
		setup(s.h)
	}
	s.srv = &http.Server{
		Handler:           s.h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ConnState:         s.track,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // always an error; ErrServerClosed after Close
	}()
	return s, nil
}

// track counts the connection goroutines: net/http reports StateNew
// before it starts one, and StateClosed or StateHijacked as its last act.
func (s *Server) track(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		s.conns.Done()
	}
}

// URL returns the server's base URL, such as "http://127.0.0.1:39041",
// with the port it actually listens on. It stays the same after Close.
func (s *Server) URL() string {
	if s == nil {
		return ""
	}
	return s.url
}

// started reports an error for a Server not made by Start.
func (s *Server) started() error {
	if s == nil || s.h == nil {
		return invalid("Server not made by Start")
	}
	return nil
}

// Close stops the server at once: it stops listening, ends the holds of
// calls in flight (their clients get a 503, or nothing if the connection
// closes first), closes every connection, and returns once every
// goroutine the server started has exited. It may be called more than
// once, and after Shutdown; it returns nil.
func (s *Server) Close() error {
	if err := s.started(); err != nil {
		return err
	}
	s.h.stop()
	err := s.srv.Close()
	s.wait()
	return err
}

// Shutdown stops the server gracefully: it stops listening at once, lets
// the calls in flight finish their holds and get their answers, then
// closes the connections and returns once every goroutine the server
// started has exited. If ctx ends first, it does what Close does and
// returns ctx.Err(). After Close or Shutdown it returns nil at once. A nil
// ctx is an error (ErrInvalid) and stops nothing.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.started(); err != nil {
		return err
	}
	if ctx == nil {
		return invalid("Shutdown: nil context")
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.h.stop()
		err = errors.Join(err, s.srv.Close())
	}
	s.wait()
	return err
}

// wait returns once the serve goroutine and every connection goroutine
// have exited. Serve returns only after the listener closed, so no
// connection is added to conns once done is closed.
func (s *Server) wait() {
	<-s.done
	s.conns.Wait()
}
