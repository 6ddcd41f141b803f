package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/internal/pgtest"
	"github.com/perkey/perkey/postgres"
	"github.com/perkey/perkey/scheduler"
)

func TestOpenBadInput(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	closed, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	closed.Close()
	unreachable, err := pgxpool.New(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	require.NoError(t, err)
	defer unreachable.Close()

	newer := pgtest.Schema(t)
	_, err = postgres.Open(ctx, pool, postgres.Config{Schema: newer})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "INSERT INTO "+pgx.Identifier{newer}.Sanitize()+".schema_version (version) VALUES (99)")
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		pool    *pgxpool.Pool
		cfg     postgres.Config
		is      error
		message string
	}{
		{"nil pool", nil, postgres.Config{}, scheduler.ErrInvalid, "nil pool"},
		{"unreachable database", unreachable, postgres.Config{}, nil, "cannot reach the database"},
		{"closed pool", closed, postgres.Config{}, nil, "closed"},
		{"schema not an identifier", pool, postgres.Config{Schema: `a"; DROP TABLE x; --`}, scheduler.ErrBadOption, "Schema"},
		{"short lease", pool, postgres.Config{Lease: time.Millisecond}, scheduler.ErrBadOption, "Lease"},
		{"negative retention", pool, postgres.Config{Retention: -time.Second}, scheduler.ErrBadOption, "Retention"},
		{"newer schema", pool, postgres.Config{Schema: newer}, postgres.ErrSchemaVersion, "version 99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := postgres.Open(ctx, tc.pool, tc.cfg)
			require.Error(t, err)
			require.Nil(t, b)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
			require.Contains(t, err.Error(), tc.message)
		})
	}
}

func TestOpenIsIdempotentAndConcurrent(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	schema := pgtest.Schema(t)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := postgres.Open(ctx, pool, postgres.Config{Schema: schema})
			errs <- err
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
	var versions int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema}.Sanitize()+".schema_version").Scan(&versions))
	require.Equal(t, postgres.SchemaVersion, versions)
}

func TestRegisterConflicts(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	s, _ := c.scheduler("first", 0)
	other, _ := c.scheduler("second", 0)
	fn := func(ctx context.Context, c call) (done, error) { return done{}, nil }
	_, err := scheduler.NewTask(s, "sync", fn, scheduler.Options[call]{Running: scheduler.ByKey, Key: byKey, Limit: 1})
	require.NoError(t, err)
	_, err = scheduler.NewTask(other, "sync", fn, scheduler.Options[call]{Running: scheduler.ByKey, Key: byKey, Limit: 2})
	require.ErrorIs(t, err, scheduler.ErrBadOption)
	require.Contains(t, err.Error(), `task "sync"`)
	require.Contains(t, err.Error(), "Limit 1")
	require.Contains(t, err.Error(), "Limit 2")
	_, err = scheduler.NewTask(other, "other_sync", fn, scheduler.Options[call]{Running: scheduler.ByKey, Key: byKey, Group: "accounts", Limit: 2})
	require.ErrorIs(t, err, scheduler.ErrBadOption, "Group accounts has Limit 1 in the test tasks")
	require.Contains(t, err.Error(), `"accounts"`)
}

type unencodable struct {
	Key string
	Ch  chan int
}

func TestSubmitBadInput(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	s, _ := c.scheduler("submitter", 0)
	task, err := scheduler.NewTask(s, "raw", func(ctx context.Context, u unencodable) (int, error) { return 0, nil },
		scheduler.Options[unencodable]{Running: scheduler.ByKey, Key: func(u unencodable) string { return u.Key }})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = task.Submit(ctx, unencodable{Key: "a", Ch: make(chan int)})
	require.ErrorIs(t, err, scheduler.ErrEncode)
	require.Contains(t, err.Error(), `task "raw"`)
	var rows int
	require.NoError(t, c.pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{c.schema}.Sanitize()+".invocations").Scan(&rows))
	require.Zero(t, rows, "nothing was created")
}

// TestResultThatCannotBeDecoded: the process that waits declares another
// result type than the one that ran.
func TestResultThatCannotBeDecoded(t *testing.T) {
	c := newCluster(t, 5*time.Second)
	runner, _ := c.scheduler("runner", 2)
	_, err := scheduler.NewTask(runner, "shape", func(ctx context.Context, n int) (string, error) { return "text", nil },
		scheduler.Options[int]{})
	require.NoError(t, err)
	waiter, _ := c.scheduler("waiter", 0)
	task, err := scheduler.NewTask(waiter, "shape", func(ctx context.Context, n int) (int, error) { return 0, nil },
		scheduler.Options[int]{})
	require.NoError(t, err)
	ctx := context.Background()
	inv, err := task.Submit(ctx, 1)
	require.NoError(t, err)
	_, err = inv.Wait(ctx)
	require.ErrorIs(t, err, scheduler.ErrDecode)
	require.Contains(t, err.Error(), `task "shape"`)
	require.Equal(t, scheduler.Succeeded, inv.State(), "it ran; only this process cannot read the result")
	require.False(t, errors.Is(err, scheduler.ErrPanic))
}
