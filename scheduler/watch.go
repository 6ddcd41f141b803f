package scheduler

import (
	"context"
	"reflect"
)

// watch cancels the waiting jobs submitted with one ctx when it ends. Jobs
// that share a ctx share a watch, so a batch submitted under one request
// ctx costs one hook on it, and one goroutine when it ends, not one per
// job (the runtime never frees a goroutine's descriptor).
//
// A long-lived ctx (a server's base ctx, say) may always have some job
// waiting under it, so its watch lives as long as the ctx: its set of jobs
// shrinks as they leave, so that its memory follows the jobs waiting now,
// not the most that ever waited at once.
type watch struct {
	ctx    context.Context
	shared bool                      // in s.watches; false for a ctx that cannot be a map key
	ended  bool                      // ctx has ended: the hook has taken the jobs
	jobs   shrinkMap[*job, struct{}] // the jobs still waiting
	stop   func() bool               // stops the hook on ctx
}

// watchCtx registers j, whose ctx can end, with the watch of its ctx,
// making one if needed. The caller holds closeMu for reading, so that the
// hook's count in wg never grows once Close has begun.
func (s *Scheduler) watchCtx(j *job) {
	ctx := j.x.ctx
	// A map key: nearly every ctx is a pointer; a value that cannot be
	// compared gets a watch of its own.
	shared := reflect.ValueOf(ctx).Comparable()
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	var w *watch
	if shared {
		w, _ = s.watches.get(ctx)
	}
	if w == nil {
		w = &watch{ctx: ctx, shared: shared}
		s.wg.Add(1)
		w.stop = context.AfterFunc(ctx, func() {
			defer s.wg.Done()
			s.ctxEnded(w)
		})
		if shared {
			s.watches.put(ctx, w)
		}
	}
	w.jobs.put(j, struct{}{})
	j.x.watch = w
}

// ctxEnded runs in the hook's goroutine when a watched ctx ends: every job
// still waiting under it is sent to the dispatcher to be cancelled.
func (s *Scheduler) ctxEnded(w *watch) {
	s.watchMu.Lock()
	jobs := w.jobs.m
	w.jobs = shrinkMap[*job, struct{}]{}
	w.ended = true
	s.forgetWatch(w)
	s.watchMu.Unlock()
	for j := range jobs {
		s.inbox.push(&msgNode{kind: msgCancel, j: j})
	}
}

// unwatch takes j off its ctx's watch once it no longer waits (it started,
// or ended), and stops the hook when no job is left under it.
func (s *Scheduler) unwatch(j *job) {
	if j.x == nil || j.x.watch == nil {
		return
	}
	w := j.x.watch
	j.x.watch = nil
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	if w.ended {
		return // ctx ended: the hook is running or has run
	}
	w.jobs.delete(j)
	if w.jobs.len() > 0 {
		return
	}
	s.forgetWatch(w)
	w.ended = true
	if w.stop() {
		s.wg.Done() // the hook will never run
	}
}

// forgetWatch takes w out of the map of shared watches; watchMu is held.
func (s *Scheduler) forgetWatch(w *watch) {
	if !w.shared {
		return
	}
	if cur, _ := s.watches.get(w.ctx); cur == w {
		s.watches.delete(w.ctx)
	}
}
