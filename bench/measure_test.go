package bench

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"time"
)

// memory is what a runner holds at one moment, after two collections:
// live heap plus goroutine stacks (a parked goroutine costs its stack, which
// HeapAlloc does not count), and the number of goroutines.
type memory struct {
	bytes      int64
	goroutines int
}

func measureMemory() memory {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{
		bytes:      int64(ms.HeapAlloc + ms.StackInuse),
		goroutines: runtime.NumGoroutine(),
	}
}

// resetPeakRSS returns freed memory to the OS and resets the kernel's
// high-water mark of the process's resident set (VmHWM) to its current
// size, so that peakRSS then reports the peak since now. It reports whether
// the kernel allowed it (Linux only).
func resetPeakRSS() bool {
	debug.FreeOSMemory()
	f, err := os.OpenFile("/proc/self/clear_refs", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	_, werr := f.WriteString("5")
	cerr := f.Close()
	return werr == nil && cerr == nil
}

// peakRSS returns VmHWM, the peak resident set size in bytes, and whether
// it could be read.
func peakRSS() (int64, bool) { return procStatus("VmHWM:") }

// currentRSS returns VmRSS, the resident set size in bytes, and whether it
// could be read.
func currentRSS() (int64, bool) { return procStatus("VmRSS:") }

// procStatus reads the field of /proc/self/status named by prefix, a size
// in kB, and returns it in bytes.
func procStatus(prefix string) (int64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(prefix))
		if !ok {
			continue
		}
		kb, ok := bytes.CutSuffix(bytes.TrimSpace(rest), []byte(" kB"))
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(kb)), 10, 64)
		if err != nil {
			return 0, false
		}
		return n << 10, true
	}
	return 0, false
}

// percentiles returns the p-quantiles of samples (nearest rank), sorting
// samples in place. No samples give zeros.
func percentiles(samples []time.Duration, ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if len(samples) == 0 {
		return out
	}
	slices.Sort(samples)
	for i, p := range ps {
		idx := int(math.Ceil(p*float64(len(samples)))) - 1
		out[i] = samples[min(max(idx, 0), len(samples)-1)]
	}
	return out
}

// micros converts d to microseconds, for metrics.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// spin keeps its goroutine busy for d: the CPU-bound work of a task.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}
