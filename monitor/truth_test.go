package monitor

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

// lastStates returns the last state events.json gives for each
// invocation, by ID.
func lastStates(events []Event) map[uint64]string {
	out := map[uint64]string{}
	for _, e := range events {
		if !e.Deduped && !e.Throttled {
			out[e.ID] = e.State
		}
	}
	return out
}

// TestNoFinishedWorkShownRunning: a viewer watches while work runs,
// leaves mid-run, and the work ends while nobody watches. Whoever asks
// next, a new viewer or the old one resuming, is never given the old
// events as if they were current: events.json agrees with the scheduler.
func TestNoFinishedWorkShownRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		g := newGated(t, s, "sync", scheduler.Options[call]{Running: scheduler.ByKey})
		probe, err := scheduler.NewTask(s, "probe", func(context.Context, int) (int, error) { return 0, nil },
			scheduler.Options[int]{})
		require.NoError(t, err)
		m := newMonitor(t, s, Config{Interval: 100 * time.Millisecond, Linger: time.Second})

		// Watch: three keys run, two calls wait behind them.
		w, cancel, done := openStream(m, "/stream")
		synctest.Wait()
		invs := g.submit(t, "a", "b", "c", "a", "b")
		for range 3 {
			<-g.started
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		seen := lastStates(eventsOf(t, w.drain()))
		require.Equal(t, map[uint64]string{invs[0].ID(): "running", invs[1].ID(): "running", invs[2].ID(): "running",
			invs[3].ID(): "queued", invs[4].ID(): "queued"}, seen)
		_, last, _, _ := m.ring.since(0, 0)

		// Stop watching mid-run; Linger passes and the next event ends the
		// watch. Then the work ends, unwatched.
		cancel()
		<-done
		time.Sleep(time.Second)
		run(t, probe)
		require.False(t, m.subscribed())
		close(g.release)
		for _, inv := range invs {
			<-inv.Done()
		}
		require.Equal(t, 0, s.Stats().Running+s.Stats().Queued+s.Stats().Pending)

		// Come back, as a new viewer and as the old one resuming.
		var fresh, resumed Batch
		get(t, m, "/events.json?after=0", &fresh)
		require.Empty(t, fresh.Events, "the old watch's events are not given: how they went on was not watched")
		require.True(t, fresh.Watching)
		require.Equal(t, unixMillis(time.Now()), fresh.Since, "and the batch says since when it watches")
		get(t, m, "/events.json?after="+itoa(last), &resumed)
		require.True(t, resumed.Reset, "the old viewer is told to forget what it drew")
		require.Empty(t, resumed.Events)

		w, cancel, done = openStream(m, "/stream?after="+itoa(last))
		synctest.Wait()
		b := only(w.drain(), "events")[0].batch(t)
		require.True(t, b.Reset)
		require.Empty(t, b.Events)
		cancel()
		<-done
	})
}

// TestWatchGoesOnAcrossReconnects: a page whose stream ends (MaxStreamAge,
// a network blip) and comes back within Linger goes on where it was: the
// watch never stopped, nothing was missed.
func TestWatchGoesOnAcrossReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		g := newGated(t, s, "sync", scheduler.Options[call]{Running: scheduler.ByKey})
		m := newMonitor(t, s, Config{Interval: 100 * time.Millisecond, Linger: time.Second, MaxStreamAge: 10 * time.Second})
		w, cancel, done := openStream(m, "/stream")
		defer cancel()
		synctest.Wait()
		inv := g.submit(t, "a")[0]
		<-g.started
		time.Sleep(10 * time.Second) // the stream's age
		<-done
		events := eventsOf(t, w.drain())
		require.Equal(t, []string{"queued", "pending", "running"}, states(events, inv.ID()))
		last := events[len(events)-1].Seq

		close(g.release) // ends while the page reconnects
		<-inv.Done()
		time.Sleep(500 * time.Millisecond)
		w, cancel2, done2 := openStream(m, "/stream?after="+itoa(last))
		defer func() { cancel2(); <-done2 }()
		synctest.Wait()
		b := only(w.drain(), "events")[0].batch(t)
		require.False(t, b.Reset)
		require.Zero(t, b.Missed)
		require.Equal(t, []string{"succeeded"}, states(b.Events, inv.ID()))
	})
}

// TestWatchStartsMidRun: a viewer who comes while work runs is told since
// when the monitor watches; Stats count the work already under way, and
// its next events show it.
func TestWatchStartsMidRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		g := newGated(t, s, "sync", scheduler.Options[call]{Running: scheduler.ByKey})
		invs := g.submit(t, "a", "a")
		<-g.started
		time.Sleep(time.Minute)
		m := newMonitor(t, s, Config{})
		var b Batch
		get(t, m, "/events.json", &b)
		require.Empty(t, b.Events)
		require.Equal(t, unixMillis(time.Now()), b.Since)
		st := getState(t, m)
		require.Equal(t, 1, st.Stats.Running)
		require.Equal(t, 1, st.Stats.Queued)
		require.Equal(t, []Key{{Task: "sync", Key: "a", Running: 1, Queued: 1}}, st.Keys)
		require.Equal(t, b.Since, st.Events.Since)

		close(g.release)
		for _, inv := range invs {
			<-inv.Done()
		}
		get(t, m, "/events.json?after="+itoa(b.Last), &b)
		require.Equal(t, []string{"succeeded"}, states(b.Events, invs[0].ID()), "first seen at its end")
		require.Equal(t, []string{"pending", "running", "succeeded"}, states(b.Events, invs[1].ID()))
	})
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
