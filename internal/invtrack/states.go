package invtrack

import (
	"strings"
	"sync/atomic"

	"github.com/perkey/perkey/scheduler"
)

// FinalStates are the final states, in the order the hooks index their
// per-state counters (the state label or attribute of
// perkey_invocations_total).
var FinalStates = [...]scheduler.State{
	scheduler.Succeeded, scheduler.Failed, scheduler.Dropped, scheduler.Expired, scheduler.Canceled,
}

// WaitingStates are the states an unfinished invocation is counted in
// (perkey_invocations), in the order of Gauges.
var WaitingStates = [...]scheduler.State{scheduler.Queued, scheduler.Pending, scheduler.Running}

// FinalIndex returns the index of st in FinalStates; ok is false for a
// state that is not final.
func FinalIndex(st scheduler.State) (i int, ok bool) { return indexOf(FinalStates[:], st) }

// WaitingIndex returns the index of st in WaitingStates; ok is false for
// a final state.
func WaitingIndex(st scheduler.State) (i int, ok bool) { return indexOf(WaitingStates[:], st) }

func indexOf(states []scheduler.State, st scheduler.State) (int, bool) {
	for i, s := range states {
		if s == st {
			return i, true
		}
	}
	return 0, false
}

// StateName is the label or attribute value of a state: its name in
// lower case, such as "succeeded".
func StateName(st scheduler.State) string { return strings.ToLower(st.String()) }

// Gauges counts the invocations of one task in each of WaitingStates. A
// hook enters an invocation's new state before it leaves the old one
// (its events come in order), so no count goes below zero for long; Count
// reads zero for a count that is below zero at the moment it is read. Each
// count has a cache line of its own: the dispatcher moves invocations into
// Queued and Pending, the workers into Running. The zero value is ready.
type Gauges [len(WaitingStates)]paddedInt64

type paddedInt64 struct {
	atomic.Int64
	_ [56]byte
}

// Enter counts one more invocation in st, if st is in WaitingStates.
func (g *Gauges) Enter(st scheduler.State) {
	if i, ok := WaitingIndex(st); ok {
		g[i].Add(1)
	}
}

// Leave counts one invocation fewer in st, if st is in WaitingStates.
func (g *Gauges) Leave(st scheduler.State) {
	if i, ok := WaitingIndex(st); ok {
		g[i].Add(-1)
	}
}

// Count returns the invocations in WaitingStates[i], never below zero.
func (g *Gauges) Count(i int) int64 { return max(g[i].Load(), 0) }
