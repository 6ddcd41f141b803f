package provider

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFaultsOverHTTP: each fault gives its clear error, promptly, over
// real HTTP on loopback; it is counted as a fault, not as a call, and
// leaves the account free.
func TestFaultsOverHTTP(t *testing.T) {
	const timeout = 50 * time.Millisecond
	tests := []struct {
		fault   Fault
		wantErr error
		code    int // for FaultStatus
		msg     string
	}{
		{FaultStatus, ErrStatus, http.StatusInternalServerError, "provider: injected fault 500"},
		{FaultSlow, ErrTimeout, 0, "after 51ms"},
		{FaultClose, ErrConnection, 0, "closed without an answer"},
	}
	for _, tc := range tests {
		t.Run(string(tc.fault), func(t *testing.T) {
			var log syncBuffer
			srv := startTest(t, Config{Log: &log}, nil)
			c := newTestClient(t, srv.URL(), ClientConfig{Timeout: timeout})

			// Twice: the second fault reuses, or redials, the connection.
			for range 2 {
				start := time.Now()
				out, err := c.CallWith(t.Context(), "acme", "op", CallOptions{Hold: time.Millisecond, Fault: tc.fault})
				require.ErrorIs(t, err, tc.wantErr)
				require.Empty(t, out)
				require.Contains(t, err.Error(), tc.msg)
				require.Less(t, time.Since(start), DefaultTimeout, "no hang")
				if tc.code != 0 {
					var se *StatusError
					require.ErrorAs(t, err, &se)
					require.Equal(t, tc.code, se.Code)
				}
				require.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's ctx did not end")
			}

			// The account is free: the next call is ok, and only it is a call.
			out, err := c.Call(t.Context(), "acme", "op", time.Millisecond)
			require.NoError(t, err)
			require.Equal(t, OK, out)
			rep, err := c.Report(t.Context())
			require.NoError(t, err)
			require.Equal(t, Report{Calls: 1, Faults: 2, Accounts: map[string]Counts{"acme": {Calls: 1}}}, rep)
			require.Empty(t, srv.h.counts.inFlightNow())
			require.Equal(t, ""+
				"[FAULT    ] acme     op ("+string(tc.fault)+")\n"+
				"[FAULT    ] acme     op ("+string(tc.fault)+")\n"+
				"[ok       ] acme     op\n", log.String())
		})
	}
}

// TestFaultsDoNotHold: while a call holds an account, faulty calls for it
// do not collide, and while a slow fault waits, the account is not held.
func TestFaultsDoNotHold(t *testing.T) {
	setup, arrived, released := arrivals(2)
	faulted := make(chan string, 4)
	srv := startTest(t, Config{}, func(h *handler) {
		setup(h)
		h.faulted = func(account string) { faulted <- account }
	})
	c := newTestClient(t, srv.URL(), ClientConfig{Timeout: time.Hour})

	// A slow fault waits; a call for its account meanwhile is ok.
	slowCtx, cancelSlow := context.WithCancel(t.Context())
	slowErr := make(chan error, 1)
	go func() {
		_, err := c.CallWith(slowCtx, "acme", "op", CallOptions{Fault: FaultSlow})
		slowErr <- err
	}()
	require.Equal(t, "acme", <-faulted)
	out, err := c.Call(t.Context(), "acme", "op", time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, OK, out)
	<-arrived
	<-released

	// A held call; faults for its account meanwhile collide with nothing.
	heldCtx, cancelHeld := context.WithCancel(t.Context())
	heldErr := make(chan error, 1)
	go func() {
		_, err := c.Call(heldCtx, "acme", "op", time.Hour)
		heldErr <- err
	}()
	<-arrived
	for _, f := range []Fault{FaultStatus, FaultClose} {
		_, err := c.CallWith(t.Context(), "acme", "op", CallOptions{Fault: f})
		require.Error(t, err)
	}
	rep, err := c.Report(t.Context())
	require.NoError(t, err)
	require.Equal(t, Report{Calls: 2, Faults: 3, Accounts: map[string]Counts{"acme": {Calls: 2}}}, rep)
	require.Equal(t, map[string]int{"acme": 1}, srv.h.counts.inFlightNow())

	cancelHeld()
	require.ErrorIs(t, <-heldErr, context.Canceled)
	cancelSlow()
	require.ErrorIs(t, <-slowErr, context.Canceled)
	<-released
	require.Empty(t, srv.h.counts.inFlightNow())
}

// TestSlowFaultEndsOnClose: Close cuts a slow fault short; the client
// gets an answer or a connection error, and Close joins every goroutine.
func TestSlowFaultEndsOnClose(t *testing.T) {
	faulted := make(chan string, 1)
	srv, err := start(Config{}, func(h *handler) { h.faulted = func(a string) { faulted <- a } })
	require.NoError(t, err)
	c := newTestClient(t, srv.URL(), ClientConfig{Timeout: time.Hour})
	errc := make(chan error, 1)
	go func() {
		_, err := c.CallWith(t.Context(), "acme", "op", CallOptions{Fault: FaultSlow})
		errc <- err
	}()
	<-faulted
	require.NoError(t, srv.Close())
	err = <-errc
	require.True(t, isStatus(err, http.StatusServiceUnavailable) || isConnection(err), "got %v", err)
}

// TestFaultHandler: the faults at the handler, without a network.
func TestFaultHandler(t *testing.T) {
	t.Run("500", func(t *testing.T) {
		var log bytes.Buffer
		h := newHandler(DefaultHold, callLog{w: &log})
		rec := serve(t.Context(), h, http.MethodPost, "/call/acme/op?fault=500&slots=2&min_gap=1s")
		require.Equal(t, http.StatusInternalServerError, rec.Code)
		require.JSONEq(t, `{"error":"provider: injected fault 500"}`, rec.Body.String())
		require.Equal(t, Report{Faults: 1, Accounts: map[string]Counts{}}, h.counts.report())
		require.Equal(t, "[FAULT    ] acme     op (500)\n", log.String())
	})
	t.Run("slow until the client leaves", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHandler(DefaultHold, callLog{})
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan *httptest.ResponseRecorder)
			go func() { done <- serve(ctx, h, http.MethodPost, "/call/acme/op?fault=slow") }()
			time.Sleep(time.Hour)
			synctest.Wait()
			select {
			case <-done:
				t.Fatal("a slow fault answered")
			default:
			}
			require.Empty(t, h.counts.inFlightNow())
			cancel()
			require.Empty(t, (<-done).Body.String(), "nobody reads the answer")
		})
	})
	t.Run("slow until stop", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHandler(DefaultHold, callLog{})
			done := make(chan *httptest.ResponseRecorder)
			go func() { done <- serve(t.Context(), h, http.MethodPost, "/call/acme/op?fault=slow") }()
			synctest.Wait()
			h.stop()
			require.Equal(t, http.StatusServiceUnavailable, (<-done).Code)
		})
	})
	t.Run("close aborts the handler", func(t *testing.T) {
		h := newHandler(DefaultHold, callLog{})
		require.PanicsWithValue(t, http.ErrAbortHandler, func() {
			serve(t.Context(), h, http.MethodPost, "/call/acme/op?fault=close")
		})
		require.Equal(t, Report{Faults: 1, Accounts: map[string]Counts{}}, h.counts.report())
	})
}
