package timeline

import (
	"fmt"
	"sync"
	"time"

	"github.com/perkey/perkey/scheduler"
)

// Defaults for the zero values of Config.
const (
	// DefaultTitle is the page's title when Config.Title is empty.
	DefaultTitle = "perkey timeline"
	// DefaultMaxInvocations is how many invocations a Recorder keeps when
	// Config.MaxInvocations is zero.
	DefaultMaxInvocations = 100_000
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
// mutex). A Recorder has no goroutine and needs no Close. The zero
// Recorder works like one from New(Config{}); a nil *Recorder ignores
// events and fails Render with ErrNilRecorder.
type Recorder struct {
	title string
	max   int

	mu       sync.Mutex
	sections []section        // sections[0] is the untitled one before any Section call
	spans    map[spanID]*span // by task and ID
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
	phases           []phase     // state changes, in order; the last may be final
	dedupes          []time.Time // submissions collapsed into it
	err              string      // its error, for a final state that has one
}

// phase is one state change of a span.
type phase struct {
	state scheduler.State
	at    time.Time
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
}

// Record adds one event. Pass it as scheduler.Config.OnEvent, or to
// Scheduler.Subscribe. An invocation belongs to the section that was
// current when its first event arrived, whatever arrives later. Repeated
// states and states after a final one are ignored. On a nil Recorder it
// does nothing.
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
		sp = &span{id: ev.ID, task: ev.Task, key: ev.Key, section: len(r.sections) - 1}
		r.spans[k] = sp
		r.order = append(r.order, sp)
	}
	if sp.label == "" {
		sp.label = ev.Label
	}
	if ev.Deduped {
		sp.dedupes = append(sp.dedupes, ev.Time)
		if len(sp.phases) > 0 {
			return
		}
		// The first event seen of this invocation: its state is where the
		// bar starts.
	}
	if n := len(sp.phases); n > 0 && (sp.phases[n-1].state == ev.State || sp.phases[n-1].state.Final()) {
		return
	}
	sp.phases = append(sp.phases, phase{ev.State, ev.Time})
	if ev.Err != nil {
		sp.err = ev.Err.Error()
	}
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
// only appends to them, so the prefix copied here never changes.
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
