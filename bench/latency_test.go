package bench

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// latencyKeys is how many keys BenchmarkLatency spreads its invocations
// over; each submitter uses its own residue class of them.
const latencyKeys = 1000

// BenchmarkLatency measures submit-to-start latency below saturation:
// each of S submitters submits one invocation, waits for it to start, and
// submits the next, on the next of its keys. With S ≤ 4 at most 2S
// invocations are ever in flight, fewer than the 8 slots. b.N is the total
// number of invocations; it reports the p50, p99 and p99.9 in µs.
func BenchmarkLatency(b *testing.B) {
	keys := makeKeys("k", latencyKeys)
	for _, s := range []int{1, 4} {
		b.Run("submitters="+strconv.Itoa(s), func(b *testing.B) {
			for _, im := range keyedImpls() {
				b.Run("impl="+im.name, func(b *testing.B) {
					b.ReportAllocs()
					res, err := runLatency(b, im, keys, s, b.N)
					if err != nil {
						b.Fatal(err)
					}
					q := percentiles(res.samples, 0.50, 0.99, 0.999)
					b.ReportMetric(micros(q[0]), "p50-us")
					b.ReportMetric(micros(q[1]), "p99-us")
					b.ReportMetric(micros(q[2]), "p999-us")
				})
			}
		})
	}
}

// latencyResult holds one submit-to-start latency per invocation.
type latencyResult struct {
	samples []time.Duration
}

// submitter is one submitting goroutine's state. Its invocation reads t0
// and writes lat; the submit and the started channel order those accesses.
type submitter struct {
	t0      time.Time
	lat     time.Duration
	started chan struct{}
	samples []time.Duration
	err     error
}

// runLatency has submitters goroutines submit n invocations in all, one at
// a time each, submitter s on keys s, s+S, s+2S, ... (mod len(keys)), and
// records when each started relative to its Submit call.
func runLatency(tm timer, im impl, keys []string, submitters, n int) (latencyResult, error) {
	if len(keys)%submitters != 0 {
		return latencyResult{}, fmt.Errorf("%d keys do not split evenly among %d submitters", len(keys), submitters)
	}
	per := (n + submitters - 1) / submitters
	subs := make([]submitter, submitters)
	for i := range subs {
		subs[i].started = make(chan struct{}, 1)
		subs[i].samples = make([]time.Duration, 0, per)
	}
	work := func(c call) {
		s := &subs[c.n]
		s.lat = time.Since(s.t0)
		s.started <- struct{}{}
	}
	r, err := im.new(work)
	if err != nil {
		return latencyResult{}, err
	}
	var wg sync.WaitGroup
	tm.ResetTimer()
	for i := range subs {
		wg.Go(func() {
			s := &subs[i]
			for j := range per {
				s.t0 = time.Now()
				if s.err = r.submit(call{key: keys[(i+j*submitters)%len(keys)], n: i}); s.err != nil {
					return
				}
				<-s.started
				s.samples = append(s.samples, s.lat)
			}
		})
	}
	wg.Wait()
	tm.StopTimer()
	errs := []error{r.close()}
	var res latencyResult
	for i := range subs {
		errs = append(errs, subs[i].err)
		res.samples = append(res.samples, subs[i].samples...)
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("%s: %w", im.name, err)
	}
	return res, nil
}
