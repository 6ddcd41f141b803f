package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestLostDatabaseCancelsBeforeTheLeaseRunsOut: a worker that can no longer
// reach the database cannot renew its lease, so it cancels its task's ctx
// before the lease runs out; only then does another worker run the
// invocation again. The worker is cut off by forbidding its role to log in
// and ending its sessions.
func TestLostDatabaseCancelsBeforeTheLeaseRunsOut(t *testing.T) {
	c := newCluster(t, 2*time.Second)
	ctx := context.Background()
	role := "cut_" + c.schema
	_, err := c.pool.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN SUPERUSER", pgx.Identifier{role}.Sanitize()))
	require.NoError(t, err)
	t.Cleanup(func() {
		c.pool.Exec(context.Background(), fmt.Sprintf("DROP ROLE IF EXISTS %s", pgx.Identifier{role}.Sanitize()))
	})
	u, err := url.Parse(c.url)
	require.NoError(t, err)
	u.User = url.User(role)
	c.startWorkerAt("cut-off", 4, u.String())
	_, ts := c.scheduler("submitter", 0)

	started := c.counter.nextStart("wait1", "acme")
	inv, err := ts.wait1.Submit(ctx, call{Key: "acme", N: 1, Gate: "never"})
	require.NoError(t, err)
	<-started
	// Cut the worker off: no new sessions, and its sessions end.
	_, err = c.pool.Exec(ctx, fmt.Sprintf("ALTER ROLE %s NOLOGIN", pgx.Identifier{role}.Sanitize()))
	require.NoError(t, err)
	_, err = c.pool.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role)
	require.NoError(t, err)

	c.startWorker("rescuer", 4)
	c.counter.open("never@rescuer") // the rerun passes; the cut-off one must give up by itself
	got, err := inv.Wait(ctx)
	require.NoError(t, err)
	require.Equal(t, "rescuer", got.Worker)
	starts := c.counter.startsOf("wait1", "acme")
	require.Len(t, starts, 2)
	require.Equal(t, []string{"cut-off", "rescuer"}, []string{starts[0].Worker, starts[1].Worker})
	// Without forget: the cut-off worker's task must have left (its ctx
	// cancelled) before the rescuer's started.
	require.Equal(t, 1, c.counter.peak("wait1", "acme"), "no overlap while the lease was honoured")
	require.Empty(t, c.counter.overlapsSeen())
}

// TestLeaseGivenUpRunsAgain: a worker whose heartbeats fail gives its
// lease up before it runs out (it cancels the task's ctx), and the
// invocation goes back to be run again: not Failed.
func TestLeaseGivenUpRunsAgain(t *testing.T) {
	c := newCluster(t, time.Second)
	ctx := context.Background()
	c.startWorker("w1", 4)
	_, ts := c.scheduler("submitter", 0)
	heartbeat := pgx.Identifier{c.schema, "heartbeat"}.Sanitize() + "(text, bigint[], int[], interval)"

	first := c.counter.nextStart("wait1", "acme")
	inv, err := ts.wait1.Submit(ctx, call{Key: "acme", N: 1, Gate: "pass"})
	require.NoError(t, err)
	<-first
	again := c.counter.nextStart("wait1", "acme")
	_, err = c.pool.Exec(ctx, "ALTER FUNCTION "+heartbeat+" RENAME TO heartbeat_off")
	require.NoError(t, err)
	<-again // given up, put back, claimed again
	_, err = c.pool.Exec(ctx, "ALTER FUNCTION "+pgx.Identifier{c.schema, "heartbeat_off"}.Sanitize()+
		"(text, bigint[], int[], interval) RENAME TO heartbeat")
	require.NoError(t, err)
	c.counter.open("pass")
	_, err = inv.Wait(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(c.counter.startsOf("wait1", "acme")), 2)
	require.Equal(t, 1, c.counter.peak("wait1", "acme"))
}
