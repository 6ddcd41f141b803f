package scheduler

// The global cap. Pending jobs wait in s.runq, in the order their keys
// became free; worker goroutines take them one at a time. There are never
// more than MaxParallel workers, and a worker runs one job at a time, so
// never more than MaxParallel jobs run: the cap holds by construction, and
// slots go to keys in FIFO order. Workers are started when Pending work
// outnumbers them and exit as soon as the run queue is empty, so an idle
// scheduler has no worker goroutines.

// spawnLocked reserves workers for the Pending jobs that no worker will
// reach, up to the cap, and returns how many to start.
func (s *Scheduler) spawnLocked() int {
	n := min(s.runq.Len(), s.maxParallel-s.live)
	if n <= 0 {
		return 0
	}
	s.live += n
	return n
}

func (s *Scheduler) startWorkers(n int) {
	for range n {
		s.wg.Add(1)
		go s.work()
	}
}

// work is a worker goroutine: it runs Pending jobs until the run queue is
// empty. A task that calls runtime.Goexit ends the goroutine; the deferred
// function then finishes the job and hands the worker's place on.
func (s *Scheduler) work() {
	var running *job // the job whose task is executing
	defer func() {
		if running != nil { // runtime.Goexit in its task
			s.finish(running, Failed, ErrGoexit)
			s.mu.Lock()
			wake := s.postDoneLocked(running)
			s.live--
			spawn := s.spawnLocked()
			s.mu.Unlock()
			s.signal(wake)
			s.startWorkers(spawn)
		}
		s.wg.Done()
	}()
	var prev *job
	for {
		j := s.next(prev)
		if j == nil {
			return
		}
		running = j
		err := s.run(j)
		running = nil
		st := Succeeded
		if err != nil {
			st = Failed
		}
		s.finish(j, st, err)
		prev = j
	}
}

// next reports prev (if any) done and takes the next Pending job, or
// retires the worker and returns nil when there is none.
func (s *Scheduler) next(prev *job) *job {
	s.mu.Lock()
	wake := false
	if prev != nil {
		wake = s.postDoneLocked(prev)
	}
	var j *job
	if n := s.runq.Pop(); n != nil {
		j = n.Value
		s.running.Push(&j.node)
		j.state.Store(uint32(Running))
	} else {
		s.live--
	}
	s.mu.Unlock()
	s.signal(wake)
	if j != nil {
		s.stats.move(Pending, Running)
		s.stopHook(j)
		s.emit(j, Running, nil)
	}
	return j
}

// postDoneLocked tells the dispatcher that j has finished running and
// reports whether it must be woken.
func (s *Scheduler) postDoneLocked(j *job) bool {
	s.running.Remove(&j.node)
	return s.postLocked(msg{kind: msgDone, j: j})
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
