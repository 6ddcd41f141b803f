package scheduler_test

// Edge cases found in review: a hook that Goexits on the dispatcher with
// deadlines pending, and a replacement that races the start of the job it
// replaces.

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// A hook that Goexits on the dispatcher for the Queued event of the first
// job with a MaxWait: is its deadline armed?
func TestHookGoexitKeepsDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var once atomic.Bool
		s, err := New(Config{OnEvent: func(ev Event) {
			if ev.Task == "target" && ev.State == Queued && once.CompareAndSwap(false, true) {
				runtime.Goexit()
			}
		}})
		require.NoError(t, err)
		gate := make(chan struct{})
		key := func(int) string { return "k" }
		blocker, err := NewTask(s, "blocker", func(context.Context, int) (int, error) { <-gate; return 0, nil },
			Options[int]{Running: ByKey, Key: key, Group: "g"})
		require.NoError(t, err)
		target, err := NewTask(s, "target", func(context.Context, int) (int, error) { return 1, nil },
			Options[int]{Running: ByKey, Key: key, Group: "g", MaxWait: time.Second})
		require.NoError(t, err)
		_, err = blocker.Submit(context.Background(), 0)
		require.NoError(t, err)
		time.Sleep(3 * time.Second) // the tidy timer has come and gone
		inv, err := target.Submit(context.Background(), 1)
		require.NoError(t, err)
		time.Sleep(5 * time.Second)
		st := inv.State()
		close(gate)
		require.NoError(t, s.Close(context.Background()))
		require.Equal(t, Expired, st, "MaxWait passed 4s ago")
	})
}

// Replace racing a worker's start: is the old invocation always cancelled?
// The old one can only end by its ctx: it waits far longer than a loaded
// machine delays a cancel (10s), which only a cancel that never comes
// outlasts; the loop stops at the first such one.
func TestReplaceRacesStart(t *testing.T) {
	s, err := New(Config{MaxParallel: 4})
	require.NoError(t, err)
	defer s.Close(context.Background())
	var uncancelled atomic.Int64
	task, err := NewTask(s, "t", func(ctx context.Context, n int) (int, error) {
		if n%2 == 1 {
			return n, nil // the newer one
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Second):
			uncancelled.Add(1)
			return n, nil
		}
	}, Options[int]{Running: ByKey, Key: func(int) string { return "k" }, OnBusy: Replace})
	require.NoError(t, err)
	outcomes := map[State]int{}
	for i := range 20000 {
		old, err := task.Submit(context.Background(), 2*i)
		require.NoError(t, err)
		for j := 0; j < i%7; j++ {
			runtime.Gosched()
		}
		newer, err := task.Submit(context.Background(), 2*i+1)
		require.NoError(t, err)
		<-old.Done()
		<-newer.Done()
		outcomes[old.State()]++
		if uncancelled.Load() > 0 {
			break
		}
	}
	t.Logf("old: %v; ran to the end without cancellation: %d", outcomes, uncancelled.Load())
	require.Zero(t, uncancelled.Load())
}
