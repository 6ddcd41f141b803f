package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// TestTaskFaults: the demo's tasks turn each provider fault into a Failed
// invocation with the client's clear error, promptly; the account is free
// afterwards and nothing collided.
func TestTaskFaults(t *testing.T) {
	srv, err := provider.Start(provider.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, srv.Close()) })
	client, err := provider.NewClient(srv.URL(), provider.ClientConfig{Timeout: 50 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(client.Close)
	s, err := scheduler.New(scheduler.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close(context.Background())) })
	tasks, err := newTasks(s, memoryEnv(client, client))
	require.NoError(t, err)

	tests := []struct {
		fault provider.Fault
		want  error
	}{
		{provider.FaultStatus, provider.ErrStatus},
		{provider.FaultSlow, provider.ErrTimeout},
		{provider.FaultClose, provider.ErrConnection},
	}
	for _, tc := range tests {
		for _, task := range []taskKind{keyedWaitTask, slotsTask, ratedTask, groupedOpsTask} {
			t.Run(string(tc.fault)+"/"+tasks[task].Name(), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second) // no hang
				defer cancel()
				inv, err := tasks[task].Submit(ctx, call{Account: "acme", Op: "op",
					Mode: provider.CallOptions{Hold: time.Millisecond, Fault: tc.fault}})
				require.NoError(t, err)
				out, err := inv.Wait(ctx)
				require.ErrorIs(t, err, tc.want)
				require.Empty(t, out)
				require.Equal(t, scheduler.Failed, inv.State())

				inv, err = tasks[task].Submit(ctx, call{Account: "acme", Op: "op", Mode: provider.CallOptions{Hold: time.Millisecond}})
				require.NoError(t, err)
				out, err = inv.Wait(ctx)
				require.NoError(t, err)
				require.Equal(t, provider.OK, out.Outcome, "the account is free")
			})
		}
	}
	rep, err := client.Report(t.Context())
	require.NoError(t, err)
	require.Equal(t, 12, rep.Faults)
	require.Equal(t, 12, rep.Calls)
	require.Zero(t, rep.Collisions)
	st := s.Stats()
	require.Equal(t, uint64(12), st.Failed)
	require.Equal(t, uint64(12), st.Succeeded)
}
