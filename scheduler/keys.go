package scheduler

import (
	"cmp"
	"iter"
	"slices"
)

// KeyStats is the load of one key at one moment.
type KeyStats struct {
	Task    string // the task the key belongs to, or its Group (name the two apart)
	Key     string
	Queued  int // invocations Queued behind the key
	Pending int // invocations whose key is free, waiting for a slot
	Running int // invocations running
}

// Busy returns how many invocations the key holds: Queued, Pending and
// Running.
func (k KeyStats) Busy() int { return k.Queued + k.Pending + k.Running }

// Key returns the load of one key of the named task (for a grouped task,
// of the Group's key; Task is then the Group's name), asked of the
// dispatcher. An idle or unknown key, a task without a Running scope, and
// a scheduler whose Close has returned give a zero load; a call after
// Close keeps nothing, however often it is made. With a Backend, it is the
// whole cluster's load of the key, asked of the backend (a failure is
// logged and gives a zero load).
func (s *Scheduler) Key(task, key string) KeyStats {
	out := KeyStats{Task: task, Key: key}
	if !s.made() {
		return out
	}
	if s.backend != nil {
		return s.keyRemote(task, key)
	}
	s.tasksMu.Lock()
	c := s.tasks[task]
	s.tasksMu.Unlock()
	if c == nil || c.ks == nil {
		return out
	}
	out.Task = c.ks.name
	s.ask(func() {
		if a, ok := c.ks.actors.get(key); ok {
			out = a.stats()
		}
	})
	return out
}

// Keys returns the load of the busiest keys, most Busy first (ties by task
// and key), at most n of them; n <= 0 means all. Only keys with work are
// listed, and only for tasks with a Running scope. It asks the dispatcher
// and costs a pass over the live keys: it is meant for monitors and
// operators, not for every request. Once Close has returned it returns
// nil and keeps nothing. With a Backend, they are the whole cluster's
// busiest keys, asked of the backend (a failure is logged and gives nil).
func (s *Scheduler) Keys(n int) []KeyStats {
	if !s.made() {
		return nil
	}
	if s.backend != nil {
		return s.keysRemote(n)
	}
	spaces := s.keyspaces()
	var out []KeyStats
	s.ask(func() {
		for _, ks := range spaces {
			for _, a := range ks.actors.m {
				if !a.Idle() {
					out = append(out, a.stats())
				}
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

// MaxParallel returns the cap on running invocations, the number of slots
// (0 for a nil Scheduler).
func (s *Scheduler) MaxParallel() int {
	if s == nil {
		return 0
	}
	return s.maxParallel
}

// takenJobs iterates over the jobs taken from the mailboxes and not ended:
// Pending or Running. The dispatcher calls it.
func (s *Scheduler) takenJobs() iter.Seq[*job] {
	return func(yield func(*job) bool) {
		for _, ks := range s.keyspaces() {
			for _, a := range ks.actors.m {
				for _, j := range a.jobs {
					if !yield(j) {
						return
					}
				}
			}
		}
		for n := range s.d.loose.All() {
			if !yield(n.Value) {
				return
			}
		}
	}
}
