package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The server tests use real HTTP on loopback; they never sleep: arrivals
// and releases are synchronized through the handler's seams.

// TestManyParallelClientsExact: 100 calls held at once over 4 accounts are
// counted exactly; aborting them all releases every account.
func TestManyParallelClientsExact(t *testing.T) {
	const accounts, per = 4, 25
	const n = accounts * per
	setup, arrived, released := arrivals(n)
	srv := startTest(t, Config{}, setup)
	c := newTestClient(t, srv.URL(), ClientConfig{MaxIdleConns: n})
	account := func(i int) string { return fmt.Sprintf("acct%d", i%accounts) }

	ctx, cancel := context.WithCancel(t.Context())
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := c.Call(ctx, account(i), "op", time.Hour)
			errs <- err
		})
	}
	for range n {
		<-arrived
	}
	rep, err := c.Report(t.Context())
	require.NoError(t, err)
	want := Report{Calls: n, Collisions: n - accounts, Accounts: map[string]Counts{}}
	for i := range accounts {
		want.Accounts[account(i)] = Counts{Calls: per, Collisions: per - 1}
	}
	require.Equal(t, want, rep)

	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.ErrorIs(t, err, context.Canceled)
	}
	for range n {
		<-released
	}
	require.Empty(t, srv.h.counts.inFlightNow())

	// Every account is free again, and the aborted calls stay counted once.
	for i := range accounts {
		out, err := c.Call(t.Context(), account(i), "op", time.Millisecond)
		require.NoError(t, err)
		require.Equal(t, OK, out)
	}
	rep, err = c.Report(t.Context())
	require.NoError(t, err)
	require.Equal(t, n+accounts, rep.Calls)
	require.Equal(t, n-accounts, rep.Collisions)
}

// TestCountsMatchAnswers: under free-running concurrency the exact split
// between ok and collision depends on timing, but the report must agree,
// per account, with the answers the clients got.
func TestCountsMatchAnswers(t *testing.T) {
	const clients, calls = 32, 20
	srv := startTest(t, Config{}, nil)
	c := newTestClient(t, srv.URL(), ClientConfig{MaxIdleConns: clients})
	accounts := []string{"acme", "globex", "initech"}

	var mu sync.Mutex
	seen := map[string]Counts{}
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for k := range calls {
				a := accounts[(i+k)%len(accounts)]
				out, err := c.Call(t.Context(), a, "op", time.Millisecond)
				if !assertNoError(t, err) {
					return
				}
				mu.Lock()
				cnt := seen[a]
				cnt.Calls++
				if out == Collision {
					cnt.Collisions++
				}
				seen[a] = cnt
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rep, err := c.Report(t.Context())
	require.NoError(t, err)
	require.Equal(t, clients*calls, rep.Calls)
	require.Equal(t, seen, rep.Accounts)
	sum := 0
	for _, cnt := range seen {
		sum += cnt.Collisions
	}
	require.Equal(t, sum, rep.Collisions)
	require.Empty(t, srv.h.counts.inFlightNow())
}

// assertNoError is require.NoError for goroutines other than the test's.
func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}

// TestAbortedCallOverHTTP: a client whose ctx ends mid-hold releases the
// account at the provider, so its next call is not a collision.
func TestAbortedCallOverHTTP(t *testing.T) {
	setup, arrived, released := arrivals(2)
	srv := startTest(t, Config{}, setup)
	c := newTestClient(t, srv.URL(), ClientConfig{})

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, "acme", "fetch_profile", time.Hour)
		errc <- err
	}()
	<-arrived
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	<-released

	out, err := c.Call(t.Context(), "acme", "list_invoices", time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, OK, out)
	rep, err := c.Report(t.Context())
	require.NoError(t, err)
	require.Equal(t, Report{Calls: 2, Accounts: map[string]Counts{"acme": {Calls: 2}}}, rep)
}

// TestReportShapeOverHTTP: the exact bytes of GET /report.
func TestReportShapeOverHTTP(t *testing.T) {
	srv := startTest(t, Config{}, nil)
	c := newTestClient(t, srv.URL(), ClientConfig{})
	get := func() string {
		resp, err := http.Get(srv.URL() + "/report")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return strings.TrimSpace(string(b))
	}
	require.Equal(t, `{"calls":0,"collisions":0,"rate_violations":0,"faults":0,"accounts":{}}`, get())

	_, err := c.Call(t.Context(), "globex", "op", time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, `{"calls":1,"collisions":0,"rate_violations":0,"faults":0,"accounts":{"globex":{"calls":1,"collisions":0,"rate_violations":0}}}`, get())

	require.NoError(t, c.Reset(t.Context(), "A. unsafe"))
	rep, err := c.Report(t.Context())
	require.NoError(t, err)
	require.Equal(t, Report{Accounts: map[string]Counts{}}, rep)
	http.DefaultClient.CloseIdleConnections()
}

func TestServerLogOverHTTP(t *testing.T) {
	var log syncBuffer
	srv := startTest(t, Config{Log: &log}, nil)
	c := newTestClient(t, srv.URL(), ClientConfig{})
	require.NoError(t, c.Reset(t.Context(), "B. keyed — Running=ByKey"))
	_, err := c.Call(t.Context(), "acme", "fetch_profile", time.Millisecond)
	require.NoError(t, err)
	require.Regexp(t, `^--- reset @ \d\d:\d\d:\d\d B\. keyed — Running=ByKey ---\n`+
		`\[ok       \] acme     fetch_profile\n$`, log.String())
}

// syncBuffer is a strings.Builder safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCloseEndsCallsInFlight: Close does not wait for holds; the caller
// gets an error, and Close returns with every goroutine joined (goleak
// checks the latter).
func TestCloseEndsCallsInFlight(t *testing.T) {
	setup, arrived, _ := arrivals(1)
	srv, err := start(Config{}, setup)
	require.NoError(t, err)
	c := newTestClient(t, srv.URL(), ClientConfig{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(t.Context(), "acme", "op", time.Hour)
		errc <- err
	}()
	<-arrived
	require.NoError(t, srv.Close())
	err = <-errc
	require.True(t, isStatus(err, http.StatusServiceUnavailable) || isConnection(err), "got %v", err)
	require.NoError(t, srv.Close(), "Close twice")

	_, err = c.Report(t.Context())
	require.ErrorIs(t, err, ErrConnection)
}

func isStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

func isConnection(err error) bool { return errors.Is(err, ErrConnection) }

// TestShutdownIsGraceful: Shutdown lets a call in flight finish its hold
// and get its answer.
func TestShutdownIsGraceful(t *testing.T) {
	setup, arrived, _ := arrivals(1)
	srv, err := start(Config{}, setup)
	require.NoError(t, err)
	c := newTestClient(t, srv.URL(), ClientConfig{})
	type result struct {
		out Outcome
		err error
	}
	res := make(chan result, 1)
	go func() {
		out, err := c.Call(t.Context(), "acme", "op", 50*time.Millisecond)
		res <- result{out, err}
	}()
	<-arrived
	require.NoError(t, srv.Shutdown(t.Context()))
	r := <-res
	require.NoError(t, r.err)
	require.Equal(t, OK, r.out)
	require.NoError(t, srv.Close())
}

// TestShutdownGivesUp: when its ctx ends first, Shutdown closes at once.
func TestShutdownGivesUp(t *testing.T) {
	setup, arrived, _ := arrivals(1)
	srv, err := start(Config{}, setup)
	require.NoError(t, err)
	c := newTestClient(t, srv.URL(), ClientConfig{})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(t.Context(), "acme", "op", time.Hour)
		errc <- err
	}()
	<-arrived
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, srv.Shutdown(ctx), context.Canceled)
	require.Error(t, <-errc)
	require.ErrorIs(t, srv.Shutdown(nil), ErrInvalid)
}

func TestStartErrors(t *testing.T) {
	_, err := Start(Config{DefaultHold: -time.Second})
	require.ErrorIs(t, err, ErrInvalid)

	srv := startTest(t, Config{}, nil)
	_, err = Start(Config{Addr: strings.TrimPrefix(srv.URL(), "http://")})
	require.Error(t, err, "address in use")
	require.NotErrorIs(t, err, ErrInvalid)
}

func TestStartDefaults(t *testing.T) {
	srv := startTest(t, Config{}, nil)
	require.Regexp(t, `^http://127\.0\.0\.1:\d+$`, srv.URL())
	require.Equal(t, DefaultHold, srv.h.defaultHold)
}
