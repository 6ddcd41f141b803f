package pg

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// jobArgs are the arguments of every job of both systems: perkey encodes
// them as its task's JSON arguments, River as its job's args.
type jobArgs struct {
	Key     string `json:"key"`
	Seq     int    `json:"seq"`                // the job's number in its run
	SleepMS int    `json:"sleep_ms,omitempty"` // how long the job holds its slot
}

// Kind names the River job kind.
func (jobArgs) Kind() string { return "bench" }

// keyOf is the perkey task's key.
func keyOf(a jobArgs) string { return a.Key }

// makeJobs returns n jobs, job i on key i%keys, each sleeping sleep.
func makeJobs(n, keys int, sleep time.Duration) []jobArgs {
	jobs := make([]jobArgs, n)
	for i := range jobs {
		jobs[i] = jobArgs{Key: "k" + strconv.Itoa(i%keys), Seq: i, SleepMS: int(sleep / time.Millisecond)}
	}
	return jobs
}

// body is what every job of a worker runs, whichever the system: it
// counts the runs, counts the runs that started while another of the same
// key ran in this process (an overlap: a keyed run must have none),
// reports the start to the latency benchmark, and sleeps if asked.
type body struct {
	started func(jobArgs, time.Time) // nil except in the latency benchmark

	runs     atomic.Int64
	overlaps atomic.Int64
	mu       sync.Mutex
	inflight map[string]int
}

func newBody(started func(jobArgs, time.Time)) *body {
	return &body{started: started, inflight: make(map[string]int)}
}

func (b *body) run(ctx context.Context, a jobArgs) error {
	at := time.Now()
	if b.started != nil {
		b.started(a, at)
	}
	b.runs.Add(1)
	b.mu.Lock()
	if b.inflight[a.Key]++; b.inflight[a.Key] > 1 {
		b.overlaps.Add(1)
	}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		if b.inflight[a.Key]--; b.inflight[a.Key] == 0 {
			delete(b.inflight, a.Key)
		}
		b.mu.Unlock()
	}()
	if a.SleepMS > 0 {
		t := time.NewTimer(time.Duration(a.SleepMS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}
