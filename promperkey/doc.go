// Package promperkey exports the metrics of a perkey scheduler to
// Prometheus. It is its own module, so that the core module does not
// depend on client_golang.
//
//	s, _ := scheduler.New(scheduler.Config{})
//	prometheus.MustRegister(promperkey.NewCollector(s, promperkey.Options{}))
//	http.Handle("/metrics", promhttp.Handler())
//
// The metric names are a contract: dashboards and alerts may depend on
// them. Labels are bounded: by task name (and state), never by key; the
// per-key view belongs to the monitor (package monitor) and to
// Scheduler.Keys.
//
//	perkey_submitted_total{task}              counter: submissions that returned an invocation, deduplicated ones included
//	perkey_deduped_total{task}                counter: submissions collapsed into an unfinished invocation
//	perkey_invocations_total{task,state}      counter: invocations that reached a final state: succeeded, failed, dropped, expired, canceled
//	perkey_invocations{task,state}            gauge: invocations queued (behind their key), pending (waiting for a slot), running
//	perkey_queue_wait_seconds{task}           histogram: from Submit to the start of the task function
//	perkey_run_seconds{task}                  histogram: from the start to the final state
//	perkey_slots                              gauge: MaxParallel
//	perkey_slots_in_use                       gauge: invocations running now, all tasks (Stats().Running)
//	perkey_keys_with_work                     gauge: keys with work queued or in flight (Stats().Actors)
//
// Guarantees:
//   - Counted from creation: the collector follows every invocation whose
//     Queued event reaches it, that is every invocation submitted after
//     NewCollector returned (and possibly a few submitted just before,
//     which the dispatcher had not routed yet), and no other. An
//     invocation submitted earlier is left out of every per-task figure,
//     its end included, so that the figures of a task always add up: once
//     the scheduler is idle,
//     submitted = deduped + the five final states, and while work moves,
//     submitted = deduped + final states + queued + pending + running,
//     up to the invocations in transit at the instant of the scrape. A
//     deduplicated submission made after creation counts even when the
//     invocation it joined is older.
//   - Exact: each followed invocation is counted once in
//     perkey_invocations_total, in its final state, and once in each
//     histogram it reaches: queue wait when it starts (invocations that
//     never start are not observed), run time when it ends after
//     starting. Durations are taken from the events' times, on the
//     monotonic clock.
//   - Never negative: a gauge is raised before it is lowered for any one
//     invocation, so a scrape may count an invocation in transit in two
//     states for an instant, but never below zero.
//   - Series from first sight: a task's series appear, every state at
//     zero, with its first event; tasks that never had an event have
//     none.
//   - Cheap: the event hook takes no global lock. Per state change it
//     does one copy-on-write map read (task name to its precomputed
//     series), one short critical section on one of 64 locks picked by
//     invocation ID (the bookkeeping below), and atomic additions
//     (counters, the gauges, lock-free histograms). Subscribing makes the
//     scheduler itself take the time and deliver events for every
//     invocation; the package's benchmark measures the whole cost.
//
// Why the bookkeeping: events tell the state an invocation enters, not the
// one it leaves, nor its Submit time on the Running event, nor its start
// on its final event. To derive the gauges and the histograms exactly the
// collector keeps, per followed invocation that is not final, its state
// and one time: 16 bytes in pages of consecutive IDs, at most about 128
// bytes each when few of a page's invocations are left (long waits behind
// a key, long runs), and a page of 4 KiB per shard. Memory follows the
// invocations outstanding: pages are freed as their invocations end.
//
// Per process: every figure is what this process's scheduler saw: the
// submissions made through it and the invocations its events report.
// With a Backend (such as package postgres) the invocations of several
// processes share one store, and each process's collector counts its own
// part; sum over processes (by the instance label a scrape adds) for the
// whole. perkey_slots is this process's MaxParallel; perkey_slots_in_use
// and perkey_keys_with_work are what Scheduler.Stats returns, which for a
// Backend is what the backend reports (see its documentation).
//
// Lifetime: NewCollector subscribes at once and stays subscribed while the
// scheduler lives; after Close the figures stop moving and collecting
// still works. The collector starts no goroutine.
package promperkey
