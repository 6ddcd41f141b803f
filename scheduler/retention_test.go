package scheduler_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// Memory follows the work: once invocations are final and their callers
// have let go of them, the scheduler holds nothing of them, whatever their
// options, however big their arguments, results and keys, and however far
// away their deadlines. Each test retains megabytes if the scheduler keeps
// what it should not.

// A finished invocation with a MaxWait far away is let go at once: the
// timer of its deadline does not keep its arguments and result alive.
func TestFinishedWorkWithMaxWaitIsReleased(t *testing.T) {
	const (
		n      = 5000
		result = 16 << 10
	)
	for _, tc := range []struct {
		name string
		opts Options[int]
	}{
		{"no MaxWait", Options[int]{}},
		{"MaxWait 1h", Options[int]{MaxWait: time.Hour}},
		{"Running ByKey, no MaxWait", Options[int]{Running: ByKey, Key: strconv.Itoa}},
		{"Running ByKey, MaxWait 1h", Options[int]{MaxWait: time.Hour, Running: ByKey, Key: strconv.Itoa}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScheduler(t, Config{})
				task, err := NewTask(s, "t", func(context.Context, int) ([]byte, error) {
					return make([]byte, result), nil
				}, tc.opts)
				require.NoError(t, err)
				synctest.Wait()
				before := heapAlloc()
				invs := make([]*Invocation[[]byte], n)
				for i := range invs {
					invs[i], err = task.Submit(context.Background(), i)
					require.NoError(t, err)
				}
				for _, inv := range invs {
					out, err := inv.Wait(context.Background())
					require.NoError(t, err)
					require.Len(t, out, result)
				}
				invs = nil
				// Past two tidy periods (the key maps), far from any
				// deadline.
				time.Sleep(5 * time.Second)
				synctest.Wait()
				after := heapAlloc()
				growth := int64(after) - int64(before)
				t.Logf("%d finished invocations with %d KiB results: heap %+d bytes (%d -> %d)", n, result>>10, growth, before, after)
				require.Less(t, growth, int64(1<<20), "finished invocations are kept alive")
			})
		})
	}
}

// The actors kept for reuse hold nothing of the keys they served: 1,024
// keys of 64 KiB, all live at once and then idle, leave nothing behind.
func TestForgottenActorsHoldNoKeys(t *testing.T) {
	const (
		keys    = 1024
		keySize = 64 << 10
	)
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 1})
		gate := make(chan struct{})
		task, err := NewTask(s, "t", func(context.Context, string) (int, error) { <-gate; return 0, nil },
			Options[string]{Running: ByKey, Key: func(k string) string { return k }})
		require.NoError(t, err)
		synctest.Wait()
		before := heapAlloc()
		invs := make([]*Invocation[int], keys)
		for i := range invs {
			invs[i], err = task.Submit(context.Background(), strconv.Itoa(i)+strings.Repeat("k", keySize))
			require.NoError(t, err)
		}
		synctest.Wait()
		require.Equal(t, keys, s.Stats().Actors, "every key is live at once")
		close(gate)
		for _, inv := range invs {
			_, err := inv.Wait(context.Background())
			require.NoError(t, err)
		}
		invs = nil
		time.Sleep(5 * time.Second) // idle, past two tidy periods
		synctest.Wait()
		after := heapAlloc()
		require.Zero(t, s.Stats().Actors)
		growth := int64(after) - int64(before)
		t.Logf("%d idle keys of %d KiB: heap %+d bytes (%d -> %d)", keys, keySize>>10, growth, before, after)
		require.Less(t, growth, int64(1<<20), "idle keys are retained")
	})
}

// Key and Keys on a closed scheduler answer with zero values and keep
// nothing: a monitor that polls them forever does not grow the heap.
func TestKeyAfterCloseKeepsNothing(t *testing.T) {
	const calls = 100_000
	s := newScheduler(t, Config{})
	_, err := NewTask(s, "t", func(context.Context, string) (int, error) { return 0, nil },
		Options[string]{Running: ByKey, Key: func(k string) string { return k }})
	require.NoError(t, err)
	require.NoError(t, s.Close(context.Background()))
	before := heapAlloc()
	for range calls {
		require.Equal(t, KeyStats{Task: "t", Key: "k"}, s.Key("t", "k"))
		require.Empty(t, s.Keys(0))
	}
	after := heapAlloc()
	growth := int64(after) - int64(before)
	t.Logf("%d Key and Keys calls after Close: heap %+d bytes", calls, growth)
	require.Less(t, growth, int64(64<<10), "every call leaves something behind")
}

// A scheduler whose tasks have no Running scope gives back the space its
// ready list grew in a burst, as one with keys does.
func TestReadyListShrinksWithoutKeys(t *testing.T) {
	const burst = 100_000
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 1})
		gate := make(chan struct{})
		slow, err := NewTask(s, "slow", func(context.Context, int) (int, error) { <-gate; return 0, nil }, Options[int]{})
		require.NoError(t, err)
		fast, err := NewTask(s, "fast", func(context.Context, int) (int, error) { return 0, nil }, Options[int]{})
		require.NoError(t, err)
		blocker, err := slow.Submit(context.Background(), 0)
		require.NoError(t, err)
		synctest.Wait()
		require.Equal(t, Running, blocker.State())
		before := heapAlloc()

		after := afterBurst(t, burst, func(i int) (*Invocation[int], error) {
			return fast.Submit(context.Background(), i) // all Pending behind the one slot
		}, func() {
			synctest.Wait()
			require.Equal(t, burst, s.Stats().Pending)
			close(gate)
		})
		growth := int64(after) - int64(before)
		t.Logf("after a burst of %d Pending invocations: heap %+d bytes", burst, growth)
		require.Less(t, growth, int64(256<<10), "the ready list keeps the space of a past burst")
	})
}

// A long-lived Submit ctx that always has some work waiting under it (a
// server's base ctx, say) does not keep the space of every invocation that
// ever waited under it.
func TestSharedSubmitCtxShrinks(t *testing.T) {
	const burst = 100_000
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 2})
		gate, holdGate := make(chan struct{}), make(chan struct{})
		keyed, err := NewTask(s, "keyed", func(context.Context, string) (int, error) { <-holdGate; return 0, nil },
			Options[string]{Running: ByKey, Key: func(k string) string { return k }})
		require.NoError(t, err)
		slow, err := NewTask(s, "slow", func(context.Context, int) (int, error) { <-gate; return 0, nil }, Options[int]{})
		require.NoError(t, err)
		fast, err := NewTask(s, "fast", func(context.Context, int) (int, error) { return 0, nil }, Options[int]{})
		require.NoError(t, err)

		shared, cancel := context.WithCancel(context.Background())
		defer cancel()
		held, err := keyed.Submit(context.Background(), "hold") // runs, holding its key and a slot
		require.NoError(t, err)
		waiter, err := keyed.Submit(shared, "hold") // waits under the shared ctx for the whole test
		require.NoError(t, err)
		blocker, err := slow.Submit(context.Background(), 0) // holds the other slot
		require.NoError(t, err)
		synctest.Wait()
		require.Equal(t, []State{Running, Queued, Running}, []State{held.State(), waiter.State(), blocker.State()})
		before := heapAlloc()

		after := afterBurst(t, burst, func(i int) (*Invocation[int], error) {
			return fast.Submit(shared, i) // all wait under the shared ctx
		}, func() { close(gate) })
		require.Equal(t, Queued, waiter.State(), "still waiting under the shared ctx")
		growth := int64(after) - int64(before)
		t.Logf("after %d invocations waited under one long-lived ctx: heap %+d bytes", burst, growth)
		require.Less(t, growth, int64(256<<10), "the ctx's watch keeps the space of every invocation it watched")
		close(holdGate)
		_, err = waiter.Wait(context.Background())
		require.NoError(t, err)
	})
}

// afterBurst submits n invocations with submit, calls between, waits for
// every one to succeed, lets go of them, lets two tidy periods pass, and
// returns the heap then. It runs inside a bubble.
func afterBurst(t *testing.T, n int, submit func(i int) (*Invocation[int], error), between func()) uint64 {
	t.Helper()
	invs := make([]*Invocation[int], n)
	for i := range invs {
		var err error
		invs[i], err = submit(i)
		require.NoError(t, err)
	}
	between()
	for _, inv := range invs {
		_, err := inv.Wait(context.Background())
		require.NoError(t, err)
	}
	clear(invs)
	time.Sleep(5 * time.Second) // past two tidy periods
	synctest.Wait()
	return heapAlloc()
}
