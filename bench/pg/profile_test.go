package pg

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var profileFile = flag.String("pgprofile", "", "run the server with pg_stat_statements (track=all) and append each measurement's top statements and CPU split to this file")

// profileTop is how many statements a measurement's profile lists.
const profileTop = 15

// profileMu keeps the profile's sections whole.
var profileMu sync.Mutex

// profileReset forgets the statements seen so far.
func profileReset(pool *pgxpool.Pool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := pool.Exec(ctx, "SELECT pg_stat_statements_reset()")
	return err
}

var spaces = regexp.MustCompile(`\s+`)

// profileWrite appends to the profile file a section for one
// measurement: its CPU split, and the statements that took the most
// server time since profileReset, with the schema's name shortened to
// {s}. toplevel says whether the statement came from a client (true) or
// from inside a function (false): a function's time includes its
// statements'.
func profileWrite(pool *pgxpool.Pool, label, schema string, elapsed time.Duration, cpu cpuSplit) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := pool.Query(ctx, `
		SELECT toplevel, calls, total_exec_time, mean_exec_time, rows, query,
			sum(total_exec_time) FILTER (WHERE toplevel) OVER ()
		FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND query NOT LIKE '%pg_stat_statements%'
		ORDER BY total_exec_time DESC LIMIT $1`, profileTop)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\nwall %.2fs; CPU over the wall time, in %% of one core: Go processes %.0f%%, PostgreSQL processes %.0f%%\n\n",
		label, elapsed.Seconds(), cpu.goPct, cpu.pgPct)
	b.WriteString("| top | calls | total ms | mean ms | rows | statement |\n|---|--:|--:|--:|--:|---|\n")
	var (
		top              bool
		calls, n         int64
		total, mean, all float64
		query            string
	)
	_, err = pgx.ForEachRow(rows, []any{&top, &calls, &total, &mean, &n, &query, &all}, func() error {
		query = spaces.ReplaceAllString(strings.ReplaceAll(query, pgx.Identifier{schema}.Sanitize(), "{s}"), " ")
		query = strings.ReplaceAll(query, schema, "{s}")
		if len(query) > 160 {
			query = query[:157] + "..."
		}
		fmt.Fprintf(&b, "| %v | %d | %.0f | %.3f | %d | `%s` |\n", top, calls, total, mean, n, strings.ReplaceAll(query, "|", `\|`))
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nserver time of all top-level statements: %.0f ms\n\n", all)
	profileMu.Lock()
	defer profileMu.Unlock()
	f, err := os.OpenFile(*profileFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(b.String())
	return errors.Join(err, f.Close())
}
