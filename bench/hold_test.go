package bench

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// holdFor is how long each invocation of BenchmarkHold holds its key: the
// time of the simulated external call.
const holdFor = time.Millisecond

// holdMix is BenchmarkHold's workload: how many calls each key makes, 50
// for each of 8 keys, so that both halves of the bound are 50 holds: the
// largest per-key total, and the total over the 8 slots.
func holdMix() []int {
	mix := make([]int, parallelism)
	for i := range mix {
		mix[i] = 50
	}
	return mix
}

// BenchmarkHold runs tasks that "call an external service" for holdFor
// each (time.Sleep is the simulated call: it is the workload, not
// synchronization), holdMix of them, submitted key by key as a job that
// makes all of an account's calls would: the 50 of the first key, then the
// 50 of the next. It reports the makespan, from the first Submit to the end
// of the last call, divided by its lower bound max(largest per-key total,
// total/8), where the totals add up the time each call actually held its
// key (so the sleep's own overshoot is not counted against the
// implementation). 1.00 is perfect. An implementation that lets calls
// waiting for a busy key hold one of the 8 places, or whose Submit blocks
// behind one key's backlog, serializes the keys and approaches 8;
// errgroup can go below 1 since it ignores keys (see its overlaps). Each
// of the b.N iterations is one run of the mix; the metrics are means over
// them.
func BenchmarkHold(b *testing.B) {
	for _, im := range allImpls() {
		b.Run("impl="+im.name, func(b *testing.B) {
			b.ReportAllocs()
			res, err := runHold(b, im, holdMix(), b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.ratio/float64(b.N), "x-bound")
			b.ReportMetric(float64(res.makespan)/float64(time.Millisecond)/float64(b.N), "makespan-ms")
			b.ReportMetric(float64(res.overlaps)/float64(b.N), "overlaps")
		})
	}
}

// holdResult sums the measurements of the rounds.
type holdResult struct {
	ratio    float64 // makespan/bound, summed over rounds
	makespan time.Duration
	overlaps int64
}

// runHold runs rounds runs of the mix on one runner.
func runHold(tm timer, im impl, mix []int, rounds int) (holdResult, error) {
	keys := makeKeys("acct", len(mix))
	total := 0
	for _, m := range mix {
		total += m
	}
	var (
		inflight = make([]atomic.Int32, len(keys))
		held     = make([]atomic.Int64, len(keys)) // ns each key was held, this round
		overlaps atomic.Int64
		left     atomic.Int64
		end      time.Time // written by the last call of a round, read after done
		done     = make(chan struct{}, 1)
	)
	work := func(c call) {
		f := &inflight[c.n]
		if f.Add(1) != 1 {
			overlaps.Add(1)
		}
		t := time.Now()
		time.Sleep(holdFor) // the external call
		held[c.n].Add(int64(time.Since(t)))
		f.Add(-1)
		if left.Add(-1) == 0 {
			end = time.Now()
			done <- struct{}{}
		}
	}
	r, err := im.new(work)
	if err != nil {
		return holdResult{}, err
	}
	var res holdResult
	tm.ResetTimer()
	for range rounds {
		for i := range held {
			held[i].Store(0)
		}
		left.Store(int64(total))
		start := time.Now()
		for k, m := range mix {
			for range m {
				if err := r.submit(call{key: keys[k], n: k}); err != nil {
					return res, errors.Join(fmt.Errorf("%s: %w", im.name, err), r.close())
				}
			}
		}
		if err := r.settle(); err != nil {
			return res, errors.Join(fmt.Errorf("%s: %w", im.name, err), r.close())
		}
		<-done
		makespan := end.Sub(start)
		var sum, largest time.Duration
		for i := range held {
			h := time.Duration(held[i].Load())
			sum += h
			largest = max(largest, h)
		}
		bound := max(largest, sum/parallelism)
		res.ratio += float64(makespan) / float64(bound)
		res.makespan += makespan
	}
	tm.StopTimer()
	res.overlaps = overlaps.Load()
	if err := r.close(); err != nil {
		return res, fmt.Errorf("%s: close: %w", im.name, err)
	}
	if im.keyed && res.overlaps > 0 {
		return res, fmt.Errorf("%s: %d calls overlapped another of their key", im.name, res.overlaps)
	}
	return res, nil
}
