package pg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// Every system runs every job exactly once, in one process and across
// three, with the workers running while the batches go in and with the
// batches in first; every outcome is checked (perkey: each invocation
// succeeded; River: one completion per job), and the run leaves no
// schema and no process behind.
func TestThroughputRunsEveryJobOnce(t *testing.T) {
	url := db.get(t)
	jobs := makeJobs(300, 40, 0)
	for _, sys := range []system{sysPerkey, sysPerkeyUnkeyed, sysRiverFast} {
		for _, procs := range procsShapes {
			for _, drain := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/procs=%d/drain=%v", sys.Name, procs, drain), func(t *testing.T) {
					m := &meter{tm: noTimer{}, label: t.Name(), url: url}
					res, err := throughput(m, sys, procs, jobs, 100, drain, true)
					require.NoError(t, err)
					require.Equal(t, len(jobs), res.jobs)
					require.EqualValues(t, len(jobs), res.runs)
					require.Positive(t, res.elapsed)
					requireCleanedUp(t, url)
				})
			}
		}
	}
}

// River at its defaults works too, if slowly: at most 8 jobs per
// FetchCooldown (100ms) with 8 workers.
func TestRiverDefaultRunsEveryJobOnce(t *testing.T) {
	url := db.get(t)
	m := &meter{tm: noTimer{}, label: t.Name(), url: url}
	res, err := throughput(m, sysRiver, 1, makeJobs(40, 40, 0), 20, true, true)
	require.NoError(t, err)
	require.EqualValues(t, 40, res.runs)
	requireCleanedUp(t, url)
}

// Jobs that sleep: the keyed system never overlaps two jobs of a key, and
// the check that says so can fail: without the key guard, jobs of one key
// do overlap.
func TestOverlapCheck(t *testing.T) {
	url := db.get(t)
	jobs := makeJobs(24, 2, 20*time.Millisecond)
	m := &meter{tm: noTimer{}, label: t.Name(), url: url}
	res, err := throughput(m, sysPerkey, 1, jobs, 24, true, true)
	require.NoError(t, err)
	require.Zero(t, res.overlaps)

	res, err = throughput(m, sysPerkeyUnkeyed, 1, jobs, 24, true, true)
	require.NoError(t, err)
	require.Positive(t, res.overlaps, "8 slots, 2 keys: jobs of a key must overlap without the guard")
	requireCleanedUp(t, url)
}

// The latency scenario measures one sample per job, for each system.
func TestLatencySamplesEveryJob(t *testing.T) {
	url := db.get(t)
	sz := sizes{keys: 10, samples: 3, pace: 20 * time.Millisecond}
	for _, sys := range []system{sysPerkey, sysRiver, sysRiverFast} {
		t.Run(sys.Name, func(t *testing.T) {
			m := &meter{tm: noTimer{}, label: t.Name(), url: url}
			samples, err := latency(m, sys, sz)
			require.NoError(t, err)
			require.Len(t, samples, sz.samples)
			for _, s := range samples {
				require.Positive(t, s)
			}
		})
	}
	requireCleanedUp(t, url)
}

// The insert scenario writes every row, in batches, with no worker.
func TestInsertWritesEveryRow(t *testing.T) {
	url := db.get(t)
	sz := sizes{keys: 50, batch: 100, batches: 3}
	for _, sys := range []system{sysPerkey, sysPerkeyUnkeyed, sysRiver} {
		t.Run(sys.Name, func(t *testing.T) {
			m := &meter{tm: noTimer{}, label: t.Name(), url: url}
			res, err := insert(m, sys, sz)
			require.NoError(t, err)
			require.Equal(t, 300, res.rows)
			require.Len(t, res.batches, 3)
		})
	}
	requireCleanedUp(t, url)
}

// A worker that fails to set up is reported, not waited for.
func TestWorkerSetupFailure(t *testing.T) {
	cfg := workerConfig{Name: "bad", System: sysPerkey, URL: "postgres://nobody@/x?host=/nonexistent&connect_timeout=1", Schema: "x"}
	for _, process := range []bool{false, true} {
		_, err := startWorker(cfg, process, newTally())
		require.ErrorContains(t, err, "ended before it was ready")
	}
}

// With a private server the CPU split reads the server's processes.
func TestCPUSample(t *testing.T) {
	db.get(t)
	pm := db.postmaster()
	if pm == 0 {
		t.Skip("a server of one's own: its processes are not ours to read")
	}
	start := sampleCPU(nil, pm)
	require.True(t, start.known)
	end := sampleCPU(nil, pm)
	split := end.since(start)
	require.True(t, split.known)
	require.GreaterOrEqual(t, end.pgTicks, start.pgTicks)
	require.GreaterOrEqual(t, end.goTicks, start.goTicks)
}

func TestQuantiles(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i
	}
	cases := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of four is the second", ms(4, 1, 3, 2), 0.5, 2 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"p50 of 100 is the 50th", ms(hundred...), 0.5, 50 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, quantiles(tc.samples, tc.q)[0])
		})
	}
}

// requireCleanedUp checks that no run left a schema or a worker process.
func requireCleanedUp(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var left int
	require.NoError(t, conn.QueryRow(ctx,
		`SELECT count(*) FROM pg_namespace WHERE nspname ~ '^(perkey|river)_[0-9a-f]{10}$'`).Scan(&left))
	require.Zero(t, left, "schemas left behind")
	require.Empty(t, workerProcesses(), "worker processes left behind")
}

// workerProcesses returns the pids of this process's children that run
// this binary: worker processes.
func workerProcesses() []int {
	self, _ := os.Executable()
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		st, ok := readStat(pid)
		if !ok || st.ppid != os.Getpid() {
			continue
		}
		if exe, _ := os.Readlink(filepath.Join(dir, "exe")); exe == self {
			out = append(out, pid)
		}
	}
	return out
}
