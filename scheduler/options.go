package scheduler

import (
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// Scope says which invocations of a task count as "the same" for a
// concurrency rule. The zero Scope is Disabled.
type Scope uint8

// The scopes, for Options.Running and Options.Registration.
const (
	// Disabled: no rule; only the global MaxParallel cap applies.
	Disabled Scope = iota
	// ByTask: all invocations of the task are the same.
	ByTask
	// ByArguments: invocations with equal arguments are the same. Arguments
	// are compared by their %#v formatting, which agrees with == for
	// arguments made of strings, numbers, booleans and structs or arrays of
	// them; a pointer argument compares by what it points to, pointers
	// inside it by address, maps and slices by contents.
	ByArguments
	// ByKey: invocations whose Options.Key values are equal are the same.
	ByKey
)

var scopeNames = [...]string{"Disabled", "ByTask", "ByArguments", "ByKey"}

// String returns the scope's name, such as "ByKey".
func (s Scope) String() string { return enumName(scopeNames[:], int(s), "Scope") }

// Policy says what a submission does when its key is busy. The zero Policy
// is Wait.
type Policy uint8

// The policies, for Options.OnBusy.
const (
	// Wait: the invocation waits in its key's mailbox, in FIFO order, and
	// starts as soon as its key is free and a slot opens.
	Wait Policy = iota
	// Drop: if the key has no room for the invocation when it is routed,
	// it ends Dropped at once without running, and Wait returns
	// ErrDropped. A key has no room when its Limit is taken: the
	// invocations it holds, Pending, Running and Queued together, number
	// Limit already (so a key with work queued ahead that waits for the
	// key to free up has no room); or, with a Rate, when the tokens
	// available now do not cover every one of its invocations that has
	// not started yet plus this one.
	//
	// An invocation that finds room never waits for the key's work to end.
	// It becomes Pending at once, or, with Limit above 1 or a Rate, it may
	// wait Queued for the key's previous invocation to start (a key holds
	// one place at a time in the slot queue, see Limit); it then needs no
	// more than a slot. So a key with Limit N takes N submissions in a
	// row, however fast they come, and drops the rest until one ends; a
	// Burst of N takes N in a row.
	Drop
	// Replace: the newest submission wins. The task's invocations for the
	// key that are still waiting end Canceled, and the running ones have
	// their ctx cancelled (cause ErrReplaced) and end Canceled when they
	// return. The new invocation waits Queued until every invocation it
	// replaced has returned, whatever the Limit: a Replace task never has
	// two invocations of one key running at once, and a task that takes
	// its time to wind down is never overlapped by its replacement. Like
	// Hatchet's CANCEL_IN_PROGRESS or Temporal's TERMINATE_EXISTING.
	// Invocations of other tasks of a Group are left alone: work of theirs
	// queued ahead starts as the Limit allows, work queued behind the new
	// invocation waits behind it (FIFO). A remote service the cancelled
	// task was calling learns of the cancellation on its own schedule.
	Replace
)

var policyNames = [...]string{"Wait", "Drop", "Replace"}

// String returns the policy's name, such as "Drop".
func (p Policy) String() string { return enumName(policyNames[:], int(p), "Policy") }

// Dedupe says how long an invocation absorbs matching submissions when
// Options.Registration is set. The zero Dedupe is UntilStart.
type Dedupe uint8

// The dedupe modes, for Options.Dedupe.
const (
	// UntilStart: only invocations that have not started (Queued or
	// Pending) absorb new submissions. With Running=ByKey this leaves at
	// most one running and one waiting invocation per key: a burst while
	// one runs collapses into one follow-up run.
	UntilStart Dedupe = iota
	// UntilDone: invocations absorb new submissions until they reach a
	// final state, running included: a burst runs once.
	UntilDone
)

var dedupeNames = [...]string{"UntilStart", "UntilDone"}

// String returns the mode's name, such as "UntilDone".
func (d Dedupe) String() string { return enumName(dedupeNames[:], int(d), "Dedupe") }

// FullPolicy says what a Submit does when a MaxQueued bound
// (Config.MaxQueued, Options.MaxQueued) is reached. The zero FullPolicy
// is Block.
type FullPolicy uint8

// The full policies, for Config.OnFull and Options.OnFull.
const (
	// Block: Submit waits until the bound has room, then submits. It
	// returns an error wrapping ErrCanceled (and the cause) if its ctx
	// ends first, and ErrClosed if Close is called first; either way it
	// created nothing. Blocked Submits are not served in any particular
	// order. A task that submits to its own full key from inside waits
	// for ever unless its Submit ctx ends.
	Block FullPolicy = iota
	// Reject: Submit returns an error wrapping ErrFull at once, and
	// creates nothing.
	Reject
)

var fullNames = [...]string{"Block", "Reject"}

// String returns the policy's name, such as "Reject".
func (p FullPolicy) String() string { return enumName(fullNames[:], int(p), "FullPolicy") }

func enumName(names []string, v int, typ string) string {
	if v < len(names) {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(v) + ")"
}

// Options configures a task. The zero Options is a task with no concurrency
// rule: only the scheduler's MaxParallel cap applies.
type Options[A any] struct {
	// Running is the run-time rule: at most one Running or Pending
	// invocation (or Limit of them) per scope value: per key, per task, per
	// argument value. Keys belong to their task, unless tasks share them
	// through a Group. Zero: Disabled.
	Running Scope

	// Registration is the submit-time rule: a Submit that matches an
	// unfinished invocation of the same task in this scope returns that
	// invocation instead of creating one (see Dedupe). The collapsed
	// submission's arguments and ctx are ignored: the invocation runs with
	// the arguments it was first submitted with, and only the first
	// submission's ctx can cancel it. Zero: Disabled, every Submit creates
	// an invocation.
	Registration Scope

	// Key returns the key of an argument value. It is required when Running
	// or Registration is ByKey; otherwise, when set, it only labels the
	// invocation (Invocation.Key, Event.Key). It must be fast, pure and
	// safe for concurrent use; an empty key makes Submit fail with
	// ErrEmptyKey, and a panic makes Submit fail with a *PanicError.
	Key func(A) string

	// Label describes an invocation's arguments in events (Event.Label),
	// for timelines and logs, such as the operation it performs. It is
	// called once per Submit (deduplicated ones included) while someone
	// listens to events, and only then; it must be fast, pure and safe for
	// concurrent use, and a panic in it fails that Submit. Nil means no
	// label.
	Label func(A) string

	// OnBusy is what a submission does when its key is busy. Drop needs a
	// Running scope. Zero: Wait.
	OnBusy Policy

	// Dedupe says which unfinished invocations absorb new submissions; it
	// needs a Registration scope when set to UntilDone. Zero: UntilStart.
	Dedupe Dedupe

	// MaxWait bounds the wait: an invocation still Queued or Pending
	// MaxWait after Submit ends Expired at that moment and never runs. Zero
	// means no bound; negative is an error. The deadline holds nothing of
	// an invocation once it is final: a long MaxWait costs no memory for
	// work that is done.
	MaxWait time.Duration

	// MaxQueued bounds how many invocations of one key may wait at once:
	// Queued or Pending, not yet Running. Per key of the Running scope; for
	// a task without a Running scope, for the whole task. In a Group, the
	// waiting invocations of all its tasks count for a key, and the tasks
	// must agree on MaxQueued. A Submit that finds the key full waits or
	// fails, as OnFull says; a deduplicated Submit (Registration) needs no
	// room and never waits. A Replace task's Submit is never held back by
	// this bound, since it ends the key's earlier waiting invocation of
	// its task: it takes its place even when none is free, so a key of a
	// Group with Replace tasks may hold one waiting invocation more per
	// such task. The place is given back when the invocation starts or
	// ends without running. Zero means no bound; negative is an error.
	// Config.MaxQueued bounds the whole scheduler as well.
	MaxQueued int
	// OnFull is what this task's Submit does when its key is at MaxQueued:
	// Block (wait for room) or Reject (fail with ErrFull); see FullPolicy.
	// Reject needs a MaxQueued. Zero: Block.
	OnFull FullPolicy

	// Limit is how many invocations of one key may be in flight (Pending or
	// Running) at once; it needs a Running scope. Keys still take one
	// place at a time in the slot queue, so a key with a high Limit does
	// not crowd out others: while one of a key's invocations is Pending
	// and has not started, its next one waits Queued, and becomes Pending
	// when that one starts (this holds for a key with a Rate as well).
	// Zero means 1; negative is an error.
	Limit int

	// Rate spaces the starts of one key's invocations to at most Rate per
	// second, with bursts of up to Burst; it needs a Running scope. An
	// invocation held back by the rate waits Queued at the head of its key
	// and holds no slot (Event.Throttled reports the wait). The limiter is
	// spent at the actual start, so waiting for a slot never squeezes two
	// starts closer. A rate so low that the next token is further away
	// than the longest time.Duration (about 292 years) holds the key that
	// long: it never overflows into no wait. A key's limiter lives with
	// its actor: an idle key is forgotten only once its limiter has
	// refilled to Burst, at which point a fresh limiter behaves the same,
	// so forgetting it loses nothing. Zero (or rate.Inf) means no rate;
	// negative is an error.
	Rate rate.Limit
	// Burst is how many starts the rate allows at once. Zero means 1;
	// negative, or set without Rate, is an error.
	Burst int

	// Group makes tasks share keys: tasks with the same non-empty Group
	// share per-key actors, so that, say, a sync task and a refresh task
	// for the same account never overlap. Grouped tasks need Running ByKey
	// and the same Limit, Rate, Burst and MaxQueued. Empty means the
	// task's keys are their own.
	Group string
}

// validate checks the options of the task named name; the error names
// the task and the option.
func (o *Options[A]) validate(name string) error {
	err := o.check()
	if err != nil {
		err.task = name
		return err
	}
	return nil
}

func (o *Options[A]) check() *inputError {
	switch {
	case o.Running > ByKey:
		return badOption("Running %v is not a Scope", o.Running)
	case o.Registration > ByKey:
		return badOption("Registration %v is not a Scope", o.Registration)
	case o.OnBusy > Replace:
		return badOption("OnBusy %v is not a Policy", o.OnBusy)
	case o.Dedupe > UntilDone:
		return badOption("Dedupe %v is not a Dedupe mode", o.Dedupe)
	case o.OnFull > Reject:
		return badOption("OnFull %v is not a FullPolicy", o.OnFull)
	case o.MaxWait < 0:
		return badOption("MaxWait %v is negative", o.MaxWait)
	case o.Running == ByKey && o.Key == nil:
		return &inputError{what: "Running ByKey needs a Key func", err: ErrNoKeyFunc}
	case o.Registration == ByKey && o.Key == nil:
		return &inputError{what: "Registration ByKey needs a Key func", err: ErrNoKeyFunc}
	case o.OnBusy != Wait && o.Running == Disabled:
		return badOption("OnBusy %v needs a Running scope: without one a key is never busy", o.OnBusy)
	case o.Limit < 0:
		return badOption("Limit %d is negative", o.Limit)
	case o.Rate < 0:
		return badOption("Rate %v is negative", o.Rate)
	case o.Burst < 0:
		return badOption("Burst %d is negative", o.Burst)
	case o.MaxQueued < 0:
		return badOption("MaxQueued %d is negative", o.MaxQueued)
	case o.Burst > 0 && (o.Rate == 0 || o.Rate == rate.Inf):
		return badOption("Burst %d needs a Rate", o.Burst)
	case o.Limit > 0 && o.Running == Disabled:
		return badOption("Limit %d needs a Running scope", o.Limit)
	case o.Rate > 0 && o.Running == Disabled:
		return badOption("Rate %v needs a Running scope", o.Rate)
	case o.Group != "" && o.Running != ByKey:
		return badOption("Group %q needs Running ByKey", o.Group)
	case o.Dedupe == UntilDone && o.Registration == Disabled:
		return badOption("Dedupe UntilDone needs a Registration scope")
	case o.OnFull == Reject && o.MaxQueued == 0:
		return badOption("OnFull Reject needs a MaxQueued: without one nothing is ever full")
	}
	return nil
}
