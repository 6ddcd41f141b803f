package main

import (
	"context"

	"golang.org/x/time/rate"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// call is the argument of the demo's tasks: one provider call, and the
// provider mode it asks for (hold, slots, min gap, fault).
type call struct {
	Account string
	Op      string
	Mode    provider.CallOptions
}

// taskKind names one of the demo's tasks.
type taskKind int

// The demo's tasks: the reference's four, then those of E to H.
const (
	unsafeTask         taskKind = iota // no concurrency control
	keyedWaitTask                      // one call per account at a time; others wait
	keyedDropTask                      // one call per account at a time; others are dropped
	refreshTask                        // keyed, and duplicate submissions collapse until done
	slotsTask                          // up to slotsLimit calls per account at a time
	ratedTask                          // keyed, starts per account spaced by ratePerKey
	groupedOpsTask                     // keyedWaitTask, sharing keys with groupedRefreshTask
	groupedRefreshTask                 // refreshTask, sharing keys with groupedOpsTask
	numTasks
)

// The settings of the tasks of F, G and H.
const (
	slotsLimit   = 2         // F: Limit, and the provider's slots
	ratePerKey   = 5         // G: Rate, starts per second per account
	rateBurst    = 1         // G: Burst
	accountGroup = "account" // H: the Group of the grouped tasks
)

// simTask is the type of the demo's tasks.
type simTask = scheduler.Task[call, provider.Outcome]

// callProvider returns the function of the demo's tasks: one call through
// client in the call's mode. A failed call (a fault, a timeout, a lost
// connection) fails the invocation with the client's error.
func callProvider(client *provider.Client) func(context.Context, call) (provider.Outcome, error) {
	return func(ctx context.Context, c call) (provider.Outcome, error) {
		return client.CallWith(ctx, c.Account, c.Op, c.Mode)
	}
}

// byAccount is the key of the keyed tasks.
func byAccount(c call) string { return c.Account }

// opLabel labels events with the op, for the timeline and the monitor.
func opLabel(c call) string { return c.Op }

// newTasks registers the demo's tasks on s. Each calls the provider through
// client, in the mode its call asks for.
func newTasks(s *scheduler.Scheduler, client *provider.Client) ([numTasks]*simTask, error) {
	keyed := func(o scheduler.Options[call]) scheduler.Options[call] {
		o.Running, o.Key, o.Label = scheduler.ByKey, byAccount, opLabel
		return o
	}
	dedupe := scheduler.Options[call]{Registration: scheduler.ByKey, Dedupe: scheduler.UntilDone}
	specs := [numTasks]struct {
		name string
		opts scheduler.Options[call]
	}{
		unsafeTask: {"unsafe", scheduler.Options[call]{
			Key:   byAccount, // a label only: Running is Disabled
			Label: opLabel,
		}},
		keyedWaitTask:  {"keyed_wait", keyed(scheduler.Options[call]{OnBusy: scheduler.Wait})},
		keyedDropTask:  {"keyed_drop", keyed(scheduler.Options[call]{OnBusy: scheduler.Drop})},
		refreshTask:    {"refresh", keyed(dedupe)},
		slotsTask:      {"keyed_slots", keyed(scheduler.Options[call]{Limit: slotsLimit})},
		ratedTask:      {"keyed_rated", keyed(scheduler.Options[call]{Rate: rate.Limit(ratePerKey), Burst: rateBurst})},
		groupedOpsTask: {"ops_grouped", keyed(scheduler.Options[call]{Group: accountGroup})},
		groupedRefreshTask: {"refresh_grouped", keyed(scheduler.Options[call]{
			Registration: scheduler.ByKey, Dedupe: scheduler.UntilDone, Group: accountGroup,
		})},
	}
	var tasks [numTasks]*simTask
	for k, spec := range specs {
		t, err := scheduler.NewTask(s, spec.name, callProvider(client), spec.opts)
		if err != nil {
			return tasks, err
		}
		tasks[k] = t
	}
	return tasks, nil
}
