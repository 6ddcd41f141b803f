package scheduler_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

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
