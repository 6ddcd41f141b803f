package main

import (
	"golang.org/x/time/rate"

	"github.com/perkey/perkey/scheduler"
)

// soakKind names one of the soak's tasks.
type soakKind int

// The soak's tasks. Those of the soak Group share the keys of the plain
// accounts, so that any two of their calls for one account are serial; the
// others have keys of their own (accounts with a prefix), and the provider
// mode that matches their guard.
const (
	soakWait        soakKind = iota // Group: OnBusy=Wait
	soakDrop                        // Group: OnBusy=Drop
	soakDedupeStart                 // Group: Registration=ByKey, Dedupe=UntilStart
	soakDedupeDone                  // Group: Registration=ByKey, Dedupe=UntilDone
	soakFault                       // Group: every call asks the provider for a fault
	soakSlots                       // Limit=2, provider slots=2; accounts "slots.*"
	soakRated                       // Rate=200/s, Burst=2; accounts "rated.*"
	numSoakKinds
)

// The settings of the soak's tasks.
const (
	soakGroup      = "soak"
	soakSlotsLimit = 2
	soakRate       = 200
	soakBurst      = 2
)

// isFault reports whether calls of k ask for a fault, and must fail.
func (k soakKind) isFault() bool { return k == soakFault }

// soakTask is the type of the soak's tasks, the same as the demo's.
type soakTask = simTask

// newSoakTasks registers the soak's tasks on s. They call the provider
// through env's clients, except the fault task, which uses its faults
// clients: with a short timeout, so that a slow fault does not hold a
// slot for long.
func newSoakTasks(s *scheduler.Scheduler, env taskEnv) ([numSoakKinds]*soakTask, error) {
	grouped := func(o scheduler.Options[call]) scheduler.Options[call] {
		o.Running, o.Key, o.Label, o.Group = scheduler.ByKey, byAccount, opLabel, soakGroup
		return o
	}
	keyed := func(o scheduler.Options[call]) scheduler.Options[call] {
		o.Running, o.Key, o.Label = scheduler.ByKey, byAccount, opLabel
		return o
	}
	specs := [numSoakKinds]struct {
		name   string
		opts   scheduler.Options[call]
		client clientFunc
	}{
		soakWait:        {"soak_wait", grouped(scheduler.Options[call]{OnBusy: scheduler.Wait}), env.calls},
		soakDrop:        {"soak_drop", grouped(scheduler.Options[call]{OnBusy: scheduler.Drop}), env.calls},
		soakDedupeStart: {"soak_dedupe_start", grouped(scheduler.Options[call]{Registration: scheduler.ByKey, Dedupe: scheduler.UntilStart}), env.calls},
		soakDedupeDone:  {"soak_dedupe_done", grouped(scheduler.Options[call]{Registration: scheduler.ByKey, Dedupe: scheduler.UntilDone}), env.calls},
		soakFault:       {"soak_fault", grouped(scheduler.Options[call]{}), env.faults},
		soakSlots:       {"soak_slots", keyed(scheduler.Options[call]{Limit: soakSlotsLimit}), env.calls},
		soakRated:       {"soak_rated", keyed(scheduler.Options[call]{Rate: rate.Limit(soakRate), Burst: soakBurst}), env.calls},
	}
	var tasks [numSoakKinds]*soakTask
	for k, spec := range specs {
		t, err := scheduler.NewTask(s, spec.name, env.callProvider(spec.name, spec.client), spec.opts)
		if err != nil {
			return tasks, err
		}
		tasks[k] = t
	}
	return tasks, nil
}
