package scheduler_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// Starvation under a flood that does not stop: four goroutines keep
// submitting to sixteen hot keys while a cold key's one invocation waits.
// Work submitted after the cold invocation must not start before it (but
// for the few taken by other workers at the same moment), however long the
// flood goes on; and a MaxWait deadline still fires while the dispatcher
// is busy. TestFairness bounds the wait behind a backlog that is already
// queued; this one keeps the arrivals coming. (Each flooder waits for its
// own work now and then, so the inbox stays short: Submit does not push
// back, and an unbounded backlog would only measure throughput.)
func TestNoStarvationUnderFlood(t *testing.T) {
	const (
		slots    = 4
		floodCap = 1_000_000 // submissions: reaching it means the cold key starved
	)
	s := newScheduler(t, Config{MaxParallel: slots})
	var (
		seq         atomic.Int64 // numbers every submission
		coldMark    atomic.Int64 // submissions numbered above it came after the cold one
		coldStarted atomic.Bool
		overtakers  atomic.Int64 // later submissions that started before the cold one
	)
	coldMark.Store(math.MaxInt64)
	task, err := NewTask(s, "t", func(_ context.Context, c call) (int, error) {
		if c.Key == "cold" {
			coldStarted.Store(true)
		} else if int64(c.N) > coldMark.Load() && !coldStarted.Load() {
			overtakers.Add(1)
		}
		for range c.N % 3 {
			runtime.Gosched()
		}
		return c.N, nil
	}, Options[call]{Running: ByKey, Key: keyOf})
	require.NoError(t, err)

	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	running := make(chan struct{}, 1)
	held, err := NewTask(s, "held", func(ctx context.Context, c call) (int, error) {
		running <- struct{}{}
		<-gate
		return 0, nil
	}, Options[call]{Running: ByKey, Key: keyOf, MaxWait: 2 * time.Millisecond})
	require.NoError(t, err)
	submit2(t, held, context.Background(), call{"h", 0})
	<-running // it holds key h

	var (
		capped    atomic.Bool
		stop      = make(chan struct{})
		flood     sync.WaitGroup
		started   = make(chan struct{})
		startOnce sync.Once
	)
	for g := range 4 {
		flood.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := seq.Add(1)
				if n > floodCap {
					capped.Store(true)
					return
				}
				inv, err := task.Submit(context.Background(), call{fmt.Sprint("hot", (g*7+i)%16), int(n)})
				if !assert.NoError(t, err) {
					return
				}
				if i%64 == 63 {
					_, _ = inv.Wait(context.Background())
				}
				if n == 2000 {
					startOnce.Do(func() { close(started) })
				}
			}
		})
	}
	<-started
	expiring := submit2(t, held, context.Background(), call{"h", 1}) // Queued behind the holder
	cold := submit2(t, task, context.Background(), call{"cold", 0})
	coldMark.Store(seq.Load())
	<-cold.Done()
	<-expiring.Done()
	close(stop)
	flood.Wait()

	t.Logf("%d submissions in all; %d later ones started before the cold one", seq.Load(), overtakers.Load())
	require.False(t, capped.Load(), "the flood reached %d submissions before the cold key ran", floodCap)
	require.Equal(t, Succeeded, cold.State())
	require.Equal(t, Expired, expiring.State(), "MaxWait fires while the dispatcher is busy")
	require.LessOrEqual(t, overtakers.Load(), int64(slots), "later work overtook the cold key")
}
