package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	. "github.com/perkey/perkey/scheduler"
)

// TestCloseUnderLoad: 8 goroutines keep submitting a mix of tasks and
// policies, with and without a cancellable ctx, while Close runs. Every
// Submit either fails with ErrClosed or returns an invocation that is
// final by the time Close returns; the books balance and no goroutine is
// left. It runs on real time and real goroutines, and is meant to be run
// many times: go test -race -run TestCloseUnderLoad -count 50 ./scheduler
func TestCloseUnderLoad(t *testing.T) {
	modes := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"no deadline", func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }},
		{"ended ctx", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Millisecond)
		}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			ctx, cancel := mode.ctx()
			defer cancel()
			closeUnderLoad(t, ctx)
			goleak.VerifyNone(t) // every goroutine that Close joined has exited
		})
	}
}

func closeUnderLoad(t *testing.T, closeCtx context.Context) {
	const submitters = 8
	s, err := New(Config{MaxParallel: 4, CloseGrace: 10 * time.Second})
	require.NoError(t, err)

	// The task body: a little work, an error or a panic now and then, and
	// a wait for the ctx for some, which only Close's deadline ends.
	var ran atomic.Int64
	body := func(ctx context.Context, n int) (int, error) {
		ran.Add(1)
		for range n % 5 {
			runtime.Gosched()
		}
		switch n % 97 {
		case 3:
			return 0, errFault
		case 5:
			panic("load panic")
		case 7:
			if closeCtx.Done() != nil { // Close will cancel it
				<-ctx.Done()
				return 0, ctx.Err()
			}
		}
		return n, nil
	}
	key := func(n int) string { return fmt.Sprint(n % 13) }
	opts := []Options[int]{
		{Running: ByKey, Key: key},
		{Running: ByKey, Key: key, OnBusy: Drop},
		{Running: ByKey, Key: key, OnBusy: Replace},
		{Running: ByKey, Registration: ByKey, Key: key},
		{Running: ByKey, Registration: ByKey, Key: key, Dedupe: UntilDone},
		{Running: ByKey, Key: key, Limit: 2, MaxWait: time.Millisecond},
		{Running: ByKey, Key: key, Rate: 50000, Burst: 2},
		{Running: ByArguments, Registration: ByArguments},
		{Running: ByTask},
		{Key: key},
		{Running: ByKey, Key: key, Group: "g"},
		{Running: ByKey, Key: key, Group: "g", OnBusy: Replace},
	}
	tasks := make([]*Task[int, int], len(opts))
	for i, o := range opts {
		tasks[i], err = NewTask(s, fmt.Sprint("t", i), body, o)
		require.NoError(t, err)
	}

	var (
		accepted, refused atomic.Int64
		wg                sync.WaitGroup
		enough            = make(chan struct{})
		enoughOnce        sync.Once
		invs              = make([][]*Invocation[int], submitters)
	)
	for g := range submitters {
		wg.Go(func() {
			var cancels []context.CancelFunc
			defer func() {
				for _, c := range cancels {
					c()
				}
			}()
			for i := 0; ; i++ {
				n := g*1_000_000 + i
				ctx := context.Background()
				var cancel context.CancelFunc
				if i%3 == 0 { // a ctx that can end: the Submit hook path
					ctx, cancel = context.WithCancel(ctx)
					cancels = append(cancels, cancel)
				}
				inv, err := tasks[i%len(tasks)].Submit(ctx, n)
				if i%9 == 0 {
					cancel() // races the routing, the wait, the start
				}
				if !record(t, &invs[g], inv, err, &accepted, &refused) {
					return
				}
				if accepted.Load() > 400 {
					enoughOnce.Do(func() { close(enough) })
				}
			}
		})
	}
	<-enough // Close while all eight submit
	closeErr := s.Close(closeCtx)
	wg.Wait()

	if closeCtx.Done() == nil {
		require.NoError(t, closeErr)
	} else if closeErr != nil {
		require.ErrorIs(t, closeErr, closeCtx.Err())
		require.NotErrorIs(t, closeErr, ErrLeaked, "every task honours its ctx")
	}
	require.EqualValues(t, submitters, refused.Load(), "each submitter stops at its first ErrClosed")
	total := 0
	for _, list := range invs {
		for _, inv := range list {
			total++
			select {
			case <-inv.Done():
			default:
				t.Fatalf("invocation %d is %v after Close returned", inv.ID(), inv.State())
			}
			require.True(t, inv.State().Final())
			_, err := inv.Wait(context.Background())
			if inv.State() == Succeeded {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		}
	}
	st := s.Stats()
	require.EqualValues(t, accepted.Load(), st.Submitted)
	requireBalanced(t, st)
	// Runs end Succeeded or Failed, or Canceled when replaced while running.
	require.LessOrEqual(t, st.Succeeded+st.Failed, uint64(ran.Load()))
	require.LessOrEqual(t, uint64(ran.Load()), st.Succeeded+st.Failed+st.Canceled)
	_, err = tasks[0].Submit(context.Background(), 1)
	require.ErrorIs(t, err, ErrClosed)
}

// record notes one Submit's outcome; it returns false at ErrClosed.
func record(t *testing.T, invs *[]*Invocation[int], inv *Invocation[int], err error, accepted, refused *atomic.Int64) bool {
	switch {
	case err == nil:
		accepted.Add(1)
		*invs = append(*invs, inv)
		return true
	case errors.Is(err, ErrClosed):
		refused.Add(1)
		return false
	default:
		assert.NoError(t, err)
		return false
	}
}

// Once Close has been called, Submit fails with ErrClosed, whether or not
// the submission would have been deduplicated into unfinished work.
// Once Close is called, even a Submit that an unfinished invocation would
// absorb (Close is still draining it) gets ErrClosed.
func TestSubmitAfterCloseDeduped(t *testing.T) {
	for _, mode := range []Dedupe{UntilStart, UntilDone} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, err := New(Config{MaxParallel: 1})
				require.NoError(t, err)
				gate := make(chan struct{})
				task, err := NewTask(s, "t", func(context.Context, string) (int, error) { <-gate; return 1, nil },
					Options[string]{Running: ByKey, Registration: ByKey, Dedupe: mode, Key: func(k string) string { return k }})
				require.NoError(t, err)
				_, err = task.Submit(context.Background(), "a")
				require.NoError(t, err)
				synctest.Wait()
				// Unfinished work to dedupe into: the running invocation
				// (UntilDone), or a Queued one (UntilStart).
				_, err = task.Submit(context.Background(), "a")
				require.NoError(t, err)
				closed := closeErr(s, context.Background())
				synctest.Wait()
				before := s.Stats().Submitted

				inv, err := task.Submit(context.Background(), "a")
				assert.ErrorIs(t, err, ErrClosed)
				assert.True(t, inv == nil, "Submit after Close returned invocation %d", inv.ID())
				assert.Equal(t, before, s.Stats().Submitted, "a refused Submit counts nothing")
				close(gate)
				require.NoError(t, <-closed)
			})
		})
	}
}
