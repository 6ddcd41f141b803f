package scheduler

import (
	"sync"
	"sync/atomic"
)

// queue is a many-producer, one-consumer FIFO of messages, read by the
// dispatcher. A sender claims a ticket with a compare-and-swap on tail and
// writes its message into the ticket's slot of a ring; the dispatcher
// reads the slots in ticket order. It reads consecutive slots, not a
// linked list: the messages of a burst come in a few cache lines, which
// the processor fetches ahead, and the dispatcher can touch the messages
// ahead of the one it handles (peek), so that their cache lines come from
// the senders' cores together instead of one after the other.
//
// When the ring is full, senders append to an overflow list under a lock,
// and keep doing so until the dispatcher has read the ring as far as it
// was claimed and taken the list: a send never blocks, and nothing sent
// after a message overtakes it.
type queue struct {
	tail        atomic.Uint64 // the next ticket; sealedBit once sealed
	overflowing atomic.Bool   // senders go to the overflow list
	_           cacheLinePad
	head        atomic.Uint64 // the next ticket to read, as senders see it (published now and then)
	_           cacheLinePad
	slots       []atomic.Pointer[msgNode] // a power of two of them
	mask        uint64

	// Owned by the dispatcher.
	next        uint64   // the next ticket to read
	bound       uint64   // with taken: read the ring up to this ticket, then taken
	taken       *msgNode // an overflow list taken, oldest first
	takes       uint64   // overflow lists taken so far
	unpublished int      // tickets read since head was last published

	mu       sync.Mutex // guards the overflow list, and sealing
	overHead *msgNode   // the overflow list, oldest first
	overTail *msgNode
	_        cacheLinePad
}

// sealedBit marks tail once the dispatcher has stopped: sends fail.
const sealedBit = 1 << 63

// publishEvery is how many messages the dispatcher reads before it tells
// the senders how far it got, so that they see the room it made.
const publishEvery = 64

func (q *queue) init(size int) {
	q.slots = make([]atomic.Pointer[msgNode], size)
	q.mask = uint64(size - 1)
}

// push sends n. It returns false, and drops n, once q is sealed.
func (q *queue) push(n *msgNode) bool {
	for {
		if q.overflowing.Load() {
			return q.overflow(n)
		}
		t := q.tail.Load()
		if t&sealedBit != 0 {
			return false
		}
		if t-q.head.Load() > q.mask {
			return q.overflow(n)
		}
		if q.tail.CompareAndSwap(t, t+1) {
			q.slots[t&q.mask].Store(n)
			return true
		}
	}
}

// overflow appends n to the overflow list, and keeps every later send
// there until the dispatcher takes the list.
func (q *queue) overflow(n *msgNode) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.tail.Load()&sealedBit != 0 {
		return false
	}
	n.next = nil
	if q.overTail == nil {
		q.overHead = n
	} else {
		q.overTail.next = n
	}
	q.overTail = n
	q.overflowing.Store(true)
	return true
}

// get returns the next message sent, or nil if there is none for now;
// busy reports that a sender has claimed the next place but not written
// it yet, so that the dispatcher must look again soon. The message is
// taken out of q before it is returned, so that it may be sent again as
// soon as it is handled.
func (q *queue) get() (n *msgNode, busy bool) {
	if q.taken != nil && q.next == q.bound {
		n = q.taken
		q.taken, n.next = n.next, nil
		return n, false
	}
	slot := &q.slots[q.next&q.mask]
	if n = slot.Load(); n != nil {
		slot.Store(nil)
		q.next++
		if q.unpublished++; q.unpublished == publishEvery {
			q.publish()
		}
		return n, false
	}
	if q.next != q.tail.Load()&^sealedBit {
		return nil, true // claimed, not written yet
	}
	if q.taken != nil || !q.overflowing.Load() {
		return nil, false
	}
	// The ring is read as far as it was claimed: take the overflow list,
	// to be read after the ring's claims so far.
	q.mu.Lock()
	q.taken, q.overHead, q.overTail = q.overHead, nil, nil
	q.bound = q.tail.Load() &^ sealedBit
	q.overflowing.Store(false)
	q.mu.Unlock()
	q.takes++
	return q.get()
}

// peek returns the message k places after the next one, if it is in the
// ring already, without taking it; nil otherwise. The dispatcher uses it
// to bring messages into its cache before it needs them.
func (q *queue) peek(k int) *msgNode {
	t := q.next + uint64(k)
	if q.taken != nil && t >= q.bound || t-q.next > q.mask {
		return nil
	}
	return q.slots[t&q.mask].Load()
}

// mark returns where the senders are now, for reached: the tail, and, if
// senders are on the overflow list, the number of lists the dispatcher
// will have taken once it has that one.
func (q *queue) mark() (tail, takes uint64) {
	tail = q.tail.Load() &^ sealedBit
	takes = q.takes
	if q.overflowing.Load() {
		takes++
	}
	return tail, takes
}

// reached reports whether the dispatcher has read every message sent
// before mark returned tail and takes.
func (q *queue) reached(tail, takes uint64) bool {
	return q.next >= tail && q.takes >= takes && q.taken == nil
}

// publish tells the senders how far the dispatcher has read.
func (q *queue) publish() {
	q.unpublished = 0
	q.head.Store(q.next)
}

// empty reports whether nothing waits to be read. Only the dispatcher
// calls it.
func (q *queue) empty() bool {
	return q.taken == nil && !q.overflowing.Load() &&
		q.slots[q.next&q.mask].Load() == nil && q.next == q.tail.Load()&^sealedBit
}

// seal stops q if it is empty: later sends fail. Only the dispatcher
// calls it, when it is done.
func (q *queue) seal() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.empty() {
		return false
	}
	return q.tail.CompareAndSwap(q.next, q.next|sealedBit)
}
