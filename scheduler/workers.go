package scheduler

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// work is a worker goroutine: it runs Pending jobs from the ring until the
// ring is empty. A job is taken by moving it from Pending to Running with a
// compare-and-swap; a job the dispatcher ended meanwhile (cancelled or
// expired while in the ring) fails the swap and is skipped.
//
// A task that calls runtime.Goexit ends the goroutine; the deferred
// function then finishes the job, reports it and hands the worker's place
// on.
func (s *Scheduler) work(shard *workerCounts) {
	var running *job // the job taken, until its key is handed back
	// Two deferred calls, so that a Goexit inside the first (from the
	// final event's hook) still runs the second.
	defer func() {
		if running != nil { // Goexit: in the task, or in an event hook
			s.postDone(running)
			if !s.retire() {
				s.wg.Add(1)
				go s.work(shard)
			}
		}
		s.wg.Done()
	}()
	defer func() {
		if running != nil && !running.loadState().Final() {
			s.finish(running, Running, Failed, ErrGoexit, shard)
			s.emit(running, Failed, ErrGoexit)
		}
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
		running = j
		if j.task.bounded {
			j.task.givePlaces(j.key) // it no longer waits
		}
		shard.started.Add(1)
		if j.task.onBusy == Replace {
			s.ownRunCtx(j)
		}
		if a := j.actor; a != nil && a.ks.tracked {
			j.x.started = s.now()
			s.inbox.report(&msgNode{kind: msgStarted, j: j})
		}
		s.unwatch(j)
		s.emit(j, Running, nil)
		err := s.run(j)
		st := Succeeded
		if err != nil {
			st = Failed
		}
		if !j.state.CompareAndSwap(uint32(Running), uint32(st)) {
			// A newer submission replaced it while it ran.
			st, err = Canceled, replacedErr(err)
		}
		s.finish(j, Running, st, err, shard)
		s.emit(j, st, err)
		s.postDone(j)
		running = nil
	}
}

// replacedErr is the error of an invocation replaced while it ran: it
// keeps what the task itself returned, when that was an error.
func replacedErr(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return canceled(ErrReplaced)
	}
	return fmt.Errorf("%w; the task returned: %w", canceled(ErrReplaced), err)
}

// ownRunCtx gives a starting job of an OnBusy=Replace task its own run
// ctx. A replacement that came between the start and now finds no cancel
// yet, so the job checks for it itself.
func (s *Scheduler) ownRunCtx(j *job) {
	ctx, cancel := context.WithCancelCause(s.runCtx)
	j.x.run = ctx
	j.x.cancel.Store(&cancel)
	if j.loadState() == replacing {
		cancel(ErrReplaced)
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
	if j.actor == nil && !j.pooled {
		j.closeDone()
	}
	j.msg.kind = msgDone
	s.inbox.report(&j.msg)
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
	if j.pooled {
		// Nothing of the job may outlive the run: it is recycled. Its
		// ctx is the scheduler's anyway: a recycled job has no Submit
		// ctx, so no values, and no run ctx of its own.
		defer j.r.empty()
		return j.r.run(s.runCtx)
	}
	return j.r.run((*taskCtx)(j))
}
