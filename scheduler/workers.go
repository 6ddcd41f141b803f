package scheduler

import (
	"runtime"
	"time"
)

// work is a worker goroutine: it runs Pending jobs from the ring until the
// ring is empty. A job is taken by moving it from Pending to Running with a
// compare-and-swap; a job the dispatcher ended meanwhile (cancelled or
// expired while in the ring) fails the swap and is skipped.
//
// A task that calls runtime.Goexit ends the goroutine; the deferred
// function then finishes the job, reports it and hands the worker's place
// on.
func (s *Scheduler) work() {
	var running *job // the job whose task is executing
	defer func() {
		if running != nil { // runtime.Goexit in its task
			s.finish(running, Running, Failed, ErrGoexit)
			s.postDone(running)
			if !s.retire() {
				s.wg.Add(1)
				go s.work()
			}
		}
		s.wg.Done()
	}()
	for {
		j := s.ring.get()
		if j == nil {
			if j = s.linger(); j == nil {
				if s.retire() {
					return
				}
				continue
			}
		}
		if !j.state.CompareAndSwap(uint32(Pending), uint32(Running)) {
			continue
		}
		s.stats.worker(j).started.Add(1)
		if a := j.actor; a != nil && a.ks.tracked {
			j.x.started = time.Now()
			s.inbox.push(&msgNode{kind: msgStarted, j: j})
		}
		s.stopHook(j)
		s.emit(j, Running, nil)
		running = j
		err := s.run(j)
		running = nil
		st := Succeeded
		if err != nil {
			st = Failed
		}
		if !j.state.CompareAndSwap(uint32(Running), uint32(st)) {
			// A newer submission replaced it while it ran.
			st, err = Canceled, canceled(ErrReplaced)
		}
		s.finish(j, Running, st, err)
		s.postDone(j)
	}
}

// lingerSpins is how many times an idle worker yields, looking for work,
// before it exits: the dispatcher is often about to hand it the next job
// (the next invocation of the key it just ran), and a yield costs far less
// than starting a goroutine.
const lingerSpins = 8

// linger gives the dispatcher a few chances to fill the ring before the
// worker exits; it returns the job it found, if any.
func (s *Scheduler) linger() *job {
	for range lingerSpins {
		runtime.Gosched()
		if j := s.ring.get(); j != nil {
			return j
		}
	}
	return nil
}

// postDone tells the dispatcher that j has finished running, so that its
// key can move on. A job with a key wakes its waiters only once the
// dispatcher has freed the key, so that whoever Wait returns to finds the
// key free; a job without one wakes them now.
func (s *Scheduler) postDone(j *job) {
	if j.actor == nil {
		j.closeDone()
	}
	j.msg.kind = msgDone
	s.inbox.push(&j.msg)
}

// run calls j's task, turning a panic into a *PanicError. A Goexit passes
// through to work.
func (s *Scheduler) run(j *job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Warn("scheduler: task panicked", "task", j.task.name, "key", j.key, "id", j.id, "panic", r)
			err = newPanicError(r)
		}
	}()
	return j.r.run((*taskCtx)(j))
}
