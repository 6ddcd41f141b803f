package timeline

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/perkey/perkey/internal/displaytext"
	"github.com/perkey/perkey/scheduler"
)

// Defaults for the zero values of Config.
const (
	// DefaultTitle is the page's title when Config.Title is empty.
	DefaultTitle = "perkey timeline"
	// DefaultMaxInvocations is how many invocations a Recorder keeps when
	// Config.MaxInvocations is zero.
	DefaultMaxInvocations = 100_000
	// MaxText is how many bytes of a task name, key, label or error the
	// Recorder keeps; longer text is cut at a character boundary and ends
	// in "…".
	MaxText = 200
	// MaxNote is how many bytes of a note Annotate keeps, and MaxNotes how
	// many distinct notes an invocation keeps.
	MaxNote  = 40
	MaxNotes = 4
	// MaxPhases is how many changes of state an invocation keeps: its
	// final state always, and the first MaxPhases-1 others. Only reruns
	// (a Backend runs an invocation again once its lease ran out) make
	// more than five; the events past the bound are counted, not kept.
	MaxPhases = 16
)

// Config configures a Recorder. The zero Config is valid: the default
// title, and at most DefaultMaxInvocations invocations kept.
type Config struct {
	// Title is the page's title and top heading. Empty means DefaultTitle.
	Title string

	// MaxInvocations caps how many invocations the Recorder keeps, so that
	// a long run cannot grow it without bound. Events of invocations past
	// the cap are counted, not kept, and the page says how many there were.
	// Zero means DefaultMaxInvocations; negative is an error.
	MaxInvocations int
}

// Recorder collects the events of one scheduler, grouped into sections, and
// renders them with Render. Its methods are safe for concurrent use; Record
// is fast enough for Config.OnEvent (a map look-up and an append under a
// mutex). Its memory follows the invocations it keeps (at most
// MaxInvocations), not the events: the dedupes of an invocation are
// counted, with the first and the last, however many there are, its
// changes of state are at most MaxPhases, and text (worker names too) is
// cut to MaxText. A Recorder has no goroutine and needs no Close. The
// zero Recorder works like one from New(Config{}); a nil *Recorder ignores
// events and fails Render with ErrNilRecorder.
type Recorder struct {
	title string
	max   int

	mu       sync.Mutex
	sections []section        // sections[0] is the untitled one before any Section call
	spans    map[spanID]*span // by task and ID
	byID     map[uint64]*span // by ID alone, for Annotate: the latest span of each ID
	order    []*span          // in the order their first event arrived
	omitted  int              // events of invocations past the cap
	last     time.Time        // the latest event time seen
}

// section is one titled group of invocations.
type section struct {
	title, summary string
}

// spanID names an invocation: IDs are unique within a scheduler, and the
// task name keeps two schedulers that share a Recorder apart as far as it
// can.
type spanID struct {
	task string
	id   uint64
}

// span is one invocation as its events describe it.
type span struct {
	id               uint64
	task, key, label string
	section          int
	phases           []phase  // state changes, in order; the last may be final; at most MaxPhases
	lost             int      // events past MaxPhases, counted, not kept
	dedupes          dedupes  // submissions collapsed into it
	err              string   // its error, for a final state that has one
	notes            []string // from Annotate, distinct, at most MaxNotes
	cut              bool     // its task, key, label, error or worker was cut to MaxText
}

// phase is one state change of a span, or the start of a wait for a Rate
// token (throttled, with state Queued), which the next phase ends.
type phase struct {
	state     scheduler.State
	throttled bool
	at        time.Time
	worker    string // for Running, with a Backend: the process that ran this run
}

// workers returns the processes that ran sp, one per run, in order: more
// than one if it ran again (its lease ran out). Empty in memory.
func (sp span) workers() []string {
	var out []string
	for _, ph := range sp.phases {
		if ph.state == scheduler.Running && ph.worker != "" {
			out = append(out, ph.worker)
		}
	}
	return out
}

// dedupes sums up the submissions collapsed into an invocation.
type dedupes struct {
	n           int
	first, last time.Time
}

// add counts one dedupe at t.
func (d *dedupes) add(t time.Time) {
	if d.n == 0 || t.Before(d.first) {
		d.first = t
	}
	if d.n == 0 || t.After(d.last) {
		d.last = t
	}
	d.n++
}

// New returns an empty Recorder. It fails with ErrBadConfig for a negative
// MaxInvocations.
func New(cfg Config) (*Recorder, error) {
	if cfg.MaxInvocations < 0 {
		return nil, fmt.Errorf("%w: MaxInvocations %d is negative", ErrBadConfig, cfg.MaxInvocations)
	}
	r := &Recorder{title: cfg.Title, max: cfg.MaxInvocations}
	r.ready()
	return r, nil
}

// ready fills in the defaults, so that a zero Recorder works like one from
// New(Config{}). It runs under r.mu, or before r is shared.
func (r *Recorder) ready() {
	if r.spans != nil {
		return
	}
	if r.title == "" {
		r.title = DefaultTitle
	}
	if r.max == 0 {
		r.max = DefaultMaxInvocations
	}
	r.sections = []section{{}}
	r.spans = make(map[spanID]*span)
	r.byID = make(map[uint64]*span)
}

// Record adds one event. Pass it as scheduler.Config.OnEvent, or to
// Scheduler.Subscribe. An invocation belongs to the section that was
// current when its first event arrived, whatever arrives later. Repeated
// states and states after a final one are ignored; a Throttled event
// starts a wait for a Rate token, which the next event ends. With a
// Backend, a Running event's Worker is kept with the run it starts: an
// invocation that runs again once its lease ran out keeps each run and
// the process of each, in order, also when a Running event follows
// another one directly. An invocation keeps at most MaxPhases changes of
// state. On a nil Recorder it does nothing.
func (r *Recorder) Record(ev scheduler.Event) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.ready()
	defer r.mu.Unlock()
	if ev.Time.After(r.last) {
		r.last = ev.Time
	}
	k := spanID{ev.Task, ev.ID}
	sp := r.spans[k]
	if sp == nil {
		if len(r.order) >= r.max {
			r.omitted++
			return
		}
		var cut [2]bool
		sp = &span{id: ev.ID, section: len(r.sections) - 1}
		sp.task, cut[0] = displaytext.Clean(ev.Task, MaxText)
		sp.key, cut[1] = displaytext.Clean(ev.Key, MaxText)
		sp.cut = cut[0] || cut[1]
		r.spans[k] = sp
		r.byID[ev.ID] = sp
		r.order = append(r.order, sp)
	}
	if sp.label == "" && ev.Label != "" {
		var cut bool
		sp.label, cut = displaytext.Clean(ev.Label, MaxText)
		sp.cut = sp.cut || cut
	}
	if ev.Deduped {
		sp.dedupes.add(ev.Time)
		if len(sp.phases) > 0 {
			return
		}
		// The first event seen of this invocation: its state is where the
		// bar starts.
	}
	var worker string
	var workerCut bool
	if ev.State == scheduler.Running && ev.Worker != "" {
		worker, workerCut = displaytext.Clean(ev.Worker, MaxText)
	}
	if n := len(sp.phases); n > 0 {
		last := sp.phases[n-1]
		repeated := last.state == ev.State && last.throttled == ev.Throttled &&
			(ev.State != scheduler.Running || worker == "" || worker == last.worker)
		switch {
		case last.state.Final():
			return
		case !ev.State.Final() && n >= MaxPhases-1:
			sp.lost++ // room is kept for the final state
			return
		case repeated:
			return // a Running event naming another process is a rerun there: kept
		}
	}
	sp.phases = append(sp.phases, phase{ev.State, ev.Throttled, ev.Time, worker})
	sp.cut = sp.cut || workerCut
	if ev.Err != nil {
		var cut bool
		sp.err, cut = displaytext.Clean(ev.Err.Error(), MaxText)
		sp.cut = sp.cut || cut
	}
}

// Annotate attaches a short note, such as "collision", to the bar of the
// invocation id: the page draws a mark on the bar, lists the note in the
// legend and in the bar's hover text, and counts the notes per section.
// An invocation keeps up to MaxNotes distinct notes of up to MaxNote
// bytes; an empty note, a repeated one, and an id the Recorder does not
// hold (never recorded, or past MaxInvocations) are ignored. IDs are
// those of Invocation.ID; should two schedulers share a Recorder, the
// latest invocation recorded with that ID gets the note. It is safe for
// concurrent use, also with Record and Render, and on a nil Recorder it
// does nothing.
func (r *Recorder) Annotate(id uint64, note string) {
	if r == nil {
		return
	}
	note, _ = displaytext.Clean(note, MaxNote)
	if note == "" {
		return
	}
	r.mu.Lock()
	r.ready()
	defer r.mu.Unlock()
	sp := r.byID[id]
	if sp == nil || len(sp.notes) >= MaxNotes || slices.Contains(sp.notes, note) {
		return
	}
	sp.notes = append(sp.notes, note)
}

// Section starts a section titled title: the invocations whose first event
// arrives from now on, until the next Section call, are drawn under its
// header. Its summary line can be set later, once it is known. On a nil
// Recorder it returns nil, whose SetSummary does nothing.
func (r *Recorder) Section(title string) *Section {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	r.ready()
	defer r.mu.Unlock()
	r.sections = append(r.sections, section{title: title})
	return &Section{r: r, i: len(r.sections) - 1}
}

// Section is a handle on one section of a Recorder, to set its summary.
// It is safe for concurrent use.
type Section struct {
	r *Recorder
	i int
}

// SetSummary sets the line shown under the section's header, such as
// "12 enqueued -> 3 calls (9 dropped)", replacing any earlier one. On a nil
// Section it does nothing.
func (s *Section) SetSummary(text string) {
	if s == nil || s.r == nil {
		return
	}
	s.r.mu.Lock()
	s.r.ready()
	defer s.r.mu.Unlock()
	s.r.sections[s.i].summary = text
}

// snapshot is a copy of a Recorder's contents, for rendering without the
// lock.
type snapshot struct {
	title    string
	sections []section
	spans    []span // in arrival order
	omitted  int
	last     time.Time
}

// snapshot copies what Render needs. The spans' slices are shared: Record
// and Annotate only append to them, so the prefix copied here never
// changes.
func (r *Recorder) snapshot() snapshot {
	r.mu.Lock()
	r.ready()
	defer r.mu.Unlock()
	sn := snapshot{
		title:    r.title,
		sections: append([]section(nil), r.sections...),
		spans:    make([]span, len(r.order)),
		omitted:  r.omitted,
		last:     r.last,
	}
	for i, sp := range r.order {
		sn.spans[i] = *sp
	}
	return sn
}
