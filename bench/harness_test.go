package bench

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// guard bounds the channel waits of these tests, so that a broken
// implementation fails them instead of hanging.
const guard = 30 * time.Second

// recv waits for one value from ch, or for guard to pass, and reports
// whether it got the value. It is safe on any goroutine.
func recv(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(guard):
		return false
	}
}

// Every implementation runs every call exactly once, in one window and
// across several, and the keyed ones never overlap two calls of one key
// (runThroughput fails on either).
func TestThroughputRunsEveryCallOnce(t *testing.T) {
	cases := []struct {
		name string
		keys int
		n    int
	}{
		{"one key", 1, 3000},
		{"few keys", 3, 3000},
		{"more keys than calls", 10_000, 500},
		{"two windows", 100, window + 1000},
	}
	for _, im := range allImpls() {
		for _, tc := range cases {
			t.Run(im.name+"/"+tc.name, func(t *testing.T) {
				res, err := runThroughput(noTimer{}, im, makeKeys("k", tc.keys), tc.n)
				require.NoError(t, err)
				require.Equal(t, tc.n, res.n)
				require.Equal(t, min(tc.keys, tc.n), res.keys)
				require.Positive(t, res.elapsed)
				if im.keyed {
					require.Zero(t, res.overlaps)
				}
			})
		}
	}
}

// A keyed implementation holds a key's second call while its first runs,
// and runs other keys meanwhile.
func TestKeyedImplsSerializeEachKey(t *testing.T) {
	for _, im := range allImpls() {
		if !im.keyed {
			continue
		}
		t.Run(im.name, func(t *testing.T) {
			var (
				gate       = make(chan struct{})
				firstIn    = make(chan struct{}, 1)
				otherIn    = make(chan struct{}, 1)
				secondRan  atomic.Bool
				firstEnded atomic.Bool
				order      = make(chan int, 3)
			)
			work := func(c call) {
				switch c.n {
				case 0: // key a, first: holds a until the gate opens
					firstIn <- struct{}{}
					<-gate
					firstEnded.Store(true)
				case 1: // key a, second
					if !firstEnded.Load() {
						t.Errorf("%s: a's second call started while its first ran", im.name)
					}
					secondRan.Store(true)
				case 2: // key b
					otherIn <- struct{}{}
				}
				order <- c.n
			}
			r, err := im.new(work)
			require.NoError(t, err)
			require.NoError(t, r.submit(call{key: "a", n: 0}))
			require.True(t, recv(firstIn), "a's first call did not start")
			require.NoError(t, r.submit(call{key: "a", n: 1}))
			require.NoError(t, r.submit(call{key: "b", n: 2}))
			require.True(t, recv(otherIn), "b's call did not run while a was held")
			require.False(t, secondRan.Load(), "a's second call ran while its first held a")
			close(gate)
			require.NoError(t, r.settle())
			got := []int{<-order, <-order, <-order}
			require.NoError(t, r.close())
			require.ElementsMatch(t, []int{0, 1, 2}, got)
			require.True(t, secondRan.Load())
		})
	}
}

// errgroup runs two calls of one key at once: each waits for the other to
// have started before it returns.
func TestErrgroupLetsOverlapsThrough(t *testing.T) {
	in := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	var overlapped atomic.Bool
	var inflight atomic.Int32
	work := func(c call) {
		if inflight.Add(1) > 1 {
			overlapped.Store(true)
		}
		close(in[c.n])
		if !recv(in[1-c.n]) {
			t.Errorf("call %d: the other call of the key did not start meanwhile", c.n)
		}
		inflight.Add(-1)
	}
	r, err := newErrgroup(work)
	require.NoError(t, err)
	require.NoError(t, r.submit(call{key: "a", n: 0}))
	require.NoError(t, r.submit(call{key: "a", n: 1}))
	require.NoError(t, r.close())
	require.True(t, overlapped.Load())
}

// No implementation runs more than parallelism calls at once: with every
// call held at a gate, the first parallelism start and the rest wait.
func TestImplsCapParallelism(t *testing.T) {
	const calls = 3 * parallelism
	for _, im := range allImpls() {
		t.Run(im.name, func(t *testing.T) {
			var (
				gate    = make(chan struct{})
				started = make(chan struct{}, calls)
				running atomic.Int32
				peak    atomic.Int32
			)
			work := func(call) {
				n := running.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				started <- struct{}{}
				<-gate
				running.Add(-1)
			}
			r, err := im.new(work)
			require.NoError(t, err)
			keys := makeKeys("k", calls)
			var wg sync.WaitGroup
			var submitErr error
			wg.Go(func() { // errgroup's submit blocks once the cap is reached
				for i, k := range keys {
					if submitErr = r.submit(call{key: k, n: i}); submitErr != nil {
						return
					}
				}
				submitErr = r.settle()
			})
			for i := range parallelism {
				require.True(t, recv(started), "only %d calls started", i)
			}
			require.EqualValues(t, parallelism, running.Load())
			close(gate)
			for i := range calls - parallelism {
				require.True(t, recv(started), "only %d calls started", parallelism+i)
			}
			wg.Wait()
			require.NoError(t, submitErr)
			require.NoError(t, r.close())
			require.LessOrEqual(t, peak.Load(), int32(parallelism))
		})
	}
}

// The other workloads run on every implementation they are meant for and
// give plausible measurements.
func TestWorkloads(t *testing.T) {
	for _, im := range keyedImpls() {
		t.Run("latency/"+im.name, func(t *testing.T) {
			for _, s := range []int{1, 4} {
				res, err := runLatency(noTimer{}, im, makeKeys("k", 100), s, 200)
				require.NoError(t, err)
				require.Len(t, res.samples, 200)
				for _, d := range res.samples {
					require.Positive(t, d)
				}
			}
		})
		t.Run("noisy/"+im.name, func(t *testing.T) {
			res, err := runNoisy(noTimer{}, im, 1)
			require.NoError(t, err)
			require.Positive(t, res.cold)
			require.GreaterOrEqual(t, res.backlog, int64(0))
			require.LessOrEqual(t, res.backlog, int64(hotKeys*hotDepth))
			require.Zero(t, res.overlaps)
		})
	}
	for _, im := range allImpls() {
		t.Run("hold/"+im.name, func(t *testing.T) {
			res, err := runHold(noTimer{}, im, []int{3, 2, 1}, 1)
			require.NoError(t, err)
			// The makespan is at least the largest key's total: no
			// keyed implementation beats its bound.
			if im.keyed {
				require.GreaterOrEqual(t, res.ratio, 1.0)
				require.Greater(t, res.makespan, 3*holdFor)
			}
			require.Positive(t, res.ratio)
		})
	}
	_, err := runLatency(noTimer{}, keyedImpls()[0], makeKeys("k", 10), 4, 10)
	require.Error(t, err, "10 keys do not split among 4 submitters")
}

func TestPercentiles(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(100 - i) // reversed: percentiles sorts
	}
	cases := []struct {
		name    string
		samples []time.Duration
		ps      []float64
		want    []time.Duration
	}{
		{"empty", nil, []float64{0.5, 0.99}, []time.Duration{0, 0}},
		{"one", []time.Duration{ms(7)}, []float64{0.5, 0.999}, []time.Duration{ms(7), ms(7)}},
		{"hundred", hundred, []float64{0.01, 0.5, 0.99, 0.999, 1}, []time.Duration{ms(1), ms(50), ms(99), ms(100), ms(100)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, percentiles(tc.samples, tc.ps...))
		})
	}
}

// On Linux the peak RSS can be reset and read; elsewhere both report that
// they cannot, and the benchmarks leave the metric out.
func TestPeakRSS(t *testing.T) {
	if !resetPeakRSS() {
		t.Skip("no /proc/self/clear_refs here")
	}
	cur, ok := currentRSS()
	require.True(t, ok)
	peak, ok := peakRSS() // read second: the peak includes cur
	require.True(t, ok)
	require.Positive(t, cur)
	require.GreaterOrEqual(t, peak, cur)
}
