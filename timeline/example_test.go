package timeline_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/perkey/perkey/scheduler"
	"github.com/perkey/perkey/timeline"
)

// A Recorder as the scheduler's OnEvent: run some work, then render the
// page, here to a string (a file in practice).
func Example() {
	ctx := context.Background()
	rec, _ := timeline.New(timeline.Config{Title: "account sync"})
	s, _ := scheduler.New(scheduler.Config{OnEvent: rec.Record})

	task, _ := scheduler.NewTask(s, "sync",
		func(ctx context.Context, account string) (string, error) { return "synced " + account, nil },
		scheduler.Options[string]{
			Running: scheduler.ByKey,
			Key:     func(a string) string { return a },
			Label:   func(string) string { return "sync" },
		})
	sec := rec.Section("nightly")
	for _, a := range []string{"acme", "globex", "acme"} {
		inv, _ := task.Submit(ctx, a)
		_, _ = inv.Wait(ctx)
	}
	sec.SetSummary("3 syncs")
	_ = s.Close(ctx)

	var page strings.Builder
	_ = rec.Render(&page)
	html := page.String()
	fmt.Println("lanes:", strings.Count(html, `<g class="lane"`))
	fmt.Println("bars:", strings.Count(html, `<g class="bar"`))
	fmt.Println("succeeded:", strings.Count(html, `class="mark succeeded"`))
	// Output:
	// lanes: 2
	// bars: 3
	// succeeded: 3
}

// Mark the calls a provider answered "collision": the caller knows what
// the scheduler does not, and the page shows it on the call's bar.
func ExampleRecorder_Annotate() {
	ctx := context.Background()
	rec, _ := timeline.New(timeline.Config{})
	s, _ := scheduler.New(scheduler.Config{OnEvent: rec.Record})
	task, _ := scheduler.NewTask(s, "call",
		func(ctx context.Context, account string) (string, error) { return "collision", nil },
		scheduler.Options[string]{})
	inv, _ := task.Submit(ctx, "acme")
	if out, _ := inv.Wait(ctx); out == "collision" {
		rec.Annotate(inv.ID(), "collision")
	}
	_ = s.Close(ctx)

	var page strings.Builder
	_ = rec.Render(&page)
	fmt.Println("marks:", strings.Count(page.String(), `data-note="collision"`))
	fmt.Println("in the legend:", strings.Contains(page.String(), `data-item="note:collision"`))
	// Output:
	// marks: 1
	// in the legend: true
}
