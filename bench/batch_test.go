package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/perkey/perkey/scheduler"
)

// batchSize is how many invocations BenchmarkBatch submits before it waits
// for all of them: a caller that fans a page of work out and collects it.
const batchSize = 4096

// batchKeys is the number of keys BenchmarkBatch spreads its work over.
const batchKeys = 1000

// BenchmarkBatch submits b.N no-op invocations over 1,000 keys in batches
// of 4,096 and waits for each batch's results before the next: the path of
// a caller that keeps its handles. The implementations:
//
//	perkey-submitall  Task.SubmitAll of the batch, then Wait on each handle
//	perkey-submit     Task.Submit of each, then Wait on each handle
//	goroutines        a goroutine per call behind a cap-8 channel semaphore,
//	                  and a sync.WaitGroup per batch (no key guard: unsafe)
//
// It reports invocations per second and the overlaps of one key's calls
// (the goroutines' only: perkey fails on any).
func BenchmarkBatch(b *testing.B) {
	for _, name := range []string{"perkey-submitall", "perkey-submit", "goroutines"} {
		b.Run("impl="+name, func(b *testing.B) {
			b.ReportAllocs()
			keys := makeKeys("acct", batchKeys)
			inflight := make([]atomic.Int32, batchKeys)
			var overlaps atomic.Int64
			work := func(c call) {
				if inflight[c.n].Add(1) != 1 {
					overlaps.Add(1)
				}
				inflight[c.n].Add(-1)
			}
			run, closeRun, err := newBatchRunner(name, work)
			if err != nil {
				b.Fatal(err)
			}
			batch := make([]call, 0, batchSize)
			b.ResetTimer()
			for i := 0; i < b.N; i += batchSize {
				batch = batch[:0]
				for j := i; j < min(i+batchSize, b.N); j++ {
					batch = append(batch, call{key: keys[j%batchKeys], n: j % batchKeys})
				}
				if err := run(batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inv/s")
			b.ReportMetric(float64(overlaps.Load()), "overlaps")
			if err := closeRun(); err != nil {
				b.Fatal(err)
			}
			if name != "goroutines" && overlaps.Load() != 0 {
				b.Fatalf("%s let %d calls of one key overlap", name, overlaps.Load())
			}
		})
	}
}

// newBatchRunner returns a function that runs one batch to completion,
// and one that releases the implementation.
func newBatchRunner(name string, work func(call)) (run func([]call) error, closeRun func() error, err error) {
	if name == "goroutines" {
		sem := make(chan struct{}, parallelism)
		var wg sync.WaitGroup
		run = func(batch []call) error {
			for _, c := range batch {
				wg.Go(func() {
					sem <- struct{}{}
					work(c)
					<-sem
				})
			}
			wg.Wait()
			return nil
		}
		return run, func() error { return nil }, nil
	}
	s, err := scheduler.New(scheduler.Config{MaxParallel: parallelism})
	if err != nil {
		return nil, nil, err
	}
	closeRun = func() error { return s.Close(context.Background()) }
	task, err := scheduler.NewTask(s, "batch", func(_ context.Context, c call) (struct{}, error) {
		work(c)
		return struct{}{}, nil
	}, scheduler.Options[call]{Running: scheduler.ByKey, Key: func(c call) string { return c.key }})
	if err != nil {
		return nil, nil, fmt.Errorf("%w (close: %w)", err, closeRun())
	}
	ctx := context.Background()
	handles := make([]*scheduler.Invocation[struct{}], 0, batchSize)
	waitAll := func(handles []*scheduler.Invocation[struct{}]) error {
		for _, h := range handles {
			if _, err := h.Wait(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	switch name {
	case "perkey-submitall":
		run = func(batch []call) error {
			handles, err := task.SubmitAll(ctx, batch)
			if err != nil {
				return err
			}
			return waitAll(handles)
		}
	case "perkey-submit":
		run = func(batch []call) error {
			handles = handles[:0]
			for _, c := range batch {
				h, err := task.Submit(ctx, c)
				if err != nil {
					return err
				}
				handles = append(handles, h)
			}
			return waitAll(handles)
		}
	default:
		return nil, nil, fmt.Errorf("no batch runner %q (close: %w)", name, closeRun())
	}
	return run, closeRun, nil
}
