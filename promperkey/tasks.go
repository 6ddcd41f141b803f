package promperkey

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/perkey/perkey/internal/invtrack"
)

// taskMetrics are the series of one task, made once, when the collector
// first sees the task: the hook then only adds to counters and observes
// histograms, without looking up labels.
type taskMetrics struct {
	name      string
	submitted prometheus.Counter
	deduped   prometheus.Counter
	ended     [len(invtrack.FinalStates)]prometheus.Counter
	wait, run prometheus.Observer
	now       invtrack.Gauges // the invocations followed in each waiting state
}
