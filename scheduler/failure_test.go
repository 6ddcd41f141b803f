package scheduler_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// A task that panics or calls runtime.Goexit fails its own invocation; the
// key's next invocation, other keys and the scheduler carry on.
func TestTaskFaults(t *testing.T) {
	sentinel := errors.New("wrapped in the panic")
	tests := []struct {
		name  string
		fault func()
		check func(t *testing.T, err error)
	}{
		{"panic value", func() { panic("boom") }, func(t *testing.T, err error) {
			require.ErrorIs(t, err, ErrPanic)
			var pe *PanicError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, "boom", pe.Value)
			require.Contains(t, string(pe.Stack), "failure_test.go")
		}},
		{"panic error", func() { panic(sentinel) }, func(t *testing.T, err error) {
			require.ErrorIs(t, err, ErrPanic)
			require.ErrorIs(t, err, sentinel)
		}},
		{"panic nil", func() { panic(nil) }, func(t *testing.T, err error) {
			var pn *runtime.PanicNilError
			require.ErrorAs(t, err, &pn)
		}},
		{"Goexit", runtime.Goexit, func(t *testing.T, err error) {
			require.ErrorIs(t, err, ErrGoexit)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScheduler(t, Config{MaxParallel: 2})
			var ran atomic.Int64
			task, err := NewTask(s, "t", func(_ context.Context, n int) (int, error) {
				ran.Add(1)
				if n%3 == 0 {
					tt.fault()
				}
				return n, nil
			}, Options[int]{Running: ByKey, Key: func(n int) string { return []string{"a", "b"}[n%2] }})
			require.NoError(t, err)
			var invs []*Invocation[int]
			for n := range 12 {
				inv, err := task.Submit(context.Background(), n)
				require.NoError(t, err)
				invs = append(invs, inv)
			}
			for n, inv := range invs {
				out, err := inv.Wait(context.Background())
				if n%3 == 0 {
					tt.check(t, err)
					require.Equal(t, Failed, inv.State())
					continue
				}
				require.NoError(t, err)
				require.Equal(t, n, out)
			}
			require.EqualValues(t, 12, ran.Load())
			st := s.Stats()
			require.EqualValues(t, 4, st.Failed)
			require.EqualValues(t, 8, st.Succeeded)
		})
	}
}

// A panicking OnEvent hook is counted and logged; no state is lost.
func TestHookPanic(t *testing.T) {
	var calls atomic.Int64
	s := newScheduler(t, Config{OnEvent: func(Event) {
		calls.Add(1)
		panic("hook")
	}})
	task := newTask(t, s, "t", newProbe(), Options[call]{Running: ByKey, Key: keyOf})
	inv := submit(t, task, "a", 1)
	out, err := wait(t, inv)
	require.NoError(t, err)
	require.Equal(t, "a-done", out)
	require.EqualValues(t, 4, calls.Load(), "Queued, Pending, Running, Succeeded")
	require.EqualValues(t, 4, s.Stats().HookPanics)
}

// Events come in order for each invocation, with the final error, and a
// deduplicated submission shows as a Deduped event.
func TestEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		s := newScheduler(t, Config{OnEvent: rec.add})
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "refresh", p, Options[call]{
			Running: ByKey, Registration: ByKey, Key: keyOf, OnBusy: Wait,
		})
		drop := newTask(t, s, "drop", p, Options[call]{Running: ByKey, Key: keyOf, OnBusy: Drop})
		first := submit(t, task, "a", 1)
		synctest.Wait()
		second := submit(t, task, "a", 2)
		require.Same(t, second, submit(t, task, "a", 3))
		d1 := submit(t, drop, "a", 1)
		synctest.Wait()
		d2 := submit(t, drop, "a", 2)
		close(p.gate)
		for _, inv := range []*Invocation[string]{first, second, d1, d2} {
			_, _ = wait(t, inv)
		}
		synctest.Wait()

		want := map[uint64][]State{
			first.ID():  {Queued, Pending, Running, Succeeded},
			second.ID(): {Queued, Pending, Running, Succeeded},
			d1.ID():     {Queued, Pending, Running, Succeeded},
			d2.ID():     {Queued, Dropped},
		}
		for id, states := range want {
			require.Equal(t, states, rec.states(id), "invocation %d", id)
		}
		evs := rec.all()
		for i := 1; i < len(evs); i++ {
			require.False(t, evs[i].Time.Before(evs[i-1].Time), "event times go forward")
		}
		var dedupes, dropped int
		for _, ev := range evs {
			require.Equal(t, "a", ev.Key)
			if ev.Deduped {
				dedupes++
				require.Equal(t, second.ID(), ev.ID)
				require.Equal(t, "refresh", ev.Task)
			}
			if ev.State == Dropped {
				dropped++
				require.ErrorIs(t, ev.Err, ErrDropped)
				require.Equal(t, "drop", ev.Task)
			}
		}
		require.Equal(t, 1, dedupes)
		require.Equal(t, 1, dropped)
	})
}
