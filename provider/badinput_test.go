package provider

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBadInput: every misuse of the package's API gives a clear error
// wrapping ErrInvalid, and none panics.
func TestBadInput(t *testing.T) {
	srv := startTest(t, Config{}, nil)
	c := newTestClient(t, srv.URL(), ClientConfig{})
	var nilClient *Client
	zeroClient := &Client{}
	var nilServer *Server
	zeroServer := &Server{}
	var nilCtx context.Context
	ctx := t.Context()
	newClient := func(url string, cfg ClientConfig) func() error {
		return func() error {
			cl, err := NewClient(url, cfg)
			if cl != nil {
				t.Errorf("NewClient(%q) returned a client with %v", url, err)
			}
			return err
		}
	}
	callWith := func(cl *Client, ctx context.Context, account, op string, o CallOptions) func() error {
		return func() error {
			out, err := cl.CallWith(ctx, account, op, o)
			if out != "" {
				t.Errorf("an outcome with the error %v", err)
			}
			return err
		}
	}
	tests := []struct {
		name string
		do   func() error
		msg  string
	}{
		// NewClient.
		{"url empty", newClient("", ClientConfig{}), `base URL "": want http://host:port`},
		{"url without scheme", newClient("127.0.0.1:8765", ClientConfig{}), `base URL "127.0.0.1:8765"`},
		{"url host without scheme", newClient("localhost", ClientConfig{}), "want http://host:port"},
		{"url other scheme", newClient("ftp://127.0.0.1:8765", ClientConfig{}), "want http://host:port"},
		{"url without host", newClient("http://", ClientConfig{}), "want http://host:port"},
		{"url relative", newClient("/call", ClientConfig{}), "want http://host:port"},
		{"url with query", newClient("http://127.0.0.1:8765?x=1", ClientConfig{}), "has a query or fragment"},
		{"url with fragment", newClient("http://127.0.0.1:8765#top", ClientConfig{}), "has a query or fragment"},
		{"url unparsable", newClient("http://[::1", ClientConfig{}), `base URL "http://[::1"`},
		{"url with bad port", newClient("http://127.0.0.1:port", ClientConfig{}), "invalid port"},
		{"url with a control character", newClient("http://127.0.0.1:8765/\n", ClientConfig{}), "invalid control character"},
		{"negative timeout", newClient(srv.URL(), ClientConfig{Timeout: -time.Second}), "Timeout -1s is negative"},
		{"negative idle conns", newClient(srv.URL(), ClientConfig{MaxIdleConns: -1}), "MaxIdleConns -1 is negative"},

		// Clients not made by NewClient.
		{"nil client Call", func() error { _, err := nilClient.Call(ctx, "acme", "op", 0); return err }, "not made by NewClient"},
		{"nil client CallWith", callWith(nilClient, ctx, "acme", "op", CallOptions{}), "not made by NewClient"},
		{"nil client Report", func() error { _, err := nilClient.Report(ctx); return err }, "not made by NewClient"},
		{"nil client Reset", func() error { return nilClient.Reset(ctx, "") }, "not made by NewClient"},
		{"zero client Call", func() error { _, err := zeroClient.Call(ctx, "acme", "op", 0); return err }, "not made by NewClient"},
		{"zero client Report", func() error { _, err := zeroClient.Report(ctx); return err }, "not made by NewClient"},
		{"zero client Reset", func() error { return zeroClient.Reset(ctx, "x") }, "not made by NewClient"},

		// Calls.
		{"call nil ctx", func() error { _, err := c.Call(nilCtx, "acme", "op", 0); return err }, "nil context"},
		{"call empty account", func() error { _, err := c.Call(ctx, "", "op", 0); return err }, "empty account or op"},
		{"call empty op", func() error { _, err := c.Call(ctx, "acme", "", 0); return err }, "empty account or op"},
		{"call negative hold", func() error { _, err := c.Call(ctx, "acme", "op", -time.Millisecond); return err }, "hold -1ms is negative"},
		{"options negative hold", callWith(c, ctx, "acme", "op", CallOptions{Hold: -time.Second}), "hold -1s is negative"},
		{"options negative slots", callWith(c, ctx, "acme", "op", CallOptions{Slots: -2}), "slots -2 is negative"},
		{"options negative min gap", callWith(c, ctx, "acme", "op", CallOptions{MinGap: -time.Millisecond}), "min gap -1ms is negative"},
		{"options unknown fault", callWith(c, ctx, "acme", "op", CallOptions{Fault: "boom"}), `fault "boom": want one of 500, slow, close`},
		{"options fault with spaces", callWith(c, ctx, "acme", "op", CallOptions{Fault: " 500"}), `fault " 500"`},
		{"options nil ctx", callWith(c, nilCtx, "acme", "op", CallOptions{Slots: 2}), "nil context"},
		{"report nil ctx", func() error { _, err := c.Report(nilCtx); return err }, "nil context"},
		{"reset nil ctx", func() error { return c.Reset(nilCtx, "label") }, "nil context"},

		// Servers.
		{"start negative hold", func() error {
			s, err := Start(Config{DefaultHold: -time.Second})
			require.Nil(t, s)
			return err
		}, "DefaultHold -1s is negative"},
		{"nil server Close", nilServer.Close, "not made by Start"},
		{"nil server Shutdown", func() error { return nilServer.Shutdown(ctx) }, "not made by Start"},
		{"zero server Close", zeroServer.Close, "not made by Start"},
		{"zero server Shutdown", func() error { return zeroServer.Shutdown(ctx) }, "not made by Start"},
		{"shutdown nil ctx", func() error { return srv.Shutdown(nilCtx) }, "nil context"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tc.do() })
			require.ErrorIs(t, err, ErrInvalid)
			require.ErrorContains(t, err, tc.msg)
		})
	}

	// Nothing above reached the server, and it still serves.
	rep, err := c.Report(ctx)
	require.NoError(t, err)
	require.Equal(t, Report{Accounts: map[string]Counts{}}, rep)
	for _, cl := range []*Client{nilClient, zeroClient} {
		require.Empty(t, cl.URL())
		require.NotPanics(t, cl.Close)
	}
	for _, s := range []*Server{nilServer, zeroServer} {
		require.Empty(t, s.URL())
	}
}

// TestStartListenError: an address that cannot be had is the listener's
// error, not ErrInvalid.
func TestStartListenError(t *testing.T) {
	srv := startTest(t, Config{}, nil)
	for _, addr := range []string{srv.URL()[len("http://"):], "not an address", "127.0.0.1:99999"} {
		s, err := Start(Config{Addr: addr})
		require.Nil(t, s)
		require.ErrorContains(t, err, "provider: listen:")
		require.NotErrorIs(t, err, ErrInvalid)
	}
}

// TestBadParamsNotCounted: the mode parameters with bad values are 400s
// that name the parameter, and count nothing.
func TestBadParamsNotCounted(t *testing.T) {
	tests := []struct{ query, msg string }{
		{"slots=0", `slots \"0\" is not a whole number of at least 1`},
		{"slots=-1", `slots \"-1\"`},
		{"slots=two", `slots \"two\"`},
		{"slots=", `slots \"\"`},
		{"slots=1.5", `slots \"1.5\"`},
		{"min_gap=soon", `min_gap \"soon\" is not a duration such as 400ms`},
		{"min_gap=-1ms", `min_gap \"-1ms\" is negative`},
		{"min_gap=1e10", `min_gap \"1e10\" seconds is too long for a duration`},
		{"min_gap=-0.19", `min_gap \"-0.19\" is negative`},
		{"fault=boom", `fault \"boom\": want one of 500, slow, close`},
		{"fault=", `fault \"\"`},
		{"fault=SLOW", `fault \"SLOW\"`},
		{"hold=1s&slots=0&fault=500", `slots \"0\"`},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			h := newHandler(DefaultHold, callLog{})
			rec := serve(t.Context(), h, http.MethodPost, "/call/acme/op?"+tc.query)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			require.Contains(t, rec.Body.String(), tc.msg)
			require.Equal(t, Report{Accounts: map[string]Counts{}}, h.counts.report())
		})
	}
}
