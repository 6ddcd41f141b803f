package scheduler_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// call is the argument of the test tasks: a key and a sequence number.
type call struct {
	Key string
	N   int
}

func keyOf(c call) string { return c.Key }

// probe is a task function that records what ran, and checks the
// invariants as it runs: per-key and global in-flight counts.
type probe struct {
	hold time.Duration    // sleep this long while running (fake time in bubbles)
	gate chan struct{}    // when set, each run blocks until it receives or its ctx ends
	fail func(call) error // when set, the task returns its error

	mu        sync.Mutex
	perKey    map[string]int
	maxPerKey int
	inFlight  int
	maxGlobal int
	started   []call
	runs      int
}

func newProbe() *probe { return &probe{perKey: map[string]int{}} }

func (p *probe) fn(ctx context.Context, c call) (string, error) {
	p.mu.Lock()
	p.perKey[c.Key]++
	p.maxPerKey = max(p.maxPerKey, p.perKey[c.Key])
	p.inFlight++
	p.maxGlobal = max(p.maxGlobal, p.inFlight)
	p.started = append(p.started, c)
	p.runs++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.perKey[c.Key]--
		p.inFlight--
		p.mu.Unlock()
	}()
	if p.hold > 0 {
		time.Sleep(p.hold) // the task's own work, not synchronization
	}
	if p.gate != nil {
		select {
		case <-p.gate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if p.fail != nil {
		if err := p.fail(c); err != nil {
			return "", err
		}
	}
	return c.Key + "-done", nil
}

func (p *probe) snapshot() (runs, maxPerKey, maxGlobal int, started []call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runs, p.maxPerKey, p.maxGlobal, append([]call(nil), p.started...)
}

func (p *probe) running() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inFlight
}

// newScheduler starts a scheduler that the test closes, and checks at the
// end that its books balance.
func newScheduler(t *testing.T, cfg Config) *Scheduler {
	t.Helper()
	s, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		// A generous deadline: tests that mean to abort call Close themselves.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, s.Close(ctx))
		requireBalanced(t, s.Stats())
	})
	return s
}

// requireBalanced checks that every submission is accounted for by exactly
// one final state (or a dedupe), on an idle
func requireBalanced(t *testing.T, st Stats) {
	t.Helper()
	require.Zero(t, st.Queued, "queued %+v", st)
	require.Zero(t, st.Pending, "pending %+v", st)
	require.Zero(t, st.Running, "running %+v", st)
	require.Zero(t, st.Actors, "actors %+v", st)
	final := st.Deduped + st.Succeeded + st.Failed + st.Dropped + st.Expired + st.Canceled
	require.Equal(t, st.Submitted, final, "stats do not add up: %+v", st)
}

func newTask(t *testing.T, s *Scheduler, name string, p *probe, opts Options[call]) *Task[call, string] {
	t.Helper()
	task, err := NewTask(s, name, p.fn, opts)
	require.NoError(t, err)
	return task
}

func submit(t *testing.T, task *Task[call, string], key string, n int) *Invocation[string] {
	t.Helper()
	inv, err := task.Submit(context.Background(), call{key, n})
	require.NoError(t, err)
	return inv
}

func wait(t *testing.T, inv *Invocation[string]) (string, error) {
	t.Helper()
	return inv.Wait(context.Background())
}

func states(invs ...*Invocation[string]) []State {
	out := make([]State, len(invs))
	for i, inv := range invs {
		out[i] = inv.State()
	}
	return out
}

// recorder is an OnEvent hook that keeps every event.
type recorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recorder) add(ev Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.evs...)
}

// states returns the state changes of one invocation, in order.
func (r *recorder) states(id uint64) []State {
	var out []State
	for _, ev := range r.all() {
		if ev.ID == id && !ev.Deduped && !ev.Throttled {
			out = append(out, ev.State)
		}
	}
	return out
}

// path returns every event of one invocation, in order: its states, and
// "Throttled" and "Deduped" for those notes.
func (r *recorder) path(id uint64) []string {
	var out []string
	for _, ev := range r.all() {
		switch {
		case ev.ID != id:
		case ev.Deduped:
			out = append(out, "Deduped")
		case ev.Throttled:
			out = append(out, "Throttled")
		default:
			out = append(out, ev.State.String())
		}
	}
	return out
}

// debugDump describes the dispatcher's state, for tests that hang.
func debugDump(s *Scheduler) string { return s.DebugDump() }
