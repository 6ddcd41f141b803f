package scheduler_test

import . "github.com/perkey/perkey/scheduler"

func debugDump(s *Scheduler) string { return s.DebugDump() }
