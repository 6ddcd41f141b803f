package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// soakResult is the soak's JSON line.
type soakResult struct {
	SoakSeconds float64 `json:"soak_seconds"` // how long the load ran
	Accounts    int     `json:"accounts"`
	Parallel    int     `json:"parallel"`
	Seed        uint64  `json:"seed"`

	Submitted uint64 `json:"submitted"` // Submit calls that returned an invocation
	Completed uint64 `json:"completed"` // of those, the ones that became final
	Lost      uint64 `json:"lost"`      // of those, the ones not final after Close

	Calls      int `json:"calls"`      // the provider's calls
	Collisions int `json:"collisions"` // the provider's collisions
	Faults     int `json:"faults"`     // the provider's faulty calls

	Succeeded        uint64 `json:"succeeded"` // the scheduler's counters
	Failed           uint64 `json:"failed"`
	Dropped          uint64 `json:"dropped"`
	Deduped          uint64 `json:"deduped"`
	Canceled         uint64 `json:"canceled"`
	Expired          uint64 `json:"expired"`
	UnexpectedErrors uint64 `json:"unexpected_errors"` // failures of calls that asked for no fault
	SubmitErrors     uint64 `json:"submit_errors"`
	ActorsEnd        int    `json:"actors_end"` // live actors once the load drained

	HeapStartBytes uint64 `json:"heap_start_bytes"` // after a GC, before the load
	HeapEndBytes   uint64 `json:"heap_end_bytes"`   // after a GC, once the load drained
	HeapLimitBytes uint64 `json:"heap_limit_bytes"` // 1.5 × start + 8 MiB

	OK bool `json:"ok"`
}

// heapLimit is the most the heap may hold at the end of a soak that
// started with start: 1.5 × start + 8 MiB.
func heapLimit(start uint64) uint64 { return start + start/2 + 8<<20 }

// soakProblems lists how a soak failed: lost invocations, collisions,
// unexpected errors, a heap that grew, counts that do not add up.
func soakProblems(r soakResult) []string {
	var out []string
	if r.Lost > 0 {
		out = append(out, fmt.Sprintf("%d invocations never reached a final state", r.Lost))
	}
	if r.Collisions > 0 {
		out = append(out, fmt.Sprintf("%d collisions, want 0", r.Collisions))
	}
	if r.UnexpectedErrors > 0 || r.SubmitErrors > 0 {
		out = append(out, fmt.Sprintf("%d unexpected errors and %d failed submits, want 0", r.UnexpectedErrors, r.SubmitErrors))
	}
	if r.HeapEndBytes > r.HeapLimitBytes {
		out = append(out, fmt.Sprintf("heap %s at the end, above 1.5 × %s + 8 MiB = %s",
			mib(r.HeapEndBytes), mib(r.HeapStartBytes), mib(r.HeapLimitBytes)))
	}
	if r.Completed+r.Lost != r.Submitted {
		out = append(out, fmt.Sprintf("%d completed + %d lost != %d submitted", r.Completed, r.Lost, r.Submitted))
	}
	return out
}

// liveHeap runs a GC and returns the bytes of live heap objects.
func liveHeap() uint64 {
	runtime.GC()
	return heapNow()
}

// heapNow returns the bytes of heap objects, live or not yet swept.
func heapNow() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func writeSoakJSON(w io.Writer, r soakResult) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// progress prints one line a second about a running soak, on its own
// goroutine, until stop.
type progress struct {
	stopc chan struct{}
	done  chan struct{}
	once  sync.Once
}

// startProgress prints to w, every second until stop, the soak's rate of
// final invocations, its running and waiting work, live actors, the
// provider's collisions and the heap.
func startProgress(w io.Writer, s *scheduler.Scheduler, client *provider.Client, l *load, total time.Duration) *progress {
	p := &progress{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() { // joined by stop
		defer close(p.done)
		start := time.Now()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last, lastAt := l.completed.Load(), start
		for {
			select {
			case <-p.stopc:
				return
			case now := <-tick.C:
				done := l.completed.Load()
				rate := float64(done-last) / now.Sub(lastAt).Seconds()
				last, lastAt = done, now
				st := s.Stats()
				collisions := "?"
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				if rep, err := client.Report(ctx); err == nil {
					collisions = fmt.Sprint(rep.Collisions)
				}
				cancel()
				fmt.Fprintf(w, "soak %3.0fs/%v: %5.0f final/s, running %d, queued %d, actors %d, collisions %s, heap %s\n",
					now.Sub(start).Seconds(), total, rate, st.Running, st.Queued+st.Pending, st.Actors, collisions, mib(heapNow()))
			}
		}
	}()
	return p
}

// stop ends the progress lines and joins their goroutine. It may be
// called more than once.
func (p *progress) stop() {
	p.once.Do(func() { close(p.stopc) })
	<-p.done
}
