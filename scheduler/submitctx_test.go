package scheduler_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

type funcCtx struct {
	context.Context
	f func()
}

type wrapCtx struct{ context.Context }

func TestUnhashableSubmitCtx(t *testing.T) {
	s, err := New(Config{})
	require.NoError(t, err)
	defer s.Close(context.Background())
	task, err := NewTask(s, "t", func(context.Context, int) (int, error) { return 1, nil }, Options[int]{})
	require.NoError(t, err)
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx := wrapCtx{funcCtx{parent, func() {}}} // type comparable, value not
	require.NotPanics(t, func() {
		inv, err := task.Submit(ctx, 1)
		require.NoError(t, err)
		_, err = inv.Wait(context.Background())
		require.NoError(t, err)
	})
}
