package scheduler_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/perkey/perkey/scheduler"
)

type Call struct{ AccountID, Op string }

// Keyed wait: calls for different accounts run in parallel, calls for the
// same account one at a time, in the order they were submitted.
func Example() {
	ctx := context.Background()
	s, _ := scheduler.New(scheduler.Config{MaxParallel: 8})
	defer s.Close(ctx)

	task, _ := scheduler.NewTask(s, "call_keyed",
		func(ctx context.Context, c Call) (string, error) {
			return c.AccountID + ":" + c.Op, nil // call the provider here
		},
		scheduler.Options[Call]{
			Running: scheduler.ByKey,
			Key:     func(c Call) string { return c.AccountID },
		})

	var invs []*scheduler.Invocation[string]
	for _, acct := range []string{"acme", "globex"} {
		for _, op := range []string{"fetch_profile", "list_invoices"} {
			inv, _ := task.Submit(ctx, Call{acct, op})
			invs = append(invs, inv)
		}
	}
	for _, inv := range invs {
		out, err := inv.Wait(ctx)
		fmt.Println(inv.Key(), out, err)
	}
	// Output:
	// acme acme:fetch_profile <nil>
	// acme acme:list_invoices <nil>
	// globex globex:fetch_profile <nil>
	// globex globex:list_invoices <nil>
}

// Drop: a call for an account that is already busy is discarded at once
// instead of waiting; its Wait returns ErrDropped.
func Example_drop() {
	ctx := context.Background()
	s, _ := scheduler.New(scheduler.Config{})
	defer s.Close(ctx)

	release := make(chan struct{})
	task, _ := scheduler.NewTask(s, "sync_account",
		func(ctx context.Context, acct string) (string, error) {
			<-release // a long provider call
			return "synced " + acct, nil
		},
		scheduler.Options[string]{
			Running: scheduler.ByKey,
			OnBusy:  scheduler.Drop,
			Key:     func(acct string) string { return acct },
		})

	first, _ := task.Submit(ctx, "acme")
	second, _ := task.Submit(ctx, "acme") // acme is busy: dropped
	_, err := second.Wait(ctx)
	fmt.Println(second.State(), errors.Is(err, scheduler.ErrDropped))

	close(release)
	out, _ := first.Wait(ctx)
	fmt.Println(first.State(), out)
	// Output:
	// Dropped true
	// Succeeded synced acme
}

// Dedupe: a burst of refresh requests for an account collapses into the
// invocation already registered for it; the task runs once per account.
func Example_dedupe() {
	ctx := context.Background()
	s, _ := scheduler.New(scheduler.Config{})
	defer s.Close(ctx)

	release := make(chan struct{})
	task, _ := scheduler.NewTask(s, "refresh",
		func(ctx context.Context, acct string) (string, error) {
			<-release
			return "refreshed " + acct, nil
		},
		scheduler.Options[string]{
			Running:      scheduler.ByKey,
			Registration: scheduler.ByKey,
			Dedupe:       scheduler.UntilDone,
			Key:          func(acct string) string { return acct },
		})

	first, _ := task.Submit(ctx, "acme")
	same := 0
	for range 7 {
		if again, _ := task.Submit(ctx, "acme"); again == first {
			same++
		}
	}
	fmt.Println("same invocation:", same)
	close(release)
	out, _ := first.Wait(ctx)
	st := s.Stats()
	fmt.Println(out, st.Submitted, st.Deduped)
	// Output:
	// same invocation: 7
	// refreshed acme 8 7
}

// MaxQueued: at most two calls per account wait; with OnFull Reject, one
// more fails at once with ErrFull instead of growing the backlog (the
// default, Block, waits for room).
func Example_maxQueued() {
	ctx := context.Background()
	s, _ := scheduler.New(scheduler.Config{})
	defer s.Close(ctx)

	started, release := make(chan string, 3), make(chan struct{})
	task, _ := scheduler.NewTask(s, "sync",
		func(ctx context.Context, acct string) (string, error) {
			started <- acct
			<-release // a slow provider
			return acct + " synced", nil
		},
		scheduler.Options[string]{
			Running:   scheduler.ByKey,
			Key:       func(acct string) string { return acct },
			MaxQueued: 2,
			OnFull:    scheduler.Reject,
		})

	first, _ := task.Submit(ctx, "acme")
	<-started // it runs: it no longer waits
	second, _ := task.Submit(ctx, "acme")
	third, _ := task.Submit(ctx, "acme")
	_, err := task.Submit(ctx, "acme")
	fmt.Println(errors.Is(err, scheduler.ErrFull), err)
	close(release)
	for _, inv := range []*scheduler.Invocation[string]{first, second, third} {
		out, _ := inv.Wait(ctx)
		fmt.Println(out)
	}
	// Output:
	// true task "sync": MaxQueued 2 reached for key "acme": scheduler: full: too many invocations waiting
	// acme synced
	// acme synced
	// acme synced
}
