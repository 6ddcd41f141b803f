package monitor

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/scheduler"
)

// sseClient reads a stream over real HTTP.
type sseClient struct {
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

func dialStream(t *testing.T, url string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	c := &sseClient{resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(c.close)
	return c
}

// next reads the next message.
func (c *sseClient) next(t *testing.T) message {
	t.Helper()
	var raw strings.Builder
	for {
		line, err := c.r.ReadString('\n')
		require.NoError(t, err)
		if line == "\n" {
			msgs, _ := parseMessages(raw.String() + "\n")
			if len(msgs) == 0 {
				raw.Reset() // "retry: N" only
				continue
			}
			require.Len(t, msgs, 1)
			return msgs[0]
		}
		raw.WriteString(line)
	}
}

func (c *sseClient) close() {
	c.cancel()
	_ = c.resp.Body.Close()
}

// TestStreamOverHTTP: over a real connection, the stream delivers the
// events of work as it runs, and the monitor unsubscribes once the client
// has gone.
func TestStreamOverHTTP(t *testing.T) {
	s := newScheduler(t, scheduler.Config{})
	g := newGated(t, s, "sync", scheduler.Options[call]{Running: scheduler.ByKey})
	m := newMonitor(t, s, Config{Interval: 10 * time.Millisecond})
	srv := httptest.NewServer(m)
	defer srv.Close()

	c := dialStream(t, srv.URL+"/stream")
	require.Equal(t, "state", c.next(t).event)
	require.Empty(t, c.next(t).batch(t).Events)
	require.True(t, m.subscribed())

	inv := g.submit(t, "acme")[0]
	close(g.release)
	_, err := inv.Wait(t.Context())
	require.NoError(t, err)
	var seen []string
	for len(seen) < 4 {
		if msg := c.next(t); msg.event == "events" {
			seen = append(seen, states(msg.batch(t).Events, inv.ID())...)
		}
	}
	require.Equal(t, []string{"queued", "pending", "running", "succeeded"}, seen)

	c.close()
	srv.Close() // returns once every handler has, the stream's included
	require.Zero(t, m.currentState().Streams, "the client left")
}

// TestCloseEndsStreams: Close ends the open streams, waits for them, and
// refuses new ones; the page and state.json still answer.
func TestCloseEndsStreams(t *testing.T) {
	s := newScheduler(t, scheduler.Config{})
	m, err := New(s, Config{})
	require.NoError(t, err)
	srv := httptest.NewServer(m)
	defer srv.Close()

	c := dialStream(t, srv.URL+"/stream")
	c.next(t)
	m.Close()
	_, err = io.ReadAll(c.r) // the server ended the stream
	require.NoError(t, err)
	require.False(t, m.subscribed())
	m.Close() // twice is harmless

	resp, err := http.Get(srv.URL + "/stream")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	for _, p := range []string{"/", "/state.json", "/events.json"} {
		resp, err := http.Get(srv.URL + p)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode, p)
	}
	require.False(t, m.subscribed(), "events.json does not subscribe after Close")
}
