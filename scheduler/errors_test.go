package scheduler_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	. "github.com/perkey/perkey/scheduler"
)

// Every error of NewTask and of a task's Submit names the task and the
// option (or argument) at fault, and still matches its sentinel.
func TestErrorsNameTaskAndOption(t *testing.T) {
	fn := func(context.Context, call) (string, error) { return "", nil }
	newT := func(s *Scheduler, opts Options[call]) error {
		_, err := NewTask(s, "x", fn, opts)
		return err
	}
	submitT := func(s *Scheduler, opts Options[call], ctx context.Context, c call) error {
		task, err := NewTask(s, "x", fn, opts)
		require.NoError(t, err)
		_, err = task.Submit(ctx, c)
		return err
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		do   func(s *Scheduler) error
		want []string // substrings of the message, after `task "x": `
		errs []error
	}{
		{"Running ByKey without Key", func(s *Scheduler) error { return newT(s, Options[call]{Running: ByKey}) },
			[]string{"Running ByKey", "Key"}, []error{ErrNoKeyFunc, ErrInvalid}},
		{"Registration ByKey without Key", func(s *Scheduler) error { return newT(s, Options[call]{Registration: ByKey}) },
			[]string{"Registration ByKey", "Key"}, []error{ErrNoKeyFunc, ErrInvalid}},
		{"Running out of range", func(s *Scheduler) error { return newT(s, Options[call]{Running: Scope(9)}) },
			[]string{"Running", "Scope(9)"}, []error{ErrBadOption}},
		{"Registration out of range", func(s *Scheduler) error { return newT(s, Options[call]{Registration: Scope(9)}) },
			[]string{"Registration", "Scope(9)"}, []error{ErrBadOption}},
		{"OnBusy out of range", func(s *Scheduler) error { return newT(s, Options[call]{Running: ByTask, OnBusy: Policy(9)}) },
			[]string{"OnBusy", "Policy(9)"}, []error{ErrBadOption}},
		{"Dedupe out of range", func(s *Scheduler) error { return newT(s, Options[call]{Registration: ByTask, Dedupe: Dedupe(9)}) },
			[]string{"Dedupe", "Dedupe(9)"}, []error{ErrBadOption}},
		{"negative MaxWait", func(s *Scheduler) error { return newT(s, Options[call]{MaxWait: -1}) },
			[]string{"MaxWait", "negative"}, []error{ErrBadOption}},
		{"Drop without Running", func(s *Scheduler) error { return newT(s, Options[call]{OnBusy: Drop}) },
			[]string{"OnBusy Drop", "Running"}, []error{ErrBadOption}},
		{"Replace without Running", func(s *Scheduler) error { return newT(s, Options[call]{OnBusy: Replace}) },
			[]string{"OnBusy Replace", "Running"}, []error{ErrBadOption}},
		{"negative Limit", func(s *Scheduler) error { return newT(s, Options[call]{Running: ByTask, Limit: -1}) },
			[]string{"Limit", "negative"}, []error{ErrBadOption}},
		{"Limit without Running", func(s *Scheduler) error { return newT(s, Options[call]{Limit: 2}) },
			[]string{"Limit", "Running"}, []error{ErrBadOption}},
		{"negative Rate", func(s *Scheduler) error { return newT(s, Options[call]{Running: ByTask, Rate: -1}) },
			[]string{"Rate", "negative"}, []error{ErrBadOption}},
		{"Rate without Running", func(s *Scheduler) error { return newT(s, Options[call]{Rate: 1}) },
			[]string{"Rate", "Running"}, []error{ErrBadOption}},
		{"negative Burst", func(s *Scheduler) error { return newT(s, Options[call]{Running: ByTask, Rate: 1, Burst: -1}) },
			[]string{"Burst", "negative"}, []error{ErrBadOption}},
		{"Burst without Rate", func(s *Scheduler) error { return newT(s, Options[call]{Running: ByTask, Burst: 2}) },
			[]string{"Burst", "Rate"}, []error{ErrBadOption}},
		{"Burst with rate.Inf", func(s *Scheduler) error { return newT(s, Options[call]{Running: ByTask, Rate: rate.Inf, Burst: 2}) },
			[]string{"Burst", "Rate"}, []error{ErrBadOption}},
		{"Group without ByKey", func(s *Scheduler) error { return newT(s, Options[call]{Running: ByTask, Group: "g"}) },
			[]string{`Group "g"`, "Running ByKey"}, []error{ErrBadOption}},
		{"Group with other settings", func(s *Scheduler) error {
			_, err := NewTask(s, "first", fn, Options[call]{Running: ByKey, Key: keyOf, Group: "g", Limit: 2})
			require.NoError(t, err)
			return newT(s, Options[call]{Running: ByKey, Key: keyOf, Group: "g"})
		}, []string{`Group "g"`, "Limit"}, []error{ErrBadOption}},
		{"UntilDone without Registration", func(s *Scheduler) error { return newT(s, Options[call]{Dedupe: UntilDone}) },
			[]string{"Dedupe UntilDone", "Registration"}, []error{ErrBadOption}},
		{"negative MaxQueued", func(s *Scheduler) error { return newT(s, Options[call]{MaxQueued: -1}) },
			[]string{"MaxQueued", "negative"}, []error{ErrBadOption}},
		{"OnFull out of range", func(s *Scheduler) error { return newT(s, Options[call]{MaxQueued: 1, OnFull: FullPolicy(9)}) },
			[]string{"OnFull", "FullPolicy(9)"}, []error{ErrBadOption}},
		{"OnFull Reject without MaxQueued", func(s *Scheduler) error { return newT(s, Options[call]{OnFull: Reject}) },
			[]string{"OnFull Reject", "MaxQueued"}, []error{ErrBadOption}},
		{"Group with another MaxQueued", func(s *Scheduler) error {
			_, err := NewTask(s, "first", fn, Options[call]{Running: ByKey, Key: keyOf, Group: "g", MaxQueued: 2})
			require.NoError(t, err)
			return newT(s, Options[call]{Running: ByKey, Key: keyOf, Group: "g", MaxQueued: 3})
		}, []string{`Group "g"`, "MaxQueued 2", "MaxQueued 3"}, []error{ErrBadOption}},
		{"Submit on a full key", func(*Scheduler) error {
			return fillUp(t, Config{}, Options[call]{Running: ByKey, Key: keyOf, MaxQueued: 1, OnFull: Reject})
		}, []string{"MaxQueued 1", `key "a"`}, []error{ErrFull}},
		{"Submit on a full scheduler", func(*Scheduler) error {
			return fillUp(t, Config{MaxQueued: 1, OnFull: Reject}, Options[call]{})
		}, []string{"Config.MaxQueued 1"}, []error{ErrFull}},
		{"nil func", func(s *Scheduler) error {
			_, err := NewTask[call, string](s, "x", nil, Options[call]{})
			return err
		}, []string{"func"}, []error{ErrNilFunc, ErrInvalid}},
		{"nil scheduler", func(*Scheduler) error {
			_, err := NewTask(nil, "x", fn, Options[call]{})
			return err
		}, []string{"scheduler"}, []error{ErrNilScheduler, ErrInvalid}},
		{"duplicate name", func(s *Scheduler) error {
			require.NoError(t, newT(s, Options[call]{}))
			return newT(s, Options[call]{})
		}, []string{"name"}, []error{ErrDuplicateName, ErrInvalid}},
		{"NewTask after Close", func(s *Scheduler) error {
			require.NoError(t, s.Close(context.Background()))
			return newT(s, Options[call]{})
		}, []string{"closed"}, []error{ErrClosed}},
		{"Submit nil ctx", func(s *Scheduler) error {
			return submitT(s, Options[call]{}, nil, call{"a", 1}) //nolint:staticcheck // bad input
		}, []string{"ctx"}, []error{ErrNilContext, ErrInvalid}},
		{"Submit ended ctx", func(s *Scheduler) error {
			return submitT(s, Options[call]{}, ended, call{"a", 1})
		}, []string{"ctx"}, []error{ErrCanceled, context.Canceled}},
		{"Submit empty key", func(s *Scheduler) error {
			return submitT(s, Options[call]{Running: ByKey, Key: keyOf}, context.Background(), call{"", 1})
		}, []string{"Key", "empty"}, []error{ErrEmptyKey, ErrInvalid}},
		{"Submit Key panics", func(s *Scheduler) error {
			return submitT(s, Options[call]{Running: ByKey, Key: func(call) string { panic("boom") }}, context.Background(), call{"a", 1})
		}, []string{"Key", "boom"}, []error{ErrPanic}},
		{"Submit Label panics", func(s *Scheduler) error {
			defer s.Subscribe(func(Event) {})()
			return submitT(s, Options[call]{Label: func(call) string { panic("boom") }}, context.Background(), call{"a", 1})
		}, []string{"Label", "boom"}, []error{ErrPanic}},
		{"Submit after Close", func(s *Scheduler) error {
			task, err := NewTask(s, "x", fn, Options[call]{})
			require.NoError(t, err)
			require.NoError(t, s.Close(context.Background()))
			_, err = task.Submit(context.Background(), call{"a", 1})
			return err
		}, []string{"closed"}, []error{ErrClosed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScheduler(t, Config{})
			err := tt.do(s)
			require.Error(t, err)
			t.Log(err)
			require.Contains(t, err.Error(), `task "x": `)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			for _, e := range tt.errs {
				require.ErrorIs(t, err, e)
			}
		})
	}
}

// New's errors name the Config field at fault.
func TestConfigErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{MaxParallel: -1}, "Config.MaxParallel -1 is negative"},
		{Config{CloseGrace: -1}, "Config.CloseGrace -1ns is negative"},
		{Config{MaxQueued: -1}, "Config.MaxQueued -1 is negative"},
		{Config{MaxQueued: 1, OnFull: FullPolicy(7)}, "Config.OnFull FullPolicy(7)"},
		{Config{OnFull: Reject}, "Config.OnFull Reject needs a Config.MaxQueued"},
	} {
		_, err := New(tc.cfg)
		require.ErrorIs(t, err, ErrBadOption)
		require.ErrorIs(t, err, ErrInvalid)
		require.ErrorContains(t, err, tc.want)
	}
	require.Equal(t, "Block", Block.String())
	require.Equal(t, "Reject", Reject.String())
	require.Equal(t, "FullPolicy(9)", FullPolicy(9).String())
}

// fillUp makes a task named "x" with opts on a scheduler of cfg with one
// slot, runs one invocation, queues one more, and returns the error of a
// third Submit.
func fillUp(t *testing.T, cfg Config, opts Options[call]) (err error) {
	synctest.Test(t, func(t *testing.T) {
		cfg.MaxParallel = 1
		s := newScheduler(t, cfg)
		gate := make(chan struct{})
		defer close(gate)
		task, err2 := NewTask(s, "x", func(context.Context, call) (string, error) { <-gate; return "", nil }, opts)
		require.NoError(t, err2)
		submit(t, task, "a", 1)
		synctest.Wait() // it runs: it no longer waits
		submit(t, task, "a", 2)
		_, err = task.Submit(context.Background(), call{"a", 3})
	})
	return err
}
