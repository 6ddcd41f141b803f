package provider_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/perkey/perkey/provider"
)

// Two overlapping calls for one account: the second collides.
func Example() {
	srv, err := provider.Start(provider.Config{Log: os.Stdout})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	c, err := provider.NewClient(srv.URL(), provider.ClientConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx := context.Background()

	first := make(chan provider.Outcome)
	go func() {
		out, _ := c.Call(ctx, "acme", "fetch_profile", 500*time.Millisecond)
		first <- out
	}()
	// Wait until the provider counts the first call, then overlap it.
	for rep, _ := c.Report(ctx); rep.Calls == 0; rep, _ = c.Report(ctx) {
	}
	second, _ := c.Call(ctx, "acme", "list_invoices", time.Millisecond)
	fmt.Println(<-first, second)

	rep, _ := c.Report(ctx)
	fmt.Printf("calls=%d collisions=%d acme=%+v\n", rep.Calls, rep.Collisions, rep.Accounts["acme"])
	// Output:
	// [ok       ] acme     fetch_profile
	// [COLLISION] acme     list_invoices
	// ok collision
	// calls=2 collisions=1 acme={Calls:2 Collisions:1 RateViolations:0}
}

// A call in a provider mode: a second start within min_gap is a rate
// violation, and a call that asks for a fault fails with a typed error.
func ExampleClient_CallWith() {
	srv, err := provider.Start(provider.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	c, err := provider.NewClient(srv.URL(), provider.ClientConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx := context.Background()

	first, _ := c.CallWith(ctx, "acme", "refresh_usage", provider.CallOptions{Hold: time.Millisecond})
	second, _ := c.CallWith(ctx, "acme", "refresh_usage", provider.CallOptions{Hold: time.Millisecond, MinGap: time.Hour})
	fmt.Println(first, second)

	_, err = c.CallWith(ctx, "acme", "fetch_profile", provider.CallOptions{Fault: provider.FaultStatus})
	var se *provider.StatusError
	fmt.Println(errors.Is(err, provider.ErrStatus), errors.As(err, &se) && se.Code == 500)

	rep, _ := c.Report(ctx)
	fmt.Printf("calls=%d rate_violations=%d faults=%d\n", rep.Calls, rep.RateViolations, rep.Faults)
	// Output:
	// ok rate_violation
	// true true
	// calls=2 rate_violations=1 faults=1
}
