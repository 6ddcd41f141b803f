// Command quickstart calls an external API for three accounts through a
// perkey scheduler: the accounts in parallel, one call at a time per
// account, in the order they were submitted.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/perkey/perkey/scheduler"
)

// Call is one call to the external API on behalf of an account.
type Call struct{ AccountID, Op string }

// callAPI stands in for the external API, which must never see two calls
// for one account at once. It takes 50ms, or less if ctx ends.
func callAPI(ctx context.Context, c Call) (string, error) {
	select {
	case <-time.After(50 * time.Millisecond):
		return c.AccountID + " " + c.Op + ": done", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	s, err := scheduler.New(scheduler.Config{MaxParallel: 8})
	if err != nil {
		return err
	}
	defer s.Close(ctx) // on an early return; the end of run closes it too

	task, err := scheduler.NewTask(s, "call_api", callAPI, scheduler.Options[Call]{
		Running: scheduler.ByKey, // at most one call per account in flight
		Key:     func(c Call) string { return c.AccountID },
		OnBusy:  scheduler.Wait, // a busy account's calls wait their turn
	})
	if err != nil {
		return err
	}

	var invs []*scheduler.Invocation[string]
	for _, op := range []string{"fetch_profile", "list_invoices"} {
		for _, account := range []string{"acme", "globex", "initech"} {
			inv, err := task.Submit(ctx, Call{account, op})
			if err != nil {
				return err
			}
			invs = append(invs, inv)
		}
	}
	for _, inv := range invs {
		// The result, or ErrDropped, ErrExpired, ErrCanceled, or the
		// task's own error.
		result, err := inv.Wait(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", inv.Key(), err)
		}
		fmt.Fprintln(out, result)
	}
	return s.Close(ctx) // waits for what is still running, then stops
}
