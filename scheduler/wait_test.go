package scheduler_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// Work that ends while it waits ends at once, never runs, and frees its
// place: the Submit ctx and MaxWait, from Queued and from Pending.
func TestEndWhileWaiting(t *testing.T) {
	type ender struct {
		name  string
		opts  Options[call]
		ctx   func() (context.Context, func()) // the Submit ctx and how to end it
		after time.Duration                    // fake time until the end
		want  State
		err   error
	}
	cancelCtx := func() (context.Context, func()) {
		return context.WithCancel(context.Background())
	}
	background := func() (context.Context, func()) { return context.Background(), func() {} }
	enders := []ender{
		{"cancel", Options[call]{}, cancelCtx, 0, Canceled, context.Canceled},
		{"MaxWait", Options[call]{MaxWait: 150 * time.Millisecond}, background, 150 * time.Millisecond, Expired, ErrExpired},
	}
	places := []struct {
		name  string
		state State
	}{
		{"Queued", Queued},   // behind a running invocation of its key
		{"Pending", Pending}, // its key is free, no slot: MaxParallel 1 is taken by another key
	}
	for _, e := range enders {
		for _, pl := range places {
			t.Run(e.name+"/"+pl.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					s := newScheduler(t, Config{MaxParallel: 1})
					p := newProbe()
					p.gate = make(chan struct{})
					opts := e.opts
					opts.Running, opts.Key = ByKey, keyOf
					task := newTask(t, s, "t", p, opts)

					blocker := submit(t, task, "a", 0)
					key := "a"
					if pl.state == Pending {
						key = "b"
					}
					ctx, end := e.ctx()
					start := time.Now()
					inv, err := task.Submit(ctx, call{key, 1})
					require.NoError(t, err)
					synctest.Wait()
					require.Equal(t, pl.state, inv.State())

					time.Sleep(e.after)
					end()
					_, err = wait(t, inv)
					require.ErrorIs(t, err, e.err)
					require.Equal(t, e.want, inv.State())
					require.Equal(t, e.after, time.Since(start), "ended promptly")

					// Its place is free: the next submission for the key
					// waits only for what it would have waited for anyway.
					behind := submit(t, task, key, 2)
					synctest.Wait()
					require.Equal(t, pl.state, behind.State())
					close(p.gate)
					for _, inv := range []*Invocation[string]{blocker, behind} {
						_, err := wait(t, inv)
						require.NoError(t, err)
					}
					_, _, _, started := p.snapshot()
					require.NotContains(t, started, call{key, 1}, "ended work must not run")
					require.Contains(t, started, call{key, 2})
				})
			})
		}
	}
}

// MaxWait counts from Submit and applies only until the start: an
// invocation that starts in time runs to completion however long it takes.
func TestMaxWaitStartsInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		p := newProbe()
		p.hold = 100 * time.Millisecond
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf, MaxWait: 150 * time.Millisecond})
		first, second, third := submit(t, task, "a", 1), submit(t, task, "a", 2), submit(t, task, "a", 3)
		start := time.Now()
		_, err := wait(t, first)
		require.NoError(t, err)
		_, err = wait(t, second) // starts at 100ms < 150ms, ends at 200ms
		require.NoError(t, err)
		_, err = wait(t, third) // would start at 200ms: expired at 150ms
		require.ErrorIs(t, err, ErrExpired)
		require.Equal(t, 200*time.Millisecond, time.Since(start))
		st := s.Stats()
		require.EqualValues(t, 2, st.Succeeded)
		require.EqualValues(t, 1, st.Expired)
	})
}

func TestSubmitContext(t *testing.T) {
	t.Run("already cancelled", func(t *testing.T) {
		s := newScheduler(t, Config{})
		task := newTask(t, s, "t", newProbe(), Options[call]{})
		cause := errors.New("request gone")
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		inv, err := task.Submit(ctx, call{"a", 1})
		require.Nil(t, inv)
		require.ErrorIs(t, err, ErrCanceled)
		require.ErrorIs(t, err, cause)
		require.Zero(t, s.Stats().Submitted, "nothing created")
	})

	t.Run("cause is kept", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newScheduler(t, Config{})
			p := newProbe()
			p.gate = make(chan struct{})
			task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf})
			blocker := submit(t, task, "a", 0)
			cause := errors.New("client left")
			ctx, cancel := context.WithCancelCause(context.Background())
			inv, err := task.Submit(ctx, call{"a", 1})
			require.NoError(t, err)
			cancel(cause)
			_, err = wait(t, inv)
			require.ErrorIs(t, err, ErrCanceled)
			require.ErrorIs(t, err, cause)
			close(p.gate)
			_, err = wait(t, blocker)
			require.NoError(t, err)
		})
	})

	// The Submit ctx's values reach the running task; its cancellation
	// does not.
	t.Run("running task", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newScheduler(t, Config{})
			type ctxKey struct{}
			started, release := make(chan struct{}), make(chan struct{})
			var sawValue any
			var sawErr error
			task, err := NewTask(s, "t", func(ctx context.Context, _ int) (int, error) {
				sawValue = ctx.Value(ctxKey{})
				close(started)
				<-release
				sawErr = ctx.Err()
				return 1, nil
			}, Options[int]{})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "trace-42"))
			inv, err := task.Submit(ctx, 0)
			require.NoError(t, err)
			<-started
			cancel()
			synctest.Wait()
			close(release)
			out, err := inv.Wait(context.Background())
			require.NoError(t, err)
			require.Equal(t, 1, out)
			require.Equal(t, "trace-42", sawValue)
			require.NoError(t, sawErr, "Submit ctx cancellation must not reach a running task")
		})
	})
}
