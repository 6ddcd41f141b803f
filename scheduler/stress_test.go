package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// invariants is shared by every task of the stress test. Keys belong to
// their task, so per-key counts are kept per task and key.
type invariants struct {
	maxParallel int64
	global      atomic.Int64
	mu          sync.Mutex
	perKey      map[string]int
	ran         map[int]bool // sequence numbers that started
	violations  []string
}

func (iv *invariants) enter(task string, c call) {
	if g := iv.global.Add(1); g > iv.maxParallel {
		iv.violate("global in-flight %d > %d", g, iv.maxParallel)
	}
	iv.mu.Lock()
	defer iv.mu.Unlock()
	k := scopeKey(task, c)
	iv.perKey[k]++
	if iv.perKey[k] > limitOf(task) {
		iv.violations = append(iv.violations, fmt.Sprintf("key %s in flight %d", k, iv.perKey[k]))
	}
	if c.N > 0 { // a unique sequence number (the args task repeats N <= 0)
		if iv.ran[c.N] {
			iv.violations = append(iv.violations, fmt.Sprintf("seq %d ran twice", c.N))
		}
		iv.ran[c.N] = true
	}
}

func (iv *invariants) leave(task string, c call) {
	iv.mu.Lock()
	iv.perKey[scopeKey(task, c)]--
	iv.mu.Unlock()
	iv.global.Add(-1)
}

// limitOf is how many invocations of one key a task may run at once. A
// Replace task runs one at a time whatever its Limit: the new invocation
// waits for the replaced ones to return.
func limitOf(task string) int {
	switch task {
	case "unsafe":
		return 1 << 30
	case "limit2":
		return 2
	case "limit5", "rated":
		return 5
	}
	return 1
}

// scopeKey is what the task's Running scope serializes on.
func scopeKey(task string, c call) string {
	switch task {
	case "args":
		return fmt.Sprintf("args/%v", c)
	case "task":
		return "task"
	case "grouped1", "grouped2":
		return "g/" + c.Key
	}
	return task + "/" + c.Key
}

func (iv *invariants) violate(format string, args ...any) {
	iv.mu.Lock()
	iv.violations = append(iv.violations, fmt.Sprintf(format, args...))
	iv.mu.Unlock()
}

// finals counts the final events of every invocation.
type finals struct {
	mu sync.Mutex
	n  map[uint64]int
}

func (f *finals) add(ev Event) {
	if ev.State.Final() && !ev.Deduped {
		f.mu.Lock()
		f.n[ev.ID]++
		f.mu.Unlock()
	}
}

// Thousands of random submissions over hundreds of keys, with every scope,
// policy and dedupe mode, cancellations, deadlines, errors and panics. The
// tasks check per-key and global in-flight counts as they run; afterwards
// every invocation must be final exactly once and the books must balance.
func TestInvariantsUnderStress(t *testing.T) {
	const (
		maxParallel = 6
		keys        = 300
		submitters  = 4
		perWorker   = 1500
	)
	iv := &invariants{maxParallel: maxParallel, perKey: map[string]int{}, ran: map[int]bool{}}
	fin := &finals{n: map[uint64]int{}}
	s, err := New(Config{MaxParallel: maxParallel, OnEvent: fin.add})
	require.NoError(t, err)

	type spec struct {
		name string
		opts Options[call]
	}
	specs := []spec{
		{"wait", Options[call]{Running: ByKey, Key: keyOf}},
		{"drop", Options[call]{Running: ByKey, Key: keyOf, OnBusy: Drop}},
		{"start", Options[call]{Running: ByKey, Registration: ByKey, Key: keyOf}},
		{"done", Options[call]{Running: ByKey, Registration: ByKey, Key: keyOf, Dedupe: UntilDone}},
		{"args", Options[call]{Running: ByArguments, Registration: ByArguments}},
		{"task", Options[call]{Running: ByTask, Key: keyOf}},
		{"maxwait", Options[call]{Running: ByKey, Key: keyOf, MaxWait: time.Millisecond}},
		{"unsafe", Options[call]{Key: keyOf}},
		{"limit2", Options[call]{Running: ByKey, Key: keyOf, Limit: 2}},
		{"limit5", Options[call]{Running: ByKey, Key: keyOf, Limit: 5, OnBusy: Drop}},
		{"rated", Options[call]{Running: ByKey, Key: keyOf, Limit: 5, Rate: 20000, Burst: 3}},
		{"replace", Options[call]{Running: ByKey, Key: keyOf, OnBusy: Replace}},
		{"replace2", Options[call]{Running: ByKey, Key: keyOf, OnBusy: Replace, Limit: 2}},
		{"bounded", Options[call]{Running: ByKey, Key: keyOf, MaxQueued: 2, MaxWait: 5 * time.Millisecond}},
		{"grouped1", Options[call]{Running: ByKey, Key: keyOf, Group: "g", MaxWait: 5 * time.Millisecond}},
		{"grouped2", Options[call]{Running: ByKey, Registration: ByKey, Key: keyOf, Group: "g"}},
	}
	tasks := make([]*Task[call, string], len(specs))
	for i, sp := range specs {
		tasks[i], err = NewTask(s, sp.name, func(_ context.Context, c call) (string, error) {
			iv.enter(sp.name, c)
			defer iv.leave(sp.name, c)
			for range c.N % 4 {
				runtime.Gosched()
			}
			switch c.N % 50 {
			case 7:
				return "", errors.New("task error")
			case 13:
				panic("task panic")
			}
			return c.Key, nil
		}, sp.opts)
		require.NoError(t, err)
	}

	type submitted struct {
		inv  *Invocation[string]
		task string
	}
	var (
		mu   sync.Mutex
		all  []submitted
		wg   sync.WaitGroup
		seqs atomic.Int64
	)
	for w := range submitters {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var cancels []context.CancelFunc
			for range perWorker {
				seq := int(seqs.Add(1))
				// The args key is narrow so that ByArguments sees repeats.
				c := call{fmt.Sprintf("k%d", rng.IntN(keys)), seq}
				task := tasks[rng.IntN(len(tasks))]
				switch task.Name() {
				case "args": // few distinct arguments, so they repeat
					c = call{fmt.Sprintf("k%d", rng.IntN(4)), -rng.IntN(3)}
				case "replace", "replace2": // a replaced invocation may have run: not counted
					c.N = -seq
				}
				ctx := context.Background()
				if rng.IntN(5) == 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					cancels = append(cancels, cancel)
				}
				inv, err := task.Submit(ctx, c)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				all = append(all, submitted{inv, task.Name()})
				mu.Unlock()
				if len(cancels) > 0 && rng.IntN(3) == 0 {
					i := rng.IntN(len(cancels))
					cancels[i]()
					cancels = append(cancels[:i], cancels[i+1:]...)
				}
			}
			for _, cancel := range cancels {
				cancel()
			}
		})
	}
	wg.Wait()
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ccancel()
	// If the drain hangs, show the dispatcher's state before Close gives up.
	dumped := make(chan string, 1)
	dump := time.AfterFunc(3*time.Second, func() { dumped <- debugDump(s) })
	defer dump.Stop()
	if err := s.Close(cctx); err != nil {
		t.Fatalf("close: %v\n%s", err, <-dumped)
	}

	require.Empty(t, iv.violations)
	distinct := map[*Invocation[string]]bool{}
	ranUnique := 0
	byState := map[State]int{}
	for _, sub := range all {
		select {
		case <-sub.inv.Done():
		default:
			t.Fatalf("invocation %d not final after Close", sub.inv.ID())
		}
		if distinct[sub.inv] {
			continue
		}
		distinct[sub.inv] = true
		st := sub.inv.State()
		byState[st]++
		if sub.task != "args" && sub.task != "replace" && sub.task != "replace2" && (st == Succeeded || st == Failed) {
			ranUnique++
		}
		require.True(t, st.Final())
		require.Equal(t, 1, fin.n[sub.inv.ID()], "final events of %d", sub.inv.ID())
		_, err := sub.inv.Wait(context.Background())
		switch st {
		case Dropped:
			require.ErrorIs(t, err, ErrDropped)
		case Expired:
			require.ErrorIs(t, err, ErrExpired)
		case Canceled:
			require.ErrorIs(t, err, ErrCanceled)
		}
	}
	// Nothing that ended without running ran: the task records the unique
	// sequence number each invocation was created with, and no sequence
	// number runs twice.
	iv.mu.Lock()
	ranCount := len(iv.ran)
	iv.mu.Unlock()
	require.Equal(t, ranUnique, ranCount)

	st := s.Stats()
	requireBalanced(t, st)
	require.EqualValues(t, len(all), st.Submitted)
	require.EqualValues(t, len(all)-len(distinct), st.Deduped)
	require.Len(t, fin.n, len(distinct))
	for _, want := range []State{Succeeded, Failed, Dropped, Canceled, Expired} {
		require.Positive(t, byState[want], "the mix should produce some %v: %v", want, byState)
	}
	t.Logf("%d submissions, %d invocations: %v", len(all), len(distinct), byState)
}
