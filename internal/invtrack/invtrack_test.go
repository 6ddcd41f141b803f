package invtrack

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

// TestTracker: what goes in comes out once, with its state and times, and
// a page is freed with its last invocation.
func TestTracker(t *testing.T) {
	tr := New()
	const burst = 200_000
	at := tr.base.Add(time.Second)
	for id := range uint64(burst) {
		tr.Add(id+1, at)
	}
	n, pages, overflow := tr.size()
	require.Equal(t, burst, n)
	wantPages := map[[2]uint64]bool{}
	for id := uint64(1); id <= burst; id++ {
		wantPages[[2]uint64{id % trackerShards, id / trackerShards / pageSize}] = true
	}
	require.Equal(t, len(wantPages), pages)
	require.Zero(t, overflow)
	for id := range uint64(burst - 100) {
		prev, ok := tr.Remove(id + 1)
		require.True(t, ok)
		require.Equal(t, Tracked{State: scheduler.Queued, Since: at}, prev)
	}
	n, pages, _ = tr.size()
	require.Equal(t, 100, n)
	require.Equal(t, trackerShards, pages, "the last 100 IDs, on the newest page of each shard")

	last := uint64(burst)
	prev, ok := tr.Move(last, scheduler.Pending, at.Add(time.Second))
	require.True(t, ok)
	require.Equal(t, Tracked{State: scheduler.Queued, Since: at}, prev)
	prev, ok = tr.Move(last, scheduler.Running, at.Add(2*time.Second))
	require.True(t, ok)
	require.Equal(t, Tracked{State: scheduler.Pending, Since: at}, prev, "Pending keeps the Submit time")
	prev, ok = tr.Remove(last)
	require.True(t, ok)
	require.Equal(t, Tracked{State: scheduler.Running, Since: at.Add(2 * time.Second)}, prev)
	_, ok = tr.Remove(last)
	require.False(t, ok, "removed once")
	_, ok = tr.Move(last, scheduler.Pending, at)
	require.False(t, ok, "gone")
	_, ok = tr.Move(burst+5, scheduler.Pending, at)
	require.False(t, ok, "never added")

	for id := burst - 99; id < burst; id++ {
		_, ok := tr.Remove(uint64(id))
		require.True(t, ok)
	}
	n, pages, overflow = tr.size()
	require.Zero(t, n)
	require.Zero(t, pages, "every page freed")
	require.Zero(t, overflow)
}

// TestTrackerStragglers: invocations that stay while millions pass (a key
// with a long backlog, a slow call) do not hold the pages of the IDs
// around them: memory follows the invocations followed.
func TestTrackerStragglers(t *testing.T) {
	tr := New()
	const (
		total = 1 << 20
		every = 997 // one straggler in every 997 IDs
	)
	at := tr.base
	for id := uint64(1); id <= total; id++ {
		tr.Add(id, at)
		if id > pageSize*trackerShards && (id-pageSize*trackerShards)%every != 0 {
			// Invocations end a little after they came, but stragglers.
			_, ok := tr.Remove(id - pageSize*trackerShards)
			require.True(t, ok)
		}
	}
	stragglers := (total - pageSize*trackerShards) / every
	n, pages, overflow := tr.size()
	require.Equal(t, stragglers+pageSize*trackerShards, n)
	require.LessOrEqual(t, pages, 2*trackerShards, "the recent pages only")
	require.GreaterOrEqual(t, overflow, stragglers-2*trackerShards*sparse, "the stragglers of older pages are in the maps")

	// They are intact, and go when they end.
	id := uint64(every) // the first straggler
	prev, ok := tr.Move(id, scheduler.Running, at.Add(time.Minute))
	require.True(t, ok)
	require.Equal(t, Tracked{State: scheduler.Queued, Since: at}, prev)
	prev, ok = tr.Remove(id)
	require.True(t, ok)
	require.Equal(t, Tracked{State: scheduler.Running, Since: at.Add(time.Minute)}, prev)
	for id := uint64(1); id <= total; id++ {
		tr.Remove(id)
	}
	n, pages, overflow = tr.size()
	require.Zero(t, n+pages+overflow)
	for i := range tr.shards {
		require.Nil(t, tr.shards[i].overflow, "the maps are given back")
	}
}
