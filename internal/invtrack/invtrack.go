// Package invtrack follows the invocations a metrics hook sees, for the
// Prometheus collector (promperkey) and the OpenTelemetry instrumentation
// (otelperkey), which share it.
package invtrack

import (
	"sync"
	"time"

	"github.com/perkey/perkey/scheduler"
)

// Tracker remembers, for each invocation the hook saw submitted and
// that is not final yet, its state and the time it entered it: the Submit
// time while it waits, the start while it runs. Events do not carry the
// state an invocation leaves nor its Submit or start time, so this is what
// it takes to derive the gauges and the two histograms exactly.
//
// Invocation IDs are numbered in Submit order, so the IDs outstanding are
// mostly dense: the tracker keeps them in pages of consecutive IDs rather
// than in a hash map, which churn (an insert and a delete per invocation)
// fills with tombstones. A page is freed when its last invocation ends,
// and an older page that has thinned out to an eighth moves its few
// survivors (work that waits long behind its key, or runs long) to a map,
// so that memory stays within about 128 bytes per invocation followed,
// plus a 4 KiB page per shard, whatever their pattern. It is sharded by
// ID, one lock per shard, so that the dispatcher (Queued, Pending) and the
// workers (Running, final) rarely meet: consecutive IDs fall on different
// shards. A Tracker is safe for concurrent use; its zero value is not
// ready: make one with New. It holds no goroutine, and nothing to close.
type Tracker struct {
	base   time.Time // times are kept as durations since base
	shards [trackerShards]trackerShard
}

const (
	// trackerShards is how many shards a tracker has: a power of two,
	// several times the usual MaxParallel.
	trackerShards = 64
	// pageSize is how many IDs of one shard a page holds: a page covers
	// pageSize*trackerShards consecutive IDs.
	pageSize = 256
	// sparse is the number of invocations at or below which an older page
	// gives its survivors to the shard's map.
	sparse = pageSize / 8
)

type trackerShard struct {
	mu       sync.Mutex
	pages    map[uint64]*trackerPage // by page number within the shard
	overflow map[uint64]trackerSlot  // survivors of thinned pages, by index within the shard
	newest   uint64                  // the highest page number added to
	_        [32]byte                // one cache line per shard
}

// trackerPage holds the invocations of pageSize consecutive IDs of one
// shard.
type trackerPage struct {
	live  int
	slots [pageSize]trackerSlot
}

type trackerSlot struct {
	since time.Duration   // since Tracker.base
	state scheduler.State // Queued, Pending or Running
	used  bool
}

// Tracked is one invocation a Tracker follows.
type Tracked struct {
	State scheduler.State // Queued, Pending or Running
	Since time.Time       // Submit time while waiting, start while Running
}

// New returns an empty Tracker.
func New() *Tracker { return &Tracker{base: time.Now()} }

// Add starts following invocation id, Queued since at.
func (t *Tracker) Add(id uint64, at time.Time) {
	sh, within := t.shard(id)
	page, i := within/pageSize, within%pageSize
	sh.mu.Lock()
	pg := sh.pages[page]
	if pg == nil {
		if sh.pages == nil {
			sh.pages = make(map[uint64]*trackerPage)
		}
		pg = new(trackerPage)
		sh.pages[page] = pg
		sh.newest = max(sh.newest, page)
	}
	if !pg.slots[i].used {
		pg.live++
	}
	pg.slots[i] = trackerSlot{since: at.Sub(t.base), state: scheduler.Queued, used: true}
	sh.mu.Unlock()
}

// Move records that invocation id entered state st at at, and returns
// what it was before; ok is false for an invocation not followed. A move
// to Pending keeps the Submit time.
func (t *Tracker) Move(id uint64, st scheduler.State, at time.Time) (prev Tracked, ok bool) {
	sh, within := t.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	slot, ok := sh.get(within)
	if !ok {
		return Tracked{}, false
	}
	next := slot
	next.state = st
	if st == scheduler.Running {
		next.since = at.Sub(t.base)
	}
	sh.set(within, next)
	return Tracked{State: slot.state, Since: t.base.Add(slot.since)}, true
}

// Remove stops following invocation id, now final, and returns what it
// was; ok is false for an invocation not followed.
func (t *Tracker) Remove(id uint64) (prev Tracked, ok bool) {
	sh, within := t.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	slot, ok := sh.get(within)
	if !ok {
		return Tracked{}, false
	}
	sh.delete(within)
	return Tracked{State: slot.state, Since: t.base.Add(slot.since)}, true
}

// shard returns the shard of id and the index of id within it.
func (t *Tracker) shard(id uint64) (*trackerShard, uint64) {
	return &t.shards[id%trackerShards], id / trackerShards
}

// The methods below take the index within the shard; the shard's lock
// must be held.

// get returns the slot of an invocation followed.
func (sh *trackerShard) get(within uint64) (trackerSlot, bool) {
	if pg := sh.pages[within/pageSize]; pg != nil && pg.slots[within%pageSize].used {
		return pg.slots[within%pageSize], true
	}
	s, ok := sh.overflow[within]
	return s, ok
}

// set replaces the slot of an invocation followed.
func (sh *trackerShard) set(within uint64, s trackerSlot) {
	if pg := sh.pages[within/pageSize]; pg != nil && pg.slots[within%pageSize].used {
		pg.slots[within%pageSize] = s
		return
	}
	sh.overflow[within] = s
}

// delete forgets an invocation followed; its page goes when it was the
// last, and moves its survivors to the overflow map when it has thinned
// out and is not the newest (so that no more invocations will arrive on
// it, but for a few out of order, which make it again).
func (sh *trackerShard) delete(within uint64) {
	page := within / pageSize
	pg := sh.pages[page]
	if pg == nil || !pg.slots[within%pageSize].used {
		delete(sh.overflow, within)
		if len(sh.overflow) == 0 {
			sh.overflow = nil // give back what a burst of survivors grew
		}
		return
	}
	pg.slots[within%pageSize] = trackerSlot{}
	pg.live--
	switch {
	case pg.live == 0:
		delete(sh.pages, page)
	case pg.live <= sparse && page < sh.newest:
		if sh.overflow == nil {
			sh.overflow = make(map[uint64]trackerSlot)
		}
		for i, s := range pg.slots {
			if s.used {
				sh.overflow[page*pageSize+uint64(i)] = s
			}
		}
		delete(sh.pages, page)
	}
}

// size returns how many invocations the tracker follows, how many pages it
// holds and how many of the invocations are in overflow maps; for tests.
func (t *Tracker) size() (n, pages, overflow int) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, pg := range sh.pages {
			n += pg.live
		}
		n += len(sh.overflow)
		pages += len(sh.pages)
		overflow += len(sh.overflow)
		sh.mu.Unlock()
	}
	return n, pages, overflow
}
