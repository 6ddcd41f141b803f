package pg

import (
	"flag"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"
)

var flagRiverDefault = flag.Bool("pgriverdefault", false,
	"also run River at its default FetchCooldown (100ms) in the throughput benchmarks: about 80 jobs/s per process, so slow")

// procsShapes are the worker shapes: every worker in the benchmark
// process, or three worker processes.
var procsShapes = []int{1, 3}

// throughputSystems are the systems of the throughput benchmarks: perkey
// keyed against River tuned for 8 workers, and, in (a), perkey without a
// key guard, which prices the guard.
func throughputSystems(unkeyed bool) []system {
	out := []system{sysPerkey}
	if unkeyed {
		out = append(out, sysPerkeyUnkeyed)
	}
	out = append(out, sysRiverFast)
	if *flagRiverDefault {
		out = append(out, sysRiver)
	}
	return out
}

// BenchmarkNoop is workload (a): no-op jobs over 1,000 keys, inserted in
// batches. mode=total: the workers run while the batches go in, and the
// clock runs from the first insert to the last completion; mode=drain:
// the batches go in first, and the clock runs from the workers' start.
func BenchmarkNoop(b *testing.B) {
	sz := currentSizes()
	jobs := makeJobs(sz.jobs, sz.keys, 0)
	for _, procs := range procsShapes {
		b.Run("procs="+strconv.Itoa(procs), func(b *testing.B) {
			for _, mode := range []string{"total", "drain"} {
				b.Run("mode="+mode, func(b *testing.B) {
					for _, sys := range throughputSystems(true) {
						b.Run("impl="+sys.Name, func(b *testing.B) {
							benchThroughput(b, sys, procs, jobs, sz.batch, mode == "drain", 0)
						})
					}
				})
			}
		})
	}
}

// BenchmarkSleep is workload (b): -pgkeys keys x -pgqueued jobs of
// -pgsleep each, inserted first, then drained. bound-s is the total work
// over the slots (8 per process); x-bound is the drain time over it.
func BenchmarkSleep(b *testing.B) {
	sz := currentSizes()
	jobs := makeJobs(sz.keys*sz.queued, sz.keys, sz.sleep)
	b.Run("sleep="+sz.sleep.String(), func(b *testing.B) {
		for _, procs := range procsShapes {
			b.Run("procs="+strconv.Itoa(procs), func(b *testing.B) {
				for _, sys := range throughputSystems(false) {
					b.Run("impl="+sys.Name, func(b *testing.B) {
						bound := time.Duration(len(jobs)) * sz.sleep / time.Duration(slots*procs)
						benchThroughput(b, sys, procs, jobs, sz.batch, true, bound)
					})
				}
			})
		}
	})
}

// benchThroughput runs b.N runs of a throughput scenario and reports
// jobs/s, the CPU split, and, when bound is set, the drain time against
// it.
func benchThroughput(b *testing.B, sys system, procs int, jobs []jobArgs, batch int, drain bool, bound time.Duration) {
	m := benchMeter(b)
	var total time.Duration
	var cpu cpuTotal
	for range b.N {
		res, err := throughput(m, sys, procs, jobs, batch, drain, false)
		if err != nil {
			b.Fatal(err)
		}
		total += res.elapsed
		cpu.add(res.cpu, res.elapsed)
	}
	n := float64(b.N * len(jobs))
	b.ReportMetric(n/total.Seconds(), "jobs/s")
	if bound > 0 {
		drain := total / time.Duration(b.N)
		b.ReportMetric(drain.Seconds(), "drain-s")
		b.ReportMetric(bound.Seconds(), "bound-s")
		b.ReportMetric(drain.Seconds()/bound.Seconds(), "x-bound")
	}
	cpu.report(b)
}

// BenchmarkLatency is workload (c): submit-to-start latency when idle,
// one job at a time, with one worker in the benchmark process. River
// runs as configured by default (FetchCooldown 100ms, FetchPollInterval
// 1s, LISTEN/NOTIFY) and as river-fast.
func BenchmarkLatency(b *testing.B) {
	sz := currentSizes()
	for _, sys := range []system{sysPerkey, sysRiver, sysRiverFast} {
		b.Run("impl="+sys.Name, func(b *testing.B) {
			m := benchMeter(b)
			var all []time.Duration
			for range b.N {
				samples, err := latency(m, sys, sz)
				if err != nil {
					b.Fatal(err)
				}
				all = append(all, samples...)
			}
			q := quantiles(all, 0.50, 0.99)
			b.ReportMetric(ms(q[0]), "p50-ms")
			b.ReportMetric(ms(q[1]), "p99-ms")
			b.ReportMetric(ms(slices.Max(all)), "max-ms")
		})
	}
}

// BenchmarkInsert is workload (d): -pgbatches batches of -pgbatch jobs
// over -pgkeys keys, one transaction each (SubmitAll; InsertMany), no
// worker running.
func BenchmarkInsert(b *testing.B) {
	sz := currentSizes()
	for _, sys := range []system{sysPerkey, sysPerkeyUnkeyed, sysRiver} {
		b.Run("impl="+sys.Name, func(b *testing.B) {
			m := benchMeter(b)
			var total time.Duration
			var batches []time.Duration
			var cpu cpuTotal
			rows := 0
			for range b.N {
				res, err := insert(m, sys, sz)
				if err != nil {
					b.Fatal(err)
				}
				total += res.elapsed
				rows += res.rows
				batches = append(batches, res.batches...)
				cpu.add(res.cpu, res.elapsed)
			}
			b.ReportMetric(float64(rows)/total.Seconds(), "rows/s")
			b.ReportMetric(ms(quantiles(batches, 0.5)[0]), "batch-p50-ms")
			cpu.report(b)
		})
	}
}

// benchMeter starts a sub-benchmark: allocations reported, the timer
// stopped until the scenario's measured part, the server up.
func benchMeter(b *testing.B) *meter {
	b.Helper()
	b.ReportAllocs()
	b.StopTimer()
	return &meter{tm: b, label: b.Name(), url: db.get(b)}
}

// cpuTotal averages CPU splits over runs, weighted by their wall time.
type cpuTotal struct {
	goCore, pgCore, wall float64 // core-seconds and seconds
	known                bool
}

func (c *cpuTotal) add(s cpuSplit, wall time.Duration) {
	c.goCore += s.goPct / 100 * wall.Seconds()
	c.pgCore += s.pgPct / 100 * wall.Seconds()
	c.wall += wall.Seconds()
	c.known = s.known
}

// report reports the CPU split in percent of one core; the PostgreSQL
// part only with a private server.
func (c *cpuTotal) report(b *testing.B) {
	if c.wall <= 0 {
		return
	}
	b.ReportMetric(100*c.goCore/c.wall, "go-cpu-%")
	if c.known {
		b.ReportMetric(100*c.pgCore/c.wall, "pg-cpu-%")
	}
}

// quantiles returns the qs quantiles of samples (nearest rank).
func quantiles(samples []time.Duration, qs ...float64) []time.Duration {
	s := slices.Clone(samples)
	slices.Sort(s)
	out := make([]time.Duration, len(qs))
	if len(s) == 0 {
		return out
	}
	for i, q := range qs {
		k := int(math.Ceil(q * float64(len(s))))
		out[i] = s[min(max(k-1, 0), len(s)-1)]
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
