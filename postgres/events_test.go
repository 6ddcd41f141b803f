package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/postgres"
	"github.com/perkey/perkey/scheduler"
)

// TestEventsFromEveryProcess: a process with a listener receives the state
// changes that other processes make, in order for each invocation, named
// with the process that ran it.
func TestEventsFromEveryProcess(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	s, ts := c.scheduler("watcher", 0)
	var mu sync.Mutex
	byID := map[uint64][]scheduler.Event{}
	cancel := s.Subscribe(func(ev scheduler.Event) {
		mu.Lock()
		byID[ev.ID] = append(byID[ev.ID], ev)
		mu.Unlock()
	})
	defer cancel()
	c.startWorker("w1", 8)
	ctx := context.Background()
	// Until the worker has learnt that someone listens, its changes are
	// not published: probe until one is.
	require.Eventually(t, func() bool {
		inv, err := ts.unkeyed.Submit(ctx, call{Key: "probe"})
		require.NoError(t, err)
		_, err = inv.Wait(ctx)
		require.NoError(t, err)
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range byID[inv.ID()] {
			if ev.State == scheduler.Succeeded {
				return true
			}
		}
		return false
	}, 20*time.Second, 10*time.Millisecond)

	var invs []*scheduler.Invocation[done]
	for i := range 5 {
		inv, err := ts.wait1.Submit(ctx, call{Key: "acme", N: i})
		require.NoError(t, err)
		invs = append(invs, inv)
	}
	// And one without a key, submitted in a batch: Pending at once.
	unkeyed, err := ts.unkeyed.SubmitAll(ctx, []call{{Key: "solo"}})
	require.NoError(t, err)
	invs = append(invs, unkeyed[0])
	_, errs := waitAll(t, invs)
	for _, err := range errs {
		require.NoError(t, err)
	}
	for _, inv := range invs {
		// The final event is published in the transaction that ends
		// the invocation, so it may arrive just after Wait returns.
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			evs := byID[inv.ID()]
			return len(evs) > 0 && evs[len(evs)-1].State.Final()
		}, 10*time.Second, time.Millisecond)
		mu.Lock()
		evs := byID[inv.ID()]
		mu.Unlock()
		var states []scheduler.State
		for _, ev := range evs {
			states = append(states, ev.State)
			require.Equal(t, inv.Key(), ev.Key)
		}
		require.Equal(t, []scheduler.State{scheduler.Queued, scheduler.Pending, scheduler.Running, scheduler.Succeeded}, states)
		require.Equal(t, "w1", evs[2].Worker)
	}
}

func TestRetentionDeletesFinalWork(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	c.startWorker("w1", 8)
	_, ts := c.scheduler("submitter", 0, func(cfg *postgres.Config) { cfg.Retention = 200 * time.Millisecond })
	ctx := context.Background()
	var invs []*scheduler.Invocation[done]
	for i := range 20 {
		inv, err := ts.wait3.Submit(ctx, call{Key: "acme", N: i})
		require.NoError(t, err)
		invs = append(invs, inv)
	}
	waitAll(t, invs)
	count := func() int {
		var n int
		require.NoError(t, c.pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{c.schema}.Sanitize()+".invocations").Scan(&n))
		return n
	}
	require.Eventually(t, func() bool { return count() == 0 }, 30*time.Second, 50*time.Millisecond)
	_, err := ts.wait3.Lookup(ctx, invs[0].ID())
	require.ErrorIs(t, err, scheduler.ErrNotFound)
	// A handle kept past the retention: Wait says so, rather than wait
	// for ever.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = invs[1].Wait(wctx)
	require.ErrorIs(t, err, scheduler.ErrNotFound)
}
