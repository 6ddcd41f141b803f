package scheduler_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

func TestKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 2})
		require.Equal(t, 2, s.MaxParallel())
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf})
		// a: running + 3 queued; b: running + 1 queued; c: pending.
		for i, k := range []string{"a", "b", "c", "a", "a", "a", "b"} {
			submit(t, task, k, i)
		}
		synctest.Wait()
		require.Equal(t, []KeyStats{
			{Task: "t", Key: "a", Queued: 3, Running: 1},
			{Task: "t", Key: "b", Queued: 1, Running: 1},
			{Task: "t", Key: "c", Pending: 1},
		}, s.Keys(0))
		require.Len(t, s.Keys(2), 2)
		require.Equal(t, KeyStats{Task: "t", Key: "a", Queued: 3, Running: 1}, s.Key("t", "a"))
		require.Equal(t, 4, s.Key("t", "a").Busy())
		require.Equal(t, KeyStats{Task: "t", Key: "zzz"}, s.Key("t", "zzz"))
		require.Equal(t, KeyStats{Task: "nope", Key: "a"}, s.Key("nope", "a"))
		close(p.gate)
		require.NoError(t, s.Close(context.Background()))
		require.Empty(t, s.Keys(0), "closed: nothing to list")
	})
}

func TestSubscribe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fromConfig atomic.Int64
		s := newScheduler(t, Config{OnEvent: func(Event) { fromConfig.Add(1) }})
		p := newProbe()
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf, Label: func(c call) string { return "op" }})

		rec := &recorder{}
		cancel := s.Subscribe(rec.add)
		inv := submit(t, task, "a", 1)
		_, err := wait(t, inv)
		require.NoError(t, err)
		synctest.Wait()
		require.Equal(t, []State{Queued, Pending, Running, Succeeded}, rec.states(inv.ID()))
		for _, ev := range rec.all() {
			require.Equal(t, "op", ev.Label)
		}
		cancel()
		cancel() // twice is harmless

		before := len(rec.all())
		_, err = wait(t, submit(t, task, "a", 2))
		require.NoError(t, err)
		require.Len(t, rec.all(), before, "no events after cancel")
		require.EqualValues(t, 8, fromConfig.Load(), "OnEvent saw both invocations")
		s.Subscribe(nil)() // a nil fn subscribes nothing
	})
}
