package provider

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClientURL(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:8765/base/", ClientConfig{})
	require.Equal(t, "http://127.0.0.1:8765/base", c.URL())
	require.Equal(t, "http://127.0.0.1:8765/base/call/a%2Fb%20c/op", c.endpoint("call", "a/b c", "op").String())
}

// TestCallEscapes: accounts and ops travel as single path segments.
func TestCallEscapes(t *testing.T) {
	srv := startTest(t, Config{}, nil)
	c := newTestClient(t, srv.URL(), ClientConfig{})
	_, err := c.Call(t.Context(), "a/b c", "op?x", time.Millisecond)
	require.NoError(t, err)
	rep, err := c.Report(t.Context())
	require.NoError(t, err)
	require.Equal(t, map[string]Counts{"a/b c": {Calls: 1}}, rep.Accounts)
}

// TestClientStatusErrors: non-2xx answers give a *StatusError with the
// code and the server's message.
func TestClientStatusErrors(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json/report":
			writeError(w, http.StatusInternalServerError, errors.New("boom"))
		case "/text/report":
			http.Error(w, "bad gateway", http.StatusBadGateway)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(fake.Close)
	real := startTest(t, Config{}, nil)

	tests := []struct {
		name string
		base string
		code int
		msg  string
	}{
		{"json error", fake.URL + "/json", http.StatusInternalServerError, "boom"},
		{"text error", fake.URL + "/text", http.StatusBadGateway, "bad gateway"},
		{"wrong base path", real.URL() + "/nope", http.StatusNotFound, "404 page not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, tc.base, ClientConfig{})
			_, err := c.Report(t.Context())
			require.ErrorIs(t, err, ErrStatus)
			var se *StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.code, se.Code)
			require.Equal(t, tc.msg, se.Message)
			require.Contains(t, err.Error(), "GET "+tc.base+"/report")
		})
	}
}

func TestClientBadAnswers(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/call/acme/"):
			_, _ = w.Write([]byte(`{"outcome":"maybe"}`))
		default:
			_, _ = w.Write([]byte(`not json`))
		}
	}))
	t.Cleanup(fake.Close)
	c := newTestClient(t, fake.URL, ClientConfig{})

	_, err := c.Call(t.Context(), "acme", "op", time.Millisecond)
	require.ErrorIs(t, err, ErrBadAnswer)
	require.Contains(t, err.Error(), `outcome "maybe"`)
	_, err = c.Call(t.Context(), "globex", "op", time.Millisecond)
	require.ErrorIs(t, err, ErrBadAnswer)
	_, err = c.Report(t.Context())
	require.ErrorIs(t, err, ErrBadAnswer)
	require.NoError(t, c.Reset(t.Context(), "reset ignores the body"))
}

// TestClientConnectionRefused: a closed server is reported at once as
// ErrConnection, by every method.
func TestClientConnectionRefused(t *testing.T) {
	srv, err := Start(Config{})
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	c := newTestClient(t, srv.URL(), ClientConfig{})

	start := time.Now()
	_, err = c.Call(t.Context(), "acme", "op", time.Millisecond)
	require.ErrorIs(t, err, ErrConnection)
	require.Contains(t, err.Error(), "connection refused")
	_, err = c.Report(t.Context())
	require.ErrorIs(t, err, ErrConnection)
	require.ErrorIs(t, c.Reset(t.Context(), ""), ErrConnection)
	require.Less(t, time.Since(start), DefaultTimeout, "refused connections fail fast")
}

// TestClientTimeout: a server that accepts but never answers gives
// ErrTimeout after hold+Timeout.
func TestClientTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() { // accepts and holds connections until the listener closes
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, conn)
		}
	})
	t.Cleanup(func() {
		require.NoError(t, ln.Close())
		wg.Wait()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	c := newTestClient(t, "http://"+ln.Addr().String(), ClientConfig{Timeout: 20 * time.Millisecond})

	_, err = c.Report(t.Context())
	require.ErrorIs(t, err, ErrTimeout)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's ctx did not end")
	_, err = c.Call(t.Context(), "acme", "op", time.Millisecond)
	require.ErrorIs(t, err, ErrTimeout)
	require.Contains(t, err.Error(), "after 21ms")
}

// TestClientCallerCtx: the caller's ctx ending is reported as such, not as
// a timeout or a connection failure.
func TestClientCallerCtx(t *testing.T) {
	srv := startTest(t, Config{}, nil)
	c := newTestClient(t, srv.URL(), ClientConfig{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Call(ctx, "acme", "op", time.Millisecond)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, ErrConnection)
	require.NotErrorIs(t, err, ErrTimeout)

	dctx, dcancel := context.WithDeadline(t.Context(), time.Now())
	defer dcancel()
	_, err = c.Report(dctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, ErrTimeout)
}

// TestCallDefaultHold: a zero hold leaves the hold to the server.
func TestCallDefaultHold(t *testing.T) {
	setup, arrived, _ := arrivals(2)
	srv := startTest(t, Config{DefaultHold: time.Hour}, setup)
	c := newTestClient(t, srv.URL(), ClientConfig{})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, "acme", "op", 0)
		errc <- err
	}()
	<-arrived
	// Still held: a second call collides.
	out, err := c.Call(t.Context(), "acme", "op", time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, Collision, out)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
}
