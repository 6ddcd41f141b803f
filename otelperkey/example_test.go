package otelperkey_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/perkey/perkey/otelperkey"
	"github.com/perkey/perkey/scheduler"
)

// A task made with NewTask runs in a span that is a child of the span of
// the request that submitted it; the metrics go to the meter provider.
// A service passes its own providers (or none: the global ones).
func Example() {
	ctx := context.Background()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	s, _ := scheduler.New(scheduler.Config{})
	in, _ := otelperkey.New(s, otelperkey.Options{TracerProvider: tp, MeterProvider: mp})
	task, _ := otelperkey.NewTask(in, "sync_account",
		func(ctx context.Context, account string) (string, error) {
			return "synced " + account, nil // call the provider here, with ctx
		},
		scheduler.Options[string]{
			Running: scheduler.ByKey,
			Key:     func(account string) string { return account },
		})

	reqCtx, request := tp.Tracer("service").Start(ctx, "POST /sync")
	inv, _ := task.Submit(reqCtx, "acme")
	_, _ = inv.Wait(ctx)
	request.End()
	_ = s.Close(ctx)
	_ = in.Close()

	for _, span := range spans.Ended() {
		if span.Name() == "sync_account" {
			fmt.Println("span", span.Name(), "child of the request:", span.Parent().SpanID() == request.SpanContext().SpanID())
			for _, a := range span.Attributes() {
				fmt.Println(" ", a.Key, a.Value.Emit())
			}
		}
	}
	var rm metricdata.ResourceMetrics
	_ = reader.Collect(ctx, &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "perkey_run_seconds" {
			fmt.Println(m.Name, "count", h.DataPoints[0].Count)
		}
	}
	// Output:
	// span sync_account child of the request: true
	//   perkey.task sync_account
	//   perkey.key acme
	//   perkey.invocation.id 1
	//   perkey.state succeeded
	// perkey_run_seconds count 1
}
