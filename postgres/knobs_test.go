package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

// Each knob across two processes: the test process submits and waits; a
// worker process runs. Channel-gated through the counter: a task waits on
// a gate until the test opens it, and the test waits for starts.

func TestWaitIsSerialAndFIFOAcrossProcesses(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	c.startWorker("w1", 8)
	c.startWorker("w2", 8)
	_, ts := c.scheduler("submitter", 0)
	ctx := context.Background()
	var invs []*scheduler.Invocation[done]
	for i := range 30 {
		inv, err := ts.wait1.Submit(ctx, call{Key: "acme", N: i, HoldMS: 2})
		require.NoError(t, err)
		invs = append(invs, inv)
	}
	_, errs := waitAll(t, invs)
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, c.counter.peak("wait1", "acme"))
	starts := c.counter.startsOf("wait1", "acme")
	require.Len(t, starts, 30)
	for i, s := range starts {
		require.Equal(t, i, s.N, "starts in Submit order")
	}
	require.Empty(t, c.counter.overlapsSeen())
}

func TestDropDecidesOnTheClusterView(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	c.startWorker("w1", 8)
	_, ts := c.scheduler("submitter", 0)
	ctx := context.Background()
	started := c.counter.nextStart("drop", "acme")
	first, err := ts.drop.Submit(ctx, call{Key: "acme", Gate: "hold"})
	require.NoError(t, err)
	<-started
	second, err := ts.drop.Submit(ctx, call{Key: "acme"})
	require.NoError(t, err)
	_, err = second.Wait(ctx)
	require.ErrorIs(t, err, scheduler.ErrDropped)
	other, err := ts.drop.Submit(ctx, call{Key: "globex"})
	require.NoError(t, err)
	_, err = other.Wait(ctx)
	require.NoError(t, err, "another key is not busy")
	c.counter.open("hold")
	_, err = first.Wait(ctx)
	require.NoError(t, err)
	third, err := ts.drop.Submit(ctx, call{Key: "acme"})
	require.NoError(t, err)
	_, err = third.Wait(ctx)
	require.NoError(t, err, "the key is free once Wait has returned")
}

func TestDedupeAcrossProcesses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		untilDone bool
	}{{"UntilStart", false}, {"UntilDone", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, 5*time.Second)
			c.startWorker("w1", 8)
			_, ts := c.scheduler("submitter-a", 0)
			_, other := c.scheduler("submitter-b", 0)
			task, task2, space := ts.dedupeStart, other.dedupeStart, "dedupe_start"
			if tc.untilDone {
				task, task2, space = ts.dedupeDone, other.dedupeDone, "dedupe_done"
			}
			ctx := context.Background()
			started := c.counter.nextStart(space, "acme")
			running, err := task.Submit(ctx, call{Key: "acme", Gate: "hold"})
			require.NoError(t, err)
			<-started
			var ids []uint64
			for i := range 6 {
				t := task
				if i%2 == 1 {
					t = task2 // another process submits too
				}
				inv, err := t.Submit(ctx, call{Key: "acme", N: i})
				require.NoError(nil, err)
				ids = append(ids, inv.ID())
			}
			for _, id := range ids {
				require.Equal(t, ids[0], id, "every submission collapses into one invocation")
			}
			if tc.untilDone {
				require.Equal(t, running.ID(), ids[0], "UntilDone: into the running one")
			} else {
				require.NotEqual(t, running.ID(), ids[0], "UntilStart: into one follow-up")
			}
			c.counter.open("hold")
			_, err = running.Wait(ctx)
			require.NoError(t, err)
			follow, err := task.Lookup(ctx, ids[0])
			require.NoError(t, err)
			_, err = follow.Wait(ctx)
			require.NoError(t, err)
			want := 2
			if tc.untilDone {
				want = 1
			}
			require.Len(t, c.counter.startsOf(space, "acme"), want)
		})
	}
}

func TestLimitAcrossProcesses(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	c.startWorker("w1", 2)
	c.startWorker("w2", 2)
	s, ts := c.scheduler("submitter", 0)
	ctx := context.Background()
	var invs []*scheduler.Invocation[done]
	for i := range 5 {
		inv, err := ts.wait3.Submit(ctx, call{Key: "acme", N: i, Gate: "hold"})
		require.NoError(t, err)
		invs = append(invs, inv)
	}
	for c.counter.inFlight("wait3", "acme") < 3 {
		<-c.counter.nextStart("wait3", "acme")
	}
	load := s.Key("wait3", "acme")
	require.Equal(t, 3, load.Running+load.Pending, "%+v", load)
	require.Equal(t, 2, load.Queued, "%+v", load)
	c.counter.open("hold")
	_, errs := waitAll(t, invs)
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 3, c.counter.peak("wait3", "acme"))
	require.Empty(t, c.counter.overlapsSeen())
}

func TestMaxWaitAcrossProcesses(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	c.startWorker("w1", 8)
	_, ts := c.scheduler("submitter", 0)
	ctx := context.Background()
	started := c.counter.nextStart("max_wait", "acme")
	first, err := ts.maxWait.Submit(ctx, call{Key: "acme", Gate: "hold"})
	require.NoError(t, err)
	<-started
	late, err := ts.maxWait.Submit(ctx, call{Key: "acme"})
	require.NoError(t, err)
	_, err = late.Wait(ctx)
	require.ErrorIs(t, err, scheduler.ErrExpired)
	require.Equal(t, scheduler.Expired, late.State())
	c.counter.open("hold")
	_, err = first.Wait(ctx)
	require.NoError(t, err)
	require.Len(t, c.counter.startsOf("max_wait", "acme"), 1, "the expired one never ran")
}

func TestGroupAcrossProcesses(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	c.startWorker("w1", 8)
	c.startWorker("w2", 8)
	s, ts := c.scheduler("submitter", 0)
	ctx := context.Background()
	started := c.counter.nextStart("accounts", "acme")
	a, err := ts.groupA.Submit(ctx, call{Key: "acme", Gate: "hold"})
	require.NoError(t, err)
	<-started
	b, err := ts.groupB.Submit(ctx, call{Key: "acme"})
	require.NoError(t, err)
	load := s.Key("group_b", "acme")
	require.Equal(t, "accounts", load.Task)
	require.Equal(t, 1, load.Running+load.Pending)
	require.Equal(t, 1, load.Queued, "group_b waits for group_a's call of the same account")
	c.counter.open("hold")
	_, errs := waitAll(t, []*scheduler.Invocation[done]{a, b})
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, 1, c.counter.peak("accounts", "acme"))
}

func TestRateAcrossProcesses(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	c.startWorker("w1", 8)
	c.startWorker("w2", 8)
	_, ts := c.scheduler("submitter", 0)
	ctx := context.Background()
	var invs []*scheduler.Invocation[done]
	for i := range 5 {
		inv, err := ts.rated.Submit(ctx, call{Key: "acme", N: i})
		require.NoError(t, err)
		invs = append(invs, inv)
	}
	_, errs := waitAll(t, invs)
	for _, err := range errs {
		require.NoError(t, err)
	}
	starts := c.counter.startsOf("rated", "acme")
	require.Len(t, starts, 5)
	// Rate 10/s, Burst 1: starts at least 100ms apart, measured where they
	// ran; a little less here, for the hops between the database's clock
	// and the counter's.
	for i := 1; i < len(starts); i++ {
		gap := starts[i].At.Sub(starts[i-1].At)
		require.GreaterOrEqual(t, gap, 80*time.Millisecond, "start %d", i)
	}
}

func TestReplaceAcrossProcesses(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	c.startWorker("w1", 8)
	_, ts := c.scheduler("submitter", 0)
	ctx := context.Background()
	started := c.counter.nextStart("replace", "acme")
	old, err := ts.replace.Submit(ctx, call{Key: "acme", N: 1, Gate: "never"})
	require.NoError(t, err)
	<-started
	newer, err := ts.replace.Submit(ctx, call{Key: "acme", N: 2})
	require.NoError(t, err)
	_, err = old.Wait(ctx)
	require.ErrorIs(t, err, scheduler.ErrCanceled)
	require.ErrorIs(t, err, scheduler.ErrReplaced)
	got, err := newer.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, got.N)
	require.Equal(t, 1, c.counter.peak("replace", "acme"), "the new one ran only once the old one returned")
}

func TestUnregisteredTaskStaysQueued(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	s, _ := c.scheduler("submitter", 0)
	orphan, err := scheduler.NewTask(s, "orphan", func(ctx context.Context, c call) (done, error) { return done{}, nil },
		scheduler.Options[call]{Running: scheduler.ByKey, Key: byKey})
	require.NoError(t, err)
	ctx := context.Background()
	inv, err := orphan.Submit(ctx, call{Key: "acme"})
	require.NoError(t, err)
	load := s.Key("orphan", "acme")
	require.Equal(t, 1, load.Busy(), "visible in the key stats: %+v", load)
	keys := s.Keys(0)
	require.Len(t, keys, 1)
	require.Equal(t, "orphan", keys[0].Task)
	require.Equal(t, scheduler.Pending, inv.State(), "admitted, but nobody runs it")
	// A process that registers it runs it.
	newSchedulerWithOrphan(t, c)
	_, err = inv.Wait(ctx)
	require.NoError(t, err)
}

func newSchedulerWithOrphan(t *testing.T, c *cluster) *scheduler.Scheduler {
	s, _ := c.scheduler("orphan-runner", 2)
	_, err := scheduler.NewTask(s, "orphan", func(ctx context.Context, c call) (done, error) { return done{Key: c.Key}, nil },
		scheduler.Options[call]{Running: scheduler.ByKey, Key: byKey})
	require.NoError(t, err)
	return s
}

func TestLookupFromAnotherProcess(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	c.startWorker("w1", 8)
	_, a := c.scheduler("submitter-a", 0)
	_, b := c.scheduler("submitter-b", 0)
	ctx := context.Background()
	inv, err := a.wait1.Submit(ctx, call{Key: "acme", N: 7})
	require.NoError(t, err)
	found, err := b.wait1.Lookup(ctx, inv.ID())
	require.NoError(t, err)
	got, err := found.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, done{Worker: "w1", Key: "acme", N: 7}, got)
	_, err = b.wait1.Lookup(ctx, inv.ID()+1000)
	require.ErrorIs(t, err, scheduler.ErrNotFound)
	_, err = b.wait3.Lookup(ctx, inv.ID())
	require.ErrorIs(t, err, scheduler.ErrNotFound, "an ID of another task")
}

func TestFailuresCrossProcesses(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	c.startWorker("w1", 8)
	_, ts := c.scheduler("submitter", 0)
	ctx := context.Background()
	failed, err := ts.unkeyed.Submit(ctx, call{Key: "a", Fail: "provider said no"})
	require.NoError(t, err)
	panicked, err := ts.unkeyed.Submit(ctx, call{Key: "b", Panic: true})
	require.NoError(t, err)
	_, err = failed.Wait(ctx)
	var remote *scheduler.RemoteError
	require.ErrorAs(t, err, &remote)
	require.Equal(t, "provider said no", remote.Message)
	require.Equal(t, "w1", remote.Worker)
	_, err = panicked.Wait(ctx)
	require.ErrorIs(t, err, scheduler.ErrPanic)
	require.Contains(t, err.Error(), "test panic b")
}
