package scheduler_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// A Deduped event always follows the Queued event of the invocation it
// names, however many submitters race: the dispatcher reports a collapsed
// submission only once it has routed its invocation.
func TestDedupedFollowsQueued(t *testing.T) {
	const (
		submitters = 4
		perWorker  = 5000
		args       = 50 // few distinct arguments: most submissions collapse
	)
	var (
		mu         sync.Mutex
		queued     = map[uint64]bool{}
		dedupes    int
		violations int
	)
	s := newScheduler(t, Config{OnEvent: func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ev.Deduped:
			dedupes++
			if !queued[ev.ID] {
				violations++
			}
		case ev.State == Queued:
			queued[ev.ID] = true
		}
	}})
	task, err := NewTask(s, "t", func(context.Context, int) (int, error) { return 0, nil },
		Options[int]{Registration: ByArguments})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for w := range submitters {
		wg.Go(func() {
			var invs []*Invocation[int]
			for i := range perWorker {
				inv, err := task.Submit(context.Background(), (w+i)%args)
				if err != nil {
					t.Error(err)
					return
				}
				invs = append(invs, inv)
			}
			for _, inv := range invs {
				_, _ = inv.Wait(context.Background())
			}
		})
	}
	wg.Wait()
	require.NoError(t, s.Close(context.Background()))
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d Deduped events, %d before their invocation's Queued event", dedupes, violations)
	require.EqualValues(t, s.Stats().Deduped, dedupes)
	require.Zero(t, violations, "Deduped events before the Queued event of their invocation")
}

// An invocation that reaches the head of its key and waits for a Rate
// token reports it with one Throttled event, after Queued and before
// Pending; one held only by the work ahead of it, or by the key's Limit,
// does not. One that ends while it waits for the token goes from
// Throttled to its final state.
func TestThrottledEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		s := newScheduler(t, Config{OnEvent: rec.add})
		task := newTask(t, s, "t", newProbe(), Options[call]{Running: ByKey, Key: keyOf, Rate: 1})
		start := time.Now()
		first := submit(t, task, "a", 1)
		second := submit(t, task, "a", 2)
		third := submit(t, task, "a", 3)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		fourth, err := task.Submit(ctx, call{"a", 4})
		require.NoError(t, err)
		for _, inv := range []*Invocation[string]{first, second, third} {
			_, err := wait(t, inv)
			require.NoError(t, err)
		}
		synctest.Wait()
		require.Equal(t, 2*time.Second, time.Since(start), "one start a second")
		cancel() // while it waits for its token
		synctest.Wait()
		requireFinal(t, fourth, Canceled, ErrCanceled)

		done := []string{"Queued", "Pending", "Running", "Succeeded"}
		throttled := []string{"Queued", "Throttled", "Pending", "Running", "Succeeded"}
		require.Equal(t, done, rec.path(first.ID()), "a token at once")
		require.Equal(t, throttled, rec.path(second.ID()))
		require.Equal(t, throttled, rec.path(third.ID()), "throttled once it reached the head")
		require.Equal(t, []string{"Queued", "Throttled", "Canceled"}, rec.path(fourth.ID()))
		var waits []time.Duration
		for _, ev := range rec.all() {
			if ev.Throttled {
				require.Equal(t, Queued, ev.State)
				require.Equal(t, "t", ev.Task)
				require.Equal(t, "a", ev.Key)
				waits = append(waits, ev.Time.Sub(start))
			}
		}
		require.Equal(t, []time.Duration{0, time.Second, 2 * time.Second}, waits, "when each wait began")
	})
}

// A Throttled event is sent if someone listens as the wait begins: a
// listener that subscribes during a wait does not hear of that one.
func TestThrottledOnlyWhileListening(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		task := newTask(t, s, "t", newProbe(), Options[call]{Running: ByKey, Key: keyOf, Rate: 1})
		first := submit(t, task, "a", 1)
		second := submit(t, task, "a", 2) // waits for its token, unheard
		synctest.Wait()
		rec := &recorder{}
		defer s.Subscribe(rec.add)()
		third := submit(t, task, "a", 3)
		for _, inv := range []*Invocation[string]{first, second, third} {
			_, err := wait(t, inv)
			require.NoError(t, err)
		}
		synctest.Wait()
		require.Equal(t, []string{"Pending", "Running", "Succeeded"}, rec.path(second.ID()))
		require.Equal(t, []string{"Queued", "Throttled", "Pending", "Running", "Succeeded"}, rec.path(third.ID()))
	})
}
