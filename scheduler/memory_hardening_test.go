package scheduler_test

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	. "github.com/perkey/perkey/scheduler"
)

// Per-key state must not outlive the key's work, whatever the options: a
// burst of distinct keys, all live at once, leaves nothing behind once
// their work is done and the dispatcher has tidied up (within two
// periods). TestIdleKeysAreReclaimed covers ByKey with dedupe on a million
// keys; this covers the other per-key and per-invocation state: tracked
// keys (Limit, Rate), Group keyspaces, Replace's run contexts, MaxWait
// timers, Submit ctx hooks, and the dedupe index of every scope.
func TestMemoryFollowsActiveKeys(t *testing.T) {
	const keys = 30_000
	variants := []struct {
		name string
		opts Options[string]
		ctx  bool // submit with a cancellable ctx (never cancelled)
	}{
		{"Limit 2", Options[string]{Running: ByKey, Limit: 2}, false},
		{"Rate", Options[string]{Running: ByKey, Rate: rate.Every(time.Second), Burst: 2}, false},
		{"Group", Options[string]{Running: ByKey, Group: "g"}, false},
		{"Replace", Options[string]{Running: ByKey, OnBusy: Replace}, false},
		{"Drop", Options[string]{Running: ByKey, OnBusy: Drop}, false},
		{"MaxWait", Options[string]{Running: ByKey, MaxWait: 500 * time.Millisecond}, false},
		{"Submit ctx", Options[string]{Running: ByKey}, true},
		{"UntilDone", Options[string]{Running: ByKey, Registration: ByKey, Dedupe: UntilDone}, false},
		{"ByArguments", Options[string]{Running: ByArguments, Registration: ByArguments}, false},
		{"no Running scope", Options[string]{Registration: ByKey}, false},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScheduler(t, Config{MaxParallel: 1})
				gate := make(chan struct{})
				opts := v.opts
				opts.Key = func(k string) string { return k }
				task, err := NewTask(s, "t", func(context.Context, string) (int, error) {
					<-gate
					return 1, nil
				}, opts)
				require.NoError(t, err)
				synctest.Wait()
				before := heapAlloc()

				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if v.ctx {
					ctx, cancel = context.WithCancel(ctx)
				}
				invs := make([]*Invocation[int], keys)
				for i := range invs {
					invs[i], err = task.Submit(ctx, "key-"+strconv.Itoa(i))
					require.NoError(t, err)
				}
				synctest.Wait()
				close(gate)
				for _, inv := range invs {
					_, _ = inv.Wait(context.Background()) // MaxWait expires most
				}
				invs = nil
				cancel() // the caller's ctx ends; what it held is not ours to count
				// Past MaxWait, a full refill of the rate, and two tidy periods.
				time.Sleep(5 * time.Second)
				synctest.Wait()
				after := heapAlloc()

				st := s.Stats()
				require.Zero(t, st.Actors)
				require.EqualValues(t, keys, st.Submitted)
				retained := int64(after) - int64(before)
				t.Logf("retained %d bytes, %.1f per key (%d keys)", retained, float64(retained)/keys, keys)
				// A few bytes per key, plus the actors kept for reuse.
				require.LessOrEqual(t, retained, int64(8*keys+512<<10), "per-key state outlives the keys")
			})
		})
	}
}

// Work that ends while it waits (MaxWait, or its Submit ctx) must be let go
// at once, even while every slot is taken and nothing is popped from the
// ready list: a saturated scheduler under a flood of short-lived requests
// must not hold on to every request it ever expired.
func TestEndedWorkIsReleasedWhileSaturated(t *testing.T) {
	const burst = 50_000
	for _, how := range []string{"MaxWait", "ctx"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScheduler(t, Config{MaxParallel: 1})
				gate := make(chan struct{})
				t.Cleanup(func() { close(gate) }) // before Close, even on failure
				slow, err := NewTask(s, "slow", func(context.Context, int) (int, error) {
					<-gate
					return 1, nil
				}, Options[int]{})
				require.NoError(t, err)
				opts := Options[int]{Running: ByKey, Key: strconv.Itoa}
				if how == "MaxWait" {
					opts.MaxWait = 10 * time.Millisecond
				}
				flood, err := NewTask(s, "flood", func(context.Context, int) (int, error) { return 1, nil }, opts)
				require.NoError(t, err)
				blocker, err := slow.Submit(context.Background(), 0) // holds the one slot
				require.NoError(t, err)
				synctest.Wait()
				before := heapAlloc()

				ctx, cancel := context.WithCancel(context.Background())
				invs := make([]*Invocation[int], burst)
				for i := range invs {
					invs[i], err = flood.Submit(ctx, i) // distinct keys: all Pending
					require.NoError(t, err)
				}
				synctest.Wait()
				require.Equal(t, burst, s.Stats().Pending)
				if how == "ctx" {
					cancel()
				}
				for _, inv := range invs {
					_, err := inv.Wait(context.Background())
					require.Error(t, err)
				}
				invs = nil
				cancel()
				time.Sleep(5 * time.Second) // two tidy periods
				synctest.Wait()
				after := heapAlloc()

				perJob := float64(int64(after)-int64(before)) / burst
				t.Logf("retained %.1f bytes per ended job (%d jobs), the slot still taken", perJob, burst)
				require.Equal(t, Running, blocker.State())
				require.LessOrEqual(t, perJob, 16.0, "ended jobs are kept while the scheduler is saturated")
			})
		})
	}
}

// The dispatcher's timer heap must not keep the space of a burst: a burst
// of MaxWait invocations fills it, and once their deadlines have passed it
// should shrink, even while one long deadline keeps it from emptying. (The
// burst runs at once on a free slot: nothing waits in the ready list.)
func TestTimerHeapShrinks(t *testing.T) {
	const burst = 100_000
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 2})
		gate := make(chan struct{})
		t.Cleanup(func() { close(gate) }) // before Close, even on failure
		slow, err := NewTask(s, "slow", func(context.Context, string) (int, error) {
			<-gate
			return 1, nil
		}, Options[string]{Running: ByKey, Key: func(k string) string { return k }, MaxWait: time.Hour})
		require.NoError(t, err)
		fast, err := NewTask(s, "fast", func(context.Context, int) (int, error) { return 1, nil },
			Options[int]{MaxWait: 10 * time.Millisecond})
		require.NoError(t, err)
		blocker, err := slow.Submit(context.Background(), "a")
		require.NoError(t, err)
		waiter, err := slow.Submit(context.Background(), "a") // its deadline is an hour away
		require.NoError(t, err)
		synctest.Wait()
		before := heapAlloc()

		invs := make([]*Invocation[int], burst)
		for i := range invs {
			invs[i], err = fast.Submit(context.Background(), i)
			require.NoError(t, err)
		}
		for _, inv := range invs {
			_, err := inv.Wait(context.Background())
			require.NoError(t, err, "ran on the free slot, within MaxWait")
		}
		invs = nil
		time.Sleep(5 * time.Second) // every burst deadline has passed
		synctest.Wait()
		after := heapAlloc()

		perJob := float64(int64(after)-int64(before)) / burst
		t.Logf("retained %.1f bytes per job (%d jobs)", perJob, burst)
		require.Equal(t, Queued, waiter.State())
		require.Equal(t, Running, blocker.State())
		require.LessOrEqual(t, perJob, 16.0, "the timer heap keeps the space of a past burst")
	})
}
