package monitor

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// ring keeps the last len(slots) events of the current watch.
//
// Recording takes no lock shared by all writers: the dispatcher and the
// workers record events at once, so each writer takes the next Seq from
// an atomic counter and fills its own slot under that slot's mutex; two
// writers meet only when they write the same slot, a whole lap apart.
// Each slot counts the events it let go, so that recording touches no
// other shared memory; readers lock one slot at a time.
//
// A watch is the time between subscribing to the scheduler's events and
// unsubscribing: only its events can be trusted to describe what runs
// now. Each new watch takes one Seq as a marker and starts after it, so
// that Seqs are never reused and a reader can tell a position in an
// earlier watch (see since).
type ring struct {
	slots []slot
	_     [56]byte      // head on a cache line of its own
	head  atomic.Uint64 // the latest Seq taken
	_     [56]byte
	first atomic.Uint64 // the first Seq of the current watch
	began atomic.Int64  // when the current watch began, Unix µs; 0 when not watching
	named atomic.Bool   // an event of the watch named a process (a Backend's): see workers
}

// slot is one place in the ring, padded to whole cache lines so that two
// writers of neighbouring slots do not share one.
type slot struct {
	_ [(64 - unsafe.Sizeof(slotData{})%64) % 64]byte // first: a last field of size 0 would take room
	slotData
}

type slotData struct {
	mu      sync.Mutex
	ev      Event // ev.Seq is 0 in a slot never written
	evicted [kinds]uint32
}

func newRing(n int) *ring {
	r := &ring{slots: make([]slot, n)}
	r.first.Store(1)
	return r
}

// add keeps e, of the given kind, letting go of the event a lap older in
// its slot.
func (r *ring) add(e Event, kind int) {
	if e.Worker != "" && !r.named.Load() {
		r.named.Store(true) // once per watch; in memory, never
	}
	e.Seq = r.head.Add(1)
	e.kind = uint8(kind)
	s := &r.slots[e.Seq%uint64(len(r.slots))]
	s.mu.Lock()
	switch old := s.ev.Seq; {
	case old < e.Seq:
		if old != 0 {
			s.evicted[s.ev.kind]++
		}
		s.ev = e
	default:
		s.evicted[kind]++ // a writer a lap ahead got here first: e is the one let go
	}
	s.mu.Unlock()
}

// begin starts a watch at now: it lets every event go and starts after a
// new marker. The monitor calls it before it subscribes, with its mutex
// held, so that no writer of this watch is under way.
func (r *ring) begin(now time.Time) {
	for i := range r.slots {
		s := &r.slots[i]
		s.mu.Lock()
		s.ev, s.evicted = Event{}, [kinds]uint32{}
		s.mu.Unlock()
	}
	r.named.Store(false)
	if r.head.Load() == 0 {
		r.first.Store(1) // the first watch: no Seq to tell it from
	} else {
		r.first.Store(r.head.Add(1) + 1)
	}
	r.began.Store(now.UnixMicro())
}

// end ends the watch: its events are no longer given out, since what
// happened after it is not known. They are let go at the next begin.
func (r *ring) end() {
	r.first.Store(r.head.Add(1) + 1)
	r.began.Store(0)
}

// since returns, oldest first, the events of the current watch with a Seq
// above after and at most upTo (0: no bound); last, the Seq to ask for
// next; how many of those events are no longer kept; and whether after
// was unknown (beyond every Seq taken, or in an earlier watch), in which
// case events start with the watch's first.
func (r *ring) since(after, upTo uint64) (events []Event, last, missed uint64, reset bool) {
	first := r.first.Load()
	head := r.head.Load()
	if upTo == 0 || upTo > head {
		upTo = head
	}
	if after > head || (after != 0 && after < first-1) {
		after, reset = 0, true
	}
	lo := max(after+1, first)
	if n := uint64(len(r.slots)); upTo >= n && lo <= upTo-n {
		missed = upTo - n + 1 - lo
		lo = upTo - n + 1
	}
	last = max(upTo, first-1)
	if lo > upTo {
		return []Event{}, last, missed, reset
	}
	events = make([]Event, 0, upTo-lo+1)
	for seq := lo; seq <= upTo; seq++ {
		s := &r.slots[seq%uint64(len(r.slots))]
		s.mu.Lock()
		e := s.ev
		s.mu.Unlock()
		switch {
		case e.Seq == seq:
			events = append(events, e)
		case e.Seq > seq:
			missed++ // let go since head was read
		default:
			// Taken but not written yet: stop here, and resume here next.
			return events, seq - 1, missed, reset
		}
	}
	return events, last, missed, reset
}

// recentKeys returns up to n distinct task and key pairs of the latest
// events of the watch, newest first, leaving out those whose text was cut
// (they name no key the scheduler knows). It looks at 2,048 events at
// most.
func (r *ring) recentKeys(n int) [][2]string {
	const look = 2048
	first, head := r.first.Load(), r.head.Load()
	seen := map[[2]string]bool{}
	var out [][2]string
	for seq := head; seq >= first && seq > 0 && head-seq < look && len(out) < n; seq-- {
		s := &r.slots[seq%uint64(len(r.slots))]
		s.mu.Lock()
		e := s.ev
		s.mu.Unlock()
		if tk := [2]string{e.Task, e.Key}; e.Seq == seq && !e.Truncated && !seen[tk] {
			seen[tk] = true
			out = append(out, tk)
		}
	}
	return out
}

// info describes the ring for State. It visits every slot: it is meant
// for a state taken a few times a second, not for every event.
func (r *ring) info() RingInfo {
	first, head := r.first.Load(), r.head.Load()
	ri := RingInfo{
		Watching: r.began.Load() != 0,
		Last:     max(head, first-1),
		Capacity: len(r.slots),
		Evicted:  map[string]uint64{},
	}
	if b := r.began.Load(); b != 0 {
		ri.Since = float64(b) / 1e3
	}
	var evicted [kinds]uint64
	for i := range r.slots {
		s := &r.slots[i]
		s.mu.Lock()
		if s.ev.Seq >= first {
			ri.Kept++
			ri.Bytes += s.ev.size()
		}
		for k, n := range s.evicted {
			evicted[k] += uint64(n)
		}
		s.mu.Unlock()
	}
	for k, n := range evicted {
		if n > 0 {
			ri.Evicted[kindName(k)] = n
		}
	}
	return ri
}

// evictedTotal is how many events of the watch the ring has let go.
func (r *ring) evictedTotal() uint64 {
	var n uint64
	for _, c := range r.info().Evicted {
		n += c
	}
	return n
}
