package otelperkey

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/perkey/perkey/internal/invtrack"
	"github.com/perkey/perkey/scheduler"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/perkey/perkey/otelperkey"

// Options configure an Instrumentation. The zero Options are valid: the
// global providers.
type Options struct {
	// MeterProvider makes the meter of the metrics. Nil means
	// otel.GetMeterProvider(), read once, by New.
	MeterProvider metric.MeterProvider
	// TracerProvider makes the tracer of the spans. Nil means
	// otel.GetTracerProvider(), read once, by New.
	TracerProvider trace.TracerProvider
}

// DefaultBuckets returns the bucket boundaries, in seconds, that the two
// histograms advise: from 1ms to 5 minutes, as promperkey's. An SDK View
// overrides them. Each call returns a new slice.
func DefaultBuckets() []float64 {
	return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
}

// Instrumentation records the metrics of one scheduler through the
// OpenTelemetry metrics API, and the spans of the tasks made with NewTask.
// Make it with New, stop it with Close. Its methods are safe for
// concurrent use. A nil or zero Instrumentation records nothing: NewTask
// refuses it (a zero one has no scheduler) and Close does nothing.
type Instrumentation struct {
	s      *scheduler.Scheduler
	tracer trace.Tracer

	wait, run metric.Float64Histogram
	reg       metric.Registration
	unsub     func()
	closeOnce sync.Once
	closed    atomic.Bool

	tasks   invtrack.TaskSet[taskState]
	tracked *invtrack.Tracker
}

// New subscribes an Instrumentation to s's events and registers its
// instruments with the meter provider: it counts from now on (see the
// package doc). It fails, and subscribes nothing, for a nil Scheduler (or
// one not made by scheduler.New) with an error wrapping
// scheduler.ErrNilScheduler, and when the meter refuses an instrument.
func New(s *scheduler.Scheduler, opts Options) (*Instrumentation, error) {
	if s.MaxParallel() == 0 { // only a nil or zero Scheduler has no slots
		return nil, fmt.Errorf("otelperkey: New: %w", scheduler.ErrNilScheduler)
	}
	mp, tp := opts.MeterProvider, opts.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	in := &Instrumentation{s: s, tracer: tp.Tracer(ScopeName), tracked: invtrack.New()}
	if err := in.instruments(mp.Meter(ScopeName)); err != nil {
		return nil, fmt.Errorf("otelperkey: New: %w", err)
	}
	in.unsub = s.Subscribe(in.observe)
	return in, nil
}

// instruments makes the instruments and registers the callback that
// reports the counters and gauges.
func (in *Instrumentation) instruments(m metric.Meter) error {
	var errs []error
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		c, err := m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	upDown := func(name, unit, desc string) metric.Int64ObservableUpDownCounter {
		c, err := m.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(DefaultBuckets()...))
		errs = append(errs, err)
		return h
	}
	ended := counter("perkey_invocations_total", "{invocation}", "Invocations that reached a final state (succeeded, failed, dropped, expired, canceled), by task.")
	submitted := counter("perkey_submitted_total", "{submission}", "Submissions that returned an invocation, deduplicated ones included, by task.")
	deduped := counter("perkey_deduped_total", "{submission}", "Submissions collapsed into an unfinished invocation (registration dedupe), by task.")
	now := upDown("perkey_invocations", "{invocation}", "Invocations now queued (behind their key), pending (waiting for a slot) or running, by task.")
	slots := upDown("perkey_slots", "{slot}", "Slots: the scheduler's MaxParallel, the cap on invocations running at once.")
	inUse := upDown("perkey_slots_in_use", "{slot}", "Slots in use: invocations running now, all tasks.")
	keys := upDown("perkey_keys_with_work", "{key}", "Keys with work queued or in flight: the scheduler's live per-key actors.")
	in.wait = histogram("perkey_queue_wait_seconds", "Time from Submit to the start of the task function, by task.")
	in.run = histogram("perkey_run_seconds", "Time from the start of the task function to the final state, by task.")
	if err := errors.Join(errs...); err != nil {
		return err
	}
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, t := range in.tasks.All() {
			o.ObserveInt64(submitted, t.submitted.Load(), t.task)
			o.ObserveInt64(deduped, t.deduped.Load(), t.task)
			for i := range invtrack.FinalStates {
				o.ObserveInt64(ended, t.ended[i].Load(), t.endedAttr[i])
			}
			for i := range invtrack.WaitingStates {
				o.ObserveInt64(now, t.now.Count(i), t.nowAttr[i])
			}
		}
		st := in.s.Stats()
		o.ObserveInt64(slots, int64(in.s.MaxParallel()))
		o.ObserveInt64(inUse, int64(st.Running))
		o.ObserveInt64(keys, int64(st.Actors))
		return nil
	}, ended, submitted, deduped, now, slots, inUse, keys)
	if err != nil {
		return err
	}
	in.reg = reg
	return nil
}

// Close unsubscribes the Instrumentation and unregisters its callback: the
// metrics stop being reported, and the tasks made with NewTask run their
// functions without spans from then on. It returns the error of the
// unregistration, if any. Close may be called more than once; the Close
// of a nil or zero Instrumentation (not made by New) does nothing.
func (in *Instrumentation) Close() error {
	if in == nil || in.unsub == nil {
		return nil
	}
	var err error
	in.closeOnce.Do(func() {
		in.closed.Store(true)
		in.unsub()
		err = in.reg.Unregister()
	})
	return err
}

// observe is the event hook. It follows the invocations whose Queued event
// it sees, and only those.
func (in *Instrumentation) observe(ev scheduler.Event) {
	t := in.tasks.Get(ev.Task, newTaskState)
	if ev.Deduped {
		t.submitted.Add(1)
		t.deduped.Add(1)
		return
	}
	if ev.Throttled {
		return // a note: the invocation still waits, Queued
	}
	ctx := context.Background()
	switch st := ev.State; {
	case st == scheduler.Queued:
		in.tracked.Add(ev.ID, ev.Time)
		t.submitted.Add(1)
		t.now.Enter(scheduler.Queued)
	case st.Final():
		prev, ok := in.tracked.Remove(ev.ID)
		if !ok {
			return
		}
		if i, ok := invtrack.FinalIndex(st); ok {
			t.ended[i].Add(1)
		}
		t.now.Leave(prev.State)
		if prev.State == scheduler.Running {
			in.run.Record(ctx, ev.Time.Sub(prev.Since).Seconds(), t.record...)
			if r := t.running.Load(); r != nil {
				r.remove(ev.Key, ev.ID)
			}
		}
	default: // Pending, Running
		prev, ok := in.tracked.Move(ev.ID, st, ev.Time)
		if !ok {
			return
		}
		t.now.Enter(st)
		t.now.Leave(prev.State)
		if st == scheduler.Running {
			in.wait.Record(ctx, ev.Time.Sub(prev.Since).Seconds(), t.record...)
			if r := t.running.Load(); r != nil {
				r.put(ev.Key, runningInvocation{id: ev.ID, submitted: prev.Since, started: ev.Time})
			}
		}
	}
}
