package main

import (
	"context"
	"fmt"
	"net/url"
	"sync"

	"golang.org/x/time/rate"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// call is the argument of the demo's tasks: one provider call, and the
// provider mode it asks for (hold, slots, min gap, fault). Across
// processes it crosses as JSON.
type call struct {
	Account string
	Op      string
	Mode    provider.CallOptions
	// Provider is the base URL of the provider to call. Across processes
	// (-backend postgres) the sim sets it on every call, so that a worker
	// process calls the provider its submitter resets and reads, and
	// needs no flag of its own. Empty in memory, where the tasks have
	// their client.
	Provider string `json:",omitempty"`
}

// reply is the result of the demo's tasks: the provider's answer, and
// across processes the worker process that made the call.
type reply struct {
	Outcome provider.Outcome `json:"outcome"`
	Worker  string           `json:"worker,omitempty"` // empty in memory
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
type simTask = scheduler.Task[call, reply]

// taskEnv is what the task functions of a process need: the clients of
// the provider, and the name of the process for its replies.
type taskEnv struct {
	calls  clientFunc // the client of a call's provider
	faults clientFunc // the same, with the soak's short timeout for faults
	worker string     // across processes, this process; empty in memory
	// onCall, if set, is told about every call this process made, as it
	// returns (`sim worker` prints them).
	onCall func(task string, c call, r reply, err error)
}

// clientFunc returns the client of the provider at a base URL; an empty
// URL means the process's own provider, if it has one.
type clientFunc func(providerURL string) (*provider.Client, error)

// fixedClient is the clientFunc of a process with one provider: client,
// whatever the call says.
func fixedClient(client *provider.Client) clientFunc {
	return func(string) (*provider.Client, error) { return client, nil }
}

// memoryEnv is the taskEnv of an in-memory scheduler: the calls go to
// client, the soak's faults to faults.
func memoryEnv(client, faults *provider.Client) taskEnv {
	return taskEnv{calls: fixedClient(client), faults: fixedClient(faults)}
}

// callProvider returns the function of task: one call through the client
// clients gives for the call's provider, in the call's mode. A failed call
// (a fault, a timeout, a lost connection) fails the invocation with the
// client's error.
func (e taskEnv) callProvider(task string, clients clientFunc) func(context.Context, call) (reply, error) {
	return func(ctx context.Context, c call) (reply, error) {
		client, err := clients(c.Provider)
		if err != nil {
			return reply{}, err
		}
		out, err := client.CallWith(ctx, c.Account, c.Op, c.Mode)
		r := reply{Outcome: out, Worker: e.worker}
		if err != nil {
			r = reply{}
		}
		if e.onCall != nil {
			e.onCall(task, c, r, err)
		}
		return r, err
	}
}

// clientCache is the clientFunc of a worker process: one client per
// provider URL that its calls name, made on first use and kept until
// close. The URLs come from the database, so only http and https URLs
// with a host are called.
type clientCache struct {
	cfg provider.ClientConfig

	mu      sync.Mutex
	clients map[string]*provider.Client
	closed  bool
}

func newClientCache(cfg provider.ClientConfig) *clientCache {
	return &clientCache{cfg: cfg, clients: make(map[string]*provider.Client)}
}

// get is the clientFunc.
func (c *clientCache) get(providerURL string) (*provider.Client, error) {
	if err := checkCallURL(providerURL); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errClientsClosed
	}
	if cl, ok := c.clients[providerURL]; ok {
		return cl, nil
	}
	cl, err := provider.NewClient(providerURL, c.cfg)
	if err != nil {
		return nil, err
	}
	c.clients[providerURL] = cl
	return cl, nil
}

// close closes every client; later calls fail.
func (c *clientCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cl := range c.clients {
		cl.Close()
	}
	c.clients, c.closed = nil, true
}

var errClientsClosed = fmt.Errorf("sim worker: %w: the provider clients are closed", scheduler.ErrClosed)

// checkCallURL checks the provider URL of a call that a worker runs.
func checkCallURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("sim worker: call for provider %q: want an http or https URL such as http://127.0.0.1:8765 "+
			"(a call submitted by a sim of another version?)", s)
	}
	return nil
}

// byAccount is the key of the keyed tasks.
func byAccount(c call) string { return c.Account }

// opLabel labels events with the op, for the timeline and the monitor.
func opLabel(c call) string { return c.Op }

// newTasks registers the demo's tasks on s. Each calls the provider
// through env's clients, in the mode its call asks for.
func newTasks(s *scheduler.Scheduler, env taskEnv) ([numTasks]*simTask, error) {
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
		t, err := scheduler.NewTask(s, spec.name, env.callProvider(spec.name, env.calls), spec.opts)
		if err != nil {
			return tasks, err
		}
		tasks[k] = t
	}
	return tasks, nil
}
