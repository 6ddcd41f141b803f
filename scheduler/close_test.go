package scheduler_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// Close lets queued and running work finish, then refuses more.
func TestCloseDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{MaxParallel: 3})
		require.NoError(t, err)
		p := newProbe()
		p.hold = 100 * time.Millisecond
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf})
		var invs []*Invocation[string]
		for i := range 12 {
			invs = append(invs, submit(t, task, []string{"a", "b", "c"}[i%3], i))
		}
		start := time.Now()
		require.NoError(t, s.Close(context.Background()))
		require.Equal(t, 400*time.Millisecond, time.Since(start), "4 serial calls of 100ms per key")
		for _, inv := range invs {
			require.Equal(t, Succeeded, inv.State())
		}
		_, err = task.Submit(context.Background(), call{"a", 99})
		require.ErrorIs(t, err, ErrClosed)
		_, err = NewTask(s, "late", p.fn, Options[call]{})
		require.ErrorIs(t, err, ErrClosed)
		require.NoError(t, s.Close(context.Background()), "closing twice is safe")
		requireBalanced(t, s.Stats())
	})
}

// When Close's ctx ends first, running tasks are cancelled and waiting work
// ends Canceled with ErrClosed; Close still joins every goroutine.
func TestCloseDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{MaxParallel: 2})
		require.NoError(t, err)
		p := newProbe()
		p.gate = make(chan struct{}) // never released: only ctx ends the runs
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf})
		var invs []*Invocation[string]
		for i := range 9 {
			invs = append(invs, submit(t, task, []string{"a", "b", "c"}[i%3], i))
		}
		synctest.Wait() // a and b run, c is Pending, the rest Queued
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = s.Close(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.NotErrorIs(t, err, ErrLeaked)
		require.Equal(t, 50*time.Millisecond, time.Since(start))

		var running, waiting int
		for _, inv := range invs {
			_, err := wait(t, inv)
			switch inv.State() {
			case Failed: // it was running: its task saw ctx end
				running++
				require.ErrorIs(t, err, context.Canceled)
			case Canceled:
				waiting++
				require.ErrorIs(t, err, ErrCanceled)
				require.ErrorIs(t, err, ErrClosed)
			default:
				t.Fatalf("unexpected state %v", inv.State())
			}
		}
		require.Equal(t, 2, running)
		require.Equal(t, 7, waiting)
		runs, _, _, _ := p.snapshot()
		require.Equal(t, 2, runs, "cancelled work never starts")
		requireBalanced(t, s.Stats())
	})
}

// A task that ignores its ctx cannot hold Close forever: Close gives up
// CloseGrace after its ctx ends and names the task; a later Close joins
// the worker once the task returns.
func TestCloseLeakedTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{CloseGrace: 200 * time.Millisecond})
		require.NoError(t, err)
		release := make(chan struct{})
		task, err := NewTask(s, "stubborn", func(context.Context, string) (int, error) {
			<-release // ignores its ctx
			return 0, nil
		}, Options[string]{Running: ByKey, Key: func(k string) string { return k }})
		require.NoError(t, err)
		inv, err := task.Submit(context.Background(), "acme")
		require.NoError(t, err)
		synctest.Wait()

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = s.Close(ctx)
		require.Equal(t, 300*time.Millisecond, time.Since(start))
		require.ErrorIs(t, err, ErrLeaked)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorContains(t, err, `task "stubborn" key "acme"`)
		require.Equal(t, Running, inv.State())

		close(release)
		require.NoError(t, s.Close(context.Background()))
		require.Equal(t, Succeeded, inv.State())
	})
}

func TestCloseTwiceConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{})
		require.NoError(t, err)
		p := newProbe()
		p.hold = time.Second
		task := newTask(t, s, "t", p, Options[call]{})
		inv := submit(t, task, "a", 1)
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() { assert.NoError(t, s.Close(context.Background())) })
		}
		wg.Wait()
		require.Equal(t, Succeeded, inv.State())
	})
}

// Submit racing with Close either fails with ErrClosed or returns an
// invocation that reaches a final state.
func TestCloseRacesSubmit(t *testing.T) {
	for range 20 {
		s, err := New(Config{MaxParallel: 4})
		require.NoError(t, err)
		var ran atomic.Int64
		task, err := NewTask(s, "t", func(_ context.Context, n int) (int, error) {
			ran.Add(1)
			return n, nil
		}, Options[int]{Running: ByKey, Registration: ByKey, Key: func(n int) string { return string(rune('a' + n%16)) }})
		require.NoError(t, err)

		var accepted, refused atomic.Int64
		invs := make(chan *Invocation[int], 1<<16)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 8 {
			wg.Go(func() {
				<-start
				for i := 0; ; i++ {
					inv, err := task.Submit(context.Background(), g*100000+i)
					if err != nil {
						assert.ErrorIs(t, err, ErrClosed)
						refused.Add(1)
						return
					}
					accepted.Add(1)
					select {
					case invs <- inv:
					default: // keep submitting; the count is checked below
					}
				}
			})
		}
		close(start)
		require.NoError(t, s.Close(context.Background()))
		wg.Wait()
		close(invs)
		for inv := range invs {
			require.True(t, inv.State().Final(), "state %v", inv.State())
		}
		require.EqualValues(t, 8, refused.Load())
		st := s.Stats()
		require.EqualValues(t, accepted.Load(), st.Submitted)
		require.EqualValues(t, ran.Load(), st.Succeeded)
		requireBalanced(t, st)
	}
}

func TestCloseNilContext(t *testing.T) {
	s := newScheduler(t, Config{})
	require.ErrorIs(t, s.Close(nil), ErrNilContext) //nolint:staticcheck // testing bad input
	task := newTask(t, s, "t", newProbe(), Options[call]{})
	_, err := wait(t, submit(t, task, "a", 1))
	require.NoError(t, err, "a nil ctx closes nothing")
}

// Cancelling waiting work on Close frees idle actors at once.
func TestCloseDeadlineFreesActors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{MaxParallel: 1})
		require.NoError(t, err)
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf})
		for i := range 100 {
			submit(t, task, string(rune('a'+i%26)), i)
		}
		synctest.Wait()
		require.Equal(t, 26, s.Stats().Actors)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.True(t, errors.Is(s.Close(ctx), context.Canceled))
		requireBalanced(t, s.Stats())
	})
}

// Once closed, Close returns nil whatever its ctx: nothing was cancelled.
func TestCloseAfterStopIgnoresCtx(t *testing.T) {
	s, err := New(Config{})
	require.NoError(t, err)
	require.NoError(t, s.Close(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 200 {
		require.NoError(t, s.Close(ctx))
	}
}
