// Package monitor serves a live view of a scheduler over HTTP, to mount in
// a service as one mounts net/http/pprof or expvar:
//
//	mux.Handle("/debug/perkey/", http.StripPrefix("/debug/perkey", monitor.Handler(s)))
//
// The page shows the totals of Stats, the busiest keys with their running,
// pending and queued counts, the slots in use out of MaxParallel, and a
// timeline of the recent past, all updated while work runs without a
// reload. It has no remote scripts, fonts or styles.
//
// Endpoints, relative to where the handler is mounted (it routes on the
// last element of the path, so it works with or without StripPrefix):
//
//	GET .../                 the page
//	GET .../state.json       Stats, slots and the busiest keys, now
//	GET .../events.json?after=SEQ
//	                         the recent events after sequence number SEQ
//	GET .../stream           Server-Sent Events: "state" and "events"
//	                         messages, every Config.Interval while
//	                         something changes
//
// It costs nothing while nobody watches: it subscribes to the scheduler's
// events only while a stream is open, or for Config.Linger after the last
// events.json request, and unsubscribes after. Its memory is bounded: a
// ring of the last Config.Events events, and per-state counts of the
// events that fell out of it. It starts no goroutine of its own; streams
// run on their requests' goroutines and end when the request's context
// ends or Close is called.
package monitor
