package scheduler_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// Memory follows active keys, not keys ever seen: after a million distinct
// keys have each run once, all of them live at the same time, the
// scheduler is back to no actors, no extra goroutines, and a few bytes per
// key at most.
func TestIdleKeysAreReclaimed(t *testing.T) {
	keys := 1_000_000
	if testing.Short() {
		keys = 100_000
	}
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 1})
		gate := make(chan struct{})
		task, err := NewTask(s, "t", func(context.Context, string) (struct{}, error) {
			<-gate
			return struct{}{}, nil
		}, Options[string]{Running: ByKey, Registration: ByKey, Key: func(k string) string { return k }})
		require.NoError(t, err)
		synctest.Wait()
		goroutines := runtime.NumGoroutine()
		before := heapAlloc()

		// With the one slot blocked, every key is live at once.
		invs := make([]*Invocation[struct{}], keys)
		for i := range invs {
			invs[i], err = task.Submit(context.Background(), "key-"+strconv.Itoa(i))
			require.NoError(t, err)
		}
		synctest.Wait()
		require.Equal(t, keys, s.Stats().Actors)
		close(gate)
		for _, inv := range invs {
			_, err := inv.Wait(context.Background())
			require.NoError(t, err)
		}
		invs = nil
		// The key maps and the actors kept for reuse are given back by
		// the dispatcher's tidy, within two periods of going idle.
		time.Sleep(3 * time.Second)
		synctest.Wait() // workers have exited
		after := heapAlloc()

		st := s.Stats()
		require.EqualValues(t, keys, st.Succeeded)
		require.Zero(t, st.Actors)
		// At most: goroutines of earlier tests (outside the bubble) may end meanwhile.
		require.LessOrEqual(t, runtime.NumGoroutine(), goroutines, "only the dispatcher is left")
		perKey := float64(int64(after)-int64(before)) / float64(keys)
		t.Logf("retained %.2f bytes per key (%d keys, heap %d -> %d)", perKey, keys, before, after)
		require.LessOrEqual(t, perKey, 64.0)
	})
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
