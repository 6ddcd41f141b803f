package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// faultArg is the argument of TestTaskFaultsUnderClose's task: the
// invocations with Fault set run the fault, the others return at once.
type faultArg struct {
	Key   string
	Fault bool
}

// A task fault: what the task does, and what its invocation must end with
// once the fault has happened (after its gate opens or its ctx ends).
type taskFault struct {
	name string
	// run is the faulty task body; gate opens when the test releases it.
	run func(ctx context.Context, gate <-chan struct{}) (int, error)
	// gated: the fault happens when the gate opens (the others wait for
	// their ctx alone).
	gated bool
	// honoursCtx: the fault also happens when the task's ctx ends.
	honoursCtx bool
	want       State
	wantErr    []error
	// underAbort is what it ends with when Close's deadline cancels it.
	underAbort []error
}

var errFault = errors.New("task failed on purpose")

var taskFaults = []taskFault{
	{
		name: "returns an error",
		run: func(ctx context.Context, gate <-chan struct{}) (int, error) {
			select {
			case <-gate:
			case <-ctx.Done():
			}
			return 0, errFault
		},
		gated: true, honoursCtx: true, want: Failed, wantErr: []error{errFault}, underAbort: []error{errFault},
	},
	{
		name: "panics",
		run: func(ctx context.Context, gate <-chan struct{}) (int, error) {
			select {
			case <-gate:
			case <-ctx.Done():
			}
			panic(errFault)
		},
		gated: true, honoursCtx: true, want: Failed, wantErr: []error{ErrPanic, errFault}, underAbort: []error{ErrPanic, errFault},
	},
	{
		name: "calls Goexit",
		run: func(ctx context.Context, gate <-chan struct{}) (int, error) {
			select {
			case <-gate:
			case <-ctx.Done():
			}
			runtime.Goexit()
			return 0, nil
		},
		gated: true, honoursCtx: true, want: Failed, wantErr: []error{ErrGoexit}, underAbort: []error{ErrGoexit},
	},
	{
		name: "blocks until ctx ends",
		run: func(ctx context.Context, _ <-chan struct{}) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		},
		honoursCtx: true, underAbort: []error{context.Canceled},
	},
	{
		name: "ignores ctx",
		run: func(_ context.Context, gate <-chan struct{}) (int, error) {
			<-gate
			return 1, nil
		},
		gated: true, want: Succeeded,
	},
}

// newFaultTask registers a task that runs fault for arguments with Fault
// set and returns at once for the others, keyed by Key. The returned
// function opens the gate of the faulty runs.
func newFaultTask(t *testing.T, s *Scheduler, fault taskFault) (*Task[faultArg, int], func()) {
	t.Helper()
	gate := make(chan struct{})
	task, err := NewTask(s, "faulty", func(ctx context.Context, a faultArg) (int, error) {
		if a.Fault {
			return fault.run(ctx, gate)
		}
		return 2, nil
	}, Options[faultArg]{Running: ByKey, Key: func(a faultArg) string { return a.Key }})
	require.NoError(t, err)
	return task, func() { close(gate) }
}

func submitFault(t *testing.T, task *Task[faultArg, int], key string, fault bool) *Invocation[int] {
	t.Helper()
	inv, err := task.Submit(context.Background(), faultArg{key, fault})
	require.NoError(t, err)
	return inv
}

// A fault in a task is contained: its invocation ends Failed (or, for a
// task that merely ignores its ctx, Succeeded when it returns), the next
// invocation of its key runs, other keys run, and the scheduler takes new
// work. One slot, so that a lost slot would stall everything.
func TestTaskFaultsKeyCarriesOn(t *testing.T) {
	for _, fault := range taskFaults {
		if !fault.gated {
			continue // only its ctx ends it: see TestTaskFaultsUnderClose
		}
		t.Run(fault.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScheduler(t, Config{MaxParallel: 1})
				task, release := newFaultTask(t, s, fault)
				bad := submitFault(t, task, "a", true)
				next := submitFault(t, task, "a", false)  // Queued behind it
				other := submitFault(t, task, "b", false) // Pending: no slot
				synctest.Wait()
				require.Equal(t, []State{Running, Queued, Pending}, []State{bad.State(), next.State(), other.State()})
				release()
				synctest.Wait()
				requireFinal(t, bad, fault.want, fault.wantErr...)
				requireFinal(t, next, Succeeded)
				requireFinal(t, other, Succeeded)
				// The same key again, and the same fault again: nothing
				// was lost the first time.
				again := submitFault(t, task, "a", true)
				synctest.Wait()
				requireFinal(t, again, fault.want, fault.wantErr...)
				st := s.Stats()
				require.Zero(t, st.Running+st.Pending+st.Queued+st.Actors, "%+v", st)
			})
		})
	}
}

// Every fault, under Close without and with a deadline: nothing hangs,
// the faulty invocation ends as it should, the work behind it drains (no
// deadline) or ends Canceled (deadline), and every goroutine the scheduler
// started exits.
func TestTaskFaultsUnderClose(t *testing.T) {
	const grace = 100 * time.Millisecond
	for _, fault := range taskFaults {
		t.Run(fault.name+"/no deadline", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, err := New(Config{MaxParallel: 1, CloseGrace: grace})
				require.NoError(t, err)
				task, release := newFaultTask(t, s, fault)
				bad := submitFault(t, task, "a", true)
				next := submitFault(t, task, "a", false)
				other := submitFault(t, task, "b", false)
				synctest.Wait()
				closed := closeErr(s, context.Background())
				time.Sleep(time.Hour) // Close waits for running work, however long
				synctest.Wait()
				requireBlocked(t, closed, "Close")
				require.Equal(t, Running, bad.State())

				if !fault.gated {
					// Only a cancelled ctx ends this task, and Close without
					// a deadline cancels nothing: a second Close with a
					// deadline does, and both return.
					require.ErrorIs(t, s.Close(expired()), context.Canceled)
					require.NoError(t, <-closed)
					requireFinal(t, bad, Failed, fault.underAbort...)
					requireFinal(t, next, Canceled, ErrCanceled, ErrClosed)
					requireFinal(t, other, Canceled, ErrCanceled, ErrClosed)
					requireSchedulerGone(t)
					requireBalanced(t, s.Stats())
					return
				}
				release()
				require.NoError(t, <-closed)
				requireFinal(t, bad, fault.want, fault.wantErr...)
				requireFinal(t, next, Succeeded) // Close drains the queue
				requireFinal(t, other, Succeeded)
				requireSchedulerGone(t)
				requireBalanced(t, s.Stats())
			})
		})

		t.Run(fault.name+"/deadline", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, err := New(Config{MaxParallel: 1, CloseGrace: grace})
				require.NoError(t, err)
				task, release := newFaultTask(t, s, fault)
				bad := submitFault(t, task, "a", true)
				next := submitFault(t, task, "a", false)
				other := submitFault(t, task, "b", false)
				synctest.Wait()

				start := time.Now()
				err = s.Close(within(t, 50*time.Millisecond))
				require.ErrorIs(t, err, context.DeadlineExceeded)
				requireFinal(t, next, Canceled, ErrCanceled, ErrClosed)
				requireFinal(t, other, Canceled, ErrCanceled, ErrClosed)
				if fault.honoursCtx {
					require.NotErrorIs(t, err, ErrLeaked)
					require.Equal(t, 50*time.Millisecond, time.Since(start), "Close returns when its ctx ends")
					requireFinal(t, bad, Failed, fault.underAbort...)
					requireSchedulerGone(t)
					requireBalanced(t, s.Stats())
					return
				}

				// The task ignores its ctx: Close gives up CloseGrace later
				// and names it; it is still running.
				require.Equal(t, 50*time.Millisecond+grace, time.Since(start))
				require.ErrorIs(t, err, ErrLeaked)
				require.ErrorContains(t, err, fmt.Sprintf(`1 running: task "faulty" key "a" id %d`, bad.ID()))
				require.Equal(t, Running, bad.State())
				require.Equal(t, 1, s.Stats().Running)
				synctest.Wait()
				require.Equal(t, 2, schedulerGoroutines(), "the dispatcher and the leaked task's worker")

				// When it finally returns, its worker and the dispatcher
				// exit on their own, without another Close...
				release()
				synctest.Wait()
				requireFinal(t, bad, Succeeded)
				requireSchedulerGone(t)
				requireBalanced(t, s.Stats())
				// ...and a later Close finds everything joined.
				require.NoError(t, s.Close(expired()))
				_, err = task.Submit(context.Background(), faultArg{"a", false})
				require.ErrorIs(t, err, ErrClosed)
			})
		})
	}
}

// A task that ignores its ctx, leaked by one Close, is joined by a later
// Close without a deadline: that Close returns when the task returns.
func TestCloseJoinsLeakedTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{CloseGrace: 10 * time.Millisecond})
		require.NoError(t, err)
		task, release := newFaultTask(t, s, taskFaults[len(taskFaults)-1]) // ignores ctx
		inv := submitFault(t, task, "a", true)
		synctest.Wait()
		require.ErrorIs(t, s.Close(expired()), ErrLeaked)
		require.ErrorIs(t, s.Close(expired()), ErrLeaked, "still running: each Close reports it")

		joined := closeErr(s, context.Background())
		time.Sleep(time.Minute)
		synctest.Wait()
		requireBlocked(t, joined, "Close")
		release()
		require.NoError(t, <-joined)
		requireFinal(t, inv, Succeeded)
		requireSchedulerGone(t)
	})
}

// Goexit and panics on every slot at once, again and again: each fault
// hands its worker's place on, so the work behind them all runs.
func TestFaultsOnEverySlot(t *testing.T) {
	for _, fault := range taskFaults[:3] { // error, panic, Goexit
		t.Run(fault.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const slots = 3
				s := newScheduler(t, Config{MaxParallel: slots})
				task, release := newFaultTask(t, s, fault)
				var bad, good []*Invocation[int]
				for i := range 4 * slots {
					bad = append(bad, submitFault(t, task, fmt.Sprint("k", i), true))
					good = append(good, submitFault(t, task, fmt.Sprint("k", i), false))
				}
				synctest.Wait()
				require.Equal(t, slots, s.Stats().Running)
				release()
				synctest.Wait()
				for i := range bad {
					requireFinal(t, bad[i], fault.want, fault.wantErr...)
					requireFinal(t, good[i], Succeeded)
				}
				require.Zero(t, s.Stats().Actors)
			})
		})
	}
}
