package scheduler_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// Lost wakeups: on real goroutines, a waiter that gives up and the end it
// waits for race each other, over and over. Whoever wins, no waiter that
// stays is left hanging, no invocation is left unfinished, and a key is
// never left busy.

// race runs a and b at once, as close together as goroutines allow.
func race(a, b func()) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { <-start; a() })
	wg.Go(func() { <-start; b() })
	close(start)
	wg.Wait()
}

// Wait's ctx ends as the invocation ends: Wait returns one or the other,
// the invocation ends all the same, and every waiter that did not give up
// (on Wait or on Done, made before or after the end) gets the result.
func TestWaitCancelRacesCompletion(t *testing.T) {
	s := newScheduler(t, Config{MaxParallel: 4})
	release := make(chan chan struct{}, 1)
	task, err := NewTask(s, "t", func(_ context.Context, n int) (int, error) {
		gate := make(chan struct{})
		release <- gate
		<-gate
		return n, nil
	}, Options[int]{Running: ByKey, Key: func(int) string { return "k" }, OnBusy: Drop})
	require.NoError(t, err)

	for i := range 500 {
		inv, err := task.Submit(context.Background(), i)
		require.NoError(t, err, "round %d: the key was left busy", i)
		gate := <-release
		var (
			wg     sync.WaitGroup
			gaveUp atomic.Int64
		)
		ctx, cancel := context.WithCancel(context.Background())
		for w := range 8 {
			wg.Go(func() {
				switch w % 4 {
				case 0: // gives up as the end comes
					v, err := inv.Wait(ctx)
					if err != nil {
						assert.ErrorIs(t, err, context.Canceled)
						gaveUp.Add(1)
						return
					}
					assert.Equal(t, i, v)
				case 1: // waits for good
					v, err := inv.Wait(context.Background())
					assert.NoError(t, err)
					assert.Equal(t, i, v)
				case 2: // on Done, made before the end
					<-inv.Done()
				case 3: // on Done, made as the end comes
					select {
					case <-inv.Done():
					case <-ctx.Done():
						gaveUp.Add(1)
					}
				}
			})
		}
		race(cancel, func() { close(gate) })
		wg.Wait()
		<-inv.Done()
		require.Equal(t, Succeeded, inv.State())
		v, err := inv.Wait(ctx) // final: the result wins over an ended ctx
		require.NoError(t, err)
		require.Equal(t, i, v)
	}
}

// A Submit ctx that ends as the invocation is about to start, Queued
// behind its key or Pending for a slot: it either runs (and ends
// Succeeded) or never runs (and ends Canceled); its key is free afterwards.
func TestSubmitCancelRacesStart(t *testing.T) {
	for _, where := range []string{"Queued", "Pending"} {
		t.Run(where, func(t *testing.T) {
			s := newScheduler(t, Config{MaxParallel: 1})
			var ran sync.Map
			blockers := make(chan chan struct{}, 1)
			task, err := NewTask(s, "t", func(_ context.Context, c call) (int, error) {
				ran.Store(c, true)
				if c.N < 0 {
					gate := make(chan struct{})
					blockers <- gate
					<-gate
				}
				return c.N, nil
			}, Options[call]{Running: ByKey, Key: keyOf, Group: "g"})
			require.NoError(t, err)
			// The probe shares the task's keys (a Group) and drops when busy.
			probe, err := NewTask(s, "probe", func(_ context.Context, c call) (int, error) { return 0, nil },
				Options[call]{Running: ByKey, Key: keyOf, Group: "g", OnBusy: Drop})
			require.NoError(t, err)

			outcomes := map[State]int{}
			for i := range 400 {
				blocker := submit2(t, task, context.Background(), call{"x", -1 - i})
				gate := <-blockers
				key := "x" // Queued behind the blocker
				if where == "Pending" {
					key = fmt.Sprint("y", i) // its key is free; the one slot is not
				}
				ctx, cancel := context.WithCancel(context.Background())
				target := submit2(t, task, ctx, call{key, i})
				race(cancel, func() { close(gate) })
				for _, inv := range []*Invocation[int]{blocker, target} {
					<-inv.Done()
				}
				_, didRun := ran.Load(call{key, i})
				switch target.State() {
				case Succeeded:
					require.True(t, didRun)
				case Canceled:
					require.False(t, didRun, "round %d: a Canceled invocation ran", i)
				default:
					t.Fatalf("round %d: %v", i, target.State())
				}
				outcomes[target.State()]++
				// Done means the key has moved on: a Drop task finds it free.
				p, err := probe.Submit(context.Background(), call{key, 0})
				require.NoError(t, err)
				_, err = p.Wait(context.Background())
				require.NoError(t, err, "round %d: key %s left busy", i, key)
			}
			t.Logf("%v", outcomes)
			st := s.Stats()
			require.Zero(t, st.Dropped)
		})
	}
}

func submit2[A any](t *testing.T, task *Task[A, int], ctx context.Context, a A) *Invocation[int] {
	t.Helper()
	inv, err := task.Submit(ctx, a)
	require.NoError(t, err)
	return inv
}

// A Submit ctx that ends while Submit is still handing the invocation to
// the dispatcher, from another goroutine: the invocation ends Canceled or
// runs, and never hangs.
func TestSubmitCancelRacesRouting(t *testing.T) {
	s := newScheduler(t, Config{MaxParallel: 2})
	task, err := NewTask(s, "t", func(_ context.Context, n int) (int, error) { return n, nil },
		Options[int]{Running: ByKey, Key: func(n int) string { return fmt.Sprint(n % 3) }, MaxWait: time.Second})
	require.NoError(t, err)
	var invs []*Invocation[int]
	for i := range 2000 {
		ctx, cancel := context.WithCancel(context.Background())
		var inv *Invocation[int]
		race(cancel, func() {
			var err error
			inv, err = task.Submit(ctx, i)
			if err != nil { // the ctx ended before Submit looked at it
				assert.ErrorIs(t, err, ErrCanceled)
			}
		})
		if inv != nil {
			invs = append(invs, inv)
		}
	}
	for _, inv := range invs {
		<-inv.Done()
		require.Contains(t, []State{Succeeded, Canceled}, inv.State())
	}
	require.Zero(t, s.Stats().Actors)
}

// MaxWait passes as the invocation is about to start: it either runs or
// ends Expired, never both, and the key moves on.
func TestMaxWaitRacesStart(t *testing.T) {
	s := newScheduler(t, Config{MaxParallel: 1})
	blockers := make(chan chan struct{}, 1)
	var ran sync.Map
	fn := func(_ context.Context, n int) (int, error) {
		ran.Store(n, true)
		if n < 0 {
			gate := make(chan struct{})
			blockers <- gate
			<-gate
		}
		return n, nil
	}
	// One key for both tasks, through a Group; only the target's task has
	// a MaxWait, so that a slow start under -race cannot expire a blocker.
	opts := Options[int]{Running: ByKey, Key: func(int) string { return "k" }, Group: "g"}
	blocking, err := NewTask(s, "blocker", fn, opts)
	require.NoError(t, err)
	opts.MaxWait = 200 * time.Microsecond
	task, err := NewTask(s, "t", fn, opts)
	require.NoError(t, err)
	outcomes := map[State]int{}
	for i := range 300 {
		blocker := submit2(t, blocking, context.Background(), -1-i)
		gate := <-blockers
		target := submit2(t, task, context.Background(), i) // expires soon
		// Not a synchronization: open the gate at varying moments around
		// the deadline, so that both outcomes happen.
		<-time.After(time.Duration(i%5) * 100 * time.Microsecond)
		close(gate)
		<-blocker.Done()
		<-target.Done()
		_, didRun := ran.Load(i)
		switch target.State() {
		case Succeeded:
			require.True(t, didRun)
		case Expired:
			require.False(t, didRun, "round %d: an Expired invocation ran", i)
		default:
			t.Fatalf("round %d: %v", i, target.State())
		}
		outcomes[target.State()]++
	}
	t.Logf("%v", outcomes)
	require.Zero(t, s.Stats().Actors)
}

// A Replace submission arrives as the running invocation returns: the old
// one ends Succeeded (it returned first) or Canceled (it was replaced),
// and the new one runs either way.
func TestReplaceRacesCompletion(t *testing.T) {
	s := newScheduler(t, Config{})
	release := make(chan chan struct{}, 1)
	task, err := NewTask(s, "t", func(ctx context.Context, n int) (int, error) {
		gate := make(chan struct{})
		release <- gate
		select {
		case <-gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		return n, nil
	}, Options[int]{Running: ByKey, Key: func(int) string { return "k" }, OnBusy: Replace})
	require.NoError(t, err)
	outcomes := map[State]int{}
	for i := range 300 {
		old := submit2(t, task, context.Background(), 2*i)
		gate := <-release
		var newer *Invocation[int]
		race(func() { close(gate) }, func() { newer = submit2(t, task, context.Background(), 2*i+1) })
		close(<-release) // the newer one's gate, once it runs
		<-old.Done()
		outcomes[old.State()]++
		require.Contains(t, []State{Succeeded, Canceled}, old.State())
		v, err := newer.Wait(context.Background())
		require.NoError(t, err)
		require.Equal(t, 2*i+1, v)
	}
	t.Logf("the older one: %v", outcomes)
	require.Equal(t, 300, outcomes[Succeeded]+outcomes[Canceled])
}
