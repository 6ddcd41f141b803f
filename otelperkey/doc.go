// Package otelperkey reports a perkey scheduler to OpenTelemetry: its
// metrics through the metrics API, for services that export with OTLP
// rather than being scraped, and a span per run of the tasks made with
// NewTask. It is its own module, so that the core module does not depend
// on OpenTelemetry; it uses the API only (the SDK in its tests).
//
//	in, err := otelperkey.New(s, otelperkey.Options{}) // the global providers
//	defer in.Close()
//	task, err := otelperkey.NewTask(in, "sync_account", syncAccount, opts) // instead of scheduler.NewTask
//
// # Metrics
//
// The same series as package promperkey, under the same names, so that
// one dashboard serves both routes (the OpenTelemetry Prometheus exporter
// and OTLP-to-Prometheus translation keep these names as they are):
//
//	perkey_submitted_total{task}          counter
//	perkey_deduped_total{task}            counter
//	perkey_invocations_total{task,state}  counter: succeeded, failed, dropped, expired, canceled
//	perkey_invocations{task,state}        up-down counter: queued, pending, running
//	perkey_queue_wait_seconds{task}       histogram, unit s: Submit to start
//	perkey_run_seconds{task}              histogram, unit s: start to final state
//	perkey_slots, perkey_slots_in_use, perkey_keys_with_work   up-down counters
//
// Counters and gauges are observed by one callback at collection time from
// atomic counters that the event hook adds to; the two histograms are
// recorded by the hook. Their boundaries are DefaultBuckets, as advice: an
// SDK View overrides them. The semantics are promperkey's: counted from
// New, only invocations whose Queued event the hook saw, figures that add
// up per task, gauges never negative, per process (what this process's
// scheduler submitted and ran; with a Backend, sum over processes).
//
// # Spans
//
// NewTask wraps the task function: one span per invocation that starts,
// from the start of the function to its return, child of the span in the
// Submit ctx when there is one (a task function's ctx carries the Submit
// ctx's values), and parent of the spans the function makes. Attributes:
// perkey.task, perkey.key, perkey.state, and perkey.invocation.id with the
// event perkey.queued at the Submit time for tasks that run one invocation
// per key at a time (Running set, Limit 1: perkey's usual task). See
// NewTask for the details, and for what the span says on a panic.
//
// Why a wrapper: scheduler events do not carry the Submit ctx, so a
// subscriber cannot find the parent span; the task function can, and only
// a span started there can be the parent of the function's own spans. The
// function is not told its invocation's ID, though: the wrapper learns it
// from the event hook through the task and key, which name the running
// invocation only when one runs per key at a time. A scheduler API that
// tells a task function its invocation (an accessor on its ctx) would give
// every task the ID and the queued event; it is confined to one function
// here (Instrumentation.identify) so that the switch is local. With a
// Backend, the Submit ctx's span does not cross processes: an invocation
// run by another process has a root span until the scheduler propagates
// trace context with the invocation.
//
// Lifetime: New subscribes and registers a callback; Close undoes both.
// Nothing here starts a goroutine.
package otelperkey
