package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perkey/perkey/internal/pgserver"
	"github.com/perkey/perkey/postgres"
)

// defaultSchema is the schema of `sim worker`, and of the sim with
// -workers 0: the four-terminal flow needs no -schema.
const defaultSchema = "perkey_sim"

// database is the PostgreSQL side of a -backend postgres run: a server
// (a private one unless -database names one), a pool and the run's
// schema. close releases what it made.
type database struct {
	server *pgserver.Server // nil with -database
	url    string
	pool   *pgxpool.Pool
	schema string
	fresh  bool   // the sim made the schema for this run: close drops it
	where  string // for the header: "private server" or "-database"
}

// submitterConns is the pool size of the sim's own process: its
// submitters and waiters share it.
const submitterConns = 16

// openDatabase starts a private server unless o.database names one,
// connects, and picks the run's schema: o.schema, or a fresh one when the
// sim starts the workers itself, or defaultSchema for workers started
// apart. On failure nothing is left running.
func openDatabase(ctx context.Context, o options) (_ *database, err error) {
	d := &database{url: o.database, where: "-database", schema: o.schema}
	defer func() {
		if err != nil {
			d.close(io.Discard)
		}
	}()
	if d.url == "" {
		if d.server, err = pgserver.Start(ctx, pgserver.Options{}); err != nil {
			return nil, err
		}
		d.url, d.where = d.server.URL(), "private server"
	}
	if d.pool, err = newPool(ctx, d.url, submitterConns); err != nil {
		return nil, err
	}
	switch {
	case d.schema != "":
	case o.workers > 0:
		d.schema, d.fresh = freshSchema(), true
	default:
		d.schema = defaultSchema
	}
	return d, nil
}

// newPool connects to url with at most conns connections.
func newPool(ctx context.Context, url string, conns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	cfg.MaxConns = int32(conns)
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(pctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	return pool, nil
}

// freshSchema returns a new schema name for one run, such as
// "sim_1f2e3d4c5b6a".
func freshSchema() string {
	var b [6]byte
	rand.Read(b[:])
	return "sim_" + hex.EncodeToString(b[:])
}

// invocationRows counts the rows of the schema's invocations table: the
// soak's db_rows_end.
func (d *database) invocationRows(ctx context.Context) (int64, error) {
	var n int64
	err := d.pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{d.schema, "invocations"}.Sanitize()).Scan(&n)
	return n, err
}

// close drops a fresh schema, closes the pool and stops a private
// server. Errors go to stderr.
func (d *database) close(stderr io.Writer) {
	var errs []error
	if d.pool != nil {
		if d.fresh && d.server == nil { // a private server goes whole
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := d.pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{d.schema}.Sanitize()+" CASCADE")
			cancel()
			if err != nil {
				errs = append(errs, fmt.Errorf("dropping schema %s: %w", d.schema, err))
			}
		}
		d.pool.Close()
	}
	if d.server != nil {
		errs = append(errs, d.server.Stop())
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stderr, "sim: database: %v\n", err)
	}
}

// backendConfig is the postgres.Config of one process of the run.
type backendConfig struct {
	schema, worker      string
	lease, poll, retain time.Duration // zero: postgres's defaults
	submitOnly          bool
}

func (c backendConfig) config() postgres.Config {
	return postgres.Config{
		Schema:       c.schema,
		Worker:       c.worker,
		Lease:        c.lease,
		PollInterval: c.poll,
		Retention:    c.retain,
		SubmitOnly:   c.submitOnly,
	}
}

// warnLogger logs the backend's warnings (a failed claim, a lost lease)
// to w, each line prefixed.
func warnLogger(w io.Writer, prefix string) *slog.Logger {
	return slog.New(slog.NewTextHandler(&prefixWriter{w: w, prefix: prefix}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
