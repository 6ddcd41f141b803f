package promperkey_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perkey/perkey/promperkey"
	"github.com/perkey/perkey/scheduler"
)

// benchWindow is how many invocations the submitter hands over before it
// waits for all of them, as in bench/'s BenchmarkThroughput: it bounds
// what is outstanding, whatever b.N.
const benchWindow = 1 << 16

// BenchmarkThroughput is bench/'s BenchmarkThroughput/keys=1000/impl=perkey
// (b.N no-op invocations of a Running=ByKey task over 1000 keys, from one
// submitting goroutine, MaxParallel 8) without the collector and with it
// registered, in the same run: the difference is what the metrics cost
// the scheduler, event delivery included. subscriber=empty subscribes a
// hook that does nothing, to tell the scheduler's cost of delivering
// events from the collector's own. With the collector, the run ends with
// a scrape that must count every invocation.
func BenchmarkThroughput(b *testing.B) {
	const keys = 1000
	names := make([]string, keys)
	for i := range names {
		names[i] = "k" + strconv.Itoa(i)
	}
	for _, mode := range []string{"collector=off", "subscriber=empty", "collector=on"} {
		on := mode == "collector=on"
		b.Run("keys=1000/"+mode, func(b *testing.B) {
			b.ReportAllocs()
			s, err := scheduler.New(scheduler.Config{MaxParallel: 8})
			if err != nil {
				b.Fatal(err)
			}
			var left atomic.Int64
			done := make(chan struct{}, 1)
			task, err := scheduler.NewTask(s, "bench", func(_ context.Context, i int) (struct{}, error) {
				if left.Add(-1) == 0 {
					done <- struct{}{}
				}
				return struct{}{}, nil
			}, scheduler.Options[int]{Running: scheduler.ByKey, Key: func(i int) string { return names[i] }})
			if err != nil {
				b.Fatal(err)
			}
			reg := prometheus.NewRegistry()
			switch mode {
			case "collector=on":
				reg.MustRegister(promperkey.NewCollector(s, promperkey.Options{}))
			case "subscriber=empty":
				s.Subscribe(func(scheduler.Event) {})
			}
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for sent := 0; sent < b.N; {
				n := min(benchWindow, b.N-sent)
				left.Store(int64(n))
				for i := range n {
					if _, err := task.Submit(ctx, (sent+i)%keys); err != nil {
						b.Fatal(err)
					}
				}
				<-done
				sent += n
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "inv/s")
			// Close returns once every event is delivered.
			if err := s.Close(ctx); err != nil {
				b.Fatal(err)
			}
			if on {
				checkCounted(b, reg, b.N)
			}
		})
	}
}

// checkCounted fails b unless reg counts n succeeded invocations.
func checkCounted(b *testing.B, reg *prometheus.Registry, n int) {
	b.Helper()
	families, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "perkey_invocations_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" && l.GetValue() == "succeeded" {
					if got := m.GetCounter().GetValue(); got != float64(n) {
						b.Fatalf("perkey_invocations_total{state=succeeded} = %v, want %d", got, n)
					}
					return
				}
			}
		}
	}
	b.Fatal("no perkey_invocations_total{state=succeeded}")
}
