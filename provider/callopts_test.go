package provider

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallOptionsQuery(t *testing.T) {
	tests := []struct {
		o    CallOptions
		want string
	}{
		{CallOptions{}, ""},
		{CallOptions{Hold: 400 * time.Millisecond}, "hold=0.4"},
		{CallOptions{Hold: 500 * time.Microsecond}, "hold=0.0005"},
		{CallOptions{Hold: time.Nanosecond}, "hold=0.000000001"},
		{CallOptions{Hold: 90 * time.Minute}, "hold=5400"},
		{CallOptions{Slots: 1}, ""},
		{CallOptions{Slots: 2}, "slots=2"},
		{CallOptions{MinGap: 190 * time.Millisecond}, "min_gap=0.19"},
		{CallOptions{Fault: FaultClose}, "fault=close"},
		{CallOptions{Hold: time.Second, Slots: 3, MinGap: time.Millisecond, Fault: FaultStatus}, "fault=500&hold=1&min_gap=0.001&slots=3"},
	}
	for _, tc := range tests {
		require.NoError(t, tc.o.validate())
		require.Equal(t, tc.want, tc.o.query(), "%+v", tc.o)
	}
}

// TestCallWithModesOverHTTP: the typed client asks for slots and min_gap,
// and gets the outcomes the provider counts.
func TestCallWithModesOverHTTP(t *testing.T) {
	setup, arrived, _ := arrivals(8)
	srv := startTest(t, Config{}, setup)
	c := newTestClient(t, srv.URL(), ClientConfig{})

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	two := CallOptions{Hold: time.Hour, Slots: 2}
	for range 2 {
		wg.Go(func() {
			out, err := c.CallWith(ctx, "acme", "op", two)
			assert.ErrorIs(t, err, context.Canceled) // not require: another goroutine
			assert.Empty(t, out)
		})
		<-arrived
	}
	out, err := c.CallWith(t.Context(), "acme", "op", CallOptions{Hold: time.Millisecond, Slots: 2})
	require.NoError(t, err)
	require.Equal(t, Collision, out, "a third call with two slots collides")
	<-arrived
	cancel()
	wg.Wait()

	out, err = c.CallWith(t.Context(), "globex", "op", CallOptions{Hold: time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, OK, out)
	<-arrived
	out, err = c.CallWith(t.Context(), "globex", "op", CallOptions{Hold: time.Millisecond, MinGap: time.Hour})
	require.NoError(t, err)
	require.Equal(t, RateViolation, out)

	rep, err := c.Report(t.Context())
	require.NoError(t, err)
	require.Equal(t, Report{Calls: 5, Collisions: 1, RateViolations: 1, Accounts: map[string]Counts{
		"acme":   {Calls: 3, Collisions: 1},
		"globex": {Calls: 2, RateViolations: 1},
	}}, rep)
}
