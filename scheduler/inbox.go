package scheduler

import "sync/atomic"

// msgNode is a message to the dispatcher. Every job embeds one, which
// carries its submission and later its completion: a job is never in the
// inbox twice at once, so the hot path allocates no message. Rarer messages
// (cancel, dedupe, close) allocate their own node.
type msgNode struct {
	next *msgNode
	kind msgKind
	j    *job
}

type msgKind uint8

const (
	msgSubmit  msgKind = iota // a new job to route
	msgStarted                // a worker started j, whose key tracks starts
	msgDone                   // a worker finished running j
	msgCancel                 // j's Submit ctx ended
	msgDeduped                // report the deduplicated submissions noted
	msgClose                  // Close was called: drain, then stop
	msgAbort                  // Close's ctx ended: cancel what waits
	msgAsk                    // run the functions queued by ask
)

// inbox is the dispatcher's many-producer, one-consumer queue: a lock-free
// stack that producers push onto with one compare-and-swap and that the
// dispatcher takes whole, reversing it into arrival order. Producers never
// block or sleep; the dispatcher takes the whole backlog in one atomic swap.
type inbox struct {
	head     atomic.Pointer[msgNode]
	sleeping atomic.Bool   // the dispatcher is about to wait on wake
	wake     chan struct{} // capacity 1
	sealed   msgNode       // head points here once the dispatcher has stopped
}

func (ib *inbox) init() { ib.wake = make(chan struct{}, 1) }

// push appends n and wakes the dispatcher if it sleeps. It returns false,
// and drops n, once the inbox is sealed.
func (ib *inbox) push(n *msgNode) bool {
	for {
		old := ib.head.Load()
		if old == &ib.sealed {
			return false
		}
		n.next = old
		if ib.head.CompareAndSwap(old, n) {
			break
		}
	}
	if ib.sleeping.Load() && ib.sleeping.CompareAndSwap(true, false) {
		select {
		case ib.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// take removes every message pushed so far and returns them oldest first,
// linked through next. Only the dispatcher calls it.
func (ib *inbox) take() *msgNode {
	if ib.head.Load() == nil {
		return nil
	}
	var prev *msgNode
	for n := ib.head.Swap(nil); n != nil; {
		next := n.next
		n.next = prev
		prev, n = n, next
	}
	return prev
}

// idle prepares the dispatcher to sleep: it returns false if a message
// arrived meanwhile, and true once pushers will wake it.
func (ib *inbox) idle() bool {
	ib.sleeping.Store(true)
	if ib.head.Load() != nil {
		ib.sleeping.Store(false)
		return false
	}
	return true
}

// seal stops the inbox if it is empty: later pushes fail. Only the
// dispatcher calls it, when it is done.
func (ib *inbox) seal() bool { return ib.head.CompareAndSwap(nil, &ib.sealed) }
