package otelperkey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/perkey/perkey/internal/invtrack"
	"github.com/perkey/perkey/scheduler"
)

// The span attributes and event.
const (
	AttrTask      = attribute.Key("perkey.task")          // the task's name
	AttrKey       = attribute.Key("perkey.key")           // the invocation's key (Invocation.Key)
	AttrID        = attribute.Key("perkey.invocation.id") // the invocation's ID
	AttrState     = attribute.Key("perkey.state")         // the final state: succeeded, failed or canceled
	AttrQueueWait = attribute.Key("perkey.queue_wait")    // on EventQueued: seconds from Submit to the start
	EventQueued   = "perkey.queued"                       // the span event at the Submit time
)

// NewTask is scheduler.NewTask on in's scheduler, with fn wrapped so that
// every run of it is a span:
//
//   - one span per invocation that starts, from the start of fn to its
//     return, named after the task, of kind Consumer;
//   - its parent is the span in the Submit ctx, when there is one (the
//     task function's ctx carries the Submit ctx's values), and fn's ctx
//     carries the new span, so the spans fn makes are its children;
//   - attributes perkey.task, perkey.key and perkey.state (succeeded,
//     failed or canceled: how the invocation ended, see below), and for a
//     task that runs one invocation per key at a time (Running set, Limit
//     1 or 0) perkey.invocation.id and the event perkey.queued, stamped
//     with the Submit time and carrying the wait in seconds;
//   - status Error for a failed invocation: fn returned an error (also
//     recorded as an exception event), panicked (recorded, then the panic
//     goes on to the scheduler) or called runtime.Goexit.
//
// The state is what fn's return says: canceled when its ctx was cancelled
// by a newer submission of an OnBusy=Replace task (ErrReplaced), failed on
// an error, succeeded otherwise. In the rare race where a replacement
// lands after fn has returned but before the scheduler has recorded it,
// the scheduler says Canceled and the span what fn returned.
//
// Invocations that end without starting (Dropped, Expired, Canceled while
// waiting) have no span: the metrics count them.
//
// After in.Close, fn runs without a span. NewTask fails with the errors of
// scheduler.NewTask (ErrNilScheduler for a zero in), and for a nil in with
// an error wrapping scheduler.ErrInvalid.
func NewTask[A, R any](in *Instrumentation, name string, fn func(context.Context, A) (R, error), opts scheduler.Options[A]) (*scheduler.Task[A, R], error) {
	if in == nil {
		return nil, fmt.Errorf("otelperkey: NewTask %q: nil Instrumentation: %w", name, scheduler.ErrInvalid)
	}
	if fn == nil {
		return scheduler.NewTask(in.s, name, fn, opts) // the scheduler's own error
	}
	oneAtATime := opts.Running != scheduler.Disabled && opts.Limit <= 1
	keyOf := func(args A) string { return invocationKey(name, opts, args) }
	wrapped := func(ctx context.Context, args A) (R, error) {
		if in.closed.Load() {
			return fn(ctx, args)
		}
		return traced(ctx, in, name, keyOf(args), oneAtATime, fn, args)
	}
	task, err := scheduler.NewTask(in.s, name, wrapped, opts)
	if err != nil {
		return nil, err
	}
	if oneAtATime {
		// Before the first Submit, so before the first Running event.
		in.tasks.Update(name, newTaskState, func(t *taskState) {
			if t.running.Load() == nil {
				t.running.Store(&runningSet{})
			}
		})
	}
	return task, nil
}

// traced runs fn(ctx, args) in a span; see NewTask.
func traced[A, R any](ctx context.Context, in *Instrumentation, task, key string, oneAtATime bool, fn func(context.Context, A) (R, error), args A) (result R, err error) {
	attrs := []attribute.KeyValue{AttrTask.String(task), AttrKey.String(key)}
	inv, known := in.identify(task, key, oneAtATime)
	start := time.Now()
	if known {
		attrs = append(attrs, AttrID.Int64(int64(inv.id)))
		start = inv.started
	}
	ctx, span := in.tracer.Start(ctx, task,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithTimestamp(start),
		trace.WithAttributes(attrs...))
	if known {
		span.AddEvent(EventQueued,
			trace.WithTimestamp(inv.submitted),
			trace.WithAttributes(AttrQueueWait.Float64(inv.started.Sub(inv.submitted).Seconds())))
	}
	returned := false
	defer func() {
		if returned {
			return
		}
		// fn panicked or called runtime.Goexit: the invocation fails.
		r := recover()
		span.SetAttributes(AttrState.String(invtrack.StateName(scheduler.Failed)))
		if r != nil {
			perr := fmt.Errorf("%w: %v", scheduler.ErrPanic, r)
			span.RecordError(perr, trace.WithStackTrace(true))
			span.SetStatus(codes.Error, perr.Error())
		} else {
			span.SetStatus(codes.Error, scheduler.ErrGoexit.Error())
		}
		span.End()
		if r != nil {
			panic(r) // on to the scheduler, which fails the invocation
		}
	}()
	result, err = fn(ctx, args)
	returned = true
	st := scheduler.Succeeded
	switch {
	case errors.Is(context.Cause(ctx), scheduler.ErrReplaced):
		st = scheduler.Canceled
	case err != nil:
		st = scheduler.Failed
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.SetAttributes(AttrState.String(invtrack.StateName(st)))
	span.End()
	return result, err
}

// identify returns what the event hook knows of the invocation whose task
// function is starting: its ID, Submit time and start.
//
// This is the one place that works around what the scheduler does not say
// yet: a task function is not told which invocation it runs, and events
// do not carry the Submit ctx. For a task that runs one invocation per key
// at a time, the task and key name the invocation: the hook records it on
// its Running event, which the scheduler delivers on the worker goroutine
// just before it calls the task function, and forgets it on its final
// event, before the key can start another. For other tasks it returns
// false. A scheduler API that gives a task function its invocation's ID
// (or events that carry the Submit ctx) makes this exact for every task.
func (in *Instrumentation) identify(task, key string, oneAtATime bool) (runningInvocation, bool) {
	if !oneAtATime {
		return runningInvocation{}, false
	}
	r := in.tasks.Get(task, newTaskState).running.Load()
	if r == nil {
		return runningInvocation{}, false
	}
	return r.get(key)
}

// invocationKey returns the key of an invocation of a task with opts and
// args, as Invocation.Key documents it: Options.Key for ByKey (and for
// Disabled when set), the task name for ByTask, the formatted arguments
// for ByArguments. A Key func that panics gives "": the scheduler refused
// that submission, so it never runs.
func invocationKey[A any](task string, opts scheduler.Options[A], args A) (key string) {
	switch opts.Running {
	case scheduler.ByTask:
		return task
	case scheduler.ByArguments:
		return fmt.Sprintf("%#v", args)
	}
	if opts.Key == nil {
		return ""
	}
	defer func() {
		if recover() != nil {
			key = ""
		}
	}()
	return opts.Key(args)
}
