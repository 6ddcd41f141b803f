// Package postgres is a scheduler.Backend on PostgreSQL: the scheduler's
// per-key guarantees for every process of a service that shares one
// database, and invocations that outlive the process that submitted them.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	backend, err := postgres.Open(ctx, pool, postgres.Config{})
//	s, err := scheduler.New(scheduler.Config{MaxParallel: 8, Backend: backend})
//
// Tasks are written as for the in-memory scheduler. Every process
// registers the same tasks, by name, with the same options; arguments and
// results cross processes as JSON.
//
// Guarantees, across every process on one schema:
//   - Durable: once Submit returns, the invocation is committed. Killing
//     any process at any moment loses no submitted invocation: it runs, or
//     ends in a final state.
//   - Serial per key: at most Limit invocations of a key (1 by default)
//     are admitted (Pending or Running) at once, across all processes. The
//     database enforces it: an admitted invocation holds one of its key's
//     slots, and a unique index over (key, slot) refuses a second holder,
//     so a bug would surface as an error, not as an overlap.
//   - Capped: MaxParallel bounds what each process runs at once.
//   - FIFO per key, fair across keys: a key's invocations are admitted in
//     Submit order; slots go to admitted invocations in the order they
//     became ready, which is round robin over ready keys, and a key's
//     queued backlog is never scanned to find work.
//   - Leased, at least once: a running invocation holds a lease that its
//     process renews every Lease/4. A process that cannot renew for 3/4 of
//     Lease cancels the task's ctx, before the lease runs out. When a lease
//     runs out (its process died or lost the database), the invocation goes
//     back to the head of its key, in its own slot, and runs again. So an
//     invocation may run more than once, and the per-key guarantee holds as
//     long as tasks honour their ctx.
//   - Every knob is cluster-wide: Wait and Drop (Drop decides against the
//     whole cluster's view of the key: its Limit of admitted invocations,
//     work queued ahead, or no Rate token), Registration dedupe with
//     UntilStart and UntilDone (a Submit in any process returns the
//     existing invocation's ID), Limit, MaxWait, Group, Rate and Burst
//     (spent at the start), and Replace, which cancels the running
//     invocation in whichever process runs it and admits the new one only
//     once the replaced one has returned.
//   - Prompt without polling: LISTEN/NOTIFY wakes claimers when work
//     becomes ready and waiters when it ends; polling every PollInterval
//     covers lost notifications.
//   - Clean close: Close stops claiming, and drains or cancels this
//     process's running work; work it cancels goes back to the database
//     for another process, and queued work stays there.
//   - Bounded storage: final invocations are deleted after Retention, by
//     one process at a time; a key with no work has no row.
//
// Submit's ctx bounds the Submit call only: once committed, an invocation
// no longer depends on the submitting process, and only MaxWait, Replace,
// or its own end finish it. The Submit ctx's values do not cross
// processes. Wait works in any process, and Task.Lookup finds an
// invocation by ID.
//
// How it works: admission by promotion. An invocation is inserted Queued
// (waiting) in its key; a key's admissions change only under the key's
// transaction lock (pg_advisory_xact_lock), taken by Submit, by the
// completion of a run, by expiry and by Replace, which then promote the
// oldest waiting invocations into free slots: Pending, ready at once (or
// when the key's next Rate token falls due). Claiming is a plain
// FOR UPDATE SKIP LOCKED over ready invocations ordered by readiness: it
// takes no key lock and never sees a blocked backlog, so a key with
// 100,000 queued invocations costs the claim nothing. Each of Submit,
// claim and completion is one round trip to a server-side function;
// completions are written in batches. See schema_v1.sql.
//
// Events: while any process has event listeners (a monitor, a timeline,
// metrics), every process publishes its state changes on a notification
// channel, and every listening process receives the whole cluster's
// events, in commit order, stamped with the database's clock. With nobody
// listening, events cost nothing.
//
// Stats counts this process's own submissions and runs; its gauges
// (Queued, Pending, Running, Actors) are the cluster's. Key and Keys are
// the cluster's.
package postgres
