package postgres_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// counter is the tests' independent witness: every task reports to it, over
// loopback HTTP, when it starts and ends, from whatever process runs it. It
// counts what is in flight per key space and key, and records the peaks and
// the overlaps beyond each space's limit; it also holds gates that a task
// can wait on until the test opens them.
type counter struct {
	srv *http.Server
	url string

	mu       sync.Mutex
	limits   map[string]int          // key space -> allowed in flight
	inflight map[string]map[int]call // "space/key" -> token -> call
	peaks    map[string]int          // "space/key" -> most in flight at once
	overlaps []string
	starts   map[string][]start // "space/key" -> starts in order
	runs     map[string]int     // worker -> runs started there
	token    int
	gates    map[string]chan struct{}
	entered  map[string]chan struct{} // "space/key" -> closed at the next start
}

type start struct {
	N      int
	ID     uint64
	Worker string
	At     time.Time
}

func newCounter(t *testing.T, limits map[string]int) *counter {
	c := &counter{
		limits:   limits,
		inflight: map[string]map[int]call{},
		peaks:    map[string]int{},
		starts:   map[string][]start{},
		runs:     map[string]int{},
		gates:    map[string]chan struct{}{},
		entered:  map[string]chan struct{}{},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /enter", c.enter)
	mux.HandleFunc("POST /leave", c.leave)
	mux.HandleFunc("GET /gate", c.gate)
	c.srv = &http.Server{Handler: mux}
	c.url = "http://" + ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.srv.Serve(ln)
	}()
	t.Cleanup(func() {
		c.openAll()
		c.srv.Close()
		<-done
	})
	return c
}

func (c *counter) enter(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	k := q.Get("space") + "/" + q.Get("key")
	n, _ := strconv.Atoi(q.Get("n"))
	id, _ := strconv.ParseUint(q.Get("id"), 10, 64)
	cl := call{Key: q.Get("key"), N: n}
	c.mu.Lock()
	c.token++
	tok := c.token
	if c.inflight[k] == nil {
		c.inflight[k] = map[int]call{}
	}
	c.inflight[k][tok] = call{Key: cl.Key, N: n, worker: q.Get("worker")}
	in := len(c.inflight[k])
	c.peaks[k] = max(c.peaks[k], in)
	if limit := c.limits[q.Get("space")]; limit > 0 && in > limit {
		c.overlaps = append(c.overlaps, fmt.Sprintf("%s: %d in flight (limit %d)", k, in, limit))
	}
	c.starts[k] = append(c.starts[k], start{N: n, ID: id, Worker: q.Get("worker"), At: time.Now()})
	c.runs[q.Get("worker")]++
	if ch, ok := c.entered[k]; ok {
		close(ch)
		delete(c.entered, k)
	}
	c.mu.Unlock()
	fmt.Fprint(w, tok)
}

func (c *counter) leave(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	k := q.Get("space") + "/" + q.Get("key")
	tok, _ := strconv.Atoi(q.Get("token"))
	c.mu.Lock()
	delete(c.inflight[k], tok)
	c.mu.Unlock()
}

// gate blocks until the test opens the named gate, or the gate of that
// name for the calling worker ("name@worker"), or the caller gives up.
func (c *counter) gate(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	all := c.gateChan(q.Get("name"))
	mine := c.gateChan(q.Get("name") + "@" + q.Get("worker"))
	select {
	case <-all:
		fmt.Fprint(w, "open")
	case <-mine:
		fmt.Fprint(w, "open")
	case <-r.Context().Done():
	}
}

func (c *counter) gateChan(name string) chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.gates[name]
	if !ok {
		ch = make(chan struct{})
		c.gates[name] = ch
	}
	return ch
}

// open opens a gate: the tasks waiting on it go on, and later ones pass.
func (c *counter) open(name string) {
	ch := c.gateChan(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (c *counter) openAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.gates {
		select {
		case <-ch:
		default:
			close(ch)
		}
	}
}

// nextStart returns a channel closed at the next start of a call for key.
func (c *counter) nextStart(space, key string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := space + "/" + key
	ch, ok := c.entered[k]
	if !ok {
		ch = make(chan struct{})
		c.entered[k] = ch
	}
	return ch
}

// forget ends every call in flight in worker: it was killed.
func (c *counter) forget(worker string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, calls := range c.inflight {
		for tok, cl := range calls {
			if cl.worker == worker {
				delete(calls, tok)
			}
		}
	}
}

func (c *counter) inFlight(space, key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.inflight[space+"/"+key])
}

func (c *counter) peak(space, key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peaks[space+"/"+key]
}

func (c *counter) startsOf(space, key string) []start {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]start(nil), c.starts[space+"/"+key]...)
}

func (c *counter) overlapsSeen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.overlaps...)
}

func (c *counter) workersSeen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ws []string
	for w := range c.runs {
		ws = append(ws, w)
	}
	sort.Strings(ws)
	return ws
}

func (c *counter) totalRuns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.runs {
		n += r
	}
	return n
}

// client is how tasks talk to the counter.
type client struct {
	base   string
	worker string
	http   *http.Client
}

// enter reports a start. It is bookkeeping, not the task's work: the
// task's ctx does not cancel it, or the counter could count a start whose
// task never hears of it, and never leaves.
func (cl *client) enter(space, key string, n int) (string, error) {
	q := url.Values{"space": {space}, "key": {key}, "n": {strconv.Itoa(n)}, "worker": {cl.worker}}
	return cl.post(context.Background(), "/enter?"+q.Encode())
}

func (cl *client) leave(space, key, token string) {
	q := url.Values{"space": {space}, "key": {key}, "token": {token}}
	cl.post(context.Background(), "/leave?"+q.Encode())
}

func (cl *client) gate(ctx context.Context, name string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cl.base+"/gate?"+url.Values{"name": {name}, "worker": {cl.worker}}.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := make([]byte, 4)
	n, _ := resp.Body.Read(buf)
	if string(buf[:n]) != "open" {
		return context.Cause(ctx)
	}
	return nil
}

func (cl *client) post(ctx context.Context, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.base+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	buf := make([]byte, 32)
	n, _ := resp.Body.Read(buf)
	return string(buf[:n]), nil
}
