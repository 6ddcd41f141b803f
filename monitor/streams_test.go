package monitor

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

// TestStreamCap: beyond MaxStreams a stream gets 503 with Retry-After;
// once one ends, the next is served.
func TestStreamCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		m := newMonitor(t, s, Config{MaxStreams: 2})
		_, cancel1, done1 := openStream(m, "/stream")
		_, cancel2, done2 := openStream(m, "/stream")
		synctest.Wait()

		w := httptest.NewRecorder()
		m.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/stream", nil))
		require.Equal(t, http.StatusServiceUnavailable, w.Code)
		require.Equal(t, "5", w.Header().Get("Retry-After"))
		require.Contains(t, w.Body.String(), "too many streams")
		require.Equal(t, 2, getState(t, m).Streams)

		cancel1()
		<-done1
		_, cancel3, done3 := openStream(m, "/stream")
		synctest.Wait()
		require.Equal(t, 2, getState(t, m).Streams, "the freed place is taken")
		cancel2()
		cancel3()
		<-done2
		<-done3
	})
}

// TestStreamsShareFrames: however many streams, the events and the state
// are encoded once per frame, and streams in step send the same bytes.
func TestStreamsShareFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		task, err := scheduler.NewTask(s, "t", func(context.Context, int) (int, error) { return 0, nil },
			scheduler.Options[int]{})
		require.NoError(t, err)
		const streams, ticks = 8, 10
		m := newMonitor(t, s, Config{Interval: 100 * time.Millisecond, MaxStreams: streams})
		var writers []*streamWriter
		var stops []func()
		for range streams {
			w, cancel, done := openStream(m, "/stream")
			writers = append(writers, w)
			stops = append(stops, func() { cancel(); <-done })
		}
		synctest.Wait()
		for _, w := range writers {
			w.drain()
		}
		made := m.feed.made
		for range ticks {
			run(t, task)
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
		}
		require.LessOrEqual(t, m.feed.made-made, 2*ticks, "frames made: about one per Interval, not one per stream")
		require.Equal(t, int64(streams), m.feed.own.Load(), "a batch of its own only for each stream's first message")
		first := writers[0].drain()
		require.Len(t, eventsOf(t, first), 4*ticks)
		for _, w := range writers[1:] {
			msgs := w.drain()
			require.Equal(t, eventsOf(t, first), eventsOf(t, msgs), "every stream gets every event")
		}
		for _, stop := range stops {
			stop()
		}
	})
}

// TestStreamMaxAge: a stream ends after MaxStreamAge even when nothing is
// written to it, so that a client that stopped reading cannot keep it.
func TestStreamMaxAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, scheduler.Config{})
		m := newMonitor(t, s, Config{})
		_, cancel, done := openStream(m, "/stream")
		defer cancel()
		synctest.Wait()
		time.Sleep(DefaultMaxStreamAge - time.Millisecond)
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("ended before MaxStreamAge")
		default:
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("still open after MaxStreamAge, with nothing written")
		}
	})
}

// TestStalledClientsLetGo: over real connections, clients that send the
// request and never read are let go after MaxStreamAge, and those beyond
// MaxStreams are refused at once.
func TestStalledClientsLetGo(t *testing.T) {
	s := newScheduler(t, scheduler.Config{})
	m := newMonitor(t, s, Config{MaxStreams: 3, MaxStreamAge: 2 * time.Second, Interval: 10 * time.Millisecond})
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	for range 5 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		_, err = fmt.Fprintf(c, "GET /stream HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return m.currentState().Streams == 3 }, 30*time.Second, 5*time.Millisecond,
		"three streams served, two refused")
	require.Eventually(t, func() bool { return m.currentState().Streams == 0 }, 30*time.Second, 5*time.Millisecond,
		"streams whose clients never read are ended")
}
