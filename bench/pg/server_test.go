package pg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perkey/perkey/internal/pgserver"
)

// envURL names a server of one's own; without it a private one is started.
const envURL = "PERKEY_DATABASE_URL"

// database is the server every benchmark and test of this binary shares:
// started on first use, stopped by TestMain.
type database struct {
	mu      sync.Mutex
	started bool
	server  *pgserver.Server // nil with PERKEY_DATABASE_URL
	url     string
	err     error
	profile bool // pg_stat_statements is loaded and created
}

var db database

// get returns the server's URL, starting a private server on first use.
// It skips tb (fails it when CI=true) if there is none to be had.
func (d *database) get(tb testing.TB) string {
	tb.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.started {
		d.started = true
		d.url, d.err = d.start()
	}
	if d.err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL is required in CI: %v", d.err)
		}
		tb.Skipf("no PostgreSQL server: %v", d.err)
	}
	return d.url
}

func (d *database) start() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := os.Getenv(envURL)
	if url == "" {
		opts := pgserver.Options{Settings: map[string]string{"max_connections": "300"}}
		if *profileFile != "" {
			opts.Settings["shared_preload_libraries"] = "pg_stat_statements"
			opts.Settings["pg_stat_statements.track"] = "all"
			opts.Settings["pg_stat_statements.max"] = "10000"
		}
		srv, err := pgserver.Start(ctx, opts)
		if err != nil {
			return "", err
		}
		d.server, url = srv, srv.URL()
	}
	if *profileFile != "" {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return "", err
		}
		_, err = conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
		conn.Close(ctx)
		if err != nil {
			return "", fmt.Errorf("-pgprofile needs pg_stat_statements (shared_preload_libraries on a server of your own): %w", err)
		}
		d.profile = true
	}
	return url, nil
}

// stop stops the private server, if one was started.
func (d *database) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.server.Stop()
	d.server, d.started, d.err = nil, false, nil
}

// postmaster returns the pid of the private server's postmaster, or 0.
func (d *database) postmaster() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.server == nil {
		return 0
	}
	raw, err := os.ReadFile(filepath.Join(d.server.Dir(), "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
	return pid
}

// newPool connects a pool of maxConns connections: every submitter and
// worker, of either system, gets the same.
func newPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// maxConns is the size of every pool, submitter's and workers', of both
// systems: 8 slots, and room for the systems' own loops.
const maxConns = 10

// newSchemaName returns a fresh schema name with the given prefix.
func newSchemaName(prefix string) string {
	var b [5]byte
	rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// dropSchema drops a schema and everything in it.
func dropSchema(pool *pgxpool.Pool, schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	return err
}

// errTimeout is returned when a scenario does not finish within its
// bound: lost jobs, rather than slow ones.
var errTimeout = errors.New("scenario did not finish in time")
