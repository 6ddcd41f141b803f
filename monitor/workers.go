package monitor

import (
	"cmp"
	"slices"
)

// Worker is what one process did, as the recent events of the watch tell
// it, with a Backend (Event.Worker): State.Workers. In memory, events
// name no process and State has no Workers.
type Worker struct {
	// Name is the process, as Event.Worker names it (display text, cut to
	// MaxText).
	Name string `json:"name"`
	// Running counts the invocations it runs now: those whose latest
	// event kept is their Running event, on it.
	Running int `json:"running"`
	// Finished counts the runs it ended among the events kept: the final
	// events that name it of invocations that ran (Succeeded, Failed, or
	// a final state after a Running event kept).
	Finished int `json:"finished"`
	// Failed counts those of Finished that failed.
	Failed int `json:"failed"`
}

// maxWorkers is how many processes State.Workers lists at most: the
// busiest; State.WorkersMore counts the others.
const maxWorkers = 16

// workers tallies the processes named by the events of the watch that the
// ring keeps: at most maxWorkers of them, the busiest, in name order, and
// how many others there were. It visits every slot, as info does, and
// only when some event of the watch named a process: in memory it costs
// nothing.
func (r *ring) workers() (list []Worker, more int) {
	if !r.named.Load() {
		return nil, 0
	}
	first, head := r.first.Load(), r.head.Load()
	lo := first
	if n := uint64(len(r.slots)); head >= n && lo <= head-n {
		lo = head - n + 1
	}
	type invocation struct {
		task string
		id   uint64
	}
	type latest struct{ state, worker string }
	last := map[invocation]latest{}
	byName := map[string]*Worker{}
	tally := func(name string) *Worker {
		w := byName[name]
		if w == nil {
			w = &Worker{Name: name}
			byName[name] = w
		}
		return w
	}
	for seq := lo; seq <= head && seq != 0; seq++ {
		s := &r.slots[seq%uint64(len(r.slots))]
		s.mu.Lock()
		e := s.ev
		s.mu.Unlock()
		if e.Seq != seq || e.Deduped || e.Throttled {
			continue // let go, not written yet, or not a change of state
		}
		inv := invocation{e.Task, e.ID}
		before := last[inv]
		if final(e.State) {
			delete(last, inv)
			ran := e.State == "succeeded" || e.State == "failed" || before.state == "running"
			if e.Worker != "" && ran {
				w := tally(e.Worker)
				w.Finished++
				if e.State == "failed" {
					w.Failed++
				}
			}
			continue
		}
		last[inv] = latest{e.State, e.Worker}
	}
	for _, l := range last {
		if l.state == "running" && l.worker != "" {
			tally(l.worker).Running++
		}
	}
	list = make([]Worker, 0, len(byName))
	for _, w := range byName {
		list = append(list, *w)
	}
	if len(list) > maxWorkers {
		slices.SortFunc(list, func(a, b Worker) int {
			return cmp.Or(cmp.Compare(b.Running, a.Running), cmp.Compare(b.Finished, a.Finished), cmp.Compare(a.Name, b.Name))
		})
		list, more = list[:maxWorkers], len(list)-maxWorkers
	}
	slices.SortFunc(list, func(a, b Worker) int { return cmp.Compare(a.Name, b.Name) })
	return list, more
}

// final reports whether a state name is a final state's.
func final(state string) bool {
	switch state {
	case "succeeded", "failed", "dropped", "expired", "canceled":
		return true
	}
	return false
}
