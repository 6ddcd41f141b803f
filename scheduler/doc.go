// Package scheduler runs background work for many keys (accounts, tenants,
// installations) in parallel while keeping the work of any one key from
// overlapping.
//
// A Scheduler has one dispatcher goroutine. Submit hands it each
// invocation; it routes the invocation to the actor of its key, a FIFO
// mailbox with a count of work in flight. When the key is free, the head of
// its mailbox becomes Pending and waits for one of MaxParallel slots; a
// worker goroutine then runs it. Nothing else takes work out of a mailbox,
// so at most one invocation per key is in flight: no lock is held around
// the task, and blocked work is never retried or put back in line.
//
// Guarantees:
//   - Serial per key: with Running set, at most one invocation per key (per
//     task, per argument value) is Pending or Running at any moment; with
//     Limit N, at most N.
//   - Capped: at most MaxParallel invocations run at once, across all tasks.
//   - FIFO per key: with OnBusy=Wait, a key's invocations start in Submit
//     order.
//   - Fair across keys: slots go to keys in the order they became ready,
//     one invocation per turn whatever their Limit (while one of a key's
//     invocations is Pending and has not started, its next one waits
//     Queued), so a key with a deep backlog delays another key by at most
//     one turn of the keys waiting.
//   - Rated: with Rate, a key's starts are spaced to at most Rate per
//     second (bursts of Burst), measured at the actual starts; waiting for a
//     token holds no slot, and however low the Rate, the wait never
//     overflows into none.
//   - Drop counts room, not timing: an OnBusy=Drop invocation is dropped
//     only when its key's Limit is taken by the invocations it holds
//     (Queued, Pending and Running together) or, with a Rate, when no
//     token is left for it; so Limit N takes N submissions in a row, and
//     Burst N takes N, however fast they come.
//   - Replace never overlaps: an OnBusy=Replace invocation starts only
//     once every invocation it replaced has returned, whatever the Limit.
//   - Final exactly once: every invocation Submit returns reaches exactly
//     one final state (Succeeded, Failed, Dropped, Expired, Canceled), and
//     its Done channel is closed then, once its key has moved on.
//   - No lost work: Submit either returns an error and creates nothing, or
//     returns an invocation that will become final, Close included.
//   - Bounded on request: with Config.MaxQueued or Options.MaxQueued, the
//     invocations waiting (Queued or Pending) under a bound never exceed
//     it (save the Replace exception documented on Options.MaxQueued); a
//     Submit that finds it reached waits for room, or fails with ErrFull,
//     and creates nothing unless it gets room. Without a bound, the
//     default, Submit never waits.
//   - Contained failures: a task that panics or calls runtime.Goexit ends
//     Failed (ErrPanic, ErrGoexit); its key and the scheduler go on.
//   - Prompt ends: an invocation whose Submit ctx ends, or whose MaxWait
//     passes, while it waits ends then, without running, and its key moves
//     on.
//   - Stingy memory: memory follows the work, not the keys ever seen nor
//     the invocations ever run. The scheduler keeps no final invocation
//     alive, save the few hundred it handed to the workers last (not its
//     MaxWait deadline, not a Submit ctx that lives on); an idle key's
//     actor is dropped at once (a rated one once its limiter has
//     refilled), and the actors kept for reuse hold nothing of their keys;
//     the maps and lists that a burst grew (key maps, the ready list, the
//     timer heap, the watch of a long-lived Submit ctx, per-key MaxQueued
//     counts) are shrunk within about two seconds; and an idle scheduler
//     has no goroutine but its dispatcher. Key, Keys and Stats keep
//     nothing, before or after Close.
//   - Clean shutdown: Close returns once every goroutine the scheduler
//     started has exited (see Close for tasks that ignore cancellation).
//
// Each task chooses, in Options, its Running scope (the run-time rule), its
// Registration scope (collapsing duplicate submissions, until start or
// until done), what a submission does when its key is busy (Wait, Drop or
// Replace), how long it may wait (MaxWait), how many of a key's invocations
// may wait (MaxQueued, OnFull), how many may run at once (Limit), how fast
// they may start (Rate, Burst), and whether it shares its keys with other
// tasks (Group).
//
// Bad input (to New, NewTask and Submit) gets an error that names the task
// and the option or argument at fault, such as `task "x": Running ByKey
// needs a Key func`, and matches a sentinel (ErrNoKeyFunc, ErrBadOption,
// ...) with errors.Is; nothing is created.
//
// Events (Config.OnEvent, Scheduler.Subscribe) report every state change,
// in order for each invocation (see Event), and two notes that are not
// state changes: a submission deduplicated into an invocation (Deduped,
// always after that invocation's Queued event) and the start of a wait for
// a Rate token (Throttled), for timelines and metrics; Stats, Key and Keys
// report counts.
package scheduler
