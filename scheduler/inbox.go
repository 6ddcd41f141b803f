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
	msgBatch                  // new jobs to route: j, and those linked from its msg
)

// The sizes of the inbox's rings. Past them, senders use the overflow
// lists: slower, never blocking.
const (
	sentSize    = 4096
	reportsSize = 1024
)

// inbox carries the messages to the dispatcher, its only reader, in two
// queues, so that the submitters and the workers, usually on different
// cores, do not write the same cache lines: sent, for submissions and the
// other messages from outside, in the order they were sent; and reports,
// for the workers' (started, done). A sender never blocks or sleeps, and
// wakes the dispatcher if it sleeps.
type inbox struct {
	sent     queue
	reports  queue
	sleeping atomic.Bool   // the dispatcher is about to wait on wake
	wake     chan struct{} // capacity 1
	_        cacheLinePad
}

func (ib *inbox) init() {
	ib.sent.init(sentSize)
	ib.reports.init(reportsSize)
	ib.wake = make(chan struct{}, 1)
}

// push sends n from outside the workers. It returns false, and drops n,
// once the inbox is sealed.
func (ib *inbox) push(n *msgNode) bool {
	if !ib.sent.push(n) {
		return false
	}
	ib.wakeUp()
	return true
}

// report sends a worker's message. It cannot fail: the dispatcher stops
// only once every worker has reported.
func (ib *inbox) report(n *msgNode) {
	ib.reports.push(n)
	ib.wakeUp()
}

// wakeUp wakes the dispatcher if it sleeps.
func (ib *inbox) wakeUp() {
	if ib.sleeping.Load() && ib.sleeping.CompareAndSwap(true, false) {
		select {
		case ib.wake <- struct{}{}:
		default:
		}
	}
}

// empty reports whether nothing waits to be read. Only the dispatcher
// calls it.
func (ib *inbox) empty() bool { return ib.sent.empty() && ib.reports.empty() }

// idle prepares the dispatcher to sleep: it returns false if a message
// arrived meanwhile, and true once senders will wake it.
func (ib *inbox) idle() bool {
	ib.sent.publish()
	ib.reports.publish()
	ib.sleeping.Store(true)
	if !ib.empty() {
		ib.sleeping.Store(false)
		return false
	}
	return true
}

// seal stops the inbox if it is empty: later sends fail. Only the
// dispatcher calls it, when it is done.
func (ib *inbox) seal() bool { return ib.reports.empty() && ib.sent.seal() }
