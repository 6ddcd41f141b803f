package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	. "github.com/perkey/perkey/scheduler"
)

// With Limit N, N invocations of a key run at once and no more; the global
// cap still holds.
func TestLimit(t *testing.T) {
	for _, limit := range []int{1, 2, 5} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScheduler(t, Config{MaxParallel: 8})
				p := newProbe()
				p.hold = 100 * time.Millisecond
				task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf, Limit: limit})
				var invs []*Invocation[string]
				for i := range 20 {
					invs = append(invs, submit(t, task, "a", i))
				}
				start := time.Now()
				for _, inv := range invs {
					_, err := wait(t, inv)
					require.NoError(t, err)
				}
				_, maxPerKey, maxGlobal, _ := p.snapshot()
				require.Equal(t, limit, maxPerKey)
				require.Equal(t, limit, maxGlobal)
				waves := (20 + limit - 1) / limit
				require.Equal(t, time.Duration(waves)*p.hold, time.Since(start))
			})
		})
	}
}

// A key with a high Limit still takes one place at a time in the slot
// queue: a cold key waits for one turn, not for the hot key's Limit.
func TestLimitIsFair(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 1})
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf, Limit: 50})
		for i := range 100 {
			submit(t, task, "hot", i)
		}
		synctest.Wait()
		cold := submit(t, task, "cold", 0)
		close(p.gate)
		_, err := wait(t, cold)
		require.NoError(t, err)
		_, _, _, started := p.snapshot()
		require.Equal(t, call{"cold", 0}, started[2], "after the running call and one more turn of hot")
	})
}

// Starts of one key are spaced at 1/Rate, measured at the actual starts;
// a rate-limited invocation waits Queued without holding a slot.
func TestRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 1})
		var mu sync.Mutex
		starts := map[string][]time.Time{}
		task, err := NewTask(s, "t", func(_ context.Context, c call) (int, error) {
			mu.Lock()
			starts[c.Key] = append(starts[c.Key], time.Now())
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
			return 0, nil
		}, Options[call]{Running: ByKey, Key: keyOf, Rate: 5, Limit: 2})
		require.NoError(t, err)
		var invs []*Invocation[int]
		for i := range 5 {
			for _, k := range []string{"a", "b", "c"} {
				inv, err := task.Submit(context.Background(), call{k, i})
				require.NoError(t, err)
				invs = append(invs, inv)
			}
		}
		start := time.Now()
		synctest.Wait()
		st := s.Stats()
		require.Equal(t, 1, st.Running)
		require.Equal(t, 14, st.Queued+st.Pending, "waiting for tokens or the one slot")
		for _, inv := range invs {
			_, err := inv.Wait(context.Background())
			require.NoError(t, err)
		}
		for k, ts := range starts {
			require.Len(t, ts, 5)
			for i := 1; i < len(ts); i++ {
				require.GreaterOrEqual(t, ts[i].Sub(ts[i-1]), 200*time.Millisecond, "key %s starts %d and %d", k, i-1, i)
			}
		}
		// Three keys share one slot, each at 5 per second: the rate, not
		// the slot, sets the pace.
		require.Less(t, time.Since(start), 900*time.Millisecond)
	})
}

// A key's limiter outlives a brief idle spell: the actor is kept until the
// limiter has refilled, then forgotten.
func TestRateSurvivesIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		p := newProbe()
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf, Rate: rate.Every(time.Second), Burst: 2})
		first := time.Now()
		for i := range 2 { // the burst
			_, err := wait(t, submit(t, task, "a", i))
			require.NoError(t, err)
		}
		time.Sleep(100 * time.Millisecond) // idle, with an empty bucket
		synctest.Wait()
		require.Equal(t, 1, s.Stats().Actors, "kept while its limiter refills")
		_, err := wait(t, submit(t, task, "a", 2))
		require.NoError(t, err)
		require.Equal(t, time.Second, time.Since(first), "the token was due 1s after the burst")

		time.Sleep(2 * time.Second) // refilled to Burst: nothing left to remember
		synctest.Wait()
		require.Zero(t, s.Stats().Actors)
	})
}

// A Drop task under a rate drops what cannot start at once.
func TestRateDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		task := newTask(t, s, "t", newProbe(), Options[call]{Running: ByKey, Key: keyOf, Rate: 1, OnBusy: Drop})
		_, err := wait(t, submit(t, task, "a", 1))
		require.NoError(t, err)
		_, err = wait(t, submit(t, task, "a", 2))
		require.ErrorIs(t, err, ErrDropped, "no token for a second start within 1s")
		time.Sleep(time.Second)
		_, err = wait(t, submit(t, task, "a", 3))
		require.NoError(t, err)
	})
}

// Tasks of a Group share keys: a refresh never overlaps a call for the same
// account, while other accounts go on.
func TestGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		p := newProbe() // one probe: per-key counts span both tasks
		p.gate = make(chan struct{})
		opts := Options[call]{Running: ByKey, Key: keyOf, Group: "accounts"}
		calls := newTask(t, s, "calls", p, opts)
		refresh := newTask(t, s, "refresh", p, opts)
		a := submit(t, calls, "acme", 1)
		b := submit(t, refresh, "acme", 2)
		c := submit(t, refresh, "globex", 3)
		synctest.Wait()
		require.Equal(t, []State{Running, Queued, Running}, states(a, b, c))
		require.Equal(t, KeyStats{Task: "accounts", Key: "acme", Queued: 1, Running: 1}, s.Key("refresh", "acme"))
		close(p.gate)
		for _, inv := range []*Invocation[string]{a, b, c} {
			_, err := wait(t, inv)
			require.NoError(t, err)
		}
		_, maxPerKey, _, _ := p.snapshot()
		require.Equal(t, 1, maxPerKey)

		_, err := NewTask(s, "fast", p.fn, Options[call]{Running: ByKey, Key: keyOf, Group: "accounts", Limit: 2})
		require.ErrorIs(t, err, ErrBadOption)
		require.ErrorContains(t, err, `Group "accounts"`)
		_, err = NewTask(s, "bytask", p.fn, Options[call]{Running: ByTask, Group: "accounts"})
		require.ErrorIs(t, err, ErrBadOption)
	})
}

// Replace: a newer submission cancels the running invocation's ctx and the
// waiting ones; only the newest runs after the running one returns.
func TestReplace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		var mu sync.Mutex
		var ran []int
		var causes []error
		task, err := NewTask(s, "sync", func(ctx context.Context, n int) (int, error) {
			mu.Lock()
			ran = append(ran, n)
			mu.Unlock()
			select {
			case <-ctx.Done():
				mu.Lock()
				causes = append(causes, context.Cause(ctx))
				mu.Unlock()
				return 0, ctx.Err()
			case <-time.After(time.Second):
				return n, nil
			}
		}, Options[int]{Running: ByKey, Key: func(int) string { return "acme" }, OnBusy: Replace})
		require.NoError(t, err)

		first, err := task.Submit(context.Background(), 1)
		require.NoError(t, err)
		synctest.Wait()
		require.Equal(t, Running, first.State())
		var middle []*Invocation[int]
		for n := 2; n <= 4; n++ {
			inv, err := task.Submit(context.Background(), n)
			require.NoError(t, err)
			middle = append(middle, inv)
		}
		newest, err := task.Submit(context.Background(), 5)
		require.NoError(t, err)

		out, err := newest.Wait(context.Background())
		require.NoError(t, err)
		require.Equal(t, 5, out)
		_, err = first.Wait(context.Background())
		require.ErrorIs(t, err, ErrCanceled)
		require.ErrorIs(t, err, ErrReplaced)
		require.Equal(t, Canceled, first.State())
		for _, inv := range middle {
			_, err := inv.Wait(context.Background())
			require.ErrorIs(t, err, ErrReplaced)
		}
		require.Equal(t, []int{1, 5}, ran, "only the running one and the newest ran")
		require.Len(t, causes, 1)
		require.True(t, errors.Is(causes[0], ErrReplaced), "the task sees why: %v", causes[0])
		st := s.Stats()
		require.EqualValues(t, 4, st.Canceled)
		require.EqualValues(t, 1, st.Succeeded)
		require.Zero(t, st.Running)
	})
}

// A running invocation that returns before the replacement arrives keeps
// its own result.
func TestReplaceAfterReturn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		task, err := NewTask(s, "sync", func(_ context.Context, n int) (int, error) { return n, nil },
			Options[int]{Running: ByKey, Key: func(int) string { return "k" }, OnBusy: Replace})
		require.NoError(t, err)
		a, err := task.Submit(context.Background(), 1)
		require.NoError(t, err)
		out, err := a.Wait(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, out)
		b, err := task.Submit(context.Background(), 2)
		require.NoError(t, err)
		_, err = b.Wait(context.Background())
		require.NoError(t, err)
		require.Equal(t, Succeeded, a.State())
	})
}

func TestFeatureOptionsBadInput(t *testing.T) {
	s := newScheduler(t, Config{})
	fn := newProbe().fn
	for name, opts := range map[string]Options[call]{
		"negative Limit":          {Running: ByKey, Key: keyOf, Limit: -1},
		"negative Rate":           {Running: ByKey, Key: keyOf, Rate: -1},
		"negative Burst":          {Running: ByKey, Key: keyOf, Rate: 1, Burst: -1},
		"Burst without Rate":      {Running: ByKey, Key: keyOf, Burst: 3},
		"Limit without Running":   {Limit: 2},
		"Rate without Running":    {Rate: 2},
		"Replace without Running": {OnBusy: Replace},
		"Group without ByKey":     {Running: ByArguments, Group: "g"},
		"Policy beyond Replace":   {Running: ByKey, Key: keyOf, OnBusy: Replace + 1},
	} {
		_, err := NewTask(s, name, fn, opts)
		require.ErrorIs(t, err, ErrBadOption, name)
	}
}
