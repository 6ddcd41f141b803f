package monitor

import (
	"fmt"
	"net/http"
	"path"
	"sync"
	"time"

	"github.com/perkey/perkey/scheduler"
)

// Defaults for the zero values of Config.
const (
	DefaultKeys     = 20
	DefaultEvents   = 4096
	DefaultWindow   = 30 * time.Second
	DefaultInterval = 250 * time.Millisecond
	DefaultLinger   = 10 * time.Second
)

// Config configures a Monitor. The zero Config is valid: every field has a
// default. Negative values are an error.
type Config struct {
	// Keys is how many of the busiest keys state.json and the page list.
	// Zero means DefaultKeys (20).
	Keys int

	// Events is the size of the ring of recent events. Zero means
	// DefaultEvents (4096).
	Events int

	// Window is how much of the recent past the page's timeline shows.
	// Zero means DefaultWindow (30s).
	Window time.Duration

	// Interval is how often a stream sends what changed. Zero means
	// DefaultInterval (250ms).
	Interval time.Duration

	// Linger is how long the monitor stays subscribed to events after the
	// last events.json request, when no stream is open. Zero means
	// DefaultLinger (10s).
	Linger time.Duration
}

// Monitor is an http.Handler that shows one scheduler live. Create one
// with New, or use Handler; a zero Monitor is not usable (its Close does
// nothing). Its methods are safe for concurrent use. It starts no
// goroutine: streams run on their requests' goroutines.
type Monitor struct {
	s   *scheduler.Scheduler
	cfg Config

	mu       sync.Mutex
	ring     ring
	viewers  int       // open streams
	lastPoll time.Time // the latest events.json request
	cancel   func()    // the subscription, while subscribed
	gen      uint64    // counts subscriptions: events of an older one are ignored
	closed   bool
	quit     chan struct{}  // closed by Close: streams end
	streams  sync.WaitGroup // the open streams, for Close

	stateMu sync.Mutex
	state   State     // the latest state, shared by the viewers
	stateAt time.Time // when it was taken
}

// New returns a Monitor of s. It fails with ErrNilScheduler for a nil s,
// and with ErrBadConfig for a negative Config field.
func New(s *scheduler.Scheduler, cfg Config) (*Monitor, error) {
	if s == nil {
		return nil, ErrNilScheduler
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"Keys", int64(cfg.Keys)}, {"Events", int64(cfg.Events)}, {"Window", int64(cfg.Window)},
		{"Interval", int64(cfg.Interval)}, {"Linger", int64(cfg.Linger)},
	} {
		if f.v < 0 {
			return nil, fmt.Errorf("%w: %s is negative", ErrBadConfig, f.name)
		}
	}
	cfg.Keys = or(cfg.Keys, DefaultKeys)
	cfg.Events = or(cfg.Events, DefaultEvents)
	cfg.Window = or(cfg.Window, DefaultWindow)
	cfg.Interval = or(cfg.Interval, DefaultInterval)
	cfg.Linger = or(cfg.Linger, DefaultLinger)
	return &Monitor{s: s, cfg: cfg, ring: newRing(cfg.Events), quit: make(chan struct{})}, nil
}

func or[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Handler returns a Monitor of s with the default Config, to mount in a
// service's mux. For a nil s it returns a handler that answers every
// request with 500 and ErrNilScheduler's message. Its streams end when
// their requests do: use New for a Monitor that can be closed.
func Handler(s *scheduler.Scheduler) http.Handler {
	m, err := New(s, Config{})
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		})
	}
	return m
}

// ServeHTTP serves the page and its endpoints (see the package
// documentation), routing on the last element of the request's path. It
// answers 405 to methods other than GET and HEAD.
func (m *Monitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch path.Base(r.URL.Path) {
	case "state.json":
		m.serveState(w, r)
	case "events.json":
		m.serveEvents(w, r)
	case "stream":
		m.serveStream(w, r)
	default:
		m.servePage(w, r)
	}
}

// Close ends the open streams, unsubscribes from the scheduler's events
// and returns once every stream handler has returned. After Close, stream
// requests get 503 and events.json no longer subscribes; the page and
// state.json still work. Close may be called more than once.
func (m *Monitor) Close() {
	if m == nil || m.quit == nil {
		return // nil, or not made by New: nothing to close
	}
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.quit)
		m.unsubscribeLocked()
	}
	m.mu.Unlock()
	m.streams.Wait()
}
