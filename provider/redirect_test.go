package provider

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"
)

// TestClientRefusesRedirects: the client follows no redirect, for POST or
// GET, to another host or to its own; the redirect is a *StatusError that
// says where it pointed, and the target never sees a request.
func TestClientRefusesRedirects(t *testing.T) {
	var reached atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		writeJSON(w, http.StatusOK, callAnswer{Outcome: OK})
	}))
	t.Cleanup(elsewhere.Close)
	var self string
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/same/"):
			if r.URL.Path == "/same/moved/report" {
				reached.Add(1)
				writeJSON(w, http.StatusOK, Report{})
				return
			}
			http.Redirect(w, r, self+"/same/moved"+strings.TrimPrefix(r.URL.Path, "/same"), http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/307/"):
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
		case strings.HasPrefix(r.URL.Path, "/308/"):
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusPermanentRedirect)
		case strings.HasPrefix(r.URL.Path, "/evil/"):
			w.Header().Set("Location", elsewhere.URL+"/\u202e"+strings.Repeat("x", 500))
			w.WriteHeader(http.StatusFound)
		default:
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
		}
	}))
	t.Cleanup(redirector.Close)
	self = redirector.URL

	tests := []struct {
		name, base string
		do         func(*testing.T, *Client) error
		code       int
		to         string
	}{
		{"POST call, 307 to another host", "/307", callOK, http.StatusTemporaryRedirect, elsewhere.URL + "/307/call/acme/op"},
		{"POST call, 308 to another host", "/308", callOK, http.StatusPermanentRedirect, elsewhere.URL + "/308/call/acme/op"},
		{"POST call, 302 to another host", "/302", callOK, http.StatusFound, elsewhere.URL + "/302/call/acme/op"},
		{"POST reset, 307 to another host", "/307", func(t *testing.T, c *Client) error { return c.Reset(t.Context(), "x") }, http.StatusTemporaryRedirect, elsewhere.URL + "/307/reset"},
		{"GET report, 302 to another host", "/302", report, http.StatusFound, elsewhere.URL + "/302/report"},
		{"GET report, 302 to the same host", "/same", report, http.StatusFound, self + "/same/moved/report"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, redirector.URL+tc.base, ClientConfig{})
			err := tc.do(t, c)
			require.ErrorIs(t, err, ErrStatus)
			var se *StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.code, se.Code)
			require.Contains(t, se.Message, `a redirect to "`+tc.to+`", not followed`)
			require.Zero(t, reached.Load(), "the redirect's target was never called")
		})
	}

	t.Run("a Location with escapes, cleaned and cut", func(t *testing.T) {
		c := newTestClient(t, redirector.URL+"/evil", ClientConfig{})
		err := callOK(t, c)
		var se *StatusError
		require.ErrorAs(t, err, &se)
		requirePrintable(t, err.Error())
		require.Contains(t, se.Message, truncatedMark)
		require.Less(t, len(se.Message), 300)
	})
	require.Zero(t, reached.Load())
}

func callOK(t *testing.T, c *Client) error {
	_, err := c.Call(t.Context(), "acme", "op", time.Millisecond)
	return err
}

func report(t *testing.T, c *Client) error {
	_, err := c.Report(t.Context())
	return err
}

// TestClientErrorTextCleaned: what a provider says in an error or an
// answer reaches the client's errors as one short printable line, never
// with a terminal's escape sequences or control characters.
func TestClientErrorTextCleaned(t *testing.T) {
	hostile := "\x1b]0;owned\x07\x1b[2J\x1b[31mbusy\x1b[0m\r\nsecond line\u202e" + strings.Repeat("A", 10_000)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/json/"):
			writeJSON(w, http.StatusTooManyRequests, errorAnswer{Error: hostile})
		case strings.HasPrefix(r.URL.Path, "/text/"):
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(hostile))
		default:
			writeJSON(w, http.StatusOK, callAnswer{Outcome: Outcome(hostile)})
		}
	}))
	t.Cleanup(fake.Close)

	tests := []struct {
		name, base string
		want       error
	}{
		{"JSON error", "/json", ErrStatus},
		{"text error", "/text", ErrStatus},
		{"unknown outcome", "/ok", ErrBadAnswer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, fake.URL+tc.base, ClientConfig{})
			err := callOK(t, c)
			require.ErrorIs(t, err, tc.want)
			requirePrintable(t, err.Error())
			require.Contains(t, err.Error(), "busy second lineAAAA")
			require.NotContains(t, err.Error(), "owned")
			require.Contains(t, err.Error(), truncatedMark)
			require.Less(t, len(err.Error()), 400, "cut short: %q", err.Error())
		})
	}
}

// requirePrintable fails if s holds a control or format character.
func requirePrintable(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		require.False(t, unicode.IsControl(r) || unicode.Is(unicode.Cf, r), "%q in %q", r, s)
	}
}
