package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/perkey/perkey/scheduler"
)

// The benchmarks below measure what watching costs the scheduler. They
// are costs, not guarantees: run them under the shared CPU lock, e.g.
//
//	flock /tmp/perkey-cpu.lock go test -run '^$' -bench . -benchtime 3s ./monitor
//
// BenchmarkThroughput: raw throughput of no-op invocations with nobody
// watching, with one subscriber (events.json polled), with one reading
// stream (an open page), and with 200 streams whose clients never read.
// BenchmarkLatencyManyKeys: Submit+Wait latency with 200,000 live keys,
// nobody watching, state.json polled every 100ms, and a page open.
// BenchmarkBigKeys: the heap the ring keeps after 2,000 events whose keys
// are 16 KiB, and the size and cost of one events.json.

// noop is a no-op task on s, unkeyed.
func noop(b *testing.B, s *scheduler.Scheduler, name string) *scheduler.Task[int, int] {
	b.Helper()
	task, err := scheduler.NewTask(s, name, func(context.Context, int) (int, error) { return 0, nil },
		scheduler.Options[int]{})
	if err != nil {
		b.Fatal(err)
	}
	return task
}

// benchScheduler returns a scheduler closed when b ends.
func benchScheduler(b *testing.B) *scheduler.Scheduler {
	b.Helper()
	s, err := scheduler.New(scheduler.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			b.Error(err)
		}
	})
	return s
}

// benchMonitor returns a monitor of s, served over loopback HTTP, both
// closed when b ends.
func benchMonitor(b *testing.B, s *scheduler.Scheduler, cfg Config) (*Monitor, *httptest.Server) {
	b.Helper()
	m, err := New(s, cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(m)
	b.Cleanup(srv.Close)
	b.Cleanup(m.Close) // first: ends the streams, so srv.Close need not wait
	return m, srv
}

// stalledStreams opens n streams whose clients send the request and never
// read the answer. They are closed when b ends.
func stalledStreams(b *testing.B, url string, n int) {
	b.Helper()
	addr := strings.TrimPrefix(url, "http://")
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		if _, err := fmt.Fprintf(c, "GET /stream HTTP/1.1\r\nHost: %s\r\n\r\n", addr); err != nil {
			b.Fatal(err)
		}
	}
}

// readingStream opens a stream whose client reads everything, as a page
// does, until b ends.
func readingStream(b *testing.B, url string) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/stream", nil)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.Discard, resp.Body)
	}()
	b.Cleanup(func() {
		cancel()
		_ = resp.Body.Close()
		<-done
	})
}

// poll asks for target every period until b ends, the way a dashboard
// or a script polls.
func poll(b *testing.B, url string, period time.Duration) {
	b.Helper()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			if resp, err := http.Get(url); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	b.Cleanup(func() { close(stop); <-done })
}

func BenchmarkThroughput(b *testing.B) {
	for _, watch := range []string{"nobody", "empty-hook", "subscriber", "page", "stalled-streams=200"} {
		b.Run("watch="+watch, func(b *testing.B) {
			s := benchScheduler(b)
			task := noop(b, s, "noop")
			_, srv := benchMonitor(b, s, Config{Linger: time.Hour})
			switch watch {
			case "empty-hook": // the scheduler's own cost of events: the floor
				b.Cleanup(s.Subscribe(func(scheduler.Event) {}))
			case "subscriber":
				resp, err := http.Get(srv.URL + "/events.json")
				if err != nil {
					b.Fatal(err)
				}
				_ = resp.Body.Close()
			case "page":
				readingStream(b, srv.URL)
			case "stalled-streams=200":
				stalledStreams(b, srv.URL, 200)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			var mu sync.Mutex
			var worst time.Duration
			b.RunParallel(func(pb *testing.PB) {
				var invs []*scheduler.Invocation[int]
				var mine time.Duration
				for pb.Next() {
					inv, err := task.Submit(context.Background(), 0)
					if err != nil {
						b.Error(err)
						return
					}
					invs = append(invs, inv)
					if len(invs) == 256 { // a window of work in flight
						t0 := time.Now()
						for _, inv := range invs {
							<-inv.Done()
						}
						mine = max(mine, time.Since(t0))
						invs = invs[:0]
					}
				}
				for _, inv := range invs {
					<-inv.Done()
				}
				mu.Lock()
				worst = max(worst, mine)
				mu.Unlock()
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "inv/s")
			b.ReportMetric(float64(worst)/float64(time.Millisecond), "max-window-ms")
		})
	}
}

// liveKeys is how many keys BenchmarkLatencyManyKeys keeps busy.
const liveKeys = 200_000

func BenchmarkLatencyManyKeys(b *testing.B) {
	s, err := scheduler.New(scheduler.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		// The rated calls would wait an hour: Close with a ctx already
		// ended cancels them.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Close(ctx); err != nil && !errors.Is(err, context.Canceled) {
			b.Error(err)
		}
	})
	// Each key ran once and has a second invocation waiting for a Rate
	// token that will not come before Close.
	rated, err := scheduler.NewTask(s, "rated", func(context.Context, int) (int, error) { return 0, nil },
		scheduler.Options[int]{Running: scheduler.ByKey, Rate: rate.Every(time.Hour),
			Key: func(k int) string { return "account-" + strconv.Itoa(k) }})
	if err != nil {
		b.Fatal(err)
	}
	for k := range liveKeys {
		for range 2 {
			if _, err := rated.Submit(context.Background(), k); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The first call of each key runs at once; wait until all have.
	deadline := time.Now().Add(2 * time.Minute)
	for st := s.Stats(); st.Running+st.Pending > 0 || st.Queued != liveKeys; st = s.Stats() {
		if time.Now().After(deadline) {
			b.Fatalf("the keys' first calls did not all run within 2 minutes: %+v", st)
		}
		time.Sleep(10 * time.Millisecond) // polling Stats, in a benchmark's set-up
	}
	task := noop(b, s, "probe")
	for _, watch := range []string{"nobody", "state.json-every-100ms", "page"} {
		b.Run("watch="+watch, func(b *testing.B) {
			m, srv := benchMonitor(b, s, Config{})
			switch watch {
			case "state.json-every-100ms":
				poll(b, srv.URL+"/state.json", 100*time.Millisecond)
			case "page":
				readingStream(b, srv.URL) // its state messages take the keys too
			}
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				inv, err := task.Submit(context.Background(), 0)
				if err != nil {
					b.Fatal(err)
				}
				<-inv.Done()
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
			m.keys.mu.Lock()
			b.ReportMetric(float64(m.keys.walks), "walks")
			b.ReportMetric(ms(m.keys.took), "last-walk-ms")
			m.keys.mu.Unlock()
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func BenchmarkBigKeys(b *testing.B) {
	const invocations = 500 // 4 events each
	for b.Loop() {
		s, err := scheduler.New(scheduler.Config{})
		if err != nil {
			b.Fatal(err)
		}
		keyed, err := scheduler.NewTask(s, "big", func(context.Context, string) (int, error) { return 0, nil },
			scheduler.Options[string]{Running: scheduler.ByKey, Key: func(k string) string { return k }})
		if err != nil {
			b.Fatal(err)
		}
		m, err := New(s, Config{})
		if err != nil {
			b.Fatal(err)
		}
		get := func(target string) []byte {
			w := httptest.NewRecorder()
			m.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
			return w.Body.Bytes()
		}
		get("/events.json") // subscribe
		before := heap()
		for i := range invocations {
			key := strconv.Itoa(i) + strings.Repeat("k", 16<<10)
			inv, err := keyed.Submit(context.Background(), key)
			if err != nil {
				b.Fatal(err)
			}
			<-inv.Done()
		}
		kept := int64(heap()) - int64(before)
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		body := get("/events.json?after=0")
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(kept)/(1<<20), "kept-MiB")
		b.ReportMetric(float64(len(body))/(1<<20), "events.json-MiB")
		b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/(1<<20), "events.json-alloc-MiB")

		// Ten streams open at once, each sent every event kept first.
		runtime.ReadMemStats(&ms0)
		var stops []func()
		for range 10 {
			w, cancel, done := openStream(m, "/stream")
			<-w.msgs // the first message is flushed with the second
			stops = append(stops, func() { cancel(); <-done })
		}
		runtime.ReadMemStats(&ms1)
		for _, stop := range stops {
			stop()
		}
		b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/(1<<20), "10-streams-alloc-MiB")
		m.Close()
		if err := s.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// heap returns the live heap after a collection.
func heap() uint64 {
	runtime.GC()
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	return st.HeapAlloc
}
