package scheduler_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// Go runs every call exactly once, serial per key and within the cap, like
// Submit, whether or not its invocation can be recycled.
func TestGo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cases := []struct {
		name string
		ctx  context.Context
		opts Options[call]
	}{
		{"recycled", context.Background(), Options[call]{Running: ByKey, Key: keyOf}},
		{"no key", context.TODO(), Options[call]{}},
		{"ctx that can end", ctx, Options[call]{Running: ByKey, Key: keyOf}},
		{"MaxWait", context.Background(), Options[call]{Running: ByKey, Key: keyOf, MaxWait: time.Hour}},
		{"Limit", context.Background(), Options[call]{Running: ByKey, Key: keyOf, Limit: 3}},
		{"dedupe", context.Background(), Options[call]{Running: ByKey, Registration: ByArguments, Key: keyOf}},
		{"bounded", context.Background(), Options[call]{Running: ByKey, Key: keyOf, MaxQueued: 1000}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScheduler(t, Config{MaxParallel: 4})
			p := newProbe()
			task := newTask(t, s, "go", p, tc.opts)
			const keys, per = 20, 50
			for n := range per {
				for k := range keys {
					require.NoError(t, task.Go(tc.ctx, call{fmt.Sprint("k", k), n}))
				}
			}
			require.Eventually(t, func() bool { return s.Stats().Succeeded+s.Stats().Deduped == keys*per },
				time.Minute, time.Millisecond)
			runs, maxPerKey, maxGlobal, started := p.snapshot()
			require.LessOrEqual(t, maxGlobal, 4)
			if tc.opts.Running == Disabled {
				require.Equal(t, keys*per, runs)
				return
			}
			if tc.opts.Limit == 0 {
				require.Equal(t, 1, maxPerKey)
			}
			if tc.opts.Registration == Disabled {
				require.Equal(t, keys*per, runs)
			}
			if tc.opts.Registration == Disabled && tc.opts.Limit == 0 {
				// FIFO per key (with a Limit, calls of a key that start
				// together may record themselves in any order).
				next := map[string]int{}
				for _, c := range started {
					require.Equal(t, next[c.Key], c.N, "key %s out of order", c.Key)
					next[c.Key]++
				}
			}
		})
	}
}

func TestGoFailsAsSubmit(t *testing.T) {
	s := newScheduler(t, Config{})
	task := newTask(t, s, "go", newProbe(), Options[call]{Running: ByKey, Key: keyOf})

	var nilTask *Task[call, string]
	require.ErrorIs(t, nilTask.Go(context.Background(), call{"a", 1}), ErrInvalid)
	var noCtx context.Context
	require.ErrorIs(t, task.Go(noCtx, call{"a", 1}), ErrNilContext)
	err := task.Go(context.Background(), call{"", 1})
	require.ErrorIs(t, err, ErrEmptyKey)
	require.Contains(t, err.Error(), `task "go"`)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, task.Go(ended, call{"a", 1}), ErrCanceled)

	require.NoError(t, s.Close(context.Background()))
	require.ErrorIs(t, task.Go(context.Background(), call{"a", 1}), ErrClosed)
	require.Zero(t, s.Stats().Submitted, "nothing was created")
}

// Once warm, Go allocates nothing: its invocations are recycled. Checked
// exactly, without the race detector (which makes sync.Pool drop things).
func TestGoAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop what it keeps")
	}
	s := newScheduler(t, Config{MaxParallel: 2})
	ran := make(chan struct{}, 1)
	task, err := NewTask(s, "go", func(_ context.Context, c call) (int, error) {
		ran <- struct{}{}
		return c.N, nil
	}, Options[call]{Running: ByKey, Key: keyOf})
	require.NoError(t, err)
	keys := []string{"a", "b", "c", "d"}
	i := 0
	one := func() {
		if err := task.Go(context.Background(), call{keys[i%len(keys)], i}); err != nil {
			panic(err)
		}
		<-ran
		i++
	}
	for range 1000 { // warm: the pool, the worker goroutines, the maps
		one()
	}
	require.Zero(t, testing.AllocsPerRun(1000, one), "allocations per Go call")
}

// A recycled invocation keeps nothing of its arguments once it has run.
func TestGoKeepsNoArguments(t *testing.T) {
	s := newScheduler(t, Config{})
	ran := make(chan struct{})
	type big struct{ data []byte }
	task, err := NewTask(s, "go", func(_ context.Context, b *big) (int, error) {
		ran <- struct{}{}
		return len(b.data), nil
	}, Options[*big]{})
	require.NoError(t, err)
	arg := &big{data: make([]byte, 1<<20)}
	gone := weak.Make(arg)
	require.NoError(t, task.Go(context.Background(), arg))
	arg = nil
	<-ran
	require.Eventually(t, func() bool {
		runtime.GC()
		return gone.Value() == nil
	}, 10*time.Second, time.Millisecond, "the arguments of a finished Go call are still referenced")
}

// Many goroutines calling Go at once, on shared keys: every call runs once.
func TestGoConcurrent(t *testing.T) {
	s := newScheduler(t, Config{MaxParallel: 3})
	p := newProbe()
	task := newTask(t, s, "go", p, Options[call]{Running: ByKey, Key: keyOf})
	var calls atomic.Int64
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 500 {
				if task.Go(context.Background(), call{fmt.Sprint("k", (g+i)%7), i}) == nil {
					calls.Add(1)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	require.Eventually(t, func() bool { return s.Stats().Succeeded == uint64(calls.Load()) }, time.Minute, time.Millisecond)
	runs, maxPerKey, maxGlobal, _ := p.snapshot()
	require.EqualValues(t, 2000, runs)
	require.Equal(t, 1, maxPerKey)
	require.LessOrEqual(t, maxGlobal, 3)
}
