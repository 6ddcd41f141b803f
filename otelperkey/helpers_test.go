package otelperkey_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/perkey/perkey/otelperkey"
	"github.com/perkey/perkey/scheduler"
)

// setup is a scheduler with an Instrumentation on in-memory SDK
// providers: a manual metric reader and a span recorder.
type setup struct {
	s      *scheduler.Scheduler
	in     *otelperkey.Instrumentation
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
}

func newSetup(t testing.TB, cfg scheduler.Config) *setup {
	t.Helper()
	s, err := scheduler.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	st := &setup{s: s, reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	st.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(st.spans))
	st.in, err = otelperkey.New(s, otelperkey.Options{
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(st.reader)),
		TracerProvider: st.tp,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.in.Close()) })
	return st
}

// collect reads every data point by its series, name{k="v",...} with
// attributes sorted; a histogram gives _count and _sum, and _bucket{le=...}
// for each finite boundary, cumulative.
func (st *setup) collect(t testing.TB) map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, st.reader.Collect(context.Background(), &rm))
	out := map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		require.Equal(t, otelperkey.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[series(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[series(m.Name+"_count", p.Attributes)] = float64(p.Count)
					out[series(m.Name+"_sum", p.Attributes)] = p.Sum
					cum := uint64(0)
					for i, b := range p.Bounds {
						cum += p.BucketCounts[i]
						le := attribute.NewSet(append(p.Attributes.ToSlice(), attribute.String("le", fmt.Sprint(b)))...)
						out[series(m.Name+"_bucket", le)] = float64(cum)
					}
				}
			default:
				t.Fatalf("unexpected data %T of %s", m.Data, m.Name)
			}
		}
	}
	return out
}

func series(name string, attrs attribute.Set) string {
	if attrs.Len() == 0 {
		return name
	}
	var kv []string
	for _, a := range attrs.ToSlice() {
		kv = append(kv, fmt.Sprintf("%s=%q", a.Key, a.Value.Emit()))
	}
	slices.Sort(kv)
	return name + "{" + strings.Join(kv, ",") + "}"
}

// taskSeries returns the counters, gauges and histogram counts of task.
func taskSeries(samples map[string]float64, task string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range samples {
		name := strings.SplitN(k, "{", 2)[0]
		if strings.Contains(k, `task="`+task+`"`) && !strings.HasSuffix(name, "_bucket") && !strings.HasSuffix(name, "_sum") {
			out[k] = v
		}
	}
	return out
}

// want builds the expected series of task, as in promperkey's tests:
// every series the instrumentation reports for a task, zero unless given.
func want(task string, counts map[string]float64) map[string]float64 {
	out := map[string]float64{}
	q := fmt.Sprintf("%q", task)
	out["perkey_submitted_total{task="+q+"}"] = counts["submitted"]
	out["perkey_deduped_total{task="+q+"}"] = counts["deduped"]
	for _, st := range []string{"succeeded", "failed", "dropped", "expired", "canceled"} {
		out[fmt.Sprintf("perkey_invocations_total{state=%q,task=%s}", st, q)] = counts[st]
	}
	for _, st := range []string{"queued", "pending", "running"} {
		out[fmt.Sprintf("perkey_invocations{state=%q,task=%s}", st, q)] = counts[st]
	}
	if counts["wait"] > 0 {
		out["perkey_queue_wait_seconds_count{task="+q+"}"] = counts["wait"]
	}
	if counts["run"] > 0 {
		out["perkey_run_seconds_count{task="+q+"}"] = counts["run"]
	}
	return out
}

// job is the argument of the tests' tasks.
type job struct {
	Key   string
	Sleep time.Duration
	Err   error
	Panic bool
	Gate  chan struct{} // if set, the task waits for it to close
}

func keyOf(j job) string { return j.Key }

// runJob is the tests' task function; child, if set, is called with the
// function's ctx, to make spans under the invocation's.
func runJob(child func(context.Context)) func(context.Context, job) (string, error) {
	return func(ctx context.Context, j job) (string, error) {
		if j.Gate != nil {
			<-j.Gate
		}
		time.Sleep(j.Sleep) // in a synctest bubble: fake time, exact durations
		if child != nil {
			child(ctx)
		}
		if j.Panic {
			panic("job panicked")
		}
		return "done " + j.Key, j.Err
	}
}

// newTask makes a traced task running runJob(nil).
func newTask(t testing.TB, st *setup, name string, opts scheduler.Options[job]) *scheduler.Task[job, string] {
	t.Helper()
	if opts.Key == nil {
		opts.Key = keyOf
	}
	task, err := otelperkey.NewTask(st.in, name, runJob(nil), opts)
	require.NoError(t, err)
	return task
}

func submit(t testing.TB, ctx context.Context, task *scheduler.Task[job, string], j job) *scheduler.Invocation[string] {
	t.Helper()
	inv, err := task.Submit(ctx, j)
	require.NoError(t, err)
	return inv
}
