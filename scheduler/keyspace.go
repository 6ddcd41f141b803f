package scheduler

import (
	"fmt"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/perkey/perkey/actor"
)

// keyspace is a set of keys and their actors: a task's own, or shared by
// the tasks of a Group. Its settings are fixed; only the dispatcher touches
// its actors.
type keyspace struct {
	name    string // the task's name, or the Group's
	group   bool
	limit   int
	rate    rate.Limit
	burst   int
	tracked bool // workers report starts: Limit above 1, or a rate
	actors  shrinkMap[string, *keyActor]
}

func newKeyspace(name string, group bool, limit int, r rate.Limit, burst int) *keyspace {
	if r == rate.Inf {
		r = 0
	}
	if r > 0 {
		burst = max(burst, 1)
	}
	ks := &keyspace{name: name, group: group, limit: max(limit, 1), rate: r, burst: burst}
	ks.actors.lazy = true // the dispatcher's tidy compacts it
	ks.tracked = ks.limit > 1 || ks.rate > 0
	return ks
}

// conflicts returns why ks cannot take a task with other's settings.
func (ks *keyspace) conflicts(other *keyspace) error {
	if ks.limit != other.limit || ks.rate != other.rate || ks.burst != other.burst {
		return badOption("Group %q has Limit %d, Rate %v, Burst %d; this task asks Limit %d, Rate %v, Burst %d",
			ks.name, ks.limit, ks.rate, ks.burst, other.limit, other.rate, other.burst)
	}
	return nil
}

// keyActor is the actor of one key, with what the dispatcher keeps beside
// it.
type keyActor struct {
	actor.Actor[*job]
	ks     *keyspace
	key    string
	jobs   []*job    // taken from the mailbox and not ended: Pending or Running
	wakeAt time.Time // a timer is due then for this actor; zero if none
	gen    uint64    // bumped when the actor is forgotten, to void its timers
	live   bool      // in its keyspace; false once forgotten
}

func (a *keyActor) take(j *job) { a.jobs = append(a.jobs, j) }

func (a *keyActor) drop(j *job) {
	if i := slices.Index(a.jobs, j); i >= 0 {
		last := len(a.jobs) - 1
		a.jobs[i], a.jobs[last] = a.jobs[last], nil
		a.jobs = a.jobs[:last]
	}
}

// running counts the actor's jobs that are running.
func (a *keyActor) running() int {
	n := 0
	for _, j := range a.jobs {
		if j.loadState().public() == Running {
			n++
		}
	}
	return n
}

func (a *keyActor) stats() KeyStats {
	r := a.running()
	return KeyStats{Task: a.ks.name, Key: a.key, Queued: a.Queued(), Pending: a.InFlight() - r, Running: r}
}

func (a *keyActor) String() string { return fmt.Sprintf("%s/%s", a.ks.name, a.key) }
