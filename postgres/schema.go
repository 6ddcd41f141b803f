package postgres

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrSchemaVersion is returned by Open when the database's schema is newer
// than this build of perkey knows: a newer release migrated it. Run the
// newer release everywhere, or use another Config.Schema.
var ErrSchemaVersion = errors.New("postgres: the schema's version is newer than this build supports")

// SchemaVersion is the version of the schema this build creates and uses.
const SchemaVersion = 1

// migrations[i] brings a schema from version i to i+1.
var migrations = []string{schemaV1}

//go:embed schema_v1.sql
var schemaV1 string

// names are the schema's identifiers, quoted for SQL.
type names struct {
	schema string // quoted identifier
	ready  string // notification channels, unquoted
	done   string
	cancel string
	events string
	listen string
}

func newNames(schema string) names {
	return names{
		schema: pgx.Identifier{schema}.Sanitize(),
		ready:  schema + "_ready",
		done:   schema + "_done",
		cancel: schema + "_cancel",
		events: schema + "_events",
		listen: schema + "_listen",
	}
}

// render fills a SQL template's placeholders.
func (n names) render(sql string) string {
	return strings.NewReplacer(
		"{{s}}", n.schema,
		"{{ready}}", quote(n.ready),
		"{{done}}", quote(n.done),
		"{{cancel}}", quote(n.cancel),
		"{{events}}", quote(n.events),
		"{{listen}}", quote(n.listen),
	).Replace(sql)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// migrate creates the schema or brings it to SchemaVersion, under a
// transaction lock so that processes opening at once take turns. It is
// idempotent.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	n := newNames(schema)
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "perkey migrate "+schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, n.render(`
			CREATE SCHEMA IF NOT EXISTS {{s}};
			CREATE TABLE IF NOT EXISTS {{s}}.schema_version (
				version    int PRIMARY KEY,
				applied_at timestamptz NOT NULL DEFAULT now()
			)`)); err != nil {
			return err
		}
		var version int
		if err := tx.QueryRow(ctx, n.render(`SELECT coalesce(max(version), 0) FROM {{s}}.schema_version`)).Scan(&version); err != nil {
			return err
		}
		if version > SchemaVersion {
			return fmt.Errorf("%w: schema %q is at version %d, this build knows up to %d", ErrSchemaVersion, schema, version, SchemaVersion)
		}
		for v := version; v < SchemaVersion; v++ {
			if _, err := tx.Exec(ctx, n.render(migrations[v])); err != nil {
				return fmt.Errorf("migration to version %d: %w", v+1, err)
			}
			if _, err := tx.Exec(ctx, n.render(`INSERT INTO {{s}}.schema_version (version) VALUES ($1)`), v+1); err != nil {
				return err
			}
		}
		return nil
	})
}
