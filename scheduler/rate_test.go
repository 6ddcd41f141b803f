package scheduler_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	. "github.com/perkey/perkey/scheduler"
)

// A rate so low that the next token is further away than a time.Duration
// can say (about 292 years) still holds: the wait is as long as the clock
// allows, never "no wait at all".
func TestTinyRateHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		task := newTask(t, s, "t", newProbe(), Options[call]{Running: ByKey, Key: keyOf, Rate: 1e-10, Limit: 2})
		_, err := wait(t, submit(t, task, "a", 1)) // the burst's one token
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		second, err := task.Submit(ctx, call{"a", 2})
		require.NoError(t, err)
		time.Sleep(time.Hour)
		synctest.Wait()
		require.Equal(t, Queued, second.State(), "the next token is 317 years away")
		require.Equal(t, KeyStats{Task: "t", Key: "a", Queued: 1}, s.Key("t", "a"))
		cancel()
		synctest.Wait()
		requireFinal(t, second, Canceled, ErrCanceled)
	})
}

// A huge Burst over a low Rate takes longer to refill than a
// time.Duration can say; the key's limiter must be kept meanwhile, not
// forgotten as if it had refilled.
func TestHugeBurstLowRateIsRemembered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		const burst = 20
		task := newTask(t, s, "t", newProbe(), Options[call]{Running: ByKey, Key: keyOf, Rate: rate.Limit(1e-9), Burst: burst, Limit: 4})
		for i := range burst {
			_, err := wait(t, submit(t, task, "a", i))
			require.NoError(t, err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		require.Equal(t, 1, s.Stats().Actors, "the key's limiter is still refilling: 20 tokens take 634 years")
		ctx, cancel := context.WithCancel(context.Background())
		next, err := task.Submit(ctx, call{"a", burst})
		require.NoError(t, err)
		time.Sleep(time.Hour)
		synctest.Wait()
		require.Equal(t, Queued, next.State(), "the burst is spent")
		cancel()
		synctest.Wait()
		requireFinal(t, next, Canceled, ErrCanceled)
	})
}
