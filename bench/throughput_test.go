package bench

import (
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// window is how many invocations the submitter hands over before it waits
// for all of them to finish. Without windows, a fast submitter would queue
// all b.N invocations at once, and every implementation would be measured
// holding millions of waiting calls (or, for those that push back, not):
// memory would grow with b.N, not with the keys. A window bounds what is
// outstanding at 65536 for every implementation alike, which still lets
// each one batch and pipeline as much as it can; the pause at the end of a
// window costs one drain of the pipeline per 65536 invocations.
const window = 1 << 16

// stuckAfter is how long a window may take before the run is declared
// stuck (lost invocations) rather than waited for forever.
const stuckAfter = 2 * time.Minute

// throughputKeys are the numbers of distinct keys BenchmarkThroughput runs.
func throughputKeys() []int { return []int{1, 8, 1000, 100_000, 1_000_000} }

// BenchmarkThroughput runs b.N no-op invocations through each
// implementation, from one submitting goroutine, invocation i on key
// keys[i%K], at most 8 running at once. It reports invocations per second,
// allocations, the bytes and goroutines the implementation still holds per
// key once idle, the process's peak RSS during the run and its RSS at the
// start (earlier sub-benchmarks leave the process bigger: the runtime
// never frees a goroutine's descriptor), and the per-key overlaps it let
// through (errgroup only: the keyed ones fail on any).
//
// B/key divides by the keys actually used, min(K, b.N). At 1 and 8 keys it
// is dominated by fixed costs (runtime caches, grown buffers) and is noise
// more than a per-key cost; it means something from 1000 keys on, and at
// 1000000 keys only when b.N reaches 1000000.
func BenchmarkThroughput(b *testing.B) {
	for _, k := range throughputKeys() {
		b.Run("keys="+strconv.Itoa(k), func(b *testing.B) {
			keys := makeKeys("k", k) // shared by the impls, outside any timer
			for _, im := range allImpls() {
				b.Run("impl="+im.name, func(b *testing.B) {
					b.ReportAllocs()
					res, err := runThroughput(b, im, keys, b.N)
					if err != nil {
						b.Fatal(err)
					}
					res.report(b)
				})
			}
		})
	}
}

// makeKeys returns n distinct keys, prefix followed by the index.
func makeKeys(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	return keys
}

// timer is the part of *testing.B a workload drives: the benchmark timer.
// Tests pass noTimer.
type timer interface {
	ResetTimer()
	StopTimer()
}

type noTimer struct{}

func (noTimer) ResetTimer() {}
func (noTimer) StopTimer()  {}

// throughputResult is what runThroughput measured.
type throughputResult struct {
	n          int           // invocations completed, each exactly once
	keys       int           // distinct keys used: min(K, n)
	elapsed    time.Duration // from the first submit to the last completion
	overlaps   int64         // invocations that started while their key ran
	retained   int64         // bytes (heap and stacks) held once idle, beyond those before
	goroutines int           // goroutines held once idle, beyond those before
	peakRSS    int64         // the process's peak RSS during the run, -1 if unknown
	baseRSS    int64         // the process's RSS when the run started, -1 if unknown
}

// report reports r through b's metrics.
func (r throughputResult) report(b *testing.B) {
	b.ReportMetric(float64(r.n)/r.elapsed.Seconds(), "inv/s")
	b.ReportMetric(float64(r.retained)/float64(r.keys), "B/key")
	b.ReportMetric(float64(r.goroutines), "idle-goroutines")
	b.ReportMetric(float64(r.overlaps), "overlaps")
	if r.peakRSS >= 0 && r.baseRSS >= 0 {
		b.ReportMetric(float64(r.peakRSS)/(1<<20), "peak-MB")
		b.ReportMetric(float64(r.baseRSS)/(1<<20), "base-MB")
	}
}

// runThroughput runs n no-op invocations through a new runner of im, in
// windows, and checks that each ran exactly once and, for a keyed
// implementation, that no two of one key overlapped. Only the submissions
// and the waits are timed.
func runThroughput(tm timer, im impl, keys []string, n int) (res throughputResult, err error) {
	var (
		inflight = make([]atomic.Int32, len(keys)) // per key, to catch overlaps
		overlaps atomic.Int64
		extra    atomic.Int64 // completions beyond the window's count
		left     atomic.Int64 // invocations of the window not finished yet
		done     = make(chan struct{}, 1)
	)
	work := func(c call) {
		f := &inflight[c.n]
		if f.Add(1) != 1 {
			overlaps.Add(1)
		}
		f.Add(-1)
		if v := left.Add(-1); v == 0 {
			done <- struct{}{}
		} else if v < 0 {
			extra.Add(1)
		}
	}
	r, err := im.new(work)
	if err != nil {
		return res, err
	}
	before := measureMemory()
	rssKnown := resetPeakRSS()
	base, baseKnown := currentRSS()
	stuck := time.NewTimer(stuckAfter)
	stuck.Stop()

	tm.ResetTimer()
	start := time.Now()
	idx := 0
	for i := 0; i < n; {
		w := min(window, n-i)
		left.Store(int64(w))
		for range w {
			if err := r.submit(call{key: keys[idx], n: idx}); err != nil {
				return res, errors.Join(fmt.Errorf("%s: submit: %w", im.name, err), r.close())
			}
			if idx++; idx == len(keys) {
				idx = 0
			}
		}
		if err := r.settle(); err != nil {
			return res, errors.Join(fmt.Errorf("%s: settle: %w", im.name, err), r.close())
		}
		stuck.Reset(stuckAfter)
		select {
		case <-done:
			stuck.Stop()
		case <-stuck.C:
			// Left running: closing would wait for the lost invocations.
			return res, fmt.Errorf("%s: %d of a window of %d invocations still not done after %v",
				im.name, left.Load(), w, stuckAfter)
		}
		i += w
	}
	res.elapsed = time.Since(start)
	tm.StopTimer()

	after := measureMemory() // the runner is idle, and still referenced below
	res.peakRSS, res.baseRSS = -1, -1
	if peak, ok := peakRSS(); ok && rssKnown && baseKnown {
		res.peakRSS, res.baseRSS = peak, base
	}
	if err := r.close(); err != nil {
		return res, fmt.Errorf("%s: close: %w", im.name, err)
	}
	res.n = n
	res.keys = max(min(len(keys), n), 1)
	res.retained = after.bytes - before.bytes
	res.goroutines = after.goroutines - before.goroutines
	res.overlaps = overlaps.Load()
	switch {
	case extra.Load() > 0:
		return res, fmt.Errorf("%s: %d invocations ran more than once", im.name, extra.Load())
	case im.keyed && res.overlaps > 0:
		return res, fmt.Errorf("%s: %d invocations overlapped another of their key", im.name, res.overlaps)
	}
	return res, nil
}
