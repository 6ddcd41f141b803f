package monitor

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

// slowDispatcher returns a scheduler whose dispatcher, while delivering
// the Queued event of a call for key "slow", is busy for busy: a walk of
// the keys asked for meanwhile waits that long, as a walk over very many
// keys would take.
func slowDispatcher(t *testing.T, busy time.Duration) (*scheduler.Scheduler, *gated) {
	t.Helper()
	s := newScheduler(t, scheduler.Config{OnEvent: func(ev scheduler.Event) {
		if ev.Key == "slow" && ev.State == scheduler.Queued && !ev.Deduped && !ev.Throttled {
			time.Sleep(busy)
		}
	}})
	g := newGated(t, s, "sync", scheduler.Options[call]{Running: scheduler.ByKey})
	return s, g
}

// TestKeysWalkedOnceAtATime: while one walk of the keys runs, other
// viewers get the keys of the walk before at once, without starting
// another; a walk's keys are stamped with the time it ended.
func TestKeysWalkedOnceAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const busy = 300 * time.Millisecond
		s, g := slowDispatcher(t, busy)
		m := newMonitor(t, s, Config{Interval: 100 * time.Millisecond})
		g.submit(t, "a")
		synctest.Wait()
		first := getState(t, m)
		require.Len(t, first.Keys, 1)
		time.Sleep(time.Second)

		go g.submit(t, "slow") // the dispatcher is busy from now for 300ms
		synctest.Wait()
		start := time.Now()
		var walked State
		walkDone := make(chan struct{})
		go func() {
			defer close(walkDone)
			walked = getState(t, m) // walks, behind the busy dispatcher
		}()
		time.Sleep(100 * time.Millisecond)
		during := getState(t, m)
		require.Equal(t, start.Add(100*time.Millisecond), time.Now(), "served at once, not behind the walk")
		require.Equal(t, first.Keys, during.Keys, "the keys of the walk before")
		require.Equal(t, first.KeysAt, during.KeysAt)
		<-walkDone
		require.Equal(t, unixMillis(start.Add(busy)), walked.KeysAt, "stamped when the walk ended, not when it began")
		require.InDelta(t, float64(busy/time.Millisecond), walked.KeysMs, 0)
		require.Equal(t, 2, m.keys.walks)
		close(g.release)
	})
}

// TestKeysWalkBackoff: after a walk that kept the dispatcher for d, the
// next one waits 20 × d, so that the monitor takes at most about 5% of
// the dispatcher's time whatever the number of keys and of viewers.
func TestKeysWalkBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const busy = 300 * time.Millisecond
		s, g := slowDispatcher(t, busy)
		m := newMonitor(t, s, Config{Interval: 100 * time.Millisecond})
		g.submit(t, "a")
		synctest.Wait()
		go g.submit(t, "slow")
		synctest.Wait()
		walked := getState(t, m) // 300ms
		walks := 0
		for time.Now().Before(time.UnixMilli(int64(walked.KeysAt)).Add(walkShare*busy - time.Millisecond)) {
			st := getState(t, m)
			if st.KeysAt != walked.KeysAt {
				walks++
			}
			time.Sleep(50 * time.Millisecond)
		}
		require.Zero(t, walks, "no walk within 20 × 300ms of the last")
		time.Sleep(time.Millisecond)
		require.NotEqual(t, walked.KeysAt, getState(t, m).KeysAt, "then the next")
		require.Equal(t, 2, m.keys.walks)
		close(g.release)
	})
}

// TestKeysSampledWhenMany: with more live keys than the monitor walks,
// it lists the busiest of the keys of recent events, asking the scheduler
// about each, and never walks them all; without a watch, it lists none.
func TestKeysSampledWhenMany(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		g := newGated(t, s, "sync", scheduler.Options[call]{Running: scheduler.ByKey})
		m := newMonitor(t, s, Config{Keys: 2})
		m.keys.sampleAbove = 2

		g.submit(t, "a", "b", "c", "c", "b", "c") // before the watch
		synctest.Wait()
		st := getState(t, m)
		require.True(t, st.Sampled)
		require.Empty(t, st.Keys, "no watch: no recent events to sample")

		get(t, m, "/events.json", nil) // watch
		g.submit(t, "b", "a")
		synctest.Wait()
		time.Sleep(DefaultInterval)
		st = getState(t, m)
		require.True(t, st.Sampled)
		require.Equal(t, []Key{{Task: "sync", Key: "b", Running: 1, Queued: 2}, {Task: "sync", Key: "a", Running: 1, Queued: 1}}, st.Keys,
			"the busiest of a and b, the keys of recent events; c, the busiest of all, was not seen")
		require.Zero(t, m.keys.walks, "never a walk over every key")
		require.Equal(t, 2, m.keys.samples)
		close(g.release)
	})
}
