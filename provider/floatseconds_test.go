package provider

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// floatOnly matches what a provider that declares `hold: float` (the
// reference's api_server.py) accepts: a plain decimal number.
var floatOnly = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// TestClientTalksToAFloatSecondsProvider: the client sends durations in
// the form the reference's provider takes, seconds as a decimal number,
// so that a provider that accepts nothing else answers every call. The
// fake answers 422 for anything else, as FastAPI does.
func TestClientTalksToAFloatSecondsProvider(t *testing.T) {
	var mu sync.Mutex
	var holds []time.Duration
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range []string{"hold", "min_gap"} {
			if v := r.URL.Query().Get(p); r.URL.Query().Has(p) && !floatOnly.MatchString(v) {
				http.Error(w, `{"detail":[{"type":"float_parsing","loc":["query","`+p+`"]}]}`, http.StatusUnprocessableEntity)
				return
			}
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/call/acme/fetch_profile":
			hold := 0.4
			if r.URL.Query().Has("hold") {
				hold, _ = strconv.ParseFloat(r.URL.Query().Get("hold"), 64)
			}
			mu.Lock()
			holds = append(holds, time.Duration(hold*float64(time.Second)+0.5))
			mu.Unlock()
			writeJSON(w, http.StatusOK, callAnswer{Outcome: OK})
		case r.Method == http.MethodGet && r.URL.Path == "/report":
			mu.Lock()
			n := len(holds)
			mu.Unlock()
			writeJSON(w, http.StatusOK, Report{Calls: n})
		case r.Method == http.MethodPost && r.URL.Path == "/reset":
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(fake.Close)
	c := newTestClient(t, fake.URL, ClientConfig{})

	tests := []CallOptions{
		{},
		{Hold: 400 * time.Millisecond},
		{Hold: 10 * time.Millisecond, MinGap: 190 * time.Millisecond},
		{Hold: 1500 * time.Microsecond, Slots: 2},
		{Hold: 2 * time.Second},
		{Hold: time.Nanosecond},
	}
	for _, o := range tests {
		out, err := c.CallWith(t.Context(), "acme", "fetch_profile", o)
		require.NoError(t, err, "%+v", o)
		require.Equal(t, OK, out)
	}
	require.NoError(t, c.Reset(t.Context(), "B. keyed"))
	rep, err := c.Report(t.Context())
	require.NoError(t, err)
	require.Equal(t, len(tests), rep.Calls)
	require.Equal(t, []time.Duration{400 * time.Millisecond, 400 * time.Millisecond, 10 * time.Millisecond,
		1500 * time.Microsecond, 2 * time.Second, time.Nanosecond}, holds)
}

// TestDecimalSecondsRoundTrip: the seconds the client sends are read back
// by the Server to the nanosecond.
func TestDecimalSecondsRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, time.Nanosecond, 999 * time.Nanosecond, time.Microsecond, 190 * time.Millisecond,
		400 * time.Millisecond, time.Second + time.Nanosecond, 90 * time.Minute, 24*time.Hour + 7, 100 * 24 * time.Hour} {
		s := decimalSecondsOf(d)
		require.Regexp(t, floatOnly, s)
		got, err := parseGap("hold", s)
		require.NoError(t, err)
		require.Equal(t, d, got, s)
	}
}
