package otelperkey_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/perkey/perkey/otelperkey"
	"github.com/perkey/perkey/scheduler"
)

// spanAttrs returns a span's attributes by key.
func spanAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, a := range s.Attributes() {
		out[a.Key] = a.Value
	}
	return out
}

// spansNamed returns the ended spans named name, in the order they ended.
func spansNamed(st *setup, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range st.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// TestSpans: one span per invocation that runs, child of the Submit ctx's
// span, parent of the task function's spans, with exact attributes and
// times, and the queued event at the Submit time.
func TestSpans(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newSetup(t, scheduler.Config{MaxParallel: 8})
		test := st.tp.Tracer("test")
		task, err := otelperkey.NewTask(st.in, "sync_account", runJob(func(ctx context.Context) {
			_, child := test.Start(ctx, "provider call")
			child.End()
		}), scheduler.Options[job]{Running: scheduler.ByKey, Key: keyOf})
		require.NoError(t, err)

		reqCtx, request := test.Start(context.Background(), "request")
		t0 := time.Now()
		first := submit(t, reqCtx, task, job{Key: "acme", Sleep: 100 * time.Millisecond})
		second := submit(t, reqCtx, task, job{Key: "acme", Sleep: 20 * time.Millisecond})
		untraced := submit(t, context.Background(), task, job{Key: "globex"})
		for _, inv := range []*scheduler.Invocation[string]{first, second, untraced} {
			_, err := inv.Wait(context.Background())
			require.NoError(t, err)
		}
		request.End()
		synctest.Wait()

		runs := spansNamed(st, "sync_account")
		require.Len(t, runs, 3)
		byID := map[int64]sdktrace.ReadOnlySpan{}
		for _, s := range runs {
			require.Equal(t, trace.SpanKindConsumer, s.SpanKind())
			require.Equal(t, codes.Unset, s.Status().Code)
			require.Equal(t, otelperkey.ScopeName, s.InstrumentationScope().Name)
			byID[spanAttrs(s)[otelperkey.AttrID].AsInt64()] = s
		}
		reqSpan := request.SpanContext()
		for _, tc := range []struct {
			inv        *scheduler.Invocation[string]
			key        string
			parent     trace.SpanContext
			start, end time.Duration // after t0
			wait       float64
		}{
			{first, "acme", reqSpan, 0, 100 * time.Millisecond, 0},
			{second, "acme", reqSpan, 100 * time.Millisecond, 120 * time.Millisecond, 0.1},
			{untraced, "globex", trace.SpanContext{}, 0, 0, 0},
		} {
			s := byID[int64(tc.inv.ID())]
			require.NotNil(t, s, "span of invocation %d", tc.inv.ID())
			require.Equal(t, map[attribute.Key]attribute.Value{
				otelperkey.AttrTask:  attribute.StringValue("sync_account"),
				otelperkey.AttrKey:   attribute.StringValue(tc.key),
				otelperkey.AttrID:    attribute.Int64Value(int64(tc.inv.ID())),
				otelperkey.AttrState: attribute.StringValue("succeeded"),
			}, spanAttrs(s))
			require.Equal(t, tc.parent.SpanID(), s.Parent().SpanID(), "parent")
			if tc.parent.IsValid() {
				require.Equal(t, tc.parent.TraceID(), s.SpanContext().TraceID())
			}
			require.Equal(t, t0.Add(tc.start), s.StartTime())
			require.Equal(t, t0.Add(tc.end), s.EndTime())
			require.Len(t, s.Events(), 1)
			ev := s.Events()[0]
			require.Equal(t, otelperkey.EventQueued, ev.Name)
			require.Equal(t, t0, ev.Time, "stamped with the Submit time")
			require.Equal(t, []attribute.KeyValue{otelperkey.AttrQueueWait.Float64(tc.wait)}, ev.Attributes)
		}

		// The task function's own spans are children of its invocation's.
		calls := spansNamed(st, "provider call")
		require.Len(t, calls, 3)
		parents := map[trace.SpanID]bool{}
		for _, c := range calls {
			parents[c.Parent().SpanID()] = true
		}
		require.Equal(t, map[trace.SpanID]bool{
			byID[int64(first.ID())].SpanContext().SpanID():    true,
			byID[int64(second.ID())].SpanContext().SpanID():   true,
			byID[int64(untraced.ID())].SpanContext().SpanID(): true,
		}, parents)
		require.Len(t, st.spans.Ended(), 7, "3 runs, 3 provider calls, 1 request")
	})
}

// TestSpanOutcomes: failed, panicked, Goexit, replaced; invocations that
// never run have no span.
func TestSpanOutcomes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := newSetup(t, scheduler.Config{MaxParallel: 8})
		keyed := scheduler.Options[job]{Running: scheduler.ByKey, Key: keyOf}
		fail := newTask(t, st, "fail", keyed)
		exit, err := otelperkey.NewTask(st.in, "exit", func(context.Context, job) (string, error) {
			runtime.Goexit()
			return "", nil
		}, keyed)
		require.NoError(t, err)
		replace := newTask(t, st, "replace", scheduler.Options[job]{Running: scheduler.ByKey, OnBusy: scheduler.Replace})
		drop := newTask(t, st, "drop", scheduler.Options[job]{Running: scheduler.ByKey, OnBusy: scheduler.Drop})
		expire := newTask(t, st, "expire", scheduler.Options[job]{Running: scheduler.ByKey, MaxWait: time.Millisecond})

		boom := errors.New("provider said no")
		failed := submit(t, ctx, fail, job{Key: "k", Err: boom})
		panicked := submit(t, ctx, fail, job{Key: "k", Panic: true})
		exited := submit(t, ctx, exit, job{Key: "k"})
		gate := make(chan struct{})
		replaced := submit(t, ctx, replace, job{Key: "k", Gate: gate})
		synctest.Wait()
		newer := submit(t, ctx, replace, job{Key: "k"})
		synctest.Wait()
		close(gate)
		submit(t, ctx, drop, job{Key: "k", Sleep: time.Second})
		dropped := submit(t, ctx, drop, job{Key: "k"})
		submit(t, ctx, expire, job{Key: "k", Sleep: time.Second})
		expired := submit(t, ctx, expire, job{Key: "k"})
		time.Sleep(2 * time.Second)
		synctest.Wait()

		_, err = panicked.Wait(ctx)
		require.ErrorIs(t, err, scheduler.ErrPanic, "the panic went on to the scheduler")
		_, err = exited.Wait(ctx)
		require.ErrorIs(t, err, scheduler.ErrGoexit)
		require.Equal(t, scheduler.Canceled, replaced.State())
		_, err = dropped.Wait(ctx)
		require.ErrorIs(t, err, scheduler.ErrDropped)
		_, err = expired.Wait(ctx)
		require.ErrorIs(t, err, scheduler.ErrExpired)

		byID := map[uint64]sdktrace.ReadOnlySpan{}
		for _, s := range st.spans.Ended() {
			byID[uint64(spanAttrs(s)[otelperkey.AttrID].AsInt64())] = s
		}
		require.Len(t, byID, 7, "fail x2, exit, replace x2, drop and expire once each: no span for what never ran")
		require.Len(t, st.spans.Ended(), 7)
		for _, tc := range []struct {
			inv     uint64
			state   string
			code    codes.Code
			desc    string
			errored bool // an exception event
		}{
			{failed.ID(), "failed", codes.Error, "provider said no", true},
			{panicked.ID(), "failed", codes.Error, "scheduler: task panicked: job panicked", true},
			{exited.ID(), "failed", codes.Error, scheduler.ErrGoexit.Error(), false},
			{replaced.ID(), "canceled", codes.Unset, "", false},
			{newer.ID(), "succeeded", codes.Unset, "", false},
		} {
			s := byID[tc.inv]
			require.NotNil(t, s, tc.inv)
			require.Equal(t, tc.state, spanAttrs(s)[otelperkey.AttrState].AsString(), tc.inv)
			require.Equal(t, sdktrace.Status{Code: tc.code, Description: tc.desc}, s.Status(), tc.inv)
			var exceptions int
			for _, ev := range s.Events() {
				if ev.Name == "exception" {
					exceptions++
				}
			}
			require.Equal(t, map[bool]int{true: 1, false: 0}[tc.errored], exceptions, tc.inv)
		}
	})
}

// TestSpanWithoutID: a task that may run several invocations of a key at
// once gets spans without the ID and the queued event; the key is still
// Invocation.Key.
func TestSpanWithoutID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := newSetup(t, scheduler.Config{MaxParallel: 8})
		tests := []struct {
			name string
			opts scheduler.Options[job]
			key  string
		}{
			{"free", scheduler.Options[job]{}, ""},
			{"free_labelled", scheduler.Options[job]{Key: keyOf}, "acme"},
			{"two_per_key", scheduler.Options[job]{Running: scheduler.ByKey, Key: keyOf, Limit: 2}, "acme"},
		}
		for _, tc := range tests {
			task, err := otelperkey.NewTask(st.in, tc.name, runJob(nil), tc.opts)
			require.NoError(t, err)
			inv := submit(t, ctx, task, job{Key: "acme"})
			_, err = inv.Wait(ctx)
			require.NoError(t, err)
		}
		synctest.Wait()
		for _, tc := range tests {
			spans := spansNamed(st, tc.name)
			require.Len(t, spans, 1, tc.name)
			require.Equal(t, map[attribute.Key]attribute.Value{
				otelperkey.AttrTask:  attribute.StringValue(tc.name),
				otelperkey.AttrKey:   attribute.StringValue(tc.key),
				otelperkey.AttrState: attribute.StringValue("succeeded"),
			}, spanAttrs(spans[0]), tc.name)
			require.Empty(t, spans[0].Events(), tc.name)
		}
	})
}

// TestSpanKeys: the key attribute is Invocation.Key for every Running
// scope, and one-at-a-time tasks of every scope get their ID.
func TestSpanKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := newSetup(t, scheduler.Config{})
		for _, scope := range []scheduler.Scope{scheduler.ByKey, scheduler.ByTask, scheduler.ByArguments} {
			name := "task_" + scope.String()
			task, err := otelperkey.NewTask(st.in, name, func(_ context.Context, account string) (string, error) {
				return account, nil
			}, scheduler.Options[string]{Running: scope, Key: func(a string) string { return "key:" + a }})
			require.NoError(t, err)
			inv, err := task.Submit(ctx, "acme")
			require.NoError(t, err)
			_, err = inv.Wait(ctx)
			require.NoError(t, err)
			synctest.Wait()
			spans := spansNamed(st, name)
			require.Len(t, spans, 1)
			attrs := spanAttrs(spans[0])
			require.Equal(t, inv.Key(), attrs[otelperkey.AttrKey].AsString(), name)
			require.Equal(t, int64(inv.ID()), attrs[otelperkey.AttrID].AsInt64(), name)
		}
	})
}
