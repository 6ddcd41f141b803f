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

// The handler tests run in synctest bubbles: holds take fake time, so the
// overlaps are exact and the tests fast.

func TestHoldDuration(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  time.Duration
	}{
		{"default", "", DefaultHold},
		{"explicit", "?hold=250ms", 250 * time.Millisecond},
		{"zero", "?hold=0s", 0},
		{"unknown parameters ignored", "?hold=1s&limit=3", time.Second},
		// The reference's form: a bare number of seconds.
		{"seconds", "?hold=0.4", 400 * time.Millisecond},
		{"whole seconds", "?hold=2", 2 * time.Second},
		{"seconds without a unit are not milliseconds", "?hold=400", 400 * time.Second},
		{"zero seconds", "?hold=0.0", 0},
		{"microseconds as seconds", "?hold=0.0005", 500 * time.Microsecond},
		{"a nanosecond as seconds", "?hold=0.000000001", time.Nanosecond},
		{"a leading dot", "?hold=.25", 250 * time.Millisecond},
		{"an exponent", "?hold=1e-3", time.Millisecond},
		{"a plus sign", "?hold=%2B1.5", 1500 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHandler(DefaultHold, callLog{})
				start := time.Now()
				rec := serve(t.Context(), h, http.MethodPost, "/call/acme/fetch_profile"+tc.query)
				require.Equal(t, tc.want, time.Since(start))
				require.Equal(t, http.StatusOK, rec.Code)
				require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
				require.JSONEq(t, `{"outcome":"ok"}`, rec.Body.String())
			})
		})
	}
}

func TestBadRequests(t *testing.T) {
	tests := []struct {
		name, method, target string
		code                 int
		counted              bool
	}{
		{"hold not a duration", http.MethodPost, "/call/acme/op?hold=soon", http.StatusBadRequest, false},
		{"hold empty", http.MethodPost, "/call/acme/op?hold=", http.StatusBadRequest, false},
		{"hold negative", http.MethodPost, "/call/acme/op?hold=-1s", http.StatusBadRequest, false},
		{"hold negative seconds", http.MethodPost, "/call/acme/op?hold=-0.4", http.StatusBadRequest, false},
		{"hold NaN", http.MethodPost, "/call/acme/op?hold=NaN", http.StatusBadRequest, false},
		{"hold infinite", http.MethodPost, "/call/acme/op?hold=inf", http.StatusBadRequest, false},
		{"hold hexadecimal", http.MethodPost, "/call/acme/op?hold=0x1p-2", http.StatusBadRequest, false},
		{"hold with spaces", http.MethodPost, "/call/acme/op?hold=%200.4", http.StatusBadRequest, false},
		{"hold with a comma", http.MethodPost, "/call/acme/op?hold=0,4", http.StatusBadRequest, false},
		{"hold seconds too long", http.MethodPost, "/call/acme/op?hold=1e10", http.StatusBadRequest, false},
		{"hold seconds beyond float", http.MethodPost, "/call/acme/op?hold=1e400", http.StatusBadRequest, false},
		{"hold a dot", http.MethodPost, "/call/acme/op?hold=.", http.StatusBadRequest, false},
		{"call with GET", http.MethodGet, "/call/acme/op", http.StatusMethodNotAllowed, false},
		{"call without op", http.MethodPost, "/call/acme", http.StatusNotFound, false},
		{"report with POST", http.MethodPost, "/report", http.StatusMethodNotAllowed, false},
		{"reset with GET", http.MethodGet, "/reset", http.StatusMethodNotAllowed, false},
		{"unknown path", http.MethodGet, "/nope", http.StatusNotFound, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(DefaultHold, callLog{})
			rec := serve(t.Context(), h, tc.method, tc.target)
			require.Equal(t, tc.code, rec.Code, rec.Body.String())
			require.Equal(t, 0, h.counts.report().Calls)
		})
	}
}

func TestBadHoldMessage(t *testing.T) {
	h := newHandler(DefaultHold, callLog{})
	rec := serve(t.Context(), h, http.MethodPost, "/call/acme/op?hold=soon")
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.JSONEq(t, `{"error":"provider: invalid argument: hold \"soon\" is not a duration such as 400ms or a number of seconds such as 0.4"}`, rec.Body.String())
}

// TestOverlapCollides: a call arriving while another for the same account
// is held collides; other accounts and later calls do not.
func TestOverlapCollides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log bytes.Buffer
		h := newHandler(DefaultHold, callLog{w: &log, now: fixedClock})
		start := time.Now()
		calls := []string{"acme/fetch_profile", "acme/list_invoices", "globex/fetch_profile"}
		answers := make(chan string, len(calls))
		for _, c := range calls {
			go func() { answers <- serve(t.Context(), h, http.MethodPost, "/call/"+c).Body.String() }()
			synctest.Wait() // arrivals in order, all at t=0
		}
		var got []string
		for range calls {
			got = append(got, <-answers)
		}
		require.ElementsMatch(t, []string{"{\"outcome\":\"ok\"}\n", "{\"outcome\":\"collision\"}\n", "{\"outcome\":\"ok\"}\n"}, got)
		require.Equal(t, DefaultHold, time.Since(start))

		// Both acme calls ended at t=400ms: the account is free again.
		rec := serve(t.Context(), h, http.MethodPost, "/call/acme/refresh_usage?hold=0s")
		require.JSONEq(t, `{"outcome":"ok"}`, rec.Body.String())

		require.Equal(t, Report{Calls: 4, Collisions: 1, Accounts: map[string]Counts{
			"acme":   {Calls: 3, Collisions: 1},
			"globex": {Calls: 1, Collisions: 0},
		}}, h.counts.report())
		require.Equal(t, ""+
			"[ok       ] acme     fetch_profile\n"+
			"[COLLISION] acme     list_invoices\n"+
			"[ok       ] globex   fetch_profile\n"+
			"[ok       ] acme     refresh_usage\n", log.String())
		require.Empty(t, h.counts.inFlightNow())
	})
}

// TestAbortReleases: a client leaving mid-hold ends the call at once and
// releases its account; the call stays counted, once.
func TestAbortReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(DefaultHold, callLog{})
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- serve(ctx, h, http.MethodPost, "/call/acme/fetch_profile?hold=1h") }()
		synctest.Wait()
		require.Equal(t, map[string]int{"acme": 1}, h.counts.inFlightNow())

		cancel()
		rec := <-done
		require.Empty(t, rec.Body.String(), "nobody reads the answer of an aborted call")
		require.Zero(t, time.Since(start), "the hold ended when the client left")
		require.Empty(t, h.counts.inFlightNow())

		rec = serve(t.Context(), h, http.MethodPost, "/call/acme/list_invoices")
		require.JSONEq(t, `{"outcome":"ok"}`, rec.Body.String())
		require.Equal(t, Report{Calls: 2, Collisions: 0, Accounts: map[string]Counts{"acme": {Calls: 2}}}, h.counts.report())
	})
}

// TestStopEndsHolds: stop cuts holds short with a 503, and later calls
// end at once.
func TestStopEndsHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(DefaultHold, callLog{})
		start := time.Now()
		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- serve(t.Context(), h, http.MethodPost, "/call/acme/op?hold=1h") }()
		synctest.Wait()
		h.stop()
		h.stop() // idempotent
		rec := <-done
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Zero(t, time.Since(start))

		rec = serve(t.Context(), h, http.MethodPost, "/call/acme/op")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Empty(t, h.counts.inFlightNow())
	})
}

func TestResetAndReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log bytes.Buffer
		h := newHandler(DefaultHold, callLog{w: &log, now: fixedClock})
		report := func() string { return serve(t.Context(), h, http.MethodGet, "/report").Body.String() }
		require.Equal(t, "{\"calls\":0,\"collisions\":0,\"rate_violations\":0,\"faults\":0,\"accounts\":{}}\n", report())

		serve(t.Context(), h, http.MethodPost, "/call/initech/op?hold=0s")
		serve(t.Context(), h, http.MethodPost, "/call/acme/op?hold=0s")
		require.Equal(t, "{\"calls\":2,\"collisions\":0,\"rate_violations\":0,\"faults\":0,\"accounts\":{\"acme\":{\"calls\":1,\"collisions\":0,\"rate_violations\":0},\"initech\":{\"calls\":1,\"collisions\":0,\"rate_violations\":0}}}\n", report())

		// A call held across a reset still occupies its account.
		held := make(chan struct{})
		go func() {
			defer close(held)
			serve(t.Context(), h, http.MethodPost, "/call/acme/held")
		}()
		synctest.Wait()
		rec := serve(t.Context(), h, http.MethodPost, "/reset?label="+"B.%20keyed%0Aevil")
		require.Equal(t, http.StatusNoContent, rec.Code)
		require.Equal(t, "{\"calls\":0,\"collisions\":0,\"rate_violations\":0,\"faults\":0,\"accounts\":{}}\n", report())
		rec = serve(t.Context(), h, http.MethodPost, "/call/acme/op?hold=0s")
		require.JSONEq(t, `{"outcome":"collision"}`, rec.Body.String())
		require.Equal(t, "{\"calls\":1,\"collisions\":1,\"rate_violations\":0,\"faults\":0,\"accounts\":{\"acme\":{\"calls\":1,\"collisions\":1,\"rate_violations\":0}}}\n", report())

		serve(t.Context(), h, http.MethodPost, "/reset")
		<-held
		require.Equal(t, ""+
			"[ok       ] initech  op\n"+
			"[ok       ] acme     op\n"+
			"[ok       ] acme     held\n"+
			"--- reset @ 12:34:56 B. keyed evil ---\n"+
			"[COLLISION] acme     op\n"+
			"--- reset @ 12:34:56 ---\n", log.String())
	})
}

// TestCountsExactUnderConcurrency: many goroutines arriving for one account
// at once: exactly one is ok, and in flight drops back to zero.
func TestCountsExactUnderConcurrency(t *testing.T) {
	const n = 200
	c := newCounts(callLog{})
	start := make(chan struct{})
	outs := make(chan Outcome, n)
	done := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			outs <- c.begin([]string{"acme", "globex"}[i%2], "op", callParams{})
			<-done
			c.end([]string{"acme", "globex"}[i%2])
			outs <- ""
		}()
	}
	close(start)
	tally := map[Outcome]int{}
	for range n {
		tally[<-outs]++
	}
	require.Equal(t, map[Outcome]int{OK: 2, Collision: n - 2}, tally)
	require.Equal(t, map[string]int{"acme": n / 2, "globex": n / 2}, c.inFlightNow())
	close(done)
	for range n {
		<-outs
	}
	require.Empty(t, c.inFlightNow())
	require.Equal(t, Report{Calls: n, Collisions: n - 2, Accounts: map[string]Counts{
		"acme":   {Calls: n / 2, Collisions: n/2 - 1},
		"globex": {Calls: n / 2, Collisions: n/2 - 1},
	}}, c.report())
}

func TestLogLine(t *testing.T) {
	tests := []struct {
		out         Outcome
		account, op string
		want        string
	}{
		{OK, "acme", "fetch_profile", "[ok       ] acme     fetch_profile\n"},
		{Collision, "acme", "list_invoices", "[COLLISION] acme     list_invoices\n"},
		{OK, "a-very-long-account", "op", "[ok       ] a-very-long-account op\n"},
		{OK, "new\nline", "op\r", "[ok       ] new line op \n"},
		{OK, "esc\x1b[2J", "op", "[ok       ] esc [2J  op\n"},
		{OK, "c1\u009b2J", "op", "[ok       ] c1 2J    op\n"},
		{Collision, "pending\u202esucceeded", "op\u2066", "[COLLISION] pendingsucceeded op\n"},
		{OK, "bad\xffutf8", "op", "[ok       ] bad\ufffdutf8 op\n"},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		l := callLog{w: &b}
		l.call(tc.out, tc.account, tc.op)
		require.Equal(t, tc.want, b.String())
	}
}
