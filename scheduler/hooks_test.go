package scheduler_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// The hook contract (Config.OnEvent and Subscribe): hooks are called
// synchronously and must be fast; they may call Submit, Stats, the methods
// of an Invocation other than Wait, Subscribe and a subscription's cancel;
// a panic in one is recovered, logged and counted in Stats.HookPanics. A
// slow hook slows the scheduler down but loses nothing, a panicking one
// changes nothing but the count, and neither stops the other hooks.

// hookMix submits work that produces every kind of event: Succeeded,
// Failed, Dropped, Expired, Canceled by a ctx and by Replace, and Deduped.
// It waits for all of it and returns the distinct invocations, what each
// must end as, and how many submissions were deduplicated.
func hookMix(t *testing.T, s *Scheduler) (invs []*Invocation[string], want []State, deduped int) {
	t.Helper()
	gate := make(chan struct{})
	started := make(chan int, 64) // the N of every call that starts
	fn := func(ctx context.Context, c call) (string, error) {
		started <- c.N
		select {
		case <-gate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if c.N == 3 {
			return "", errFault
		}
		return c.Key, nil
	}
	newT := func(name string, opts Options[call]) *Task[call, string] {
		task, err := NewTask(s, name, fn, opts)
		require.NoError(t, err)
		return task
	}
	wait := newT("wait", Options[call]{Running: ByKey, Key: keyOf, MaxWait: time.Second})
	drop := newT("drop", Options[call]{Running: ByKey, Key: keyOf, OnBusy: Drop})
	dedupe := newT("dedupe", Options[call]{Running: ByKey, Registration: ByKey, Key: keyOf, Dedupe: UntilDone})
	replace := newT("replace", Options[call]{Running: ByKey, Key: keyOf, OnBusy: Replace})
	add := func(inv *Invocation[string], st State) {
		invs, want = append(invs, inv), append(want, st)
	}
	startOf := func(n int) { // waits for call n to start, however slow the hooks
		for got := range started {
			if got == n {
				return
			}
		}
	}

	add(submit(t, wait, "a", 1), Succeeded)
	add(submit(t, wait, "a", 2), Expired) // a is held for longer than MaxWait
	add(submit(t, wait, "b", 3), Failed)
	add(submit(t, drop, "c", 4), Succeeded)
	add(submit(t, drop, "c", 5), Dropped) // c is Pending or Running by now
	first := submit(t, dedupe, "d", 6)
	add(first, Succeeded)
	for i := range 3 {
		require.Same(t, first, submit(t, dedupe, "d", 7+i))
		deduped++
	}
	add(submit(t, replace, "e", 10), Canceled)
	startOf(10)
	add(submit(t, replace, "e", 11), Succeeded) // cancels the running one
	ctx, cancel := context.WithCancel(context.Background())
	late, err := wait.Submit(ctx, call{"a", 12})
	require.NoError(t, err)
	add(late, Canceled)
	cancel()                    // while Queued behind a
	time.Sleep(2 * time.Second) // past MaxWait
	close(gate)
	for _, inv := range invs {
		_, _ = inv.Wait(context.Background())
	}
	synctest.Wait()
	return invs, want, deduped
}

// checkMix checks that every invocation of hookMix ended as it should and
// that rec saw every one of their state changes, in order, and every
// deduplicated submission.
func checkMix(t *testing.T, s *Scheduler, rec *recorder, invs []*Invocation[string], want []State, deduped int) {
	t.Helper()
	for i, inv := range invs {
		require.Equal(t, want[i], inv.State(), "invocation %d", i)
		switch want[i] {
		case Succeeded, Failed, Canceled:
			path := []State{Queued, Pending, Running, want[i]}
			if i == len(invs)-1 { // cancelled while Queued
				path = []State{Queued, Canceled}
			}
			require.Equal(t, path, rec.states(inv.ID()), "invocation %d", i)
		default:
			require.Equal(t, []State{Queued, want[i]}, rec.states(inv.ID()), "invocation %d", i)
		}
	}
	var dedupeEvents int
	for _, ev := range rec.all() {
		if ev.Deduped {
			dedupeEvents++
		}
	}
	require.Equal(t, deduped, dedupeEvents)
	st := s.Stats()
	require.EqualValues(t, len(invs)+deduped, st.Submitted)
	require.EqualValues(t, deduped, st.Deduped)
	require.EqualValues(t, 1, st.Failed)
	require.EqualValues(t, 1, st.Dropped)
	require.EqualValues(t, 1, st.Expired)
	require.EqualValues(t, 2, st.Canceled)
	require.EqualValues(t, 4, st.Succeeded)
}

// A hook that takes 5ms per event (fake time) slows everything it is
// called from, the dispatcher included, but loses nothing: every event
// arrives in order, and every invocation ends as it would without it.
func TestSlowHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		const slow = 5 * time.Millisecond
		s := newScheduler(t, Config{OnEvent: func(ev Event) {
			time.Sleep(slow) // the hook's own (too slow) work
			rec.add(ev)
		}})
		invs, want, deduped := hookMix(t, s)
		checkMix(t, s, rec, invs, want, deduped)

		// The dispatcher waited for the hook: a lone invocation on an idle
		// scheduler starts only after its Queued and Pending events.
		task := newTask(t, s, "lone", newProbe(), Options[call]{})
		start := time.Now()
		inv := submit(t, task, "z", 0)
		_, err := wait(t, inv)
		require.NoError(t, err)
		evs := rec.all()
		i := slices.IndexFunc(evs, func(ev Event) bool { return ev.ID == inv.ID() && ev.State == Running })
		require.GreaterOrEqual(t, evs[i].Time.Sub(start), 2*slow)
	})
}

// A hook that panics on every event is counted and logged each time; the
// other hooks still get every event, and nothing about the invocations
// changes.
func TestPanickingHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logged atomic.Int64
		rec := &recorder{}
		var calls atomic.Int64
		s := newScheduler(t, Config{
			Logger: slog.New(countingHandler{&logged}),
			OnEvent: func(Event) {
				// A panic value of every kind, nil included.
				switch calls.Add(1) % 3 {
				case 0:
					panic("hook")
				case 1:
					panic(errors.New("hook error"))
				default:
					panic(nil)
				}
			},
		})
		s.Subscribe(rec.add) // after the panicking one
		invs, want, deduped := hookMix(t, s)
		checkMix(t, s, rec, invs, want, deduped)
		require.Len(t, rec.all(), int(calls.Load()), "every event reached both hooks")
		require.EqualValues(t, calls.Load(), s.Stats().HookPanics)
		require.GreaterOrEqual(t, logged.Load(), calls.Load(), "each panic is logged")
	})
}

// countingHandler counts the records of Warn level and above.
type countingHandler struct{ n *atomic.Int64 }

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.n.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// A hook may call Submit (with and without dedupe), Stats, the methods of
// an Invocation other than Wait, Subscribe, and a subscription's cancel,
// including its own, from the dispatcher's goroutine and from a worker's.
func TestHookCallsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		p := newProbe()
		first := newTask(t, s, "first", p, Options[call]{Running: ByKey, Key: keyOf})
		second := newTask(t, s, "second", p, Options[call]{Running: ByKey, Registration: ByKey, Key: keyOf})

		var (
			mu       sync.Mutex
			spawned  []*Invocation[string]
			late     = &recorder{}
			onceLate sync.Once
		)
		s.Subscribe(func(ev Event) {
			if ev.Task != "first" || ev.Deduped {
				return
			}
			switch ev.State {
			case Queued, Succeeded: // from the dispatcher, from a worker
				inv, err := second.Submit(context.Background(), call{ev.Key, int(ev.ID)})
				if !assert.NoError(t, err) {
					return
				}
				again, err := second.Submit(context.Background(), call{ev.Key, -1})
				assert.NoError(t, err)
				_ = again.State()
				assert.NotZero(t, inv.ID())
				assert.Equal(t, ev.Key, inv.Key())
				select {
				case <-inv.Done():
				default:
				}
				_ = s.Stats()
				mu.Lock()
				spawned = append(spawned, inv, again)
				mu.Unlock()
			case Running:
				onceLate.Do(func() { s.Subscribe(late.add) })
			}
		})

		// A subscription that cancels itself on its first event gets no
		// other: the rest of the invocation's events come after cancel.
		var selfCancelled atomic.Int64
		var cancelSelf func()
		ready := make(chan struct{})
		cancelSelf = s.Subscribe(func(Event) {
			<-ready
			selfCancelled.Add(1)
			cancelSelf()
		})
		close(ready)

		inv := submit(t, first, "k", 1)
		_, err := wait(t, inv)
		require.NoError(t, err)
		synctest.Wait()
		require.EqualValues(t, 1, selfCancelled.Load())

		mu.Lock()
		got := slices.Clone(spawned)
		mu.Unlock()
		require.Len(t, got, 4, "Queued and Succeeded each submitted twice")
		for _, inv := range got {
			_, err := wait(t, inv)
			require.NoError(t, err)
		}
		synctest.Wait()
		require.NotEmpty(t, late.states(got[2].ID()), "a subscription made from a hook gets later events")
		requireBalanced(t, s.Stats())
	})
}

// Subscriptions that cancel themselves from inside their hook, while
// others subscribe and cancel from outside, under load from several
// goroutines: nothing deadlocks, and once every subscription is cancelled
// no hook is called again.
func TestSubscribeCancelInsideHookUnderLoad(t *testing.T) {
	s := newScheduler(t, Config{MaxParallel: 4})
	task, err := NewTask(s, "t", func(_ context.Context, n int) (int, error) { return n, nil },
		Options[int]{Running: ByKey, Key: func(n int) string { return string(rune('a' + n%8)) }})
	require.NoError(t, err)

	var calls atomic.Int64
	var (
		mu      sync.Mutex
		cancels []func()
		subs    sync.WaitGroup
	)
	for range 16 {
		subs.Go(func() {
			for j := range 200 {
				var once sync.Once
				var cancel func()
				got := make(chan struct{})
				cancel = s.Subscribe(func(Event) {
					calls.Add(1)
					once.Do(func() {
						<-got // cancel is set
						cancel()
					})
				})
				close(got)
				if j%4 == 0 { // some are also cancelled from outside at once
					cancel()
				}
				mu.Lock()
				cancels = append(cancels, cancel)
				mu.Unlock()
				runtime.Gosched()
			}
		})
	}
	var (
		load sync.WaitGroup
		invs = make([][]*Invocation[int], 4)
	)
	for g := range invs {
		load.Go(func() {
			for i := range 2000 {
				inv, err := task.Submit(context.Background(), g*10000+i)
				if !assert.NoError(t, err) {
					return
				}
				invs[g] = append(invs[g], inv)
			}
		})
	}
	load.Wait()
	subs.Wait()
	for _, all := range invs {
		for _, inv := range all {
			_, err := inv.Wait(context.Background())
			require.NoError(t, err)
		}
	}
	for _, cancel := range cancels { // twice for some: harmless
		cancel()
	}

	// No hook call is under way (every invocation's events came before its
	// Wait returned) and nobody listens: new invocations reach no hook.
	before := calls.Load()
	require.Positive(t, before)
	for i := range 100 {
		inv, err := task.Submit(context.Background(), i)
		require.NoError(t, err)
		_, err = inv.Wait(context.Background())
		require.NoError(t, err)
	}
	require.Equal(t, before, calls.Load(), "a hook was called after every subscription was cancelled")
}

// A hook that calls runtime.Goexit (as t.FailNow and require.* do when a
// test asserts inside a hook) on the dispatcher's goroutine must not lose
// work: another dispatcher goroutine takes over, every invocation becomes
// final, and Close still joins everything.
func TestHookGoexitIsContained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var exits atomic.Int64
		s, err := New(Config{OnEvent: func(ev Event) {
			if ev.State == Queued && exits.Add(1) == 1 {
				runtime.Goexit()
			}
		}})
		require.NoError(t, err)
		task := newTask(t, s, "t", newProbe(), Options[call]{})
		first := submit(t, task, "a", 1)
		synctest.Wait()
		second, err := task.Submit(context.Background(), call{"a", 2})
		synctest.Wait()
		closeErr := s.Close(within(t, time.Second))

		assert.True(t, first.State().Final(), "the invocation whose hook called Goexit is %v", first.State())
		if err == nil {
			assert.True(t, second.State().Final(), "a later invocation is %v", second.State())
		}
		if !first.State().Final() {
			assert.Error(t, closeErr, "Close returned nil with work that will never end")
		}
	})
}
