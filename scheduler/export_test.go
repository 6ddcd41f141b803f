package scheduler

import "fmt"

// DebugDump describes the dispatcher's state, for tests that hang.
func (s *Scheduler) DebugDump() string {
	out := ""
	s.ask(func() {
		for _, ks := range s.keyspaces() {
			out += fmt.Sprintf("keyspace %s len=%d peak=%d\n", ks.name, ks.actors.len(), ks.actors.peak)
		}
		out += fmt.Sprintf("free=%d peak=%d readyDead=%d readycap=%d tidyAt=%v timerscap=%d\n", len(s.d.free), s.d.peakActors, s.d.readyDead, len(s.d.ready.buf), s.d.tidyAt, cap(s.d.timers.h))
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
