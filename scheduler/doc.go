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
//     one invocation per turn whatever their Limit, so a key with a deep
//     backlog delays another key by at most one turn of the keys waiting.
//   - Rated: with Rate, a key's starts are spaced to at most Rate per
//     second (bursts of Burst), measured at the actual starts; waiting for a
//     token holds no slot.
//   - Final exactly once: every invocation Submit returns reaches exactly
//     one final state (Succeeded, Failed, Dropped, Expired, Canceled), and
//     its Done channel is closed then, once its key has moved on.
//   - No lost work: Submit either returns an error and creates nothing, or
//     returns an invocation that will become final, Close included.
//   - Contained failures: a task that panics or calls runtime.Goexit ends
//     Failed (ErrPanic, ErrGoexit); its key and the scheduler go on.
//   - Prompt ends: an invocation whose Submit ctx ends, or whose MaxWait
//     passes, while it waits ends then, without running, and its key moves
//     on.
//   - Stingy memory: memory follows the keys with work, not the keys ever
//     seen. An idle key's actor is dropped at once (a rated one once its
//     limiter has refilled), the maps and lists that a burst of keys grew
//     are shrunk within about two seconds, and an idle scheduler has no
//     goroutine but its dispatcher.
//   - Clean shutdown: Close returns once every goroutine the scheduler
//     started has exited (see Close for tasks that ignore cancellation).
//
// Each task chooses, in Options, its Running scope (the run-time rule), its
// Registration scope (collapsing duplicate submissions, until start or
// until done), what a submission does when its key is busy (Wait, Drop or
// Replace), how long it may wait (MaxWait), how many of a key's invocations
// may run at once (Limit), how fast they may start (Rate, Burst), and
// whether it shares its keys with other tasks (Group).
//
// Events (Config.OnEvent, Scheduler.Subscribe) report every state change,
// for timelines and metrics; Stats, Key and Keys report counts.
package scheduler
