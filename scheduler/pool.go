package scheduler

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Go schedules a call of the task with args, as Submit does, but returns
// no handle: the call's result and error are dropped (a task that must
// report a failure does it itself, or through events). With no handle to
// keep it alive, the invocation is recycled once it is done, so that a
// stream of Go calls allocates nothing once warm: use it when nobody waits
// for the result.
//
// Everything else is Submit's: ctx governs the wait (and its values reach
// the task), Go never blocks without a MaxQueued bound, a call matching an
// unfinished invocation of a task with a Registration scope is absorbed by
// it, and Go fails, creating nothing, where Submit would, with the same
// errors. With a Backend, Go is Submit without the handle.
//
// Only invocations that need nothing but their arguments are recycled:
// those submitted with context.Background or context.TODO, of a task
// without Registration, MaxWait, OnBusy=Replace, Limit above 1 or Rate,
// while nobody listens to events. The others cost an allocation, as with
// Submit.
func (t *Task[A, R]) Go(ctx context.Context, args A) error {
	switch {
	case t == nil || t.core.s == nil:
		return fmt.Errorf("%w: Go on a nil Task, or one not made by NewTask", ErrInvalid)
	case ctx == nil:
		return badInput(t.core.name, ErrNilContext, "Go ctx is nil")
	}
	c := &t.core
	if c.s.backend != nil || !t.recyclable(ctx) {
		_, err := t.Submit(ctx, args)
		return err
	}
	if c.s.closed.Load() {
		return taskError(c.name, "", ErrClosed)
	}
	key, _, _, err := t.keys(args)
	if err != nil {
		return err
	}
	if c.bounded {
		if err := c.takePlaces(ctx, key); err != nil {
			return err
		}
	}
	var inv *invocation[A, R]
	if j := c.pool.get(); j != nil {
		inv = j.r.(*invocation[A, R])
		*inv = invocation[A, R]{fn: t.fn, args: args}
	} else {
		inv = &invocation[A, R]{fn: t.fn, args: args}
	}
	j := &inv.j
	j.node.Value = j
	j.msg.j = j
	j.key = key
	j.task = c
	j.r = inv
	j.pooled = true
	if err := c.s.submit(j); err != nil {
		if c.bounded {
			c.givePlaces(key)
		}
		return err
	}
	return nil
}

// recyclable reports whether an invocation submitted now under ctx needs
// nothing but the job itself (see newInvocation), so that Go may recycle
// it: its ctx can neither end nor carry values, and nothing keeps a
// reference to it once it is done.
func (t *Task[A, R]) recyclable(ctx context.Context) bool {
	c := &t.core
	return (ctx == context.Background() || ctx == context.TODO()) &&
		c.registration == Disabled && c.maxWait == 0 && c.onBusy != Replace &&
		(c.ks == nil || !c.ks.tracked) && !c.s.listening()
}

// jobPool keeps the finished invocations of a task's Go calls for reuse.
// The dispatcher gives them back in batches, emptied of their arguments
// and results; Go takes them one at a time. The batches live in a
// sync.Pool, which keeps them near the processor that uses them, and
// gives them to the garbage collector when they go unused for two
// collections. At most maxPooled invocations wait in a task's pool.
type jobPool struct {
	full    sync.Pool    // *jobBatch holding jobs
	empty   sync.Pool    // *jobBatch holding none
	batches atomic.Int64 // full batches given back and not taken yet
	filling *jobBatch    // the batch the dispatcher fills; dispatcher-owned
}

// The pool's sizes: a batch holds poolBatch jobs, and a task's pool up to
// maxPooled, as many as a burst of Go calls can have in flight before they
// are all recycled.
const (
	poolBatch = 64
	maxPooled = 1 << 16
)

type jobBatch struct {
	n    int
	jobs [poolBatch]*job
}

// get returns a recycled job, or nil if none is at hand.
func (p *jobPool) get() *job {
	b, _ := p.full.Get().(*jobBatch)
	if b == nil {
		return nil
	}
	b.n--
	j := b.jobs[b.n]
	b.jobs[b.n] = nil
	if b.n > 0 {
		p.full.Put(b)
	} else {
		p.batches.Add(-1)
		p.empty.Put(b)
	}
	return j
}

// put takes back a finished job of Go: the worker has emptied its
// arguments and result, and nothing refers to it any more. Only the
// dispatcher calls it.
func (p *jobPool) put(j *job) {
	j.key = ""
	if p.filling == nil {
		if p.batches.Load() >= maxPooled/poolBatch {
			return // enough at hand: let the collector have it
		}
		if p.filling, _ = p.empty.Get().(*jobBatch); p.filling == nil {
			p.filling = new(jobBatch)
		}
	}
	b := p.filling
	b.jobs[b.n] = j
	if b.n++; b.n == poolBatch {
		p.batches.Add(1)
		p.full.Put(b)
		p.filling = nil
	}
}

// recycle gives a finished job of Go back to its task's pool.
func (s *Scheduler) recycle(j *job) {
	p := &j.task.pool
	if p.filling == nil {
		s.d.filling = append(s.d.filling, p)
	}
	p.put(j)
}

// flushPools hands the batches the dispatcher was filling to Go, however
// few jobs they hold, before the dispatcher sleeps.
func (s *Scheduler) flushPools() {
	for i, p := range s.d.filling {
		if b := p.filling; b != nil {
			p.filling = nil
			p.batches.Add(1)
			p.full.Put(b)
		}
		s.d.filling[i] = nil
	}
	s.d.filling = s.d.filling[:0]
}
