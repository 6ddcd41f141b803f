package scheduler_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// submitted is what a Submit started in the background returned.
type submitted struct {
	inv *Invocation[string]
	err error
}

// submitLater starts task.Submit(ctx, c) in a goroutine and returns where
// its result arrives; the test must receive it.
func submitLater(task *Task[call, string], ctx context.Context, c call) <-chan submitted {
	ch := make(chan submitted, 1)
	go func() {
		inv, err := task.Submit(ctx, c)
		ch <- submitted{inv, err}
	}()
	return ch
}

// Options.MaxQueued with OnFull Reject: a key holds at most MaxQueued
// invocations waiting (Queued or Pending, not Running); one more fails
// with ErrFull at once and creates nothing; other keys are not affected;
// a place comes back when an invocation starts.
func TestMaxQueuedPerKeyReject(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf, MaxQueued: 2, OnFull: Reject})
		running := submit(t, task, "a", 1) // runs: takes no place once it has started
		synctest.Wait()
		q1, q2 := submit(t, task, "a", 2), submit(t, task, "a", 3)
		before := s.Stats().Submitted
		inv, err := task.Submit(context.Background(), call{"a", 4})
		require.ErrorIs(t, err, ErrFull)
		require.Nil(t, inv)
		require.ErrorContains(t, err, `task "t": MaxQueued 2 reached for key "a"`)
		require.Equal(t, before, s.Stats().Submitted, "nothing was created")
		other := submit(t, task, "b", 5) // another key has its own places
		synctest.Wait()
		require.Equal(t, []State{Running, Queued, Queued, Running}, states(running, q1, q2, other))
		require.Equal(t, KeyStats{Task: "t", Key: "a", Queued: 2, Running: 1}, s.Key("t", "a"))

		p.gate <- struct{}{} // one of the two running returns
		p.gate <- struct{}{}
		synctest.Wait()
		require.Equal(t, Running, q1.State(), "started: its place is free")
		q3 := submit(t, task, "a", 6)
		_, err = task.Submit(context.Background(), call{"a", 7})
		require.ErrorIs(t, err, ErrFull)
		close(p.gate)
		for _, inv := range []*Invocation[string]{running, q1, q2, other, q3} {
			_, err := wait(t, inv)
			require.NoError(t, err)
		}
		st := s.Stats()
		require.EqualValues(t, 5, st.Submitted)
		require.EqualValues(t, 5, st.Succeeded)
	})
}

// Options.MaxQueued with OnFull Block (the zero value): a Submit that finds
// the key full waits for room and then submits; if its ctx ends first it
// fails with ErrCanceled and the cause, and if Close comes first with
// ErrClosed; either way it created nothing.
func TestMaxQueuedPerKeyBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf, MaxQueued: 1})
		running := submit(t, task, "a", 1)
		synctest.Wait()
		queued := submit(t, task, "a", 2)

		blocked := submitLater(task, context.Background(), call{"a", 3})
		synctest.Wait()
		requireBlocked(t, blocked, "Submit on a full key")
		require.EqualValues(t, 2, s.Stats().Submitted)
		p.gate <- struct{}{} // running returns, queued starts: a place frees
		got := <-blocked
		require.NoError(t, got.err)
		synctest.Wait()
		require.Equal(t, []State{Succeeded, Running, Queued}, states(running, queued, got.inv))

		// Its ctx ends while it waits.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		inv, err := task.Submit(ctx, call{"a", 4})
		require.ErrorIs(t, err, ErrCanceled)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorContains(t, err, `task "t"`)
		require.Nil(t, inv)
		require.Equal(t, time.Second, time.Since(start), "waited until its ctx ended")

		// Close comes while it waits.
		blocked = submitLater(task, context.Background(), call{"a", 5})
		synctest.Wait()
		requireBlocked(t, blocked, "Submit on a full key")
		closed := closeErr(s, context.Background())
		got = <-blocked
		require.ErrorIs(t, got.err, ErrClosed)
		require.Nil(t, got.inv)
		close(p.gate)
		require.NoError(t, <-closed)
		st := s.Stats()
		require.EqualValues(t, 3, st.Submitted, "the failed Submits created nothing")
		require.EqualValues(t, 3, st.Succeeded)
	})
}

// Without a Running scope, Options.MaxQueued bounds the whole task.
func TestMaxQueuedPerTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 1})
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "t", p, Options[call]{MaxQueued: 2, OnFull: Reject})
		invs := []*Invocation[string]{submit(t, task, "a", 1)}
		synctest.Wait()
		invs = append(invs, submit(t, task, "b", 2), submit(t, task, "c", 3))
		_, err := task.Submit(context.Background(), call{"d", 4})
		require.ErrorIs(t, err, ErrFull)
		require.ErrorContains(t, err, "MaxQueued 2 reached for the task")
		close(p.gate)
		for _, inv := range invs {
			_, err := wait(t, inv)
			require.NoError(t, err)
		}
	})
}

// Config.MaxQueued bounds the invocations waiting in the whole scheduler,
// across tasks and keys; running ones do not count, and a deduplicated
// Submit needs no room.
func TestMaxQueuedGlobal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 1, MaxQueued: 3, OnFull: Reject})
		p := newProbe()
		p.gate = make(chan struct{})
		keyed := newTask(t, s, "keyed", p, Options[call]{Running: ByKey, Key: keyOf})
		free := newTask(t, s, "free", p, Options[call]{})
		dedupe := newTask(t, s, "dedupe", p, Options[call]{Registration: ByKey, Key: keyOf})
		invs := []*Invocation[string]{submit(t, keyed, "a", 1)} // runs
		synctest.Wait()
		d := submit(t, dedupe, "x", 2)
		invs = append(invs, d, submit(t, keyed, "a", 3), submit(t, free, "", 4))
		require.Equal(t, 3, s.Stats().Queued+s.Stats().Pending)
		for _, try := range []func() error{
			func() error { _, err := keyed.Submit(context.Background(), call{"b", 5}); return err },
			func() error { _, err := free.Submit(context.Background(), call{"", 6}); return err },
			func() error { _, err := dedupe.Submit(context.Background(), call{"y", 7}); return err },
		} {
			err := try()
			require.ErrorIs(t, err, ErrFull)
			require.ErrorContains(t, err, "Config.MaxQueued 3 reached")
		}
		require.Same(t, d, submit(t, dedupe, "x", 8), "deduplicated: no room needed")
		p.gate <- struct{}{} // the running one returns, the next starts
		synctest.Wait()
		invs = append(invs, submit(t, keyed, "b", 9))
		close(p.gate)
		for _, inv := range invs {
			_, err := wait(t, inv)
			require.NoError(t, err)
		}
		st := s.Stats()
		require.EqualValues(t, 6, st.Submitted)
		require.EqualValues(t, 1, st.Deduped)
		require.EqualValues(t, 5, st.Succeeded)
	})
}

// A Replace task's Submit is never held back by its key's MaxQueued: it
// takes the place of the invocation it replaces.
func TestMaxQueuedReplace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		windDown := make(chan struct{})
		task, err := NewTask(s, "t", func(ctx context.Context, n int) (int, error) {
			if n == 1 {
				<-windDown // ignores its ctx for a while
			}
			return n, nil
		}, Options[int]{Running: ByKey, Key: func(int) string { return "k" }, OnBusy: Replace, MaxQueued: 1, OnFull: Reject})
		require.NoError(t, err)
		first, err := task.Submit(context.Background(), 1)
		require.NoError(t, err)
		synctest.Wait()
		second, err := task.Submit(context.Background(), 2)
		require.NoError(t, err)
		third, err := task.Submit(context.Background(), 3) // the key is full, but third replaces second
		require.NoError(t, err)
		synctest.Wait()
		requireFinal(t, second, Canceled, ErrReplaced)
		require.Equal(t, KeyStats{Task: "t", Key: "k", Queued: 1, Running: 1}, s.Key("t", "k"))
		close(windDown)
		out, err := third.Wait(context.Background())
		require.NoError(t, err)
		require.Equal(t, 3, out)
		requireFinal(t, first, Canceled, ErrReplaced)
	})
}

// Many submitters blocked on small bounds lose nothing: every Submit ends
// with an invocation that runs, and the books balance.
func TestMaxQueuedBlockUnderLoad(t *testing.T) {
	const (
		submitters = 8
		perWorker  = 2000
	)
	s := newScheduler(t, Config{MaxParallel: 4, MaxQueued: 16})
	var running, maxRunning atomic.Int64
	task, err := NewTask(s, "t", func(_ context.Context, c call) (int, error) {
		n := running.Add(1)
		for m := maxRunning.Load(); n > m && !maxRunning.CompareAndSwap(m, n); m = maxRunning.Load() {
		}
		running.Add(-1)
		return c.N, nil
	}, Options[call]{Running: ByKey, Key: keyOf, MaxQueued: 2})
	require.NoError(t, err)
	var wg sync.WaitGroup
	var ran atomic.Int64
	for w := range submitters {
		wg.Go(func() {
			for i := range perWorker {
				inv, err := task.Submit(context.Background(), call{string(rune('a' + (w+i)%5)), i})
				if err != nil {
					t.Error(err)
					return
				}
				if i%64 == 0 {
					if _, err := inv.Wait(context.Background()); err != nil {
						t.Error(err)
						return
					}
				}
				ran.Add(1)
			}
		})
	}
	wg.Wait()
	require.NoError(t, s.Close(context.Background()))
	st := s.Stats()
	require.EqualValues(t, submitters*perWorker, ran.Load())
	require.EqualValues(t, submitters*perWorker, st.Submitted)
	require.EqualValues(t, submitters*perWorker, st.Succeeded)
	require.LessOrEqual(t, maxRunning.Load(), int64(4))
}

// Config.MaxQueued with OnFull Block (the zero value): a blocked Submit
// gets in when an invocation starts, gives up with ErrCanceled when its
// ctx ends, and with ErrClosed when Close is called.
func TestMaxQueuedGlobalBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 1, MaxQueued: 1})
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "t", p, Options[call]{})
		running := submit(t, task, "a", 1)
		synctest.Wait()
		pending := submit(t, task, "b", 2)

		blocked := submitLater(task, context.Background(), call{"c", 3})
		synctest.Wait()
		requireBlocked(t, blocked, "Submit on a full scheduler")
		p.gate <- struct{}{} // running returns, pending starts
		got := <-blocked
		require.NoError(t, got.err)

		ctx, cancel := context.WithCancel(context.Background())
		blocked = submitLater(task, ctx, call{"d", 4})
		synctest.Wait()
		requireBlocked(t, blocked, "Submit on a full scheduler")
		cancel()
		canceledSubmit := <-blocked
		require.ErrorIs(t, canceledSubmit.err, ErrCanceled)
		require.ErrorIs(t, canceledSubmit.err, context.Canceled)
		require.ErrorContains(t, canceledSubmit.err, "Config.MaxQueued 1")

		blocked = submitLater(task, context.Background(), call{"e", 5})
		synctest.Wait()
		requireBlocked(t, blocked, "Submit on a full scheduler")
		closed := closeErr(s, context.Background())
		closedSubmit := <-blocked
		require.ErrorIs(t, closedSubmit.err, ErrClosed)
		close(p.gate)
		require.NoError(t, <-closed)
		for _, inv := range []*Invocation[string]{running, pending, got.inv} {
			requireFinal(t, inv, Succeeded)
		}
		require.EqualValues(t, 3, s.Stats().Submitted)
	})
}
