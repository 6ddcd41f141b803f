package monitor

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/perkey/perkey/scheduler"
)

// Defaults for the zero values of Config.
const (
	DefaultKeys         = 20
	DefaultEvents       = 4096
	DefaultWindow       = 30 * time.Second
	DefaultInterval     = 250 * time.Millisecond
	DefaultLinger       = 10 * time.Second
	DefaultMaxText      = 200
	DefaultMaxStreams   = 16
	DefaultMaxStreamAge = time.Minute
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
	// last stream ended or the last events.json request, when no stream is
	// open. Zero means DefaultLinger (10s).
	Linger time.Duration

	// MaxText is how many bytes of a task name, key, label, error text or
	// worker name an event keeps; longer text is cut at a character
	// boundary, ends in "…", and the event's Truncated is set. With it the
	// ring holds at most about Events × (5 × MaxText + 320) bytes. Zero
	// means DefaultMaxText (200).
	MaxText int

	// OmitErrors leaves the error text of failed, dropped, expired and
	// canceled invocations out of events.json and the stream (their final
	// state is still there). Error text can hold URLs with tokens, SQL or
	// customer data. The zero value, false, includes it.
	OmitErrors bool

	// MaxStreams caps the streams open at once; a stream asked for beyond
	// it gets 503 with Retry-After, and the page retries. Zero means
	// DefaultMaxStreams (16).
	MaxStreams int

	// MaxStreamAge is how long a stream lasts before the monitor ends it,
	// idle or not; browsers reconnect at once and go on where they were
	// (Last-Event-ID). It bounds how long a client that stopped reading
	// keeps a stream, even when nothing is written to it. Zero means
	// DefaultMaxStreamAge (1 minute).
	MaxStreamAge time.Duration
}

// Monitor is an http.Handler that shows one scheduler live. Create one
// with New, or use Handler; a zero Monitor is not usable (its Close does
// nothing). Its methods are safe for concurrent use. It starts no
// goroutine: streams run on their requests' goroutines.
type Monitor struct {
	s    *scheduler.Scheduler
	cfg  Config
	text eventText
	ring *ring
	base time.Time // the monotonic origin of lastSeen

	viewers  atomic.Int32                 // open streams
	lastSeen atomic.Int64                 // since base: the latest events.json request or stream end
	sub      atomic.Pointer[subscription] // while subscribed

	mu      sync.Mutex // orders subscribing, unsubscribing, opening streams and Close
	closed  bool
	quit    chan struct{}  // closed by Close: streams end
	streams sync.WaitGroup // the open streams, for Close

	keys keyCache // the busiest keys, shared by the viewers
	feed feed     // the streams' messages, encoded once for all
}

// errBusy: MaxStreams streams are open.
var errBusy = errors.New("monitor: too many streams open; retry later")

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
		{"Interval", int64(cfg.Interval)}, {"Linger", int64(cfg.Linger)}, {"MaxText", int64(cfg.MaxText)},
		{"MaxStreams", int64(cfg.MaxStreams)}, {"MaxStreamAge", int64(cfg.MaxStreamAge)},
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
	cfg.MaxText = or(cfg.MaxText, DefaultMaxText)
	cfg.MaxStreams = or(cfg.MaxStreams, DefaultMaxStreams)
	cfg.MaxStreamAge = or(cfg.MaxStreamAge, DefaultMaxStreamAge)
	return &Monitor{
		s:    s,
		cfg:  cfg,
		text: eventText{limit: cfg.MaxText, omitErrors: cfg.OmitErrors},
		ring: newRing(cfg.Events),
		base: time.Now(),
		quit: make(chan struct{}),
		keys: keyCache{sampleAbove: sampleAbove},
	}, nil
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
// their requests do, or after MaxStreamAge: use New for a Monitor that can
// be closed.
func Handler(s *scheduler.Scheduler) http.Handler {
	m, err := New(s, Config{})
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			secure(w.Header(), apiCSP)
			http.Error(w, err.Error(), http.StatusInternalServerError)
		})
	}
	return m
}

// ServeHTTP serves the page and its endpoints (see the package
// documentation), routing on the last element of the request's path. It
// answers 405 to methods other than GET and HEAD. Every response carries
// X-Content-Type-Options: nosniff and a Content-Security-Policy that
// allows no framing.
func (m *Monitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page := path.Base(r.URL.Path)
	switch page {
	case "state.json", "events.json", "stream":
		secure(w.Header(), apiCSP)
	default:
		secure(w.Header(), pageCSP)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch page {
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

// apiCSP is the Content-Security-Policy of everything but the page: it
// allows nothing.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"

// secure sets the headers every response carries.
func secure(h http.Header, csp string) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// Close ends the open streams, unsubscribes from the scheduler's events
// and returns once every stream handler has returned. After Close, stream
// requests get 503, events.json no longer subscribes and gives no events
// (what happens next is not watched); the page and state.json still work.
// Close may be called more than once.
func (m *Monitor) Close() {
	if m == nil || m.quit == nil {
		return // nil, or not made by New: nothing to close
	}
	m.mu.Lock()
	first := !m.closed
	m.closed = true
	m.mu.Unlock()
	if first {
		close(m.quit)
		if sub := m.sub.Load(); sub != nil {
			m.stopWatching(sub, true)
		}
	}
	m.streams.Wait()
}
