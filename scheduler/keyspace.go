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
	name      string // the task's name, or the Group's
	group     bool
	limit     int
	rate      rate.Limit
	burst     int
	maxQueued int
	tracked   bool      // workers report starts: Limit above 1, or a rate
	bound     *keyBound // MaxQueued per key; nil without one
	actors    shrinkMap[string, *keyActor]
}

func newKeyspace(name string, group bool, limit int, r rate.Limit, burst, maxQueued int) *keyspace {
	if r == rate.Inf {
		r = 0
	}
	if r > 0 {
		burst = max(burst, 1)
	}
	ks := &keyspace{name: name, group: group, limit: max(limit, 1), rate: r, burst: burst, maxQueued: maxQueued}
	ks.actors.lazy = true // the dispatcher's tidy compacts it
	ks.tracked = ks.limit > 1 || ks.rate > 0
	ks.bound = newKeyBound(maxQueued)
	return ks
}

// conflicts returns why ks cannot take a task with other's settings.
func (ks *keyspace) conflicts(other *keyspace) *inputError {
	if ks.limit != other.limit || ks.rate != other.rate || ks.burst != other.burst || ks.maxQueued != other.maxQueued {
		return badOption("Group %q has Limit %d, Rate %v, Burst %d, MaxQueued %d; this task asks Limit %d, Rate %v, Burst %d, MaxQueued %d",
			ks.name, ks.limit, ks.rate, ks.burst, ks.maxQueued, other.limit, other.rate, other.burst, other.maxQueued)
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

	// For OnBusy=Replace tasks: how many of the key's running jobs a
	// newer submission replaced (they still run), and the jobs of Replace
	// tasks in the mailbox, at most one per task, so that a submission
	// finds its predecessor without scanning the mailbox.
	replacing     int
	replaceQueued []*job
}

func (a *keyActor) take(j *job) { a.jobs = append(a.jobs, j) }

// holdsFor reports whether jobs of the Replace task c that a newer
// submission replaced still run on the key: c's next job must wait for
// them to return.
func (a *keyActor) holdsFor(c *taskCore) bool {
	if a.replacing == 0 {
		return false
	}
	for _, j := range a.jobs {
		if j.replaced && j.task == c {
			return true
		}
	}
	return false
}

// headHeld reports whether the head of the mailbox is a Replace task's job
// that must wait for the jobs it replaced.
func (a *keyActor) headHeld() bool {
	h := a.Peek()
	return h != nil && h.Value.task.onBusy == Replace && a.holdsFor(h.Value.task)
}

// unqueueReplace notes that j left the mailbox, if it is a Replace task's.
func (a *keyActor) unqueueReplace(j *job) {
	if i := slices.Index(a.replaceQueued, j); i >= 0 {
		a.replaceQueued = slices.Delete(a.replaceQueued, i, i+1)
	}
}

// forget readies an idle actor for reuse: it holds nothing of its key (its
// key string may be big) nor of the jobs it ran.
func (a *keyActor) forget() {
	a.live = false
	a.gen++
	a.key = ""
	a.wakeAt = time.Time{}
	if cap(a.jobs) > 8 {
		a.jobs = nil
	}
	if cap(a.replaceQueued) > 8 {
		a.replaceQueued = nil
	}
}

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
