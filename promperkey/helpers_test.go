package promperkey_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

// scrape registers c with a registry of its own, gathers it and returns
// every sample by its series, as in the text format:
// name{label="value",...}, labels sorted, histograms as _count, _sum and
// _bucket{le=...}.
func scrape(t testing.TB, c prometheus.Collector) map[string]float64 {
	t.Helper()
	out, err := samples(c)
	require.NoError(t, err)
	return out
}

// samples is scrape for goroutines other than the test's: it returns the
// error.
func samples(c prometheus.Collector) (map[string]float64, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	families, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := labelPairs(m.GetLabel())
			name := f.GetName()
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[series(name, labels)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[series(name, labels)] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				out[series(name+"_count", labels)] = float64(h.GetSampleCount())
				out[series(name+"_sum", labels)] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					le := append(slices.Clone(labels), "le="+strconv.Quote(strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)))
					out[series(name+"_bucket", le)] = float64(b.GetCumulativeCount())
				}
			default:
				return nil, fmt.Errorf("unexpected metric type %v of %s", f.GetType(), name)
			}
		}
	}
	return out, nil
}

func labelPairs(pairs []*dto.LabelPair) []string {
	var out []string
	for _, p := range pairs {
		out = append(out, p.GetName()+"="+strconv.Quote(p.GetValue()))
	}
	return out
}

func series(name string, labels []string) string {
	if len(labels) == 0 {
		return name
	}
	slices.Sort(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

// only returns the samples whose series start with one of prefixes.
func only(samples map[string]float64, prefixes ...string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range samples {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				out[k] = v
			}
		}
	}
	return out
}

// taskSeries returns the samples of the counters and gauges of task, in
// the form the tests write them: every final state, every waiting state,
// submitted and deduped, and the histograms' counts.
func taskSeries(samples map[string]float64, task string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range samples {
		if strings.Contains(k, `task="`+task+`"`) && !strings.Contains(k, "_bucket") && !strings.HasSuffix(strings.SplitN(k, "{", 2)[0], "_sum") {
			out[k] = v
		}
	}
	return out
}

// want builds the expected samples of task from counts by short name:
// submitted, deduped, a final state (succeeded...), a waiting state
// (queued, pending, running), wait and run (histogram counts). Every
// series the collector makes for a task is listed, zero unless given.
func want(task string, counts map[string]float64) map[string]float64 {
	out := map[string]float64{}
	q := strconv.Quote(task)
	out["perkey_submitted_total{task="+q+"}"] = counts["submitted"]
	out["perkey_deduped_total{task="+q+"}"] = counts["deduped"]
	for _, st := range []string{"succeeded", "failed", "dropped", "expired", "canceled"} {
		out[fmt.Sprintf("perkey_invocations_total{state=%q,task=%s}", st, q)] = counts[st]
	}
	for _, st := range []string{"queued", "pending", "running"} {
		out[fmt.Sprintf("perkey_invocations{state=%q,task=%s}", st, q)] = counts[st]
	}
	out["perkey_queue_wait_seconds_count{task="+q+"}"] = counts["wait"]
	out["perkey_run_seconds_count{task="+q+"}"] = counts["run"]
	return out
}

// newScheduler starts a scheduler that the test closes.
func newScheduler(t testing.TB, cfg scheduler.Config) *scheduler.Scheduler {
	t.Helper()
	s, err := scheduler.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	return s
}

// job is the argument of the tests' tasks: a key, how long the task
// sleeps, and what it returns.
type job struct {
	Key   string
	Sleep time.Duration
	Err   error
	Panic bool
	Gate  chan struct{} // if set, the task waits for it to close
}

func runJob(ctx context.Context, j job) (struct{}, error) {
	if j.Gate != nil {
		<-j.Gate
	}
	time.Sleep(j.Sleep) // in a synctest bubble: fake time, exact durations
	if j.Panic {
		panic("job panicked")
	}
	return struct{}{}, j.Err
}

func keyOf(j job) string { return j.Key }

// newTask registers a task running runJob under name.
func newTask(t testing.TB, s *scheduler.Scheduler, name string, opts scheduler.Options[job]) *scheduler.Task[job, struct{}] {
	t.Helper()
	if opts.Key == nil {
		opts.Key = keyOf
	}
	task, err := scheduler.NewTask(s, name, runJob, opts)
	require.NoError(t, err)
	return task
}

// submit submits j and fails the test on error.
func submit(t testing.TB, ctx context.Context, task *scheduler.Task[job, struct{}], j job) *scheduler.Invocation[struct{}] {
	t.Helper()
	inv, err := task.Submit(ctx, j)
	require.NoError(t, err)
	return inv
}

// sortedKeys is for failure messages.
func sortedKeys(m map[string]float64) []string { return slices.Sorted(maps.Keys(m)) }
