// Package monitor serves a live view of a scheduler over HTTP, to mount in
// a service as one mounts net/http/pprof or expvar:
//
//	mux.Handle("/debug/perkey/", http.StripPrefix("/debug/perkey", monitor.Handler(s)))
//
// The page shows the totals of Stats, the busiest keys with their running,
// pending and queued counts, the slots in use out of MaxParallel, and a
// timeline of the recent past, all updated while work runs without a
// reload. With a Backend (such as package postgres), events name the
// process that ran each call (Event.Worker): the page's timeline draws
// each run in its process's colour, hovering a bar says where it ran
// ("#12 keyed · acme · list_invoices on w2"), and a table lists the
// processes with what each runs now and has finished among the recent
// events (State.Workers). In memory, none of this shows.
//
// The page has no remote scripts, fonts or styles, and fetches nothing
// but its own endpoints, by URLs relative to the page: mount the handler
// on a subtree (a pattern ending in "/"), as above.
//
// Endpoints, relative to where the handler is mounted (it routes on the
// last element of the path, so it works with or without StripPrefix):
//
//	GET .../                 the page
//	GET .../state.json       State: Stats, slots and the busiest keys, now
//	GET .../events.json?after=SEQ
//	                         Batch: the recent events after sequence number SEQ
//	GET .../stream           Server-Sent Events: "events" messages (a Batch,
//	                         whose SSE id is its Last) and "state" messages,
//	                         every Config.Interval while something changes
//
// # What it shows is true
//
// The monitor records events only while someone watches, and says since
// when (Batch.Since, the page's "Watching since"). Invocations already
// under way when a watch began show from their next event on; until then
// the page counts them, from Stats, as "not yet seen", so that it never
// shows "no work" while work runs. When nobody has watched for Linger the
// watch ends, and its events are no longer given out: what happened next
// was not watched, so a page that comes back, or a client resuming from a
// Seq of that watch, is told to start afresh (Batch.Reset) rather than
// shown finished work as running. A page that misses events (more than
// Config.Events between two reads) forgets what it had in flight for the
// same reason.
//
// # What it costs
//
//   - Nothing while nobody watches: it subscribes to the scheduler's events
//     only while a stream is open, and for Config.Linger after the last
//     stream or events.json request.
//   - Recording an event takes no lock shared by the scheduler's
//     goroutines: an atomic counter and the lock of one slot of the ring
//     (and, for an event that names a process, an atomic flag read).
//     Counting the processes (State.Workers) is a walk over the ring,
//     made with each state, only while events name processes.
//   - Memory is bounded in bytes: a ring of Config.Events events whose text
//     is cut to Config.MaxText bytes, and counts of the events let go.
//   - The busiest keys come from scheduler.Keys, a walk over every live key
//     on the scheduler's dispatcher. One walk runs at a time, shared by
//     every viewer; the next starts no sooner than Interval/2 and 20 times
//     the last walk's duration after it ended, so that watching takes at
//     most about 5% of the dispatcher's time. Meanwhile viewers get the
//     last walk's keys (State.KeysAt says when). With more than 10,000
//     live keys one walk would hold the dispatcher up for long, so the
//     monitor does not walk: it asks scheduler.Key about the keys of the
//     recent events instead, and lists the busiest of those
//     (State.Sampled); without a watch it lists none.
//   - Streams are capped (Config.MaxStreams; beyond, 503 and Retry-After),
//     and share their messages: each is encoded once per Interval for all.
//     A stream ends after Config.MaxStreamAge, idle or not, and when a
//     write is blocked for 10s, so that a client that stopped reading
//     cannot hold it; browsers reconnect and go on where they were.
//
// It starts no goroutine of its own; streams run on their requests'
// goroutines and end when the request's context ends, after MaxStreamAge,
// or when Close is called.
//
// # Exposing it
//
// The monitor has no authentication of its own, and what it serves is
// the scheduler's business: events.json and the stream carry every task's
// name, the keys (account or tenant IDs), the labels (Options.Label), the
// names of the processes (with a Backend: postgres.Config.Worker, host:pid
// by default) and the error text of failed, dropped, expired and canceled
// invocations.
// Error text can hold URLs with tokens, SQL or customer data: set
// Config.OmitErrors to leave it out. Mount the handler behind the
// service's own authentication, as one does pprof (see the examples), and
// do not serve it on a public address.
//
// Every response carries X-Content-Type-Options: nosniff and a
// Content-Security-Policy that forbids framing (frame-ancestors 'none');
// the page's policy allows only its own inline script and style, by hash,
// and connections to its own origin. Text from the scheduler (task names,
// keys, labels, errors, process names) is display text everywhere: valid
// UTF-8, with control, bidirectional and invisible characters written as
// escapes such as \n or \u202e, so that none can change how the page
// reads.
package monitor
