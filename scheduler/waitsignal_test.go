package scheduler_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// Submit then Wait costs one allocation, the invocation: a Wait that comes
// before the end borrows the channel it sleeps on. Checked exactly,
// without the race detector.
func TestSubmitAndWaitAllocateOnce(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop what it keeps")
	}
	s := newScheduler(t, Config{MaxParallel: 2})
	gate := make(chan struct{})
	task, err := NewTask(s, "w", func(_ context.Context, c call) (int, error) {
		<-gate // so that Wait comes first and sleeps
		return c.N, nil
	}, Options[call]{Running: ByKey, Key: keyOf})
	require.NoError(t, err)
	// A goroutine of its own opens the gate, most often once Wait sleeps.
	kick := make(chan struct{})
	defer close(kick)
	go func() {
		for range kick {
			runtime.Gosched()
			gate <- struct{}{}
		}
	}()
	i := 0
	one := func() {
		inv, err := task.Submit(context.Background(), call{"k", i})
		if err != nil {
			panic(err)
		}
		kick <- struct{}{}
		if n, err := inv.Wait(context.Background()); err != nil || n != i {
			panic(err)
		}
		i++
	}
	for range 100 {
		one()
	}
	require.LessOrEqual(t, testing.AllocsPerRun(500, one), 1.0)
}

// Whoever waits, in whatever order (Waits that borrow a channel, Waits
// that give up, Done callers), is woken exactly when the invocation ends.
func TestWaitersMix(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, inv *Invocation[string], end func())
	}{
		{"one Wait", func(t *testing.T, inv *Invocation[string], end func()) {
			got := waitIn(inv, context.Background())
			synctest.Wait()
			require.Empty(t, got)
			end()
			require.Equal(t, "k-done", (<-got).v)
		}},
		{"Wait then Done", func(t *testing.T, inv *Invocation[string], end func()) {
			got := waitIn(inv, context.Background())
			synctest.Wait()
			done := inv.Done()
			require.True(t, done == inv.Done(), "the same channel on every call")
			synctest.Wait()
			require.Empty(t, got, "turning the borrowed channel into the job's own wakes nobody for good")
			end()
			<-done
			require.Equal(t, "k-done", (<-got).v)
		}},
		{"two Waits", func(t *testing.T, inv *Invocation[string], end func()) {
			a := waitIn(inv, context.Background())
			synctest.Wait()
			b := waitIn(inv, context.Background())
			synctest.Wait()
			require.Empty(t, a)
			require.Empty(t, b)
			end()
			require.Equal(t, "k-done", (<-a).v)
			require.Equal(t, "k-done", (<-b).v)
		}},
		{"Wait gives up, then Wait", func(t *testing.T, inv *Invocation[string], end func()) {
			ctx, cancel := context.WithCancel(context.Background())
			a := waitIn(inv, ctx)
			synctest.Wait()
			cancel()
			r := <-a
			require.ErrorIs(t, r.err, context.Canceled)
			b := waitIn(inv, context.Background())
			synctest.Wait()
			require.Empty(t, b)
			end()
			require.Equal(t, "k-done", (<-b).v)
		}},
		{"Wait gives up as it ends", func(t *testing.T, inv *Invocation[string], end func()) {
			ctx, cancel := context.WithCancel(context.Background())
			a := waitIn(inv, ctx)
			synctest.Wait()
			var wg sync.WaitGroup
			wg.Go(cancel)
			wg.Go(end)
			wg.Wait()
			r := <-a
			if r.err != nil {
				require.ErrorIs(t, r.err, context.Canceled)
			} else {
				require.Equal(t, "k-done", r.v)
			}
			require.Equal(t, "k-done", (<-waitIn(inv, context.Background())).v)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScheduler(t, Config{})
				p := newProbe()
				p.gate = make(chan struct{})
				task := newTask(t, s, "w", p, Options[call]{Running: ByKey, Key: keyOf})
				inv := submit(t, task, "k", 1)
				synctest.Wait()
				tc.run(t, inv, func() { close(p.gate); synctest.Wait() })
				// Every borrowed channel went back clean: the next
				// invocations' Waits sleep and wake as they should.
				p.gate = make(chan struct{})
				next := submit(t, task, "k", 2)
				got := waitIn(next, context.Background())
				synctest.Wait()
				require.Empty(t, got)
				close(p.gate)
				require.Equal(t, "k-done", (<-got).v)
			})
		})
	}
}

type waitResult struct {
	v   string
	err error
}

// waitIn calls Wait in a goroutine of its own and delivers its result.
func waitIn(inv *Invocation[string], ctx context.Context) <-chan waitResult {
	out := make(chan waitResult, 1)
	go func() {
		v, err := inv.Wait(ctx)
		out <- waitResult{v, err}
	}()
	return out
}
