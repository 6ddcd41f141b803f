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
//	rec.Render(f)
//
// Section groups what follows under a header and a summary line, such as one
// scenario of a demo; without sections the page has one untitled group.
//
// The page has no remote scripts, fonts or styles: it works offline, and
// hovering a bar shows its invocation ID, its operation (Event.Label) and
// how long it spent in each phase. Its SVG elements carry stable classes and
// data attributes, for tests and for styling:
//
//	section.section[data-title]      one per section, with h2 and p.summary
//	g.lane[data-task][data-key]      one per key of a task in a section
//	g.bar[data-id][data-state]       one per invocation; data-state is its
//	                                 final state in lower case, or "open"
//	rect.seg.queued|pending|running  the phases of a bar
//	path.mark.succeeded|failed|dropped|expired|canceled
//	                                 one per finished invocation
//	path.dedupe[data-id]             one per submission collapsed into the
//	                                 invocation data-id, on its lane
package timeline
