package promperkey_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/promperkey"
	"github.com/perkey/perkey/scheduler"
)

// TestLifecycle follows three invocations through every waiting state on
// one slot, in fake time: the gauges at saturation, then the counters and
// the exact durations.
func TestLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := newScheduler(t, scheduler.Config{MaxParallel: 1})
		c := promperkey.NewCollector(s, promperkey.Options{})
		task := newTask(t, s, "work", scheduler.Options[job]{Running: scheduler.ByKey})
		newTask(t, s, "idle", scheduler.Options[job]{}) // never submitted: no series

		// a1 takes the slot; a2 queues behind key a; b1 has a free key and
		// waits for the slot.
		submit(t, ctx, task, job{Key: "a", Sleep: 100 * time.Millisecond})
		submit(t, ctx, task, job{Key: "a", Sleep: 50 * time.Millisecond})
		submit(t, ctx, task, job{Key: "b", Sleep: 10 * time.Millisecond})
		synctest.Wait()

		got := scrape(t, c)
		require.Equal(t, want("work", map[string]float64{"submitted": 3, "queued": 1, "pending": 1, "running": 1, "wait": 1}), taskSeries(got, "work"))
		require.Equal(t, map[string]float64{"perkey_slots": 1, "perkey_slots_in_use": 1, "perkey_keys_with_work": 2},
			only(got, "perkey_slots", "perkey_keys_with_work"))

		// a1 ends at 100ms; b1 (ready since 0) runs 100-110ms, a2 (ready
		// at 100ms) 110-160ms.
		time.Sleep(time.Second)
		synctest.Wait()
		got = scrape(t, c)
		require.Equal(t, want("work", map[string]float64{"submitted": 3, "succeeded": 3, "wait": 3, "run": 3}), taskSeries(got, "work"))
		require.InDelta(t, 0+0.100+0.110, got[`perkey_queue_wait_seconds_sum{task="work"}`], 1e-9)
		require.InDelta(t, 0.100+0.010+0.050, got[`perkey_run_seconds_sum{task="work"}`], 1e-9)
		// Waits 0, 0.1 and 0.11; runs 0.01, 0.05 and 0.1.
		require.Equal(t, 1.0, got[`perkey_queue_wait_seconds_bucket{le="0.001",task="work"}`])
		require.Equal(t, 2.0, got[`perkey_queue_wait_seconds_bucket{le="0.1",task="work"}`])
		require.Equal(t, 3.0, got[`perkey_queue_wait_seconds_bucket{le="0.25",task="work"}`])
		require.Equal(t, 1.0, got[`perkey_run_seconds_bucket{le="0.01",task="work"}`])
		require.Equal(t, 2.0, got[`perkey_run_seconds_bucket{le="0.05",task="work"}`])
		require.Equal(t, 3.0, got[`perkey_run_seconds_bucket{le="0.1",task="work"}`])
		require.Equal(t, map[string]float64{"perkey_slots": 1, "perkey_slots_in_use": 0, "perkey_keys_with_work": 0},
			only(got, "perkey_slots", "perkey_keys_with_work"))
		require.Empty(t, taskSeries(got, "idle"))
	})
}

// TestFinalStates ends invocations in each final state, and deduplicates
// some submissions, each in a task of its own.
func TestFinalStates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := newScheduler(t, scheduler.Config{MaxParallel: 8}) // a slot for every task
		c := promperkey.NewCollector(s, promperkey.Options{})
		keyed := scheduler.Options[job]{Running: scheduler.ByKey}

		ok := newTask(t, s, "ok", keyed)
		fail := newTask(t, s, "fail", keyed)
		drop := newTask(t, s, "drop", scheduler.Options[job]{Running: scheduler.ByKey, OnBusy: scheduler.Drop})
		expire := newTask(t, s, "expire", scheduler.Options[job]{Running: scheduler.ByKey, MaxWait: 50 * time.Millisecond})
		cancel := newTask(t, s, "cancel", keyed)
		replace := newTask(t, s, "replace", scheduler.Options[job]{Running: scheduler.ByKey, OnBusy: scheduler.Replace})
		dedupe := newTask(t, s, "dedupe", scheduler.Options[job]{Running: scheduler.ByKey, Registration: scheduler.ByKey, Dedupe: scheduler.UntilDone})
		rated := newTask(t, s, "rated", scheduler.Options[job]{Running: scheduler.ByKey, Rate: 10, Burst: 1})

		submit(t, ctx, ok, job{Key: "k", Sleep: time.Millisecond})
		submit(t, ctx, fail, job{Key: "k", Err: errors.New("provider said no")})
		submit(t, ctx, fail, job{Key: "k", Panic: true})
		submit(t, ctx, drop, job{Key: "k", Sleep: time.Second})
		submit(t, ctx, drop, job{Key: "k"}) // dropped: k is busy
		submit(t, ctx, drop, job{Key: "k"}) // dropped
		submit(t, ctx, expire, job{Key: "k", Sleep: time.Second})
		submit(t, ctx, expire, job{Key: "k"}) // expires behind the first
		submit(t, ctx, cancel, job{Key: "k", Sleep: time.Second})
		waitCtx, stop := context.WithCancel(ctx)
		submit(t, ctx, cancel, job{Key: "k"}) // waits; not cancelled
		submit(t, waitCtx, cancel, job{Key: "k"})
		stop() // cancels the last one while it waits
		gate := make(chan struct{})
		submit(t, ctx, replace, job{Key: "k", Gate: gate})
		synctest.Wait()
		submit(t, ctx, replace, job{Key: "k"}) // replaces the running one,
		synctest.Wait()                        // whose ctx is cancelled;
		close(gate)                            // it returns, and ends Canceled
		for range 5 {
			submit(t, ctx, dedupe, job{Key: "k", Sleep: time.Millisecond})
		}
		for range 3 { // starts at 0, 100ms and 200ms: two Throttled notes
			submit(t, ctx, rated, job{Key: "k"})
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()

		got := scrape(t, c)
		for task, counts := range map[string]map[string]float64{
			"ok":      {"submitted": 1, "succeeded": 1, "wait": 1, "run": 1},
			"fail":    {"submitted": 2, "failed": 2, "wait": 2, "run": 2},
			"drop":    {"submitted": 3, "succeeded": 1, "dropped": 2, "wait": 1, "run": 1},
			"expire":  {"submitted": 2, "succeeded": 1, "expired": 1, "wait": 1, "run": 1},
			"cancel":  {"submitted": 3, "succeeded": 2, "canceled": 1, "wait": 2, "run": 2},
			"replace": {"submitted": 2, "succeeded": 1, "canceled": 1, "wait": 2, "run": 2},
			"dedupe":  {"submitted": 5, "deduped": 4, "succeeded": 1, "wait": 1, "run": 1},
			"rated":   {"submitted": 3, "succeeded": 3, "wait": 3, "run": 3},
		} {
			require.Equal(t, want(task, counts), taskSeries(got, task), task)
		}
		// Only the first, which started at once and ran 1s, was observed.
		require.InDelta(t, 0, got[`perkey_queue_wait_seconds_sum{task="expire"}`], 1e-9)
		require.InDelta(t, 1, got[`perkey_run_seconds_sum{task="expire"}`], 1e-9)
		// Waits are measured from Submit, through the rate's wait.
		require.InDelta(t, 0+0.1+0.2, got[`perkey_queue_wait_seconds_sum{task="rated"}`], 1e-9)
	})
}

// TestCreatedLate: invocations submitted before the collector are left
// out of every figure, so that nothing goes negative and the figures of a
// task add up; those submitted after are counted.
func TestCreatedLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := newScheduler(t, scheduler.Config{MaxParallel: 2})
		task := newTask(t, s, "work", scheduler.Options[job]{Running: scheduler.ByKey})
		gate := make(chan struct{})
		submit(t, ctx, task, job{Key: "a", Gate: gate}) // running
		submit(t, ctx, task, job{Key: "a"})             // queued
		submit(t, ctx, task, job{Key: "b", Gate: gate}) // running
		synctest.Wait()

		c := promperkey.NewCollector(s, promperkey.Options{})
		submit(t, ctx, task, job{Key: "b"}) // queued behind b: followed
		submit(t, ctx, task, job{Key: "c"}) // pending: both slots taken
		synctest.Wait()
		got := scrape(t, c)
		require.Equal(t, want("work", map[string]float64{"submitted": 2, "queued": 1, "pending": 1}), taskSeries(got, "work"))
		require.Equal(t, 2.0, got["perkey_slots_in_use"], "the scheduler's own gauge counts every running invocation")

		close(gate)
		synctest.Wait()
		got = scrape(t, c)
		require.Equal(t, want("work", map[string]float64{"submitted": 2, "succeeded": 2, "wait": 2, "run": 2}), taskSeries(got, "work"))
	})
}

// TestTwoSchedulers: ConstLabels tell the collectors of two schedulers
// apart in one registry.
func TestTwoSchedulers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		reg := prometheus.NewPedanticRegistry()
		for i, name := range []string{"billing", "sync"} {
			s := newScheduler(t, scheduler.Config{MaxParallel: i + 1})
			require.NoError(t, reg.Register(promperkey.NewCollector(s, promperkey.Options{ConstLabels: prometheus.Labels{"scheduler": name}})))
			task := newTask(t, s, "work", scheduler.Options[job]{})
			for range i + 1 {
				submit(t, ctx, task, job{Key: "k"})
			}
		}
		synctest.Wait()
		families, err := reg.Gather()
		require.NoError(t, err)
		got := map[string]float64{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				switch f.GetName() {
				case "perkey_slots", "perkey_submitted_total":
					got[series(f.GetName(), labelPairs(m.GetLabel()))] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
				}
			}
		}
		require.Equal(t, map[string]float64{
			`perkey_slots{scheduler="billing"}`:                       1,
			`perkey_slots{scheduler="sync"}`:                          2,
			`perkey_submitted_total{scheduler="billing",task="work"}`: 1,
			`perkey_submitted_total{scheduler="sync",task="work"}`:    2,
		}, got)
	})
}

// TestBadOptions: a collector that cannot work fails its registration
// with an error naming the option, and counts nothing.
func TestBadOptions(t *testing.T) {
	s := newScheduler(t, scheduler.Config{})
	tests := []struct {
		name string
		s    *scheduler.Scheduler
		opts promperkey.Options
		is   error
		msg  string
	}{
		{"nil scheduler", nil, promperkey.Options{}, scheduler.ErrNilScheduler, "promperkey: NewCollector"},
		{"zero scheduler", &scheduler.Scheduler{}, promperkey.Options{}, scheduler.ErrNilScheduler, "promperkey: NewCollector"},
		{"wait buckets not increasing", s, promperkey.Options{QueueWaitBuckets: []float64{1, 1}}, promperkey.ErrBadOption, "QueueWaitBuckets: 1 is not above 1"},
		{"run buckets decreasing", s, promperkey.Options{RunBuckets: []float64{2, 1}}, promperkey.ErrBadOption, "RunBuckets: 1 is not above 2"},
		{"NaN bucket", s, promperkey.Options{RunBuckets: []float64{1, 2, nan()}}, promperkey.ErrBadOption, "RunBuckets[2] is NaN"},
		{"const label task", s, promperkey.Options{ConstLabels: prometheus.Labels{"task": "x"}}, promperkey.ErrBadOption, `ConstLabels: "task"`},
		{"const label state", s, promperkey.Options{ConstLabels: prometheus.Labels{"state": "x"}}, promperkey.ErrBadOption, `ConstLabels: "state"`},
		{"const label not UTF-8", s, promperkey.Options{ConstLabels: prometheus.Labels{"zone": "\xff"}}, promperkey.ErrBadOption, "ConstLabels"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := promperkey.NewCollector(tc.s, tc.opts)
			err := prometheus.NewRegistry().Register(c)
			require.ErrorIs(t, err, tc.is)
			require.ErrorContains(t, err, tc.msg)
			ch := make(chan prometheus.Metric, 1)
			c.Collect(ch)
			require.Empty(t, ch, "an unusable collector collects nothing")
		})
	}
}

func nan() float64 { return math.NaN() }

// TestCustomBuckets: the buckets given are the buckets used, and the
// caller's slice is copied.
func TestCustomBuckets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		b := []float64{0.5, 2}
		c := promperkey.NewCollector(s, promperkey.Options{QueueWaitBuckets: b, RunBuckets: []float64{1}})
		b[0] = 100
		task := newTask(t, s, "work", scheduler.Options[job]{})
		submit(t, context.Background(), task, job{Key: "k", Sleep: 1500 * time.Millisecond})
		time.Sleep(2 * time.Second)
		synctest.Wait()
		got := only(scrape(t, c), "perkey_queue_wait_seconds_bucket", "perkey_run_seconds_bucket")
		require.Equal(t, map[string]float64{
			`perkey_queue_wait_seconds_bucket{le="0.5",task="work"}`: 1,
			`perkey_queue_wait_seconds_bucket{le="2",task="work"}`:   1,
			`perkey_run_seconds_bucket{le="1",task="work"}`:          0,
		}, got, sortedKeys(got))
	})
}

// TestDefaultBuckets: a fresh, increasing slice each call.
func TestDefaultBuckets(t *testing.T) {
	a := promperkey.DefaultBuckets()
	require.IsIncreasing(t, a)
	require.Equal(t, 0.001, a[0])
	require.Equal(t, 300.0, a[len(a)-1])
	a[0] = 7
	require.Equal(t, 0.001, promperkey.DefaultBuckets()[0])
}
