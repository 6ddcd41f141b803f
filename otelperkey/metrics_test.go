package otelperkey_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/perkey/perkey/otelperkey"
	"github.com/perkey/perkey/scheduler"
)

// TestMetricsLifecycle follows three invocations through every waiting
// state on one slot, in fake time, as promperkey's TestLifecycle does.
func TestMetricsLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := newSetup(t, scheduler.Config{MaxParallel: 1})
		task := newTask(t, st, "work", scheduler.Options[job]{Running: scheduler.ByKey})
		submit(t, ctx, task, job{Key: "a", Sleep: 100 * time.Millisecond})
		submit(t, ctx, task, job{Key: "a", Sleep: 50 * time.Millisecond})
		submit(t, ctx, task, job{Key: "b", Sleep: 10 * time.Millisecond})
		synctest.Wait()

		got := st.collect(t)
		require.Equal(t, want("work", map[string]float64{"submitted": 3, "queued": 1, "pending": 1, "running": 1, "wait": 1}), taskSeries(got, "work"))
		require.Equal(t, 1.0, got["perkey_slots"])
		require.Equal(t, 1.0, got["perkey_slots_in_use"])
		require.Equal(t, 2.0, got["perkey_keys_with_work"])

		time.Sleep(time.Second)
		synctest.Wait()
		got = st.collect(t)
		require.Equal(t, want("work", map[string]float64{"submitted": 3, "succeeded": 3, "wait": 3, "run": 3}), taskSeries(got, "work"))
		require.InDelta(t, 0+0.100+0.110, got[`perkey_queue_wait_seconds_sum{task="work"}`], 1e-9)
		require.InDelta(t, 0.100+0.010+0.050, got[`perkey_run_seconds_sum{task="work"}`], 1e-9)
		require.Equal(t, 1.0, got[`perkey_queue_wait_seconds_bucket{le="0.001",task="work"}`])
		require.Equal(t, 2.0, got[`perkey_queue_wait_seconds_bucket{le="0.1",task="work"}`])
		require.Equal(t, 3.0, got[`perkey_run_seconds_bucket{le="0.1",task="work"}`])
		require.Equal(t, 0.0, got["perkey_slots_in_use"])
		require.Equal(t, 0.0, got["perkey_keys_with_work"])
	})
}

// TestMetricsFinalStates ends invocations in each final state, one task
// each, traced or not.
func TestMetricsFinalStates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := newSetup(t, scheduler.Config{MaxParallel: 8})
		fail := newTask(t, st, "fail", scheduler.Options[job]{Running: scheduler.ByKey})
		drop := newTask(t, st, "drop", scheduler.Options[job]{Running: scheduler.ByKey, OnBusy: scheduler.Drop})
		expire := newTask(t, st, "expire", scheduler.Options[job]{Running: scheduler.ByKey, MaxWait: 50 * time.Millisecond})
		replace := newTask(t, st, "replace", scheduler.Options[job]{Running: scheduler.ByKey, OnBusy: scheduler.Replace})
		dedupe, err := scheduler.NewTask(st.s, "dedupe", runJob(nil), scheduler.Options[job]{ // not traced
			Running: scheduler.ByKey, Registration: scheduler.ByKey, Dedupe: scheduler.UntilDone, Key: keyOf})
		require.NoError(t, err)

		submit(t, ctx, fail, job{Key: "k", Err: errors.New("provider said no")})
		submit(t, ctx, fail, job{Key: "k", Panic: true})
		submit(t, ctx, drop, job{Key: "k", Sleep: time.Second})
		submit(t, ctx, drop, job{Key: "k"})
		submit(t, ctx, expire, job{Key: "k", Sleep: time.Second})
		submit(t, ctx, expire, job{Key: "k"})
		waitCtx, stop := context.WithCancel(ctx)
		submit(t, waitCtx, expire, job{Key: "k"})
		stop()
		gate := make(chan struct{})
		submit(t, ctx, replace, job{Key: "k", Gate: gate})
		synctest.Wait()
		submit(t, ctx, replace, job{Key: "k"})
		synctest.Wait()
		close(gate)
		for range 3 {
			submit(t, ctx, dedupe, job{Key: "k"})
		}
		rated := newTask(t, st, "rated", scheduler.Options[job]{Running: scheduler.ByKey, Rate: 10, Burst: 1})
		for range 3 { // starts at 0, 100ms and 200ms: two Throttled notes
			submit(t, ctx, rated, job{Key: "k"})
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()

		got := st.collect(t)
		for task, counts := range map[string]map[string]float64{
			"fail":    {"submitted": 2, "failed": 2, "wait": 2, "run": 2},
			"drop":    {"submitted": 2, "succeeded": 1, "dropped": 1, "wait": 1, "run": 1},
			"expire":  {"submitted": 3, "succeeded": 1, "expired": 1, "canceled": 1, "wait": 1, "run": 1},
			"replace": {"submitted": 2, "succeeded": 1, "canceled": 1, "wait": 2, "run": 2},
			"dedupe":  {"submitted": 3, "deduped": 2, "succeeded": 1, "wait": 1, "run": 1},
			"rated":   {"submitted": 3, "succeeded": 3, "wait": 3, "run": 3},
		} {
			require.Equal(t, want(task, counts), taskSeries(got, task), task)
		}
		require.InDelta(t, 0+0.1+0.2, got[`perkey_queue_wait_seconds_sum{task="rated"}`], 1e-9)
	})
}

// TestMetricsCreatedLate: invocations submitted before New are left out.
func TestMetricsCreatedLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s, err := scheduler.New(scheduler.Config{MaxParallel: 2})
		require.NoError(t, err)
		defer func() { require.NoError(t, s.Close(ctx)) }()
		task, err := scheduler.NewTask(s, "work", runJob(nil), scheduler.Options[job]{Running: scheduler.ByKey, Key: keyOf})
		require.NoError(t, err)
		gate := make(chan struct{})
		submit(t, ctx, task, job{Key: "a", Gate: gate})
		submit(t, ctx, task, job{Key: "a"})
		submit(t, ctx, task, job{Key: "b", Gate: gate})
		synctest.Wait()

		reader := sdkmetric.NewManualReader()
		in, err := otelperkey.New(s, otelperkey.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
		require.NoError(t, err)
		defer func() { require.NoError(t, in.Close()) }()
		st := &setup{s: s, in: in, reader: reader}
		submit(t, ctx, task, job{Key: "b"})
		submit(t, ctx, task, job{Key: "c"})
		synctest.Wait()
		require.Equal(t, want("work", map[string]float64{"submitted": 2, "queued": 1, "pending": 1}), taskSeries(st.collect(t), "work"))

		close(gate)
		synctest.Wait()
		require.Equal(t, want("work", map[string]float64{"submitted": 2, "succeeded": 2, "wait": 2, "run": 2}), taskSeries(st.collect(t), "work"))
	})
}

// TestClose: after Close the callback is gone and nothing more is
// counted; Close may be called again.
func TestClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := newSetup(t, scheduler.Config{})
		task := newTask(t, st, "work", scheduler.Options[job]{Running: scheduler.ByKey})
		_, err := submit(t, ctx, task, job{Key: "a"}).Wait(ctx)
		require.NoError(t, err)
		synctest.Wait()
		require.Equal(t, 1.0, st.collect(t)[`perkey_invocations_total{state="succeeded",task="work"}`])
		require.Len(t, st.spans.Ended(), 1)

		require.NoError(t, st.in.Close())
		require.NoError(t, st.in.Close())
		_, err = submit(t, ctx, task, job{Key: "a"}).Wait(ctx)
		require.NoError(t, err)
		synctest.Wait()
		got := st.collect(t)
		require.NotContains(t, got, `perkey_invocations_total{state="succeeded",task="work"}`, "the callback is unregistered")
		require.Equal(t, 1.0, got[`perkey_run_seconds_count{task="work"}`], "no more recordings")
		require.Len(t, st.spans.Ended(), 1, "no more spans")
	})
}

// TestBadInput: New refuses a scheduler that is not one; NewTask a nil
// Instrumentation, and passes on the scheduler's own errors.
func TestBadInput(t *testing.T) {
	_, err := otelperkey.New(nil, otelperkey.Options{})
	require.ErrorIs(t, err, scheduler.ErrNilScheduler)
	_, err = otelperkey.New(&scheduler.Scheduler{}, otelperkey.Options{})
	require.ErrorIs(t, err, scheduler.ErrNilScheduler)

	_, err = otelperkey.NewTask(nil, "work", runJob(nil), scheduler.Options[job]{})
	require.ErrorIs(t, err, scheduler.ErrInvalid)
	require.ErrorContains(t, err, `otelperkey: NewTask "work": nil Instrumentation`)

	st := newSetup(t, scheduler.Config{})
	_, err = otelperkey.NewTask[job, string](st.in, "work", nil, scheduler.Options[job]{})
	require.ErrorIs(t, err, scheduler.ErrNilFunc)
	_, err = otelperkey.NewTask(st.in, "", runJob(nil), scheduler.Options[job]{})
	require.ErrorIs(t, err, scheduler.ErrEmptyName)
	_, err = otelperkey.NewTask(st.in, "keyed", runJob(nil), scheduler.Options[job]{Running: scheduler.ByKey})
	require.ErrorIs(t, err, scheduler.ErrNoKeyFunc)

	var nilIn *otelperkey.Instrumentation
	require.NoError(t, nilIn.Close())
	require.NoError(t, new(otelperkey.Instrumentation).Close())
	_, err = otelperkey.NewTask(new(otelperkey.Instrumentation), "work", runJob(nil), scheduler.Options[job]{})
	require.ErrorIs(t, err, scheduler.ErrNilScheduler)
}
