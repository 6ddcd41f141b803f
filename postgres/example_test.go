package postgres_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/perkey/perkey/postgres"
	"github.com/perkey/perkey/scheduler"
)

type Call struct {
	AccountID string
	Op        string
}

func callProvider(ctx context.Context, c Call) (string, error) {
	return c.Op + " done for " + c.AccountID, nil
}

// Every process of a service builds its scheduler this way, on the same
// database, and registers the same tasks: at most one call per account is
// in flight across all of them.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	backend, err := postgres.Open(ctx, pool, postgres.Config{Schema: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := scheduler.New(scheduler.Config{MaxParallel: 8, Backend: backend})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close(ctx)
	task, err := scheduler.NewTask(s, "call_keyed", callProvider, scheduler.Options[Call]{
		Running: scheduler.ByKey, Key: func(c Call) string { return c.AccountID }})
	if err != nil {
		fmt.Println(err)
		return
	}
	inv, err := task.Submit(ctx, Call{"acme", "sync"}) // durable once Submit returns
	if err != nil {
		fmt.Println(err)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := inv.Wait(wctx) // wherever it ran
	fmt.Println(out, err)
	// Output: sync done for acme <nil>
}
