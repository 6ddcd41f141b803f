package scheduler

import (
	"strconv"
	"time"
)

// State is where an invocation stands. An invocation moves forward only:
// Queued, then Pending, then Running, then one final state; it may end from
// Queued or Pending without running. The zero State is Queued.
type State uint32

// The states of an invocation.
const (
	// Queued: submitted, waiting behind earlier work for its key.
	Queued State = iota
	// Pending: its key is free; it waits for one of the MaxParallel slots.
	Pending
	// Running: its task function is executing.
	Running
	// Succeeded: the task returned a nil error. Final.
	Succeeded
	// Failed: the task returned an error, panicked or called
	// runtime.Goexit (or a hook did, on its Running event). Final.
	Failed
	// Dropped: OnBusy was Drop and its key was busy; it never ran. Final.
	Dropped
	// Expired: still not running MaxWait after Submit; it never ran. Final.
	Expired
	// Canceled: its Submit ctx ended while it waited, or Close cancelled it
	// while it waited (it never ran), or a newer submission of an
	// OnBusy=Replace task replaced it (it may have run). Final.
	Canceled
)

// replacing is a Running invocation whose ctx a newer submission of an
// OnBusy=Replace task has cancelled: it ends Canceled when it returns. It
// is internal; users see it as Running.
const replacing State = 100

// public returns the state users see.
func (s State) public() State {
	if s == replacing {
		return Running
	}
	return s
}

var stateNames = [...]string{"Queued", "Pending", "Running", "Succeeded", "Failed", "Dropped", "Expired", "Canceled"}

// String returns the state's name, such as "Running".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Final reports whether s is an end state: Succeeded, Failed, Dropped,
// Expired or Canceled.
func (s State) Final() bool { return s >= Succeeded && s <= Canceled }

// Event reports one state change of one invocation to Config.OnEvent and
// to the hooks given to Subscribe; or, with Deduped or Throttled set, a
// note about an invocation that is not a state change.
//
// For any one invocation, events arrive in this order: Queued; then at
// most one Throttled; then Pending, Running and a final state, or a final
// state straight from Queued or Pending. Deduped events come after Queued,
// anywhere among the rest.
type Event struct {
	// Time is when the change happened, by the scheduler's clock: the
	// wall time New ran plus the monotonic time since, so that one
	// Scheduler's event times never go backwards, even when the system
	// clock is set. It carries a monotonic reading: Sub and Before
	// compare it with time.Now's exactly.
	Time  time.Time
	Task  string // the task's name
	ID    uint64 // the invocation's ID
	Key   string // the key it is scheduled under (see Invocation.Key)
	Label string // Options.Label of its arguments, if set
	State State  // the new state
	// Err is the invocation's error for Failed, Dropped, Expired and
	// Canceled, and nil otherwise.
	Err error
	// Worker names the process that made the change, with a Backend
	// (postgres.Config.Worker): for Running and the final states of an
	// invocation that ran, the process that ran it. Empty in memory.
	Worker string
	// Deduped marks a submission collapsed into the invocation ID by
	// registration dedupe. It is not a state change: Time is when Submit
	// was called and State the invocation's state then. It always arrives
	// after the invocation's Queued event, possibly after later ones too.
	Deduped bool
	// Throttled marks an invocation that is at the head of its key and
	// waits for a Rate token (see Options.Rate). It is not a state change:
	// State is Queued and Time is when the wait began. It comes after the
	// invocation's Queued event, at most once, and the next event for the
	// invocation (Pending, or a final state if it ends while it waits) ends
	// the wait. It is sent if someone listens as the wait begins: a
	// listener that subscribes during a wait does not hear of it.
	Throttled bool
}
