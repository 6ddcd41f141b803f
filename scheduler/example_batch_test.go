package scheduler_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/perkey/perkey/scheduler"
)

// SubmitAll: a page of calls crosses to the scheduler at once; the same
// rules hold for each, and the handles come back in the batch's order.
func ExampleTask_SubmitAll() {
	ctx := context.Background()
	s, _ := scheduler.New(scheduler.Config{})
	defer s.Close(ctx)

	task, _ := scheduler.NewTask(s, "sync_account",
		func(ctx context.Context, c Call) (string, error) {
			return strings.ToUpper(c.Op), nil
		},
		scheduler.Options[Call]{
			Running: scheduler.ByKey,
			Key:     func(c Call) string { return c.AccountID },
		})

	invs, err := task.SubmitAll(ctx, []Call{
		{"acme", "fetch_profile"}, {"globex", "fetch_profile"}, {"acme", "list_invoices"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, inv := range invs {
		out, err := inv.Wait(ctx)
		fmt.Println(inv.Key(), out, err)
	}
	// Output:
	// acme FETCH_PROFILE <nil>
	// globex FETCH_PROFILE <nil>
	// acme LIST_INVOICES <nil>
}

// Go: calls whose results nobody waits for. There is no handle; the task
// reports what it needs itself, and Close waits for the calls to finish.
func ExampleTask_Go() {
	ctx := context.Background()
	s, _ := scheduler.New(scheduler.Config{})

	var (
		mu   sync.Mutex
		seen []string
	)
	task, _ := scheduler.NewTask(s, "record_visit",
		func(ctx context.Context, c Call) (struct{}, error) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, c.AccountID+" "+c.Op)
			return struct{}{}, nil
		},
		scheduler.Options[Call]{
			Running: scheduler.ByKey,
			Key:     func(c Call) string { return c.AccountID },
		})

	for _, acct := range []string{"initech", "acme", "globex"} {
		if err := task.Go(ctx, Call{acct, "visit"}); err != nil {
			fmt.Println(err)
		}
	}
	_ = s.Close(ctx) // drains: every call has run once it returns

	sort.Strings(seen)
	fmt.Println(strings.Join(seen, ", "))
	// Output:
	// acme visit, globex visit, initech visit
}
