package promperkey

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perkey/perkey/internal/invtrack"
	"github.com/perkey/perkey/scheduler"
)

// Options configure a collector. The zero Options are valid: the default
// buckets and no constant labels.
type Options struct {
	// QueueWaitBuckets are the upper bounds, in seconds and increasing, of
	// the buckets of perkey_queue_wait_seconds. Nil or empty means
	// DefaultBuckets().
	QueueWaitBuckets []float64

	// RunBuckets are the upper bounds, in seconds and increasing, of the
	// buckets of perkey_run_seconds. Nil or empty means DefaultBuckets().
	RunBuckets []float64

	// ConstLabels are added to every series, for instance
	// {"scheduler": "billing"} to register the collectors of two
	// schedulers with one registry. They must not be named task or state.
	// Nil means none.
	ConstLabels prometheus.Labels
}

// DefaultBuckets returns the default histogram buckets, in seconds: from
// 1ms, for work that barely waits or runs, to 5 minutes, for backlogs and
// slow provider calls. Each call returns a new slice.
func DefaultBuckets() []float64 {
	return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
}

// ErrBadOption is wrapped by the error a registry returns when it
// registers a collector made with bad Options; the message names the
// option.
var ErrBadOption = errors.New("promperkey: bad option")

// The metric names: the contract with dashboards and alerts.
const (
	nameEnded      = "perkey_invocations_total"
	nameSubmitted  = "perkey_submitted_total"
	nameDeduped    = "perkey_deduped_total"
	nameNow        = "perkey_invocations"
	nameSlots      = "perkey_slots"
	nameSlotsInUse = "perkey_slots_in_use"
	nameKeys       = "perkey_keys_with_work"
	nameQueueWait  = "perkey_queue_wait_seconds"
	nameRun        = "perkey_run_seconds"
)

// collector is what NewCollector returns.
type collector struct {
	s   *scheduler.Scheduler
	err error // set when the collector is unusable; reported by Describe

	submitted, deduped, ended *prometheus.CounterVec
	wait, run                 *prometheus.HistogramVec
	nowDesc                   *prometheus.Desc
	slotsDesc                 *prometheus.Desc
	inUseDesc                 *prometheus.Desc
	keysDesc                  *prometheus.Desc

	tasks   invtrack.TaskSet[taskMetrics]
	tracked *invtrack.Tracker
}

// NewCollector returns a Prometheus collector of the metrics of s, and
// subscribes it to s's events at once: it counts from now on. Register it
// with any registry (prometheus.MustRegister, or a registry of your own);
// collecting is safe at any time, concurrently with the scheduler, and
// after Close, when the figures stop moving.
//
// The collector stays subscribed for as long as s lives, so make one per
// scheduler. Its event hook costs a few atomic additions and one short
// critical section on a sharded lock per state change (see the package
// doc). Bad Options, or a nil Scheduler (or one not made by
// scheduler.New), give a collector that subscribes to nothing and whose
// registration fails with an error wrapping ErrBadOption or
// scheduler.ErrNilScheduler.
func NewCollector(s *scheduler.Scheduler, opts Options) prometheus.Collector {
	c := &collector{s: s, tracked: invtrack.New()}
	if s.MaxParallel() == 0 { // only a nil or zero Scheduler has no slots
		c.err = fmt.Errorf("promperkey: NewCollector: %w", scheduler.ErrNilScheduler)
		return c
	}
	if c.err = c.build(opts); c.err != nil {
		return c
	}
	s.Subscribe(c.observe)
	return c
}

// build makes the collector's vectors and descriptions, and checks them as
// a registry would.
func (c *collector) build(opts Options) error {
	wait, err := buckets("QueueWaitBuckets", opts.QueueWaitBuckets)
	if err != nil {
		return err
	}
	run, err := buckets("RunBuckets", opts.RunBuckets)
	if err != nil {
		return err
	}
	for name := range opts.ConstLabels {
		if name == "task" || name == "state" {
			return fmt.Errorf("%w: ConstLabels: %q is a label of the perkey metrics", ErrBadOption, name)
		}
	}
	cl := opts.ConstLabels
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: cl}, labels)
	}
	histogram := func(name, help string, b []float64) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: b, ConstLabels: cl}, []string{"task"})
	}
	c.ended = counter(nameEnded, "Invocations that reached a final state (succeeded, failed, dropped, expired, canceled), by task.", "task", "state")
	c.submitted = counter(nameSubmitted, "Submissions that returned an invocation, deduplicated ones included, by task.", "task")
	c.deduped = counter(nameDeduped, "Submissions collapsed into an unfinished invocation (registration dedupe), by task.", "task")
	c.wait = histogram(nameQueueWait, "Time from Submit to the start of the task function, by task.", wait)
	c.run = histogram(nameRun, "Time from the start of the task function to the final state, by task.", run)
	c.nowDesc = prometheus.NewDesc(nameNow, "Invocations now queued (behind their key), pending (waiting for a slot) or running, by task.", []string{"task", "state"}, cl)
	c.slotsDesc = prometheus.NewDesc(nameSlots, "Slots: the scheduler's MaxParallel, the cap on invocations running at once.", nil, cl)
	c.inUseDesc = prometheus.NewDesc(nameSlotsInUse, "Slots in use: invocations running now, all tasks.", nil, cl)
	c.keysDesc = prometheus.NewDesc(nameKeys, "Keys with work queued or in flight: the scheduler's live per-key actors.", nil, cl)
	// A registry of its own checks names, labels and help as the user's
	// registry will, so that a bad option fails before anything is counted.
	if err := prometheus.NewPedanticRegistry().Register(c); err != nil {
		return fmt.Errorf("%w: ConstLabels: %w", ErrBadOption, err)
	}
	return nil
}

// buckets checks the buckets of option name, or returns the defaults.
func buckets(name string, b []float64) ([]float64, error) {
	if len(b) == 0 {
		return DefaultBuckets(), nil
	}
	for i, v := range b {
		switch {
		case math.IsNaN(v):
			return nil, fmt.Errorf("%w: %s[%d] is NaN", ErrBadOption, name, i)
		case i > 0 && v <= b[i-1]:
			return nil, fmt.Errorf("%w: %s: %v is not above %v: buckets must increase", ErrBadOption, name, v, b[i-1])
		}
	}
	return slices.Clone(b), nil
}

// Describe sends the descriptions of every metric, or one invalid
// description carrying the error of a collector that cannot work.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	if c.err != nil {
		ch <- prometheus.NewInvalidDesc(c.err)
		return
	}
	c.ended.Describe(ch)
	c.submitted.Describe(ch)
	c.deduped.Describe(ch)
	c.wait.Describe(ch)
	c.run.Describe(ch)
	ch <- c.nowDesc
	ch <- c.slotsDesc
	ch <- c.inUseDesc
	ch <- c.keysDesc
}

// Collect sends the current value of every series.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.err != nil {
		return
	}
	c.ended.Collect(ch)
	c.submitted.Collect(ch)
	c.deduped.Collect(ch)
	c.wait.Collect(ch)
	c.run.Collect(ch)
	for _, t := range c.tasks.All() {
		for i, st := range invtrack.WaitingStates {
			n := t.now.Count(i)
			ch <- prometheus.MustNewConstMetric(c.nowDesc, prometheus.GaugeValue, float64(n), t.name, invtrack.StateName(st))
		}
	}
	stats := c.s.Stats()
	ch <- prometheus.MustNewConstMetric(c.slotsDesc, prometheus.GaugeValue, float64(c.s.MaxParallel()))
	ch <- prometheus.MustNewConstMetric(c.inUseDesc, prometheus.GaugeValue, float64(stats.Running))
	ch <- prometheus.MustNewConstMetric(c.keysDesc, prometheus.GaugeValue, float64(stats.Actors))
}

// task returns the metrics of the named task, making its series (every
// state at zero) the first time it is seen.
func (c *collector) task(name string) *taskMetrics {
	return c.tasks.Get(name, func(name string) *taskMetrics {
		label := strings.ToValidUTF8(name, "\uFFFD") // label values must be UTF-8
		t := &taskMetrics{
			name:      label,
			submitted: c.submitted.WithLabelValues(label),
			deduped:   c.deduped.WithLabelValues(label),
			wait:      c.wait.WithLabelValues(label),
			run:       c.run.WithLabelValues(label),
		}
		for i, st := range invtrack.FinalStates {
			t.ended[i] = c.ended.WithLabelValues(label, invtrack.StateName(st))
		}
		return t
	})
}

// observe is the event hook. It follows the invocations whose Queued event
// it sees, and only those: an invocation submitted before the collector
// was made is left out of every figure.
func (c *collector) observe(ev scheduler.Event) {
	t := c.task(ev.Task)
	if ev.Deduped {
		t.submitted.Inc()
		t.deduped.Inc()
		return
	}
	if ev.Throttled {
		return // a note: the invocation still waits, Queued
	}
	switch st := ev.State; {
	case st == scheduler.Queued:
		c.tracked.Add(ev.ID, ev.Time)
		t.submitted.Inc()
		t.now.Enter(scheduler.Queued)
	case st.Final():
		prev, ok := c.tracked.Remove(ev.ID)
		if !ok {
			return
		}
		if i, ok := invtrack.FinalIndex(st); ok {
			t.ended[i].Inc()
		}
		t.now.Leave(prev.State)
		if prev.State == scheduler.Running {
			t.run.Observe(ev.Time.Sub(prev.Since).Seconds())
		}
	default: // Pending, Running
		prev, ok := c.tracked.Move(ev.ID, st, ev.Time)
		if !ok {
			return
		}
		t.now.Enter(st)
		t.now.Leave(prev.State)
		if st == scheduler.Running {
			t.wait.Observe(ev.Time.Sub(prev.Since).Seconds())
		}
	}
}
