package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

// TestRandomLoadAcrossProcesses: three worker processes on one database,
// 20,000 random submissions over 300 keys, of tasks that wait, drop,
// dedupe and allow 3 per key. The counter, outside the scheduler, sees no
// key above its limit, and every invocation ends.
func TestRandomLoadAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	c := newCluster(t, 10*time.Second)
	for i := range 3 {
		c.startWorker(fmt.Sprintf("w%d", i+1), 8)
	}
	_, ts := c.scheduler("submitter", 0)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	tasks := []*scheduler.Task[call, done]{ts.wait1, ts.wait3, ts.drop, ts.dedupeStart, ts.dedupeDone, ts.groupA, ts.groupB}
	const total, keys, batch = 20000, 300, 500
	var invs []*scheduler.Invocation[done]
	for len(invs) < total {
		// Batches per task, so that each crosses to the database once.
		task := tasks[rng.IntN(len(tasks))]
		calls := make([]call, batch)
		for i := range calls {
			calls[i] = call{Key: fmt.Sprintf("k%03d", rng.IntN(keys)), N: len(invs) + i, HoldMS: rng.IntN(2)}
		}
		got, err := task.SubmitAll(ctx, calls)
		require.NoError(t, err)
		invs = append(invs, got...)
	}
	_, errs := waitAll(t, invs)
	var dropped int
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, scheduler.ErrDropped):
			dropped++
		default:
			t.Fatalf("invocation %d: %v", invs[i].ID(), err)
		}
		require.True(t, invs[i].State().Final())
	}
	require.Empty(t, c.counter.overlapsSeen())
	require.Len(t, c.counter.workersSeen(), 3, "every process ran some")
	t.Logf("%d invocations, %d runs, %d dropped, workers %v", total, c.counter.totalRuns(), dropped, c.counter.workersSeen())
}

// TestKillAProcess: a worker is killed with SIGKILL while it runs
// invocations; once their leases run out another worker runs them again.
// Nothing is lost, and no key overlaps while the leases were honoured.
func TestKillAProcess(t *testing.T) {
	c := newCluster(t, time.Second)
	victim := c.startWorker("victim", 8)
	_, ts := c.scheduler("submitter", 0)
	ctx := context.Background()
	var invs []*scheduler.Invocation[done]
	for i := range 4 {
		key := fmt.Sprintf("acct%d", i)
		started := c.counter.nextStart("wait1", key)
		inv, err := ts.wait1.Submit(ctx, call{Key: key, N: i, Gate: "after-kill"})
		require.NoError(t, err)
		<-started
		invs = append(invs, inv)
		// And one queued behind it.
		inv, err = ts.wait1.Submit(ctx, call{Key: key, N: 100 + i})
		require.NoError(t, err)
		invs = append(invs, inv)
	}
	victim.kill()
	c.counter.forget("victim")
	killed := time.Now()
	c.counter.open("after-kill")
	c.startWorker("rescuer", 8)
	got, errs := waitAll(t, invs)
	for i, err := range errs {
		require.NoError(t, err, "invocation %d", invs[i].ID())
		require.Equal(t, "rescuer", got[i].Worker)
	}
	t.Logf("takeover: all done %v after the kill (lease 1s)", time.Since(killed))
	require.Empty(t, c.counter.overlapsSeen())
	for i := range 4 {
		starts := c.counter.startsOf("wait1", fmt.Sprintf("acct%d", i))
		require.Len(t, starts, 3, "run, run again after the lease, then the queued one")
		require.Equal(t, []int{i, i, 100 + i}, []int{starts[0].N, starts[1].N, starts[2].N}, "the rescued one goes first")
	}
}

// TestCloseHandsWorkBack: a process closing with a ctx that ends cancels
// its running tasks; they go back to the database and another process runs
// them; its queued work stays for the others.
func TestCloseHandsWorkBack(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	s, ts := c.scheduler("closing", 4)
	ctx := context.Background()
	started := c.counter.nextStart("wait1", "acme")
	first, err := ts.wait1.Submit(ctx, call{Key: "acme", N: 1, Gate: "never"})
	require.NoError(t, err)
	second, err := ts.wait1.Submit(ctx, call{Key: "acme", N: 2})
	require.NoError(t, err)
	<-started
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = s.Close(cctx)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, scheduler.ErrLeaked, "the task honoured its ctx")
	c.counter.open("never")
	_, other := c.scheduler("other", 4)
	found, err := other.wait1.Lookup(ctx, first.ID())
	require.NoError(t, err)
	got, err := found.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, "other", got.Worker)
	found, err = other.wait1.Lookup(ctx, second.ID())
	require.NoError(t, err)
	got, err = found.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, got.N)
	require.Equal(t, 1, c.counter.peak("wait1", "acme"), "%+v", c.counter.startsOf("wait1", "acme"))
}
