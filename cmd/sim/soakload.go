package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/perkey/perkey/provider"
	"github.com/perkey/perkey/scheduler"
)

// The soak's load: how many submitters per slot, and the shape of their
// bursts.
const (
	submittersPerSlot = 4
	maxBurst          = 4  // calls per burst, for one account
	minHoldMs         = 1  // the random hold of a call, in ms
	maxHoldMs         = 20 //
)

// load drives the soak's random load: submitters that each submit a burst
// of calls for one random account, wait until every invocation of the
// burst is final (each on a goroutine of its own), and start over until
// stopped. A submitter holds at most one burst of handles, so the load's
// own memory does not grow with time.
type load struct {
	tasks       [numSoakKinds]*soakTask
	accounts    int
	seed        uint64
	providerURL string // across processes: the provider every call names

	stop   chan struct{} // closed: submit no more bursts
	closed chan struct{} // closed after the scheduler's Close: stop waiting
	wg     sync.WaitGroup
	done   chan struct{} // closed once every submitter has returned

	submitted  atomic.Uint64 // Submit calls that returned an invocation
	completed  atomic.Uint64 // of those, the ones whose invocation became final
	lost       atomic.Uint64 // of those, the ones still not final after Close
	faults     atomic.Uint64 // submissions to the fault task
	submitErrs atomic.Uint64 // Submit calls that failed
	unexpected atomic.Uint64 // invocations that failed without asking for a fault

	errMu    sync.Mutex
	firstErr error // the first Submit error or unexpected failure
}

func newLoad(tasks [numSoakKinds]*soakTask, accounts int, seed uint64) *load {
	return &load{
		tasks:    tasks,
		accounts: accounts,
		seed:     seed,
		stop:     make(chan struct{}),
		closed:   make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// start starts n submitters, submitting with ctx, and a goroutine that
// closes done once they have all returned; wait joins them all.
func (l *load) start(ctx context.Context, n int) {
	for i := range n {
		l.wg.Go(func() { l.submitter(ctx, rand.New(rand.NewPCG(l.seed, uint64(i)))) })
	}
	go func() { // joined by wait, through done
		l.wg.Wait()
		close(l.done)
	}()
}

// finish stops the submitters after their current burst.
func (l *load) finish() { close(l.stop) }

// drained returns a channel closed once every submitter has returned.
func (l *load) drained() <-chan struct{} { return l.done }

// abandon makes the submitters stop waiting: a handle not final by then
// is lost. Call it after the scheduler's Close has returned.
func (l *load) abandon() { close(l.closed) }

// wait returns once every goroutine of the load has returned.
func (l *load) wait() { <-l.done }

func (l *load) submitter(ctx context.Context, rng *rand.Rand) {
	burst := make([]soakCall, 0, maxBurst)
	invs := make([]*scheduler.Invocation[reply], 0, maxBurst)
	kinds := make([]soakKind, 0, maxBurst)
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		burst = nextBurst(rng, l.accounts, burst[:0])
		invs, kinds = invs[:0], kinds[:0]
		for _, sc := range burst {
			sc.call.Provider = l.providerURL
			inv, err := l.tasks[sc.kind].Submit(ctx, sc.call)
			if err != nil {
				l.submitErrs.Add(1)
				l.noteErr(fmt.Errorf("submit %s: %w", sc.call.Account, err))
				continue
			}
			l.submitted.Add(1)
			if sc.kind.isFault() {
				l.faults.Add(1)
			}
			invs = append(invs, inv)
			kinds = append(kinds, sc.kind)
		}
		// Each at once: across processes, a result is kept for the
		// backend's retention only, and a Drop is final at its submit,
		// while the call before it in the burst may take a takeover or
		// two.
		var burstWait sync.WaitGroup
		for i, inv := range invs {
			burstWait.Go(func() { l.await(inv, kinds[i]) })
		}
		burstWait.Wait()
	}
}

// await waits until inv is final, or until abandon, and counts it.
func (l *load) await(inv *scheduler.Invocation[reply], k soakKind) {
	select {
	case <-inv.Done():
	case <-l.closed:
		select {
		case <-inv.Done():
		default:
			l.lost.Add(1)
			return
		}
	}
	l.completed.Add(1)
	_, err := inv.Wait(context.Background()) // Done is closed: it returns the result at once
	if err := unexpected(err, k); err != nil {
		l.unexpected.Add(1)
		l.noteErr(fmt.Errorf("%s: %w", inv.Key(), err))
	}
}

// unexpected returns err if it is not what a call of kind k may end with:
// nothing, Dropped or Canceled (the soak's ctx ended, or Close), and for
// a fault call one of the client's errors for the faults; across
// processes, where a task's error crosses as its text, a failure in a
// worker process that is no panic.
func unexpected(err error, k soakKind) error {
	var remote *scheduler.RemoteError
	switch {
	case errors.Is(err, scheduler.ErrDropped), errors.Is(err, scheduler.ErrCanceled), errors.Is(err, context.Canceled):
		return nil
	case k.isFault():
		if err == nil {
			return errors.New("a fault call succeeded")
		}
		if errors.Is(err, provider.ErrStatus) || errors.Is(err, provider.ErrTimeout) || errors.Is(err, provider.ErrConnection) {
			return nil
		}
		if errors.As(err, &remote) && remote.Cause == nil && strings.HasPrefix(remote.Message, "provider: ") {
			return nil
		}
	}
	return err
}

func (l *load) noteErr(err error) {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	if l.firstErr == nil {
		l.firstErr = err
	}
}

func (l *load) err() error {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return l.firstErr
}

// soakCall is one submission of a burst.
type soakCall struct {
	kind soakKind
	call call
}

// nextBurst appends to burst 1 to maxBurst calls for one random account of
// one family of tasks: the Group's (70%), the slots task's (15%) or the
// rated task's (15%); each call has a random op and a hold of 1 to 20ms.
func nextBurst(rng *rand.Rand, accounts int, burst []soakCall) []soakCall {
	account := fmt.Sprintf("acct%04d", rng.IntN(accounts))
	family := rng.IntN(100)
	ops := referenceOps()
	for range 1 + rng.IntN(maxBurst) {
		k := soakSlots
		mode := provider.CallOptions{Hold: time.Duration(minHoldMs+rng.IntN(maxHoldMs-minHoldMs+1)) * time.Millisecond}
		acct := account
		switch {
		case family < 70:
			k = groupKind(rng.IntN(100))
		case family < 85:
			acct, mode.Slots = "slots."+account, soakSlotsLimit
		default:
			k, acct = soakRated, "rated."+account
		}
		if k == soakFault {
			mode.Fault = []provider.Fault{provider.FaultStatus, provider.FaultSlow, provider.FaultClose}[rng.IntN(3)]
		}
		burst = append(burst, soakCall{kind: k, call: call{Account: acct, Op: ops[rng.IntN(len(ops))], Mode: mode}})
	}
	return burst
}

// groupKind maps a number in [0, 100) to a task of the Group: Wait 45%,
// Drop 20%, dedupe until start 15%, until done 16%, fault 4%.
func groupKind(n int) soakKind {
	switch {
	case n < 45:
		return soakWait
	case n < 65:
		return soakDrop
	case n < 80:
		return soakDedupeStart
	case n < 96:
		return soakDedupeDone
	}
	return soakFault
}
