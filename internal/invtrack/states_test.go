package invtrack

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

func TestStateIndexes(t *testing.T) {
	for _, tc := range []struct {
		st             scheduler.State
		final, waiting int // -1: not in the list
		name           string
	}{
		{scheduler.Queued, -1, 0, "queued"},
		{scheduler.Pending, -1, 1, "pending"},
		{scheduler.Running, -1, 2, "running"},
		{scheduler.Succeeded, 0, -1, "succeeded"},
		{scheduler.Failed, 1, -1, "failed"},
		{scheduler.Dropped, 2, -1, "dropped"},
		{scheduler.Expired, 3, -1, "expired"},
		{scheduler.Canceled, 4, -1, "canceled"},
	} {
		i, ok := FinalIndex(tc.st)
		require.Equal(t, tc.final >= 0, ok, tc.name)
		if ok {
			require.Equal(t, tc.final, i, tc.name)
		}
		i, ok = WaitingIndex(tc.st)
		require.Equal(t, tc.waiting >= 0, ok, tc.name)
		if ok {
			require.Equal(t, tc.waiting, i, tc.name)
		}
		require.Equal(t, tc.name, StateName(tc.st))
	}
}

// Every invocation that enters and leaves its states in order leaves the
// gauges at zero; Count never reads below zero.
func TestGauges(t *testing.T) {
	var g Gauges
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				g.Enter(scheduler.Queued)
				g.Enter(scheduler.Pending)
				g.Leave(scheduler.Queued)
				g.Enter(scheduler.Running)
				g.Leave(scheduler.Pending)
				g.Leave(scheduler.Running)
				g.Leave(scheduler.Succeeded) // not counted: no effect
			}
		})
	}
	wg.Wait()
	for i := range WaitingStates {
		require.Zero(t, g.Count(i))
	}
	g.Enter(scheduler.Running)
	require.Equal(t, int64(1), g.Count(2))
	g.Leave(scheduler.Queued)
	require.Zero(t, g.Count(0), "below zero reads zero")
}

// Get makes a task's entry once, whoever asks first; Update changes it
// under the writers' lock; All sees every task.
func TestTaskSet(t *testing.T) {
	var ts TaskSet[[]string]
	require.Nil(t, ts.All())
	var made atomic.Int32
	create := func(name string) *[]string { made.Add(1); return &[]string{name} }
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, name := range []string{"a", "b", "c"} {
				assert.Equal(t, name, (*ts.Get(name, create))[0])
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(3), made.Load(), "each made once")
	ts.Update("a", create, func(v *[]string) { *v = append(*v, "changed") })
	require.Equal(t, []string{"a", "changed"}, *ts.Get("a", create))
	ts.Update("d", create, func(v *[]string) { *v = append(*v, "new") })
	require.Equal(t, []string{"d", "new"}, *ts.Get("d", create))
	require.Len(t, ts.All(), 4)
}
