package scheduler

// DebugDump describes the dispatcher's state, for tests that hang.

import "fmt"

func (s *Scheduler) DebugDump() string {
	out := ""
	s.ask(func() {
		out += fmt.Sprintf("outstanding=%d ready=%d handed=%d ring=%d live=%d closing=%v timers=%d armed=%v\n",
			s.d.outstanding, s.d.ready.len(), s.d.handed, s.ring.len(), s.workers.live.Load(), s.d.closing, len(s.d.timers.h), s.d.timers.armed)
		for j := range s.takenJobs() {
			out += fmt.Sprintf(" taken %s/%s id=%d state=%v\n", j.task.name, j.key, j.id, j.loadState())
		}
		for _, ks := range s.keyspaces() {
			for _, a := range ks.actors.m {
				if !a.Idle() {
					out += fmt.Sprintf(" actor %s q=%d inflight=%d jobs=%d wake=%v live=%v tracked=%v\n", a, a.Queued(), a.InFlight(), len(a.jobs), a.wakeAt, a.live, a.Tracked())
					for _, j := range a.jobs {
						out += fmt.Sprintf("   job id=%d task=%s state=%v\n", j.id, j.task.name, j.loadState())
					}
				}
			}
		}
	})
	return out
}
