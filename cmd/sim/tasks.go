package main

import (
	"context"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// call is the argument of the demo's tasks: one provider call.
type call struct {
	Account string
	Op      string
}

// taskKind names one of the demo's tasks.
type taskKind int

// The demo's tasks, as in the reference.
const (
	unsafeTask    taskKind = iota // no concurrency control
	keyedWaitTask                 // one call per account at a time; others wait
	keyedDropTask                 // one call per account at a time; others are dropped
	refreshTask                   // keyed, and duplicate submissions collapse until done
	numTasks
)

// simTask is the type of the demo's tasks.
type simTask = scheduler.Task[call, provider.Outcome]

// newTasks registers the demo's tasks on s. Each calls the provider through
// client, asking it to hold the account for hold.
func newTasks(s *scheduler.Scheduler, client *provider.Client, hold time.Duration) ([numTasks]*simTask, error) {
	fn := func(ctx context.Context, c call) (provider.Outcome, error) {
		return client.Call(ctx, c.Account, c.Op, hold)
	}
	byAccount := func(c call) string { return c.Account }
	op := func(c call) string { return c.Op } // the label of events, for the timeline and the monitor
	specs := [numTasks]struct {
		name string
		opts scheduler.Options[call]
	}{
		unsafeTask: {"unsafe", scheduler.Options[call]{
			Key:   byAccount, // a label only: Running is Disabled
			Label: op,
		}},
		keyedWaitTask: {"keyed_wait", scheduler.Options[call]{
			Running: scheduler.ByKey, Key: byAccount, OnBusy: scheduler.Wait,
			Label: op,
		}},
		keyedDropTask: {"keyed_drop", scheduler.Options[call]{
			Running: scheduler.ByKey, Key: byAccount, OnBusy: scheduler.Drop,
			Label: op,
		}},
		refreshTask: {"refresh", scheduler.Options[call]{
			Registration: scheduler.ByKey, Running: scheduler.ByKey, Key: byAccount,
			Dedupe: scheduler.UntilDone,
			Label:  op,
		}},
	}
	var tasks [numTasks]*simTask
	for k, spec := range specs {
		t, err := scheduler.NewTask(s, spec.name, fn, spec.opts)
		if err != nil {
			return tasks, err
		}
		tasks[k] = t
	}
	return tasks, nil
}
