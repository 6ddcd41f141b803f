package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for the zero values of ClientConfig.
const (
	// DefaultTimeout is how long a request may take beyond its hold.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxIdleConns is how many connections a Client keeps for reuse.
	DefaultMaxIdleConns = 64
)

// maxAnswer bounds how much of an answer the client reads.
const maxAnswer = 1 << 20

// ClientConfig configures a Client. The zero ClientConfig is valid: a 5s
// timeout beyond each call's hold, and 64 connections kept for reuse.
type ClientConfig struct {
	// Timeout bounds each request on top of the hold it asks for: Call
	// gives up after hold+Timeout (DefaultHold+Timeout when hold is 0),
	// Report and Reset after Timeout, with an error wrapping ErrTimeout.
	// It also bounds dialling a connection. Zero means DefaultTimeout
	// (5s); negative is an error.
	Timeout time.Duration

	// MaxIdleConns is how many open connections the client keeps for
	// reuse. Give it at least the number of calls made at once, or the
	// calls beyond it dial a new connection each time. The number of
	// connections in use is not capped: a call never queues behind
	// another in the client. Zero means DefaultMaxIdleConns (64); negative
	// is an error.
	MaxIdleConns int
}

// Client calls a provider over HTTP: provider.Server, or any server that
// speaks the same interface. Its methods are safe for concurrent use and
// reuse connections. A Client not made by NewClient (nil or zero) fails
// every call with ErrInvalid.
//
// A Client never follows a redirect, for any method and to any host: the
// interface has none, a POST must not be replayed elsewhere, and a
// redirect to another host could send the calls (and the accounts in
// their paths) to a server nobody chose. A 3xx answer is a *StatusError
// that names where it pointed, so that a base URL that should have been,
// say, https can be corrected. Text that comes from the provider (an
// error message, an outcome, a redirect's target) reaches a Client's
// errors cleaned for a terminal and cut to 200 characters: no escape
// sequences or other control characters, no bidirectional overrides.
type Client struct {
	base      *url.URL
	timeout   time.Duration
	transport *http.Transport
	http      *http.Client
}

// NewClient returns a client for the provider at baseURL, such as
// "http://127.0.0.1:8765" (a path prefix is kept). It fails with
// ErrInvalid for a URL that is not absolute http or https, and for a
// negative Timeout or MaxIdleConns. It does not connect: a provider that
// is not there shows in the first request's error (ErrConnection).
func NewClient(baseURL string, cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(baseURL)
	switch {
	case err != nil:
		return nil, invalid("base URL %q: %v", baseURL, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, invalid("base URL %q: want http://host:port", baseURL)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, invalid("base URL %q has a query or fragment", baseURL)
	case cfg.Timeout < 0:
		return nil, invalid("Timeout %v is negative", cfg.Timeout)
	case cfg.MaxIdleConns < 0:
		return nil, invalid("MaxIdleConns %d is negative", cfg.MaxIdleConns)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxIdleConns == 0 {
		cfg.MaxIdleConns = DefaultMaxIdleConns
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	t := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.MaxIdleConns,
		MaxIdleConnsPerHost: cfg.MaxIdleConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Client{
		base:      u,
		timeout:   cfg.Timeout,
		transport: t,
		http:      &http.Client{Transport: t, CheckRedirect: refuseRedirects},
	}, nil
}

// URL returns the provider's base URL, without a trailing slash.
func (c *Client) URL() string {
	if c == nil || c.base == nil {
		return ""
	}
	return c.base.String()
}

// Close closes the connections kept for reuse; calls in flight go on. A
// Client used after Close opens new connections.
func (c *Client) Close() {
	if c != nil && c.transport != nil {
		c.transport.CloseIdleConnections()
	}
}

// Call calls op for account, asking the provider to hold the account for
// hold; zero leaves the hold to the provider (400ms for a Server with the
// default Config). The client gives a call hold plus its Timeout to answer,
// counting 400ms for a zero hold: against a provider whose default hold is
// longer, pass the hold. It is CallWith with CallOptions{Hold: hold}.
func (c *Client) Call(ctx context.Context, account, op string, hold time.Duration) (Outcome, error) {
	return c.CallWith(ctx, account, op, CallOptions{Hold: hold})
}

// CallWith calls op for account in the provider mode o, and returns the
// provider's outcome: OK, Collision, or RateViolation (only when o asks
// for a MinGap).
//
// It fails with ErrInvalid for a nil ctx, an empty account or op, or a bad
// field of o; with an error wrapping ctx.Err() when ctx ends first (the
// provider sees the call end then, and releases the account); ErrTimeout
// when the provider has not answered within the hold plus the client's
// Timeout; ErrConnection when the provider cannot be reached or closes
// the connection without an answer; a *StatusError for a non-2xx answer;
// ErrBadAnswer for an answer it cannot read. The faults o may ask for
// give the last three: FaultSlow ErrTimeout, FaultClose ErrConnection,
// FaultStatus a *StatusError with Code 500.
func (c *Client) CallWith(ctx context.Context, account, op string, o CallOptions) (Outcome, error) {
	switch {
	case c == nil || c.http == nil:
		return "", errNotMade
	case account == "" || op == "":
		return "", invalid("call: empty account or op")
	}
	if err := o.validate(); err != nil {
		return "", err
	}
	u := c.endpoint("call", account, op)
	u.RawQuery = o.query()
	var ans callAnswer
	if err := c.do(ctx, http.MethodPost, u, o.wait()+c.timeout, &ans); err != nil {
		return "", err
	}
	switch ans.Outcome {
	case OK, Collision, RateViolation:
		return ans.Outcome, nil
	}
	return "", fmt.Errorf("%w: POST %s: outcome %q", ErrBadAnswer, u.Redacted(), cleanText(string(ans.Outcome), maxErrorText))
}

// Report returns the provider's counts since its last reset. It fails as
// Call does, within the client's Timeout.
func (c *Client) Report(ctx context.Context) (Report, error) {
	if c == nil || c.http == nil {
		return Report{}, errNotMade
	}
	var r Report
	if err := c.do(ctx, http.MethodGet, c.endpoint("report"), c.timeout, &r); err != nil {
		return Report{}, err
	}
	if r.Accounts == nil {
		r.Accounts = map[string]Counts{}
	}
	return r, nil
}

// Reset zeroes the provider's counts; the provider logs label with the
// reset. It fails as Call does, within the client's Timeout.
func (c *Client) Reset(ctx context.Context, label string) error {
	if c == nil || c.http == nil {
		return errNotMade
	}
	u := c.endpoint("reset")
	if label != "" {
		u.RawQuery = url.Values{"label": {label}}.Encode()
	}
	return c.do(ctx, http.MethodPost, u, c.timeout, nil)
}

// endpoint returns the URL of the path made of segs, each escaped.
func (c *Client) endpoint(segs ...string) *url.URL {
	u := *c.base
	raw := u.EscapedPath()
	for _, s := range segs {
		u.Path += "/" + s
		raw += "/" + url.PathEscape(s)
	}
	u.RawPath = raw
	return &u
}

// do sends a request without a body, bounded by timeout, and decodes a
// 2xx answer into out (unless out is nil).
func (c *Client) do(ctx context.Context, method string, u *url.URL, timeout time.Duration, out any) error {
	what := method + " " + u.Redacted()
	if ctx == nil {
		return invalid("%s: nil context", what)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, u.String(), nil)
	if err != nil {
		return invalid("%s: %v", what, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL
		}
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("provider: %s: %w", what, ctx.Err())
		case rctx.Err() != nil:
			return fmt.Errorf("%w: %s: after %v", ErrTimeout, what, timeout)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%w: %s: closed without an answer: %w", ErrConnection, what, err)
		}
		return fmt.Errorf("%w: %s: %w", ErrConnection, what, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer)) // lets the connection be reused
		_ = resp.Body.Close()
	}()
	body := io.LimitReader(resp.Body, maxAnswer)
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		return &StatusError{Request: what, Code: resp.StatusCode, Message: redirectMessage(resp)}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return &StatusError{Request: what, Code: resp.StatusCode, Message: errorMessage(body)}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("provider: %s: %w", what, ctx.Err())
		case rctx.Err() != nil:
			return fmt.Errorf("%w: %s: after %v", ErrTimeout, what, timeout)
		}
		return fmt.Errorf("%w: %s: %w", ErrBadAnswer, what, err)
	}
	return nil
}

// refuseRedirects is the http.Client's CheckRedirect: it follows none,
// and the 3xx answer is returned as it is.
func refuseRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// redirectMessage is the message of a 3xx answer: where it pointed.
func redirectMessage(resp *http.Response) string {
	loc := cleanText(resp.Header.Get("Location"), maxErrorText)
	if loc == "" {
		return "a redirect, not followed"
	}
	return fmt.Sprintf("a redirect to %q, not followed: the client follows no redirects", loc)
}

// errorMessage reads the message of a non-2xx answer: the "error" field of
// a JSON body, or else the start of the body; cleaned for a terminal and
// cut to maxErrorText characters.
func errorMessage(body io.Reader) string {
	b, _ := io.ReadAll(body)
	var e errorAnswer
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return cleanText(e.Error, maxErrorText)
	}
	return cleanText(string(b), maxErrorText)
}
