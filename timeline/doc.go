// Package timeline records a scheduler's events and renders them as one
// self-contained HTML page: an SVG timeline with one lane per key, one bar
// per invocation, and a mark for how each invocation ended.
//
// A Recorder is a Config.OnEvent consumer, or a Scheduler.Subscribe one:
//
//	rec, _ := timeline.New(timeline.Config{Title: "nightly sync"})
//	s, _ := scheduler.New(scheduler.Config{OnEvent: rec.Record})
//	// or, on a scheduler that already runs: cancel := s.Subscribe(rec.Record)
//	...
//	rec.Annotate(inv.ID(), "collision") // what the caller learnt of a call
//	rec.Render(f)
//
// Section groups what follows under a header and a summary line, such as one
// scenario of a demo; without sections the page has one untitled group.
// Each section starts at its first event and has its own time scale, so
// that 10ms calls next to a section of seconds are still bars.
//
// A bar's segments are its phases: queued behind its key, throttled
// (waiting for a Rate token, from the Throttled event to the next),
// pending (waiting for a slot) and running. Dedupes are counted per
// invocation: the bar shows the first and the last with a count, however
// many there were. Annotate adds notes, drawn as a mark on the bar and
// listed in the legend, the bar's hover text and the section's counts.
//
// With a Backend (such as package postgres), events name the process
// that ran each invocation (Event.Worker), and the page says so: each
// running segment is drawn in its process's colour, listed in the legend
// ("running on w2"), the hover text says "ran on w2" ("ran on w1, then
// w3" for an invocation run again once its lease ran out: each run is
// kept, in order), and each section counts its runs per process, such as
// "ran on: w1 5, w2 4, w3 3". In memory, events name no process and none
// of this is drawn.
//
// Memory is bounded: at most Config.MaxInvocations invocations, each a
// fixed size but for its phases (a handful; at most MaxPhases) and notes
// (at most MaxNotes), with text cut to MaxText bytes.
//
// The page has no scripts and no remote fonts or styles (its
// Content-Security-Policy allows only its own inline style): it works
// offline, and hovering a bar shows its invocation ID, its operation
// (Event.Label) and how long it spent in each phase. It is valid UTF-8,
// and every text on it (titles, summaries, keys, labels, errors, notes,
// process names) is display text: control, bidirectional and invisible
// characters are written as escapes such as \n or \u202e, so that none
// can change how the page reads. Its SVG elements carry stable classes
// and data attributes, for tests and for styling:
//
//	section.section[data-title]      one per section, with h2 and p.summary
//	p.workers span.worker[data-worker][data-runs]
//	                                 with a Backend: a section's runs per
//	                                 process
//	g.lane[data-task][data-key]      one per key of a task in a section
//	g.bar[data-id][data-state]       one per invocation; data-state is its
//	                                 final state in lower case, or "open";
//	                                 class "noted" if it has notes;
//	                                 data-worker, with a Backend: the
//	                                 process that ran it (its last run's)
//	rect.seg.queued|throttled|pending|running
//	                                 the phases of a bar; a running one
//	                                 has data-worker, with a Backend, and
//	                                 its process's colour class, w0 to w7
//	path.mark.succeeded|failed|dropped|expired|canceled
//	                                 one per finished invocation
//	path.note[data-id][data-note]    one per invocation with notes
//	path.dedupe[data-id]             the first and the last submission
//	                                 collapsed into the invocation data-id
//	text.dedupe-count                "+N deduped", after such a bar
//	svg.legend g.legend-item[data-item]
//	                                 one per swatch; "note:TEXT" per note,
//	                                 "worker:NAME" per process
package timeline
