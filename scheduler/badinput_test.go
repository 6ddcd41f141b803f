package scheduler_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	. "github.com/perkey/perkey/scheduler"
)

// Every misuse gets a clear error, creates nothing and panics nowhere.
func TestBadInput(t *testing.T) {
	fn := func(context.Context, call) (string, error) { return "", nil }
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name string
		do   func(s *Scheduler, task *Task[call, string]) error
		want []error // every one must match with errors.Is
	}{
		{"New MaxParallel < 0", func(*Scheduler, *Task[call, string]) error {
			_, err := New(Config{MaxParallel: -1})
			return err
		}, []error{ErrBadOption, ErrInvalid}},
		{"New CloseGrace < 0", func(*Scheduler, *Task[call, string]) error {
			_, err := New(Config{CloseGrace: -1})
			return err
		}, []error{ErrBadOption}},
		{"NewTask nil scheduler", func(*Scheduler, *Task[call, string]) error {
			_, err := NewTask(nil, "t", fn, Options[call]{})
			return err
		}, []error{ErrNilScheduler, ErrInvalid}},
		{"NewTask nil func", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask[call, string](s, "t", nil, Options[call]{})
			return err
		}, []error{ErrNilFunc, ErrInvalid}},
		{"NewTask empty name", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "", fn, Options[call]{})
			return err
		}, []error{ErrEmptyName, ErrInvalid}},
		{"NewTask duplicate name", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "existing", fn, Options[call]{})
			return err
		}, []error{ErrDuplicateName, ErrInvalid}},
		{"NewTask Running ByKey without Key", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "t", fn, Options[call]{Running: ByKey})
			return err
		}, []error{ErrNoKeyFunc, ErrInvalid}},
		{"NewTask Registration ByKey without Key", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "t", fn, Options[call]{Registration: ByKey})
			return err
		}, []error{ErrNoKeyFunc}},
		{"NewTask Running out of range", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "t", fn, Options[call]{Running: Scope(4)})
			return err
		}, []error{ErrBadOption}},
		{"NewTask Registration out of range", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "t", fn, Options[call]{Registration: Scope(200)})
			return err
		}, []error{ErrBadOption}},
		{"NewTask OnBusy out of range", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "t", fn, Options[call]{Running: ByTask, OnBusy: Policy(7)})
			return err
		}, []error{ErrBadOption}},
		{"NewTask Dedupe out of range", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "t", fn, Options[call]{Registration: ByTask, Dedupe: Dedupe(2)})
			return err
		}, []error{ErrBadOption}},
		{"NewTask negative MaxWait", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "t", fn, Options[call]{MaxWait: -1})
			return err
		}, []error{ErrBadOption}},
		{"NewTask Drop without Running", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "t", fn, Options[call]{OnBusy: Drop})
			return err
		}, []error{ErrBadOption}},
		{"NewTask UntilDone without Registration", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "t", fn, Options[call]{Dedupe: UntilDone})
			return err
		}, []error{ErrBadOption}},
		{"Submit nil ctx", func(s *Scheduler, task *Task[call, string]) error {
			_, err := task.Submit(nil, call{"a", 1}) //nolint:staticcheck // testing bad input
			return err
		}, []error{ErrNilContext, ErrInvalid}},
		{"Submit cancelled ctx", func(s *Scheduler, task *Task[call, string]) error {
			_, err := task.Submit(cancelled, call{"a", 1})
			return err
		}, []error{ErrCanceled, context.Canceled}},
		{"Submit empty key", func(s *Scheduler, task *Task[call, string]) error {
			_, err := task.Submit(context.Background(), call{"", 1})
			return err
		}, []error{ErrEmptyKey, ErrInvalid}},
		{"Submit Key panics", func(s *Scheduler, task *Task[call, string]) error {
			panicky, err := NewTask(s, "panicky", fn, Options[call]{Running: ByKey, Key: func(call) string { panic("key") }})
			require.NoError(t, err)
			_, err = panicky.Submit(context.Background(), call{"a", 1})
			return err
		}, []error{ErrPanic}},
		{"Submit nil task", func(*Scheduler, *Task[call, string]) error {
			var none *Task[call, string]
			_, err := none.Submit(context.Background(), call{"a", 1})
			return err
		}, []error{ErrInvalid}},
		{"Submit after Close", func(s *Scheduler, task *Task[call, string]) error {
			require.NoError(t, s.Close(context.Background()))
			_, err := task.Submit(context.Background(), call{"a", 1})
			return err
		}, []error{ErrClosed}},
		{"NewTask after Close", func(s *Scheduler, task *Task[call, string]) error {
			require.NoError(t, s.Close(context.Background()))
			_, err := NewTask(s, "late", fn, Options[call]{})
			return err
		}, []error{ErrClosed}},
		{"Wait nil ctx", func(s *Scheduler, task *Task[call, string]) error {
			inv, err := task.Submit(context.Background(), call{"a", 1})
			require.NoError(t, err)
			_, err = inv.Wait(nil) //nolint:staticcheck // testing bad input
			_, _ = inv.Wait(context.Background())
			return err
		}, []error{ErrNilContext}},
		{"Wait nil invocation", func(*Scheduler, *Task[call, string]) error {
			var inv *Invocation[string]
			require.Nil(t, inv.Done())
			require.Zero(t, inv.ID())
			require.Empty(t, inv.Key())
			_, err := inv.Wait(context.Background())
			return err
		}, []error{ErrNilInvocation, ErrInvalid}},
		{"Close nil ctx", func(s *Scheduler, task *Task[call, string]) error {
			return s.Close(nil) //nolint:staticcheck // testing bad input
		}, []error{ErrNilContext}},
		{"Submit ctx past its deadline", func(s *Scheduler, task *Task[call, string]) error {
			ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
			defer cancel()
			_, err := task.Submit(ctx, call{"a", 1})
			return err
		}, []error{ErrCanceled, context.DeadlineExceeded}},
		{"Submit empty key, Registration only", func(s *Scheduler, task *Task[call, string]) error {
			reg, err := NewTask(s, "reg", fn, Options[call]{Registration: ByKey, Key: keyOf})
			require.NoError(t, err)
			_, err = reg.Submit(context.Background(), call{"", 1})
			return err
		}, []error{ErrEmptyKey}},
		{"Submit empty key, Key only labels", func(s *Scheduler, task *Task[call, string]) error {
			label, err := NewTask(s, "label", fn, Options[call]{Key: keyOf})
			require.NoError(t, err)
			_, err = label.Submit(context.Background(), call{"", 1})
			return err
		}, []error{ErrEmptyKey}},
		{"Submit Key panics, Registration only", func(s *Scheduler, task *Task[call, string]) error {
			panicky, err := NewTask(s, "panicky", fn, Options[call]{Registration: ByKey, Key: func(call) string { panic("key") }})
			require.NoError(t, err)
			_, err = panicky.Submit(context.Background(), call{"a", 1})
			return err
		}, []error{ErrPanic}},
		// Label runs only while someone listens; its panic is an error, as
		// Key's is.
		{"Submit Label panics", func(s *Scheduler, task *Task[call, string]) error {
			labelled, err := NewTask(s, "labelled", fn, Options[call]{Running: ByKey, Key: keyOf, Label: func(call) string { panic("label") }})
			require.NoError(t, err)
			defer s.Subscribe(func(Event) {})()
			_, err = labelled.Submit(context.Background(), call{"a", 1})
			return err
		}, []error{ErrPanic}},
		{"NewTask Group with another Rate", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "g1", fn, Options[call]{Running: ByKey, Key: keyOf, Group: "g", Rate: 1})
			require.NoError(t, err)
			_, err = NewTask(s, "g2", fn, Options[call]{Running: ByKey, Key: keyOf, Group: "g", Rate: 2})
			return err
		}, []error{ErrBadOption}},
		{"NewTask Group with another Burst", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "g1", fn, Options[call]{Running: ByKey, Key: keyOf, Group: "g", Rate: 1, Burst: 2})
			require.NoError(t, err)
			_, err = NewTask(s, "g2", fn, Options[call]{Running: ByKey, Key: keyOf, Group: "g", Rate: 1, Burst: 3})
			return err
		}, []error{ErrBadOption}},
		{"NewTask Burst with rate.Inf", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "t", fn, Options[call]{Running: ByKey, Key: keyOf, Rate: rate.Inf, Burst: 2})
			return err
		}, []error{ErrBadOption}},
		{"NewTask failed: the name stays free", func(s *Scheduler, task *Task[call, string]) error {
			_, err := NewTask(s, "t", fn, Options[call]{Running: ByKey}) // no Key
			require.ErrorIs(t, err, ErrNoKeyFunc)
			_, err = NewTask(s, "t", fn, Options[call]{})
			require.NoError(t, err)
			_, err = NewTask(s, "t", fn, Options[call]{})
			return err
		}, []error{ErrDuplicateName}},
		// A nil *Scheduler refuses, and does not panic.
		{"Close nil scheduler", func(*Scheduler, *Task[call, string]) error {
			var none *Scheduler
			return none.Close(context.Background())
		}, []error{ErrInvalid}},
		// A Scheduler not made by New refuses: nothing would ever close it.
		{"NewTask zero Scheduler", func(*Scheduler, *Task[call, string]) error {
			_, err := NewTask(&Scheduler{}, "t", fn, Options[call]{})
			return err
		}, []error{ErrInvalid}},
		{"Close zero Scheduler", func(*Scheduler, *Task[call, string]) error {
			return withoutHanging(t, func() error { return new(Scheduler).Close(context.Background()) })
		}, []error{ErrInvalid}},
		{"Close zero Scheduler, ended ctx", func(*Scheduler, *Task[call, string]) error {
			return withoutHanging(t, func() error { return new(Scheduler).Close(cancelled) })
		}, []error{ErrInvalid}},
		// A Task not made by NewTask refuses.
		{"Submit zero Task", func(*Scheduler, *Task[call, string]) error {
			_, err := new(Task[call, string]).Submit(context.Background(), call{"a", 1})
			return err
		}, []error{ErrInvalid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScheduler(t, Config{})
			task, err := NewTask(s, "existing", fn, Options[call]{Running: ByKey, Key: keyOf})
			require.NoError(t, err)
			before := s.Stats().Submitted

			var got error
			require.NotPanics(t, func() { got = tt.do(s, task) })
			require.Error(t, got)
			for _, want := range tt.want {
				require.ErrorIs(t, got, want)
			}
			t.Logf("%v", got)
			if tt.name != "Wait nil ctx" {
				require.Equal(t, before, s.Stats().Submitted, "nothing was created")
			}
		})
	}
}

// withoutHanging runs f, and fails the test if it has not returned after a
// second (a guard against a hang, not a synchronization).
func withoutHanging(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Second):
		t.Errorf("still blocked after a second (its goroutine is left behind)")
		return fmt.Errorf("hung")
	}
}

// Misuse whose documented answer is a zero value rather than an error (or
// that has no error to return): none panics, none hangs.
func TestBadInputZeroResults(t *testing.T) {
	fn := func(context.Context, call) (string, error) { return "", nil }
	tests := []struct {
		name  string
		check func(t *testing.T, s *Scheduler)
	}{
		// A nil *Scheduler answers with zero values.
		{"nil Scheduler Stats", func(t *testing.T, _ *Scheduler) {
			var none *Scheduler
			require.Equal(t, Stats{}, none.Stats())
		}},
		{"nil Scheduler MaxParallel", func(t *testing.T, _ *Scheduler) {
			var none *Scheduler
			require.Zero(t, none.MaxParallel())
		}},
		{"nil Scheduler Subscribe", func(t *testing.T, _ *Scheduler) {
			var none *Scheduler
			none.Subscribe(func(Event) {})()
		}},
		{"nil Scheduler Keys", func(t *testing.T, _ *Scheduler) {
			var none *Scheduler
			require.Empty(t, none.Keys(0))
		}},
		{"nil Scheduler Key", func(t *testing.T, _ *Scheduler) {
			var none *Scheduler
			require.Equal(t, KeyStats{Task: "t", Key: "k"}, none.Key("t", "k"))
		}},
		// A Scheduler not made by New answers with zero values, at once.
		{"zero Scheduler", func(t *testing.T, _ *Scheduler) {
			z := new(Scheduler)
			require.Equal(t, Stats{}, z.Stats())
			require.Zero(t, z.MaxParallel())
			z.Subscribe(func(Event) {})()
			require.Equal(t, KeyStats{Task: "t", Key: "k"}, z.Key("t", "k"))
			_ = withoutHanging(t, func() error {
				require.Empty(t, z.Keys(0))
				return nil
			})
		}},
		// A nil *Task has no name.
		{"nil Task Name", func(t *testing.T, _ *Scheduler) {
			var none *Task[call, string]
			require.Empty(t, none.Name())
		}},
		{"zero Task Name", func(t *testing.T, _ *Scheduler) {
			require.Empty(t, new(Task[call, string]).Name())
		}},
		{"Subscribe nil", func(t *testing.T, s *Scheduler) {
			cancel := s.Subscribe(nil)
			require.NotNil(t, cancel)
			cancel()
			cancel()
		}},
		{"Subscribe after Close", func(t *testing.T, s *Scheduler) {
			require.NoError(t, s.Close(context.Background()))
			called := false
			cancel := s.Subscribe(func(Event) { called = true })
			_, err := NewTask(s, "late", fn, Options[call]{})
			require.ErrorIs(t, err, ErrClosed)
			cancel()
			require.False(t, called)
		}},
		{"Keys negative", func(t *testing.T, _ *Scheduler) {
			synctest.Test(t, func(t *testing.T) {
				s := newScheduler(t, Config{})
				gate := make(chan struct{})
				defer close(gate)
				task, err := NewTask(s, "held", func(context.Context, call) (string, error) { <-gate; return "", nil },
					Options[call]{Running: ByKey, Key: keyOf})
				require.NoError(t, err)
				for _, k := range []string{"a", "b", "a"} {
					_, err := task.Submit(context.Background(), call{k, 0})
					require.NoError(t, err)
				}
				synctest.Wait()
				all := s.Keys(0)
				require.Len(t, all, 2)
				require.Equal(t, all, s.Keys(-1))
				require.Equal(t, all, s.Keys(math.MinInt))
				require.Equal(t, all[:1], s.Keys(1))
			})
		}},
		{"Key of an unknown task, of a task without Running", func(t *testing.T, s *Scheduler) {
			plain, err := NewTask(s, "plain", fn, Options[call]{Key: keyOf})
			require.NoError(t, err)
			_, err = plain.Submit(context.Background(), call{"a", 0})
			require.NoError(t, err)
			require.Equal(t, KeyStats{Task: "nope", Key: "a"}, s.Key("nope", "a"))
			require.Equal(t, KeyStats{Task: "plain", Key: "a"}, s.Key("plain", "a"))
			require.Equal(t, KeyStats{Task: "", Key: ""}, s.Key("", ""))
		}},
		{"nil Invocation", func(t *testing.T, _ *Scheduler) {
			var none *Invocation[string]
			require.Equal(t, Queued, none.State())
			require.Nil(t, none.Done())
			require.Zero(t, none.ID())
			require.Empty(t, none.Key())
		}},
		{"zero Invocation", func(t *testing.T, _ *Scheduler) {
			z := new(Invocation[string])
			require.Equal(t, Queued, z.State())
			require.Zero(t, z.ID())
			require.Nil(t, z.Done())
			_, err := z.Wait(context.Background()) // not from Submit: refused at once
			require.ErrorIs(t, err, ErrNilInvocation)
		}},
		{"out-of-range enums", func(t *testing.T, _ *Scheduler) {
			require.Equal(t, "Scope(200)", Scope(200).String())
			require.Equal(t, "Policy(9)", Policy(9).String())
			require.Equal(t, "Dedupe(9)", Dedupe(9).String())
			require.Equal(t, "State(100)", State(100).String())
			require.False(t, State(100).Final())
			require.Zero(t, KeyStats{}.Busy())
		}},
		{"huge MaxWait and MaxParallel", func(t *testing.T, _ *Scheduler) {
			s, err := New(Config{MaxParallel: math.MaxInt, CloseGrace: math.MaxInt64})
			require.NoError(t, err)
			require.Equal(t, math.MaxInt, s.MaxParallel())
			task, err := NewTask(s, "t", fn, Options[call]{Running: ByKey, Key: keyOf, MaxWait: math.MaxInt64, Rate: math.MaxFloat64})
			require.NoError(t, err)
			inv, err := task.Submit(context.Background(), call{"a", 0})
			require.NoError(t, err)
			_, err = inv.Wait(context.Background())
			require.NoError(t, err, "a MaxWait that overflows the clock must not expire at once")
			require.NoError(t, s.Close(context.Background()))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScheduler(t, Config{})
			require.NotPanics(t, func() { tt.check(t, s) })
		})
	}
}
