package bench

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// The noisy-neighbour workload: hotKeys keys with hotDepth invocations each,
// submitted round by round (one per hot key per round), then one
// invocation of a cold key. Every invocation spins for noisySpin.
const (
	hotKeys   = 100
	hotDepth  = 100
	noisySpin = 10 * time.Microsecond
)

// BenchmarkNoisyNeighbour measures how long the cold key's single
// invocation takes, from its Submit call until it is done, behind the hot
// keys' backlog: a scheduler fair across keys runs it within about one
// turn of the hot keys (hotKeys × noisySpin / 8 ≈ 125µs), a FIFO behind the
// whole backlog (≈ 1.25ms). It also reports the backlog, the hot
// invocations not yet done when the cold one was submitted, and how long
// submitting the hot ones took: an implementation whose Submit blocks has
// drained most of the backlog by then, and its submitter waited instead. Each of the b.N iterations is one round of
// the whole workload; the metrics are means over them.
func BenchmarkNoisyNeighbour(b *testing.B) {
	for _, im := range keyedImpls() {
		b.Run("impl="+im.name, func(b *testing.B) {
			b.ReportAllocs()
			res, err := runNoisy(b, im, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(micros(res.cold)/float64(b.N), "cold-us")
			b.ReportMetric(float64(res.backlog)/float64(b.N), "backlog")
			b.ReportMetric(float64(res.submit)/float64(time.Millisecond)/float64(b.N), "submit-ms")
		})
	}
}

// noisyResult sums the measurements of the rounds.
type noisyResult struct {
	cold     time.Duration // the cold invocations' submit-to-done latencies
	backlog  int64         // hot invocations outstanding at the cold submits
	submit   time.Duration // spent submitting the hot invocations
	overlaps int64
}

// runNoisy runs rounds rounds of the noisy-neighbour workload on one runner.
func runNoisy(tm timer, im impl, rounds int) (noisyResult, error) {
	keys := append(makeKeys("hot", hotKeys), "cold")
	const cold = hotKeys // the cold key's index
	var (
		inflight = make([]atomic.Int32, len(keys))
		overlaps atomic.Int64
		left     atomic.Int64
		coldDone time.Time // written by the cold invocation, read after done
		done     = make(chan struct{}, 1)
	)
	work := func(c call) {
		f := &inflight[c.n]
		if f.Add(1) != 1 {
			overlaps.Add(1)
		}
		spin(noisySpin)
		f.Add(-1)
		if c.n == cold {
			coldDone = time.Now()
		}
		if left.Add(-1) == 0 {
			done <- struct{}{}
		}
	}
	r, err := im.new(work)
	if err != nil {
		return noisyResult{}, err
	}
	var res noisyResult
	tm.ResetTimer()
	for range rounds {
		left.Store(hotKeys*hotDepth + 1)
		start := time.Now()
		for range hotDepth {
			for k := range hotKeys {
				if err := r.submit(call{key: keys[k], n: k}); err != nil {
					return res, errors.Join(fmt.Errorf("%s: %w", im.name, err), r.close())
				}
			}
		}
		res.backlog += left.Load() - 1
		t0 := time.Now()
		res.submit += t0.Sub(start)
		if err := r.submit(call{key: keys[cold], n: cold}); err != nil {
			return res, errors.Join(fmt.Errorf("%s: %w", im.name, err), r.close())
		}
		if err := r.settle(); err != nil {
			return res, errors.Join(fmt.Errorf("%s: %w", im.name, err), r.close())
		}
		<-done
		res.cold += coldDone.Sub(t0)
	}
	tm.StopTimer()
	res.overlaps = overlaps.Load()
	if err := r.close(); err != nil {
		return res, fmt.Errorf("%s: close: %w", im.name, err)
	}
	if im.keyed && res.overlaps > 0 {
		return res, fmt.Errorf("%s: %d invocations overlapped another of their key", im.name, res.overlaps)
	}
	return res, nil
}
