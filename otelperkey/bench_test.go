package otelperkey_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/perkey/perkey/otelperkey"
	"github.com/perkey/perkey/scheduler"
)

// BenchmarkThroughput is promperkey's benchmark (bench/'s
// BenchmarkThroughput/keys=1000/impl=perkey) with the Instrumentation: off,
// on with the SDK's meter provider (a manual reader, never read during the
// run), and on with a task made by NewTask on the SDK's tracer provider
// too (every run a span, kept by an in-memory recorder and dropped after
// each window). The last scrape must count every invocation.
func BenchmarkThroughput(b *testing.B) {
	const keys = 1000
	names := make([]string, keys)
	for i := range names {
		names[i] = "k" + strconv.Itoa(i)
	}
	for _, mode := range []string{"instrumentation=off", "instrumentation=metrics", "instrumentation=metrics+spans"} {
		b.Run("keys=1000/"+mode, func(b *testing.B) {
			b.ReportAllocs()
			s, err := scheduler.New(scheduler.Config{MaxParallel: 8})
			if err != nil {
				b.Fatal(err)
			}
			var left atomic.Int64
			done := make(chan struct{}, 1)
			fn := func(_ context.Context, i int) (struct{}, error) {
				if left.Add(-1) == 0 {
					done <- struct{}{}
				}
				return struct{}{}, nil
			}
			opts := scheduler.Options[int]{Running: scheduler.ByKey, Key: func(i int) string { return names[i] }}
			reader := sdkmetric.NewManualReader()
			spans := tracetest.NewSpanRecorder()
			var task *scheduler.Task[int, struct{}]
			if mode == "instrumentation=off" {
				task, err = scheduler.NewTask(s, "bench", fn, opts)
			} else {
				in, ierr := otelperkey.New(s, otelperkey.Options{
					MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
					TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)),
				})
				if ierr != nil {
					b.Fatal(ierr)
				}
				defer in.Close()
				if mode == "instrumentation=metrics" {
					task, err = scheduler.NewTask(s, "bench", fn, opts)
				} else {
					task, err = otelperkey.NewTask(in, "bench", fn, opts)
				}
			}
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for sent := 0; sent < b.N; {
				n := min(1<<16, b.N-sent)
				left.Store(int64(n))
				for i := range n {
					if _, err := task.Submit(ctx, (sent+i)%keys); err != nil {
						b.Fatal(err)
					}
				}
				<-done
				sent += n
				spans.Reset()
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "inv/s")
			if err := s.Close(ctx); err != nil { // every event delivered
				b.Fatal(err)
			}
			if mode != "instrumentation=off" {
				var rm metricdata.ResourceMetrics
				if err := reader.Collect(ctx, &rm); err != nil {
					b.Fatal(err)
				}
				for _, m := range rm.ScopeMetrics[0].Metrics {
					if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "perkey_run_seconds" {
						if got := h.DataPoints[0].Count; got != uint64(b.N) {
							b.Fatalf("perkey_run_seconds count %d, want %d", got, b.N)
						}
					}
				}
			}
		})
	}
}
