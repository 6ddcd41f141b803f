package pg

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ticksPerSecond is the unit of the CPU times in /proc/PID/stat (USER_HZ),
// 100 on every Linux the team runs.
const ticksPerSecond = 100

// cpuSample is the CPU time used so far by the Go processes of a run (this
// one and its worker processes) and by the private server's processes.
type cpuSample struct {
	at      time.Time
	goTicks int64
	pgTicks int64
	known   bool // the server is private: its processes can be read
}

// sampleCPU reads the CPU times of this process, of the given worker
// processes and, when postmaster is not 0, of the server: the postmaster,
// its live children (the backends and background processes) and the
// children it has reaped (cutime, cstime), so that a backend that exits
// during the interval still counts.
func sampleCPU(workers []int, postmaster int) cpuSample {
	s := cpuSample{at: time.Now()}
	self, _ := readStat(os.Getpid())
	s.goTicks = self.utime + self.stime
	for _, pid := range workers {
		if st, ok := readStat(pid); ok {
			s.goTicks += st.utime + st.stime
		}
	}
	if postmaster == 0 {
		return s
	}
	pm, ok := readStat(postmaster)
	if !ok {
		return s
	}
	s.known = true
	s.pgTicks = pm.utime + pm.stime + pm.cutime + pm.cstime
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil || pid == postmaster {
			continue
		}
		if st, ok := readStat(pid); ok && st.ppid == postmaster {
			s.pgTicks += st.utime + st.stime
		}
	}
	return s
}

// cpuSplit is the CPU used between two samples, in percent of one core
// over the wall time between them.
type cpuSplit struct {
	goPct, pgPct float64
	known        bool
}

func (s cpuSample) since(start cpuSample) cpuSplit {
	wall := s.at.Sub(start.at).Seconds()
	if wall <= 0 {
		return cpuSplit{}
	}
	pct := func(ticks int64) float64 { return 100 * float64(ticks) / ticksPerSecond / wall }
	return cpuSplit{
		goPct: pct(s.goTicks - start.goTicks),
		pgPct: pct(s.pgTicks - start.pgTicks),
		known: s.known && start.known,
	}
}

// procStat is the part of /proc/PID/stat the samples need.
type procStat struct {
	ppid                         int
	utime, stime, cutime, cstime int64
}

// readStat reads /proc/PID/stat; false if the process is gone.
func readStat(pid int) (procStat, bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	// The command name, in parentheses, may hold spaces: the fields
	// that follow start after the last ')'.
	text := string(raw)
	i := strings.LastIndexByte(text, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(text[i+1:])
	// f[0] is field 3 (state): ppid is field 4, utime..cstime 14..17.
	if len(f) < 15 {
		return procStat{}, false
	}
	num := func(k int) int64 {
		v, _ := strconv.ParseInt(f[k-3], 10, 64)
		return v
	}
	return procStat{ppid: int(num(4)), utime: num(14), stime: num(15), cutime: num(16), cstime: num(17)}, true
}
