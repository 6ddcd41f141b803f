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

	// Submissions to the fault task: each fails, whether or not its call
	// reached the provider before the client's short timeout.
	FaultSubmissions uint64 `json:"fault_submissions"`

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

	// With -backend postgres only: the cluster's figures.
	*ClusterSoak

	OK bool `json:"ok"`
}

// ClusterSoak is what the JSON line of a soak across processes adds. The
// counters of soakResult from Succeeded to Expired are then the whole
// cluster's, from its events; ActorsEnd is its keys with work left.
type ClusterSoak struct {
	Backend          string  `json:"backend"`           // "postgres"
	Workers          int     `json:"workers"`           // worker processes at a time
	LeaseSeconds     float64 `json:"lease_seconds"`     // the workers' lease
	RetentionSeconds float64 `json:"retention_seconds"` // the workers' retention
	ChaosSeconds     float64 `json:"chaos_seconds"`     // a worker killed this often; 0: none

	Kills     int    `json:"kills"`     // workers killed with SIGKILL
	Runs      uint64 `json:"runs"`      // invocations started, reruns included
	Reruns    uint64 `json:"reruns"`    // starts of an invocation started before, after its lease expired
	Takeovers int    `json:"takeovers"` // of those, invocations of a killed worker started elsewhere
	// From a kill to the start elsewhere of each invocation the killed
	// worker had started: the median, and the longest.
	TakeoverP50Seconds float64 `json:"takeover_p50_seconds"`
	TakeoverMaxSeconds float64 `json:"takeover_max_seconds"`

	DBRowsEnd int64 `json:"db_rows_end"` // invocations left in the database once retention ran
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

// clusterFigures returns the figures of a soak across processes, once
// its load has drained: it waits until every event before now has
// arrived (a probe's final event: events arrive in commit order), then
// until retention has emptied the invocations table (or
// retention plus rowsGrace have passed), and lists what is wrong.
func clusterFigures(ctx context.Context, e *soakEnv, o options) (*ClusterSoak, []string) {
	cl := e.cl
	c := &ClusterSoak{
		Backend:          backendPostgres,
		Workers:          o.workers,
		LeaseSeconds:     seconds(cl.worker.lease),
		RetentionSeconds: seconds(cl.worker.retain),
		ChaosSeconds:     seconds(o.chaos),
		DBRowsEnd:        -1,
	}
	var probs []string
	if err := cl.fence(ctx); err != nil {
		probs = append(probs, err.Error())
	}
	var p50, worst time.Duration
	c.Kills, c.Runs, c.Reruns, c.Takeovers, p50, worst = e.track.figures()
	c.TakeoverP50Seconds, c.TakeoverMaxSeconds = seconds(p50), seconds(worst)

	rows, err := waitForRetention(ctx, cl.db, cl.worker.retain+rowsGrace)
	c.DBRowsEnd = rows
	switch {
	case err != nil:
		probs = append(probs, fmt.Sprintf("counting the rows left: %v", err))
	case rows > 0:
		probs = append(probs, fmt.Sprintf("%d invocations left in the database %v after the load drained, with a retention of %v",
			rows, cl.worker.retain+rowsGrace, cl.worker.retain))
	}
	return c, probs
}

// How long the end of a soak across processes waits for its last events,
// and for retention beyond the retention itself.
const (
	fenceTimeout = 30 * time.Second
	rowsGrace    = 10 * time.Second
)

// waitForRetention counts the invocations in the database until none is
// left or within has passed, and returns the last count.
func waitForRetention(ctx context.Context, db *database, within time.Duration) (int64, error) {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, probeTimeout)
		n, err := db.invocationRows(qctx)
		cancel()
		if err != nil || n == 0 {
			return n, err
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return n, nil
		case <-ctx.Done():
			return n, ctx.Err()
		}
	}
}

// eventProblems checks the cluster's events against the submissions:
// every submission reached exactly one final state, or was collapsed
// into another (res's counters, from the events), and the dedupes and
// drops match the sim's own count of its submissions (st).
func eventProblems(res soakResult, st scheduler.Stats) []string {
	var out []string
	if sum := res.Succeeded + res.Failed + res.Dropped + res.Deduped + res.Canceled + res.Expired; sum != res.Submitted {
		out = append(out, fmt.Sprintf("the cluster's events count %d final states and dedupes (%d succeeded, %d failed, %d dropped, "+
			"%d deduped, %d canceled, %d expired) for %d submissions", sum, res.Succeeded, res.Failed, res.Dropped,
			res.Deduped, res.Canceled, res.Expired, res.Submitted))
	}
	if res.Deduped != st.Deduped || res.Dropped != st.Dropped {
		out = append(out, fmt.Sprintf("the events count %d dedupes and %d drops; the submitter %d and %d",
			res.Deduped, res.Dropped, st.Deduped, st.Dropped))
	}
	return out
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
func startProgress(w io.Writer, s *scheduler.Scheduler, client *provider.Client, l *load, total time.Duration, track *takeovers) *progress {
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
				cluster := ""
				if track != nil {
					kills, _, reruns, _, _, _ := track.figures()
					cluster = fmt.Sprintf(", kills %d, reruns %d", kills, reruns)
				}
				fmt.Fprintf(w, "soak %3.0fs/%v: %5.0f final/s, running %d, queued %d, actors %d, collisions %s%s, heap %s\n",
					now.Sub(start).Seconds(), total, rate, st.Running, st.Queued+st.Pending, st.Actors, collisions, cluster, mib(heapNow()))
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
