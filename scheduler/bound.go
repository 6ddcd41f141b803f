package scheduler

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Bounded queues (Config.MaxQueued, Options.MaxQueued). A bound counts
// places: the invocations waiting under it, Queued or Pending. Submit takes
// a place under each bound of its task before it creates the invocation,
// and the invocation gives them back when it starts, or when it ends
// without running: so a bound's count is exactly the invocations that
// wait under it, plus the Submits about to create one. Without a bound
// there is nothing to count: Submit, the workers and the dispatcher check
// one flag of the task (taskCore.bounded).
//
// A blocked Submit never holds a place while it waits: it waits for one
// bound with no place taken under the other, so it takes nothing from
// Submits that could go ahead.

// globalBound is Config.MaxQueued: one count for the whole scheduler,
// taken and given with atomic operations. Blocked Submits wait for a
// channel that a give closes, and only then does a give take the lock.
type globalBound struct {
	max     int64
	n       atomic.Int64 // places taken
	waiters atomic.Int64 // Submits blocked, or about to be
	mu      sync.Mutex
	room    chan struct{} // closed by the next give; nil when nobody waits
}

func newGlobalBound(maxQueued int) *globalBound {
	if maxQueued <= 0 {
		return nil
	}
	return &globalBound{max: int64(maxQueued)}
}

// tryTake takes a place if there is one.
func (b *globalBound) tryTake() bool {
	for {
		n := b.n.Load()
		if n >= b.max {
			return false
		}
		if b.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// give gives a place back and wakes the Submits waiting for one.
func (b *globalBound) give() {
	b.n.Add(-1)
	// A waiter counts itself before it looks at n, and this reads the
	// count after changing n: either it sees this place, or this sees it.
	if b.waiters.Load() > 0 {
		b.mu.Lock()
		if b.room != nil {
			close(b.room)
			b.room = nil
		}
		b.mu.Unlock()
	}
}

// take takes a place, waiting for one if block is set. It fails with
// ErrFull (not blocking), with canceled(cause) when ctx ends, and with
// ErrClosed when closing is closed.
func (b *globalBound) take(ctx context.Context, closing <-chan struct{}, block bool) error {
	for {
		if b.tryTake() {
			return nil
		}
		if !block {
			return ErrFull
		}
		b.waiters.Add(1)
		b.mu.Lock()
		if b.room == nil {
			b.room = make(chan struct{})
		}
		room := b.room
		b.mu.Unlock()
		took := b.tryTake() // a give that came before we counted ourselves
		var err error
		if !took {
			err = waitRoom(ctx, closing, room)
		}
		b.waiters.Add(-1)
		if took || err != nil {
			return err
		}
	}
}

// keyBound is Options.MaxQueued: a count per key, under a lock. Keys
// without waiting work have no entry.
type keyBound struct {
	max  int
	mu   sync.Mutex
	keys shrinkMap[string, *keyPlaces]
}

// keyPlaces is one key's count and the Submits waiting on it.
type keyPlaces struct {
	n       int           // places taken
	waiters int           // Submits blocked on room
	room    chan struct{} // closed by the next give; nil when nobody waits
}

func newKeyBound(maxQueued int) *keyBound {
	if maxQueued <= 0 {
		return nil
	}
	return &keyBound{max: maxQueued}
}

// places returns key's entry, making one; mu is held.
func (b *keyBound) places(key string) *keyPlaces {
	p, ok := b.keys.get(key)
	if !ok {
		p = &keyPlaces{}
		b.keys.put(key, p)
	}
	return p
}

// tidy forgets key's entry once nothing counts on it; mu is held.
func (b *keyBound) tidy(key string, p *keyPlaces) {
	if p.n == 0 && p.waiters == 0 {
		b.keys.delete(key)
	}
}

// tryTake takes a place for key if there is one.
func (b *keyBound) tryTake(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.places(key)
	if p.n >= b.max {
		return false
	}
	p.n++
	return true
}

// takeOver takes a place for key even when none is free (Replace).
func (b *keyBound) takeOver(key string) {
	b.mu.Lock()
	b.places(key).n++
	b.mu.Unlock()
}

// give gives a place of key back and wakes the Submits waiting on key.
func (b *keyBound) give(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.keys.get(key)
	if !ok {
		return // cannot happen: every give follows a take
	}
	p.n--
	if p.room != nil {
		close(p.room)
		p.room = nil
	}
	b.tidy(key, p)
}

// take takes a place for key, waiting for one if block is set; it fails as
// globalBound.take does.
func (b *keyBound) take(ctx context.Context, closing <-chan struct{}, key string, block bool) error {
	for {
		b.mu.Lock()
		p := b.places(key)
		if p.n < b.max {
			p.n++
			b.mu.Unlock()
			return nil
		}
		if !block {
			b.mu.Unlock()
			return ErrFull
		}
		p.waiters++
		if p.room == nil {
			p.room = make(chan struct{})
		}
		room := p.room
		b.mu.Unlock()
		err := waitRoom(ctx, closing, room)
		b.mu.Lock()
		p.waiters--
		b.tidy(key, p)
		b.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// waitRoom waits for room to close, and fails if ctx ends or the
// scheduler closes first.
func waitRoom(ctx context.Context, closing, room <-chan struct{}) error {
	select {
	case <-room:
		return nil
	case <-ctx.Done():
		return canceled(context.Cause(ctx))
	case <-closing:
		return ErrClosed
	}
}

// placeKey is the key of c's per-key bound for an invocation whose Running
// key is key: the key itself, or "" (the whole task) without a Running
// scope.
func (c *taskCore) placeKey(key string) string {
	if c.ks == nil {
		return ""
	}
	return key
}

// takePlaces takes the places a new invocation of c with Running key key
// needs: one under the task's per-key bound and one under the scheduler's,
// when they are set. It waits or fails as each bound's OnFull says, and
// never holds a place while it waits. On error it holds nothing.
func (c *taskCore) takePlaces(ctx context.Context, key string) error {
	kb, gb := c.keyBound, c.s.queued
	closing := c.s.closing
	pk := c.placeKey(key)
	if kb != nil && c.onBusy == Replace {
		// It ends the key's waiting invocation of its task: it takes that
		// one's place, free or not.
		kb.takeOver(pk)
		if gb != nil {
			if err := gb.take(ctx, closing, c.s.onFull == Block); err != nil {
				kb.give(pk)
				return c.globalFull(err)
			}
		}
		return nil
	}
	for {
		if kb != nil {
			if err := kb.take(ctx, closing, pk, c.onFull == Block); err != nil {
				return c.keyFull(err, key)
			}
		}
		if gb == nil || gb.tryTake() {
			return nil
		}
		if kb != nil {
			kb.give(pk)
		}
		if err := gb.take(ctx, closing, c.s.onFull == Block); err != nil {
			return c.globalFull(err)
		}
		if kb == nil || kb.tryTake(pk) {
			return nil
		}
		gb.give()
	}
}

// givePlaces gives back the places of an invocation of c with Running key
// key, once it starts or ends without running.
func (c *taskCore) givePlaces(key string) {
	if c.keyBound != nil {
		c.keyBound.give(c.placeKey(key))
	}
	if c.s.queued != nil {
		c.s.queued.give()
	}
}

// keyFull describes a failure to take a place under the task's bound.
func (c *taskCore) keyFull(err error, key string) error {
	bound := fmt.Sprintf("MaxQueued %d reached for key %q", c.keyBound.max, key)
	if c.ks == nil {
		bound = fmt.Sprintf("MaxQueued %d reached for the task", c.keyBound.max)
	}
	return c.placeError(err, bound)
}

// globalFull describes a failure to take a place under Config.MaxQueued.
func (c *taskCore) globalFull(err error) error {
	return c.placeError(err, fmt.Sprintf("Config.MaxQueued %d reached", c.s.queued.max))
}

func (c *taskCore) placeError(err error, bound string) error {
	switch err {
	case ErrFull:
		return taskError(c.name, bound, ErrFull)
	case ErrClosed:
		return taskError(c.name, "", ErrClosed)
	}
	return taskError(c.name, "Submit ctx ended while waiting for room ("+bound+")", err)
}
