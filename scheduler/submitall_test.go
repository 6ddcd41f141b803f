package scheduler_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// A batch crosses to the dispatcher in one message, yet each invocation is
// routed as if submitted alone: consecutive IDs, its own Queued event, FIFO
// per key, serial per key.
func TestSubmitAllRoutesEachInvocation(t *testing.T) {
	rec := &recorder{}
	s := newScheduler(t, Config{MaxParallel: 3, OnEvent: rec.add})
	p := newProbe()
	task := newTask(t, s, "all", p, Options[call]{Running: ByKey, Key: keyOf})
	batch := make([]call, 300)
	for i := range batch {
		batch[i] = call{fmt.Sprint("k", i%7), i}
	}
	invs, err := task.SubmitAll(context.Background(), batch)
	require.NoError(t, err)
	require.Len(t, invs, len(batch))
	for i, inv := range invs {
		got, err := wait(t, inv)
		require.NoError(t, err)
		require.Equal(t, batch[i].Key+"-done", got)
		require.Equal(t, invs[0].ID()+uint64(i), inv.ID(), "consecutive IDs, in order")
		require.Equal(t, []State{Queued, Pending, Running, Succeeded}, rec.states(inv.ID()))
	}
	_, maxPerKey, maxGlobal, started := p.snapshot()
	require.Equal(t, 1, maxPerKey)
	require.LessOrEqual(t, maxGlobal, 3)
	next := map[string]int{}
	for _, c := range started {
		require.GreaterOrEqual(t, c.N, next[c.Key], "key %s out of order", c.Key)
		next[c.Key] = c.N
	}
}

// A batch under a ctx that ends: what still waits ends Canceled; the rest
// is unaffected.
func TestSubmitAllCtxEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 1})
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "all", p, Options[call]{Running: ByKey, Key: keyOf})
		ctx, cancel := context.WithCancel(context.Background())
		invs, err := task.SubmitAll(ctx, []call{{"a", 1}, {"a", 2}, {"b", 3}})
		require.NoError(t, err)
		synctest.Wait()
		require.Equal(t, []State{Running, Queued, Pending}, states(invs...))
		cancel()
		synctest.Wait()
		require.Equal(t, []State{Running, Canceled, Canceled}, states(invs...))
		close(p.gate)
		_, err = wait(t, invs[0])
		require.NoError(t, err)
		_, err = wait(t, invs[1])
		require.ErrorIs(t, err, ErrCanceled)
	})
}

// After Close, SubmitAll creates nothing; with a Registration scope or a
// bound it submits one by one, with Submit's rules.
func TestSubmitAllFallsBack(t *testing.T) {
	s := newScheduler(t, Config{})
	p := newProbe()
	dedupe := newTask(t, s, "dedupe", p, Options[call]{Running: ByKey, Registration: ByKey, Key: keyOf})
	bounded := newTask(t, s, "bounded", p, Options[call]{Running: ByKey, Key: keyOf, MaxQueued: 2, OnFull: Reject})
	p.gate = make(chan struct{})

	invs, err := dedupe.SubmitAll(context.Background(), []call{{"a", 1}, {"a", 2}, {"b", 3}})
	require.NoError(t, err)
	require.Len(t, invs, 3)
	require.Same(t, invs[0], invs[1], "absorbed by the first")

	invs, err = bounded.SubmitAll(context.Background(), []call{{"x", 1}, {"x", 2}, {"x", 3}, {"x", 4}})
	close(p.gate)
	require.ErrorIs(t, err, ErrFull)
	// Two waiting, and a third if the first started meanwhile: the rest
	// is refused.
	require.GreaterOrEqual(t, len(invs), 2)
	require.LessOrEqual(t, len(invs), 3)
	for _, inv := range invs {
		_, err := wait(t, inv)
		require.NoError(t, err)
	}

	require.NoError(t, s.Close(context.Background()))
	before := s.Stats().Submitted
	invs, err = bounded.SubmitAll(context.Background(), []call{{"y", 1}})
	require.ErrorIs(t, err, ErrClosed)
	require.Empty(t, invs)
	invs, err = dedupe.SubmitAll(context.Background(), []call{{"z", 1}})
	require.ErrorIs(t, err, ErrClosed)
	require.Empty(t, invs)
	task := newTaskAfterClose(t, s)
	require.Nil(t, task)
	require.Equal(t, before, s.Stats().Submitted)
}

func newTaskAfterClose(t *testing.T, s *Scheduler) *Task[call, string] {
	t.Helper()
	task, err := NewTask(s, "late", newProbe().fn, Options[call]{})
	require.ErrorIs(t, err, ErrClosed)
	return task
}

// A hook that calls runtime.Goexit on the dispatcher in the middle of a
// batch loses nothing: the next dispatcher routes the rest.
func TestSubmitAllSurvivesGoexitInHook(t *testing.T) {
	var exited bool
	s := newScheduler(t, Config{OnEvent: func(ev Event) {
		if ev.State == Queued && ev.Key == "k2" && !exited {
			exited = true // the dispatcher calls Queued hooks one at a time
			runtime.Goexit()
		}
	}})
	task := newTask(t, s, "all", newProbe(), Options[call]{Running: ByKey, Key: keyOf})
	batch := make([]call, 10)
	for i := range batch {
		batch[i] = call{fmt.Sprint("k", i), i}
	}
	invs, err := task.SubmitAll(context.Background(), batch)
	require.NoError(t, err)
	for _, inv := range invs {
		_, err := wait(t, inv)
		require.NoError(t, err)
	}
	require.True(t, exited)
}

// A batch costs a few allocations in all: well under one per invocation,
// Wait included. Checked exactly, without the race detector.
func TestSubmitAllAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop what it keeps")
	}
	s := newScheduler(t, Config{MaxParallel: 2})
	task, err := NewTask(s, "all", func(_ context.Context, c call) (int, error) { return c.N, nil },
		Options[call]{Running: ByKey, Key: keyOf})
	require.NoError(t, err)
	const n = 64
	batch := make([]call, n)
	for i := range batch {
		batch[i] = call{fmt.Sprint("k", i%8), i}
	}
	one := func() {
		invs, err := task.SubmitAll(context.Background(), batch)
		if err != nil {
			panic(err)
		}
		for _, inv := range invs {
			if _, err := inv.Wait(context.Background()); err != nil {
				panic(err)
			}
		}
	}
	for range 100 {
		one()
	}
	// The invocations, their handles, the message, and now and then a
	// worker goroutine: a handful per batch, far below one per invocation.
	require.LessOrEqual(t, testing.AllocsPerRun(200, one), 8.0)
}
