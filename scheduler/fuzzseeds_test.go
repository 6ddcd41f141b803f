package scheduler_test

import "slices"

// fzSeeds are hand-written sequences, one per corner of the model;
// testdata/fuzz/FuzzScheduler holds what the fuzzer found besides.
var fzSeeds = [][]byte{
	// One slot, two keys: FIFO per key, slots in ready order, all outcomes.
	fzOps(1, fzSub("wait", 0, 0), fzSub("wait", 0, 0), fzSub("wait", 1, 0), fzSub("free", 2, 0),
		fzRel(0, fzError), fzRel(0, fzPanic), fzRel(0, fzGoexit), fzRel(0, fzOK)),
	// Dedupe until start and until done, with a ctx cancelled while queued.
	fzOps(2, fzSub("start", 0, 0), fzSub("start", 0, fzCancellable), fzSub("start", 0, 0),
		fzSub("done", 1, 0), fzSub("done", 1, 0), fzCancel(1), fzRel(0, fzOK), fzSub("start", 0, 0),
		fzSub("args", 0, fzTag), fzSub("args", 0, fzTag), fzSub("task", 1, 0), fzSub("task", 2, 0)),
	// MaxWait: queued and pending work expires; a Wait returns at the expiry.
	fzOps(1, fzSub("wait", 0, 0), fzSub("wait", 0, 0), fzSub("limit2", 1, 0), fzSub("freereg", 2, 0),
		fzWait(1, 29), fzSleep(25), fzRel(0, fzOK)),
	// Drop and Replace, alone and in a Group with Wait and dedupe.
	fzOps(2, fzSub("drop", 0, 0), fzSub("drop", 0, 0), fzSub("replace", 1, 0), fzSub("replace", 1, 0),
		fzSub("replace", 1, 0), fzSub("g1", 2, 0), fzSub("g3", 2, 0), fzSub("g2", 2, 0), fzSub("g4", 2, 0),
		fzSub("g3", 2, 0), fzRel(1, fzOK), fzSub("limit2drop", 0, 0), fzSub("limit2drop", 0, 0), fzSub("limit2drop", 0, 0)),
	// A task that ignores its ctx: Close gives up (ErrLeaked), then it returns.
	fzOps(1, fzSub("wait", 0, fzStubborn), fzSub("wait", 0, 0), fzSub("replace", 1, fzStubborn),
		fzSub("replace", 1, 0), fzClose(fzCloseEnded, 0), fzSleep(5), fzRel(0, fzOK), fzClose(fzCloseTimeout, 3)),
	// Close in the background while work drains; later Submits fail.
	fzOps(3, fzSub("wait", 0, 0), fzSub("wait", 0, 0), fzSub("done", 1, 0), fzClose(fzCloseBackground, 0),
		fzSub("wait", 2, 0), fzSub("done", 2, 0), fzRel(0, fzOK), fzCancel(1), fzRel(0, fzOK)),
	// Close with a timeout that passes while MaxWait work expires.
	fzOps(1, fzSub("wait", 0, 0), fzSub("g1", 0, 0), fzSub("g1", 0, 0), fzClose(fzCloseTimeout, 25)),
	// Drop with Limit 2 while the one slot is taken: the first is Pending
	// and not started, the second still has room (it waits Queued for the
	// first to start), the third has none. (Issue 10, item 1.)
	fzOps(1, fzSub("wait", 2, 0), fzSub("limit2drop", 0, 0), fzSub("limit2drop", 0, 0), fzSub("limit2drop", 0, 0),
		fzRel(0, fzOK), fzRel(0, fzOK), fzRel(0, fzOK)),
	// Drop with a Burst of 2 tokens: two in a row have room, the third
	// has no token; the key is remembered while its bucket refills.
	fzOps(1, fzSub("wait", 2, 0), fzSub("rated", 0, 0), fzSub("rated", 0, 0), fzSub("rated", 0, 0),
		fzRel(0, fzOK), fzRel(0, fzOK), fzRel(0, fzOK), fzSub("rated", 0, 0), fzSub("rated", 1, 0)),
	// Replace with Limit 2: the replaced task ignores its ctx and keeps
	// running; the replacing one waits until it returns. (Item 2.)
	fzOps(2, fzSub("limit2replace", 0, fzStubborn), fzSub("limit2replace", 0, 0), fzSleep(3),
		fzSub("limit2replace", 0, 0), fzRel(0, fzOK), fzRel(0, fzOK)),
	// MaxQueued per key, per task and with Replace, with OnFull Reject.
	fzOps(1, fzSub("bounded", 0, 0), fzSub("bounded", 0, 0), fzSub("bounded", 0, 0), fzSub("bounded", 0, 0),
		fzSub("boundedfree", 1, 0), fzSub("boundedfree", 1, 0), fzSub("boundedfree", 1, 0),
		fzSub("boundedreplace", 2, 0), fzSub("boundedreplace", 2, 0), fzSub("boundedreplace", 2, 0),
		fzRel(0, fzOK), fzSub("bounded", 0, 0), fzSub("bounded", 0, 0)),
	// Config.MaxQueued 3, OnFull Reject: the fourth waiting one is refused,
	// a deduplicated one is not.
	fzOpsBounded(1, 2, fzSub("wait", 0, 0), fzSub("wait", 0, 0), fzSub("free", 1, 0), fzSub("start", 2, 0),
		fzSub("wait", 1, 0), fzSub("start", 2, 0), fzRel(0, fzOK), fzSub("wait", 1, 0)),
}

// Seed builders: fzOps takes MaxParallel and the operations.
func fzOps(maxParallel int, ops ...[3]byte) []byte { return fzOpsBounded(maxParallel, 0, ops...) }

// fzOpsBounded is fzOps with the index of a Config.MaxQueued in
// fzMaxQueued.
func fzOpsBounded(maxParallel, bound int, ops ...[3]byte) []byte {
	out := []byte{byte(bound*3 + maxParallel - 1)}
	for _, op := range ops {
		out = append(out, op[:]...)
	}
	return out
}

// Flags of fzSub.
const (
	fzTag         = 4    // Tag 1 instead of 0
	fzCancellable = 8    // a ctx that fzCancel can end
	fzStubborn    = 0x30 // a task that ignores its ctx
)

func fzSub(task string, key byte, flags byte) [3]byte {
	i := slices.IndexFunc(fzSpecs, func(s fzSpec) bool { return s.name == task })
	return [3]byte{0, byte(i), key | flags}
}

// fzRel releases the i-th running invocation, in start order.
func fzRel(i int, out fzOutcome) [3]byte {
	if out != fzOK {
		out += 4
	}
	return [3]byte{6, byte(i), byte(out)}
}

func fzCancel(sub int) [3]byte     { return [3]byte{8, byte(sub), 0} }
func fzSleep(ms int) [3]byte       { return [3]byte{10, byte(ms - 1), 0} }
func fzWait(sub, ms int) [3]byte   { return [3]byte{11, byte(sub), byte(ms)} }
func fzClose(kind, ms int) [3]byte { return [3]byte{13, byte(kind), byte(ms)} }

// The kinds of Close, for fzClose.
const (
	fzCloseBackground = iota
	fzCloseEnded
	fzCloseTimeout
)
