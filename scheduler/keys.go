package scheduler

import (
	"cmp"
	"slices"

	"github.com/perkey/perkey/actor"
)

// KeyStats is the load of one key at one moment.
type KeyStats struct {
	Task    string // the task the key belongs to
	Key     string
	Queued  int // invocations Queued behind the key
	Pending int // invocations whose key is free, waiting for a slot
	Running int // invocations running
}

// Busy returns how many invocations the key holds: Queued, Pending and
// Running.
func (k KeyStats) Busy() int { return k.Queued + k.Pending + k.Running }

// Key returns the load of one key of the named task, asked of the
// dispatcher. An idle or unknown key, a task without a Running scope, and
// a closed scheduler give a zero load.
func (s *Scheduler) Key(task, key string) KeyStats {
	out := KeyStats{Task: task, Key: key}
	s.tasksMu.Lock()
	c := s.tasks[task]
	s.tasksMu.Unlock()
	if c == nil {
		return out
	}
	s.ask(func() {
		if a, ok := c.actors.get(key); ok {
			running := s.runningByActor()
			out.Queued, out.Running = a.Queued(), running[a]
			out.Pending = a.InFlight() - out.Running
		}
	})
	return out
}

// Keys returns the load of the busiest keys, most Busy first (ties by task
// and key), at most n of them; n <= 0 means all. Only keys with work are
// listed, and only for tasks with a Running scope. It asks the dispatcher
// and costs a pass over the live keys: it is meant for monitors and
// operators, not for every request.
func (s *Scheduler) Keys(n int) []KeyStats {
	s.tasksMu.Lock()
	tasks := make([]*taskCore, 0, len(s.tasks))
	for _, c := range s.tasks {
		tasks = append(tasks, c)
	}
	s.tasksMu.Unlock()
	var out []KeyStats
	s.ask(func() {
		running := s.runningByActor()
		for _, c := range tasks {
			for key, a := range c.actors.m {
				r := running[a]
				out = append(out, KeyStats{Task: c.name, Key: key, Queued: a.Queued(), Pending: a.InFlight() - r, Running: r})
			}
		}
	})
	slices.SortFunc(out, func(a, b KeyStats) int {
		return cmp.Or(cmp.Compare(b.Busy(), a.Busy()), cmp.Compare(a.Task, b.Task), cmp.Compare(a.Key, b.Key))
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// runningByActor counts the running jobs of each actor; the dispatcher
// calls it. Running jobs are all in d.inflight, which holds at most the
// ring and the workers.
func (s *Scheduler) runningByActor() map[*actor.Actor[*job]]int {
	m := make(map[*actor.Actor[*job]]int)
	for n := range s.d.inflight.All() {
		if j := n.Value; j.actor != nil && j.loadState() == Running {
			m[j.actor]++
		}
	}
	return m
}

// MaxParallel returns the cap on running invocations, the number of slots.
func (s *Scheduler) MaxParallel() int { return s.maxParallel }
