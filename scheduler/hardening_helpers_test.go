package scheduler_test

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// schedulerGoroutines counts the goroutines the scheduler package started
// (its dispatchers and workers), whatever else runs in the process.
func schedulerGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return bytes.Count(buf, []byte("\ncreated by github.com/perkey/perkey/scheduler."))
}

// requireSchedulerGone checks, inside a bubble, that every goroutine a
// scheduler started has exited. (synctest.Wait first: a goroutine that has
// just closed the channel its joiner waits on has not exited yet.)
func requireSchedulerGone(t *testing.T) {
	t.Helper()
	synctest.Wait()
	require.Zero(t, schedulerGoroutines(), "goroutines started by the scheduler")
}

// closeErr starts Close(ctx) in a goroutine and returns where its error
// arrives; the test must receive it.
func closeErr(s *Scheduler, ctx context.Context) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.Close(ctx) }()
	return ch
}

// requireBlocked checks that nothing arrived on ch: inside a bubble, after
// synctest.Wait, that means whoever sends on it is durably blocked.
func requireBlocked[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s returned (%v) while it should still wait", what, v)
	default:
	}
}

// requireFinal checks an invocation's final state and its Wait error.
func requireFinal[R any](t *testing.T, inv *Invocation[R], want State, errs ...error) {
	t.Helper()
	select {
	case <-inv.Done():
	default:
		t.Fatalf("invocation %d is %v, want %v", inv.ID(), inv.State(), want)
	}
	require.Equal(t, want, inv.State(), "invocation %d", inv.ID())
	_, err := inv.Wait(context.Background())
	if len(errs) == 0 {
		require.NoError(t, err)
	}
	for _, e := range errs {
		require.ErrorIs(t, err, e)
	}
}

// expired returns a ctx that has already ended.
func expired() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// within returns a ctx that ends after d (fake time in bubbles).
func within(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
