package scheduler_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

func TestSubmitAllInMemory(t *testing.T) {
	s := newScheduler(t, Config{MaxParallel: 2})
	p := newProbe()
	task := newTask(t, s, "all", p, Options[call]{Running: ByKey, Key: keyOf})
	ctx := context.Background()

	invs, err := task.SubmitAll(ctx, []call{{"a", 1}, {"b", 2}, {"a", 3}})
	require.NoError(t, err)
	require.Len(t, invs, 3)
	for i, inv := range invs {
		require.Equal(t, []string{"a", "b", "a"}[i], inv.Key())
		_, err := wait(t, inv)
		require.NoError(t, err)
	}
	require.Less(t, invs[0].ID(), invs[2].ID(), "submitted in order")
	_, maxPerKey, _, started := p.snapshot()
	require.Equal(t, 1, maxPerKey)
	require.Len(t, started, 3)

	none, err := task.SubmitAll(ctx, nil)
	require.NoError(t, err)
	require.Nil(t, none)
}

func TestSubmitAllBadInput(t *testing.T) {
	s := newScheduler(t, Config{})
	p := newProbe()
	task := newTask(t, s, "all", p, Options[call]{Running: ByKey, Key: keyOf})
	ctx := context.Background()

	var noCtx context.Context
	_, err := task.SubmitAll(noCtx, []call{{"a", 1}})
	require.ErrorIs(t, err, ErrNilContext)

	var nilTask *Task[call, string]
	_, err = nilTask.SubmitAll(ctx, []call{{"a", 1}})
	require.ErrorIs(t, err, ErrInvalid)

	// In memory, the elements before a bad one go on, and come back with
	// the error.
	invs, err := task.SubmitAll(ctx, []call{{"a", 1}, {"", 2}, {"b", 3}})
	require.ErrorIs(t, err, ErrEmptyKey)
	require.Contains(t, err.Error(), `task "all"`)
	require.Len(t, invs, 1)
	_, err = wait(t, invs[0])
	require.NoError(t, err)
}

func TestLookupNeedsABackend(t *testing.T) {
	s := newScheduler(t, Config{})
	task := newTask(t, s, "look", newProbe(), Options[call]{})
	inv := submit(t, task, "a", 1)
	_, err := task.Lookup(context.Background(), inv.ID())
	require.ErrorIs(t, err, errors.ErrUnsupported)
	require.Contains(t, err.Error(), `task "look"`)
}
