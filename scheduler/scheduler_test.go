package scheduler_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// Two submissions per case; with the first blocked, the second must start
// (the scope sees them as different) or stay Queued behind it.
func TestRunningScopes(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options[call]
		a, b     call
		parallel bool // b starts while a runs
	}{
		{"Disabled same key", Options[call]{Key: keyOf}, call{"k", 1}, call{"k", 1}, true},
		{"ByKey same key", Options[call]{Running: ByKey, Key: keyOf}, call{"k", 1}, call{"k", 2}, false},
		{"ByKey other key", Options[call]{Running: ByKey, Key: keyOf}, call{"k", 1}, call{"j", 1}, true},
		{"ByTask", Options[call]{Running: ByTask}, call{"k", 1}, call{"j", 2}, false},
		{"ByArguments equal", Options[call]{Running: ByArguments}, call{"k", 1}, call{"k", 1}, false},
		{"ByArguments different", Options[call]{Running: ByArguments}, call{"k", 1}, call{"k", 2}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScheduler(t, Config{})
				p := newProbe()
				p.gate = make(chan struct{})
				task := newTask(t, s, "t", p, tt.opts)

				a, err := task.Submit(context.Background(), tt.a)
				require.NoError(t, err)
				b, err := task.Submit(context.Background(), tt.b)
				require.NoError(t, err)
				synctest.Wait()

				if tt.parallel {
					require.Equal(t, []State{Running, Running}, states(a, b))
					require.Equal(t, 2, p.running())
				} else {
					require.Equal(t, []State{Running, Queued}, states(a, b))
					require.Equal(t, 1, p.running())
					require.Equal(t, a.Key(), b.Key(), "both under one key")
				}
				close(p.gate)
				for _, inv := range []*Invocation[string]{a, b} {
					_, err := inv.Wait(context.Background())
					require.NoError(t, err)
				}
				_, maxPerKey, _, _ := p.snapshot()
				if !tt.parallel {
					require.Equal(t, 1, maxPerKey)
				}
			})
		})
	}
}

func TestInvocationKey(t *testing.T) {
	tests := []struct {
		name string
		opts Options[call]
		want string
	}{
		{"ByKey", Options[call]{Running: ByKey, Key: keyOf}, "acme"},
		{"ByTask", Options[call]{Running: ByTask}, "t"},
		{"ByArguments", Options[call]{Running: ByArguments}, `scheduler_test.call{Key:"acme", N:7}`},
		{"Disabled with Key", Options[call]{Key: keyOf}, "acme"},
		{"Disabled", Options[call]{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScheduler(t, Config{})
			task := newTask(t, s, "t", newProbe(), tt.opts)
			inv := submit(t, task, "acme", 7)
			require.Equal(t, tt.want, inv.Key())
			_, err := wait(t, inv)
			require.NoError(t, err)
		})
	}
}

// MaxParallel slots, handed out in the order keys became ready.
func TestGlobalCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 2})
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf})
		var invs []*Invocation[string]
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			invs = append(invs, submit(t, task, k, 0))
		}
		synctest.Wait()
		require.Equal(t, []State{Running, Running, Pending, Pending, Pending}, states(invs...))
		st := s.Stats()
		require.Equal(t, 2, st.Running)
		require.Equal(t, 3, st.Pending)
		require.Equal(t, 5, st.Actors)

		p.gate <- struct{}{} // one finishes: the oldest Pending takes its slot
		synctest.Wait()
		_, _, _, started := p.snapshot()
		require.Equal(t, "c", started[2].Key)
		require.Equal(t, 2, p.running())

		close(p.gate)
		for _, inv := range invs {
			_, err := wait(t, inv)
			require.NoError(t, err)
		}
		_, _, maxGlobal, _ := p.snapshot()
		require.Equal(t, 2, maxGlobal)
	})
}

func TestMaxParallelDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "t", p, Options[call]{})
		for i := range 20 {
			submit(t, task, "k", i)
		}
		synctest.Wait()
		require.Equal(t, DefaultMaxParallel, p.running())
		require.Equal(t, 20-DefaultMaxParallel, s.Stats().Pending)
		close(p.gate)
	})
}

func TestWaitIsFIFOPerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 4})
		p := newProbe()
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf})
		var invs []*Invocation[string]
		for i := range 50 {
			invs = append(invs, submit(t, task, []string{"a", "b"}[i%2], i))
		}
		for _, inv := range invs {
			_, err := wait(t, inv)
			require.NoError(t, err)
		}
		_, _, _, started := p.snapshot()
		last := map[string]int{}
		for _, c := range started {
			if n, ok := last[c.Key]; ok {
				require.Greater(t, c.N, n, "key %s ran out of order", c.Key)
			}
			last[c.Key] = c.N
		}
	})
}

func TestDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{MaxParallel: 1})
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf, OnBusy: Drop})

		a := submit(t, task, "a", 1)
		synctest.Wait()
		b := submit(t, task, "b", 1) // b's key is free, but no slot: Pending
		synctest.Wait()
		require.Equal(t, []State{Running, Pending}, states(a, b))

		a2 := submit(t, task, "a", 2) // a is Running: busy
		b2 := submit(t, task, "b", 2) // b is Pending: busy too
		synctest.Wait()
		require.Equal(t, []State{Dropped, Dropped}, states(a2, b2))
		for _, inv := range []*Invocation[string]{a2, b2} {
			out, err := wait(t, inv)
			require.ErrorIs(t, err, ErrDropped)
			require.Empty(t, out)
		}
		require.EqualValues(t, 2, s.Stats().Dropped)

		close(p.gate)
		for _, inv := range []*Invocation[string]{a, b} {
			_, err := wait(t, inv)
			require.NoError(t, err)
		}
		a3 := submit(t, task, "a", 3) // free again
		_, err := wait(t, a3)
		require.NoError(t, err)
		runs, _, _, _ := p.snapshot()
		require.Equal(t, 3, runs)
	})
}

func TestDedupe(t *testing.T) {
	tests := []struct {
		name      string
		mode      Dedupe
		absorbRun bool // a running invocation absorbs submissions
	}{
		{"UntilStart", UntilStart, false},
		{"UntilDone", UntilDone, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScheduler(t, Config{})
				p := newProbe()
				p.gate = make(chan struct{})
				task := newTask(t, s, "t", p, Options[call]{
					Running: ByKey, Registration: ByKey, Key: keyOf, Dedupe: tt.mode,
				})
				first := submit(t, task, "a", 1)
				synctest.Wait()
				require.Equal(t, Running, first.State())

				second := submit(t, task, "a", 2) // its args differ; the key matches
				third := submit(t, task, "a", 3)
				other := submit(t, task, "b", 1)
				require.NotSame(t, first, other)
				if tt.absorbRun {
					require.Same(t, first, second)
				} else {
					require.NotSame(t, first, second)
				}
				require.Same(t, second, third)

				close(p.gate)
				for _, inv := range []*Invocation[string]{first, second, third, other} {
					_, err := wait(t, inv)
					require.NoError(t, err)
				}
				runs, _, _, started := p.snapshot()
				st := s.Stats()
				require.EqualValues(t, 4, st.Submitted)
				if tt.absorbRun {
					require.Equal(t, 2, runs)
					require.EqualValues(t, 2, st.Deduped)
				} else {
					require.Equal(t, 3, runs)
					require.EqualValues(t, 1, st.Deduped)
					// The follow-up run has the arguments it was created with.
					require.Contains(t, started, call{"a", 2})
					require.NotContains(t, started, call{"a", 3})
				}

				// Once final, an invocation absorbs nothing.
				again := submit(t, task, "a", 4)
				require.NotSame(t, first, again)
				require.NotSame(t, second, again)
				_, err := wait(t, again)
				require.NoError(t, err)
			})
		})
	}
}

func TestDedupeByArgumentsAndByTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		p := newProbe()
		p.gate = make(chan struct{})
		byArgs := newTask(t, s, "args", p, Options[call]{Running: ByTask, Registration: ByArguments})
		byTask := newTask(t, s, "task", p, Options[call]{Running: ByTask, Registration: ByTask})

		busy := submit(t, byArgs, "x", 0) // runs and holds the task's one slot
		synctest.Wait()
		a1, a2, b := submit(t, byArgs, "a", 1), submit(t, byArgs, "a", 1), submit(t, byArgs, "a", 2)
		require.Same(t, a1, a2)
		require.NotSame(t, a1, b)

		t1, t2 := submit(t, byTask, "a", 1), submit(t, byTask, "b", 2)
		require.Same(t, t1, t2)
		close(p.gate)
		for _, inv := range []*Invocation[string]{busy, a1, b, t1} {
			_, err := wait(t, inv)
			require.NoError(t, err)
		}
	})
}

func TestTaskError(t *testing.T) {
	s := newScheduler(t, Config{})
	p := newProbe()
	boom := errorString("boom")
	p.fail = func(c call) error {
		if c.N == 1 {
			return boom
		}
		return nil
	}
	task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf})
	bad, good := submit(t, task, "a", 1), submit(t, task, "a", 2)
	_, err := wait(t, bad)
	require.ErrorIs(t, err, boom)
	require.Equal(t, Failed, bad.State())
	out, err := wait(t, good)
	require.NoError(t, err)
	require.Equal(t, "a-done", out)
	require.Equal(t, Succeeded, good.State())
	st := s.Stats()
	require.EqualValues(t, 1, st.Failed)
	require.EqualValues(t, 1, st.Succeeded)
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestWaitContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScheduler(t, Config{})
		p := newProbe()
		p.gate = make(chan struct{})
		task := newTask(t, s, "t", p, Options[call]{})
		inv := submit(t, task, "a", 1)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := inv.Wait(ctx)
		require.ErrorIs(t, err, context.Canceled)
		select {
		case <-inv.Done():
			t.Fatal("Done closed while running")
		default:
		}
		close(p.gate)
		<-inv.Done()
		require.Equal(t, Succeeded, inv.State())
		require.Equal(t, inv.Done(), inv.Done(), "same channel on every call")
	})
}

func TestStatesAndIDs(t *testing.T) {
	require.Equal(t, "Queued", Queued.String())
	require.Equal(t, "Canceled", Canceled.String())
	require.Equal(t, "State(99)", State(99).String())
	for st, final := range map[State]bool{
		Queued: false, Pending: false, Running: false,
		Succeeded: true, Failed: true, Dropped: true, Expired: true, Canceled: true, State(99): false,
	} {
		require.Equal(t, final, st.Final(), st.String())
	}
	require.Equal(t, "ByKey", ByKey.String())
	require.Equal(t, "Drop", Drop.String())
	require.Equal(t, "UntilDone", UntilDone.String())
	require.Equal(t, "Scope(9)", Scope(9).String())

	s := newScheduler(t, Config{})
	task := newTask(t, s, "t", newProbe(), Options[call]{})
	a, b := submit(t, task, "a", 1), submit(t, task, "a", 2)
	require.Less(t, a.ID(), b.ID())
	for _, inv := range []*Invocation[string]{a, b} {
		_, err := wait(t, inv)
		require.NoError(t, err)
	}
}

// Once Wait has returned, the key is free: a Drop task submitted and waited
// for one call at a time never finds its key busy.
func TestKeyFreeAfterWait(t *testing.T) {
	s := newScheduler(t, Config{})
	task := newTask(t, s, "t", newProbe(), Options[call]{Running: ByKey, Key: keyOf, OnBusy: Drop})
	for i := range 5000 {
		_, err := wait(t, submit(t, task, "a", i))
		require.NoError(t, err, "call %d", i)
	}
	require.Zero(t, s.Stats().Dropped)
}
