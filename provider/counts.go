package provider

import (
	"maps"
	"sync"
	"time"
)

// counts is the provider's state: the calls, collisions, rate violations
// and faults since the last reset, the latest start per account, and the
// calls in flight per account. One mutex guards it, so the counts are
// exact under any concurrency, and the log it writes under that mutex is
// in the order the calls were counted.
type counts struct {
	mu       sync.Mutex
	total    Report             // Accounts unused: see accounts
	accounts map[string]*Counts // since the last reset
	// starts holds the latest start of each account called since the last
	// reset, for min_gap; it has an entry per entry of accounts.
	starts map[string]time.Time
	// inFlight is never reset: a call held across a reset still occupies
	// its account, and a call arriving meanwhile collides with it. It
	// holds only accounts with calls in flight.
	inFlight map[string]int
	log      callLog
}

func newCounts(log callLog) *counts {
	if log.now == nil {
		log.now = time.Now
	}
	return &counts{
		accounts: make(map[string]*Counts),
		starts:   make(map[string]time.Time),
		inFlight: make(map[string]int),
		log:      log,
	}
}

// begin counts a call for account arriving now, logs it and returns its
// outcome: Collision if it collides, else RateViolation if it starts too
// soon after the account's previous start, else OK. A call that does both
// counts in both. The caller must call end(account) once when the call
// ends, however it ends.
func (c *counts) begin(account, op string, p callParams) Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now() // under the lock: starts are in counting order
	n := c.inFlight[account]
	c.inFlight[account] = n + 1
	a := c.accounts[account]
	if a == nil {
		a = new(Counts)
		c.accounts[account] = a
	}
	out := OK
	prev, started := c.starts[account]
	c.starts[account] = now
	if started && p.tooSoon(now.Sub(prev)) {
		out = RateViolation
		a.RateViolations++
		c.total.RateViolations++
	}
	if p.collides(n) {
		out = Collision
		a.Collisions++
		c.total.Collisions++
	}
	a.Calls++
	c.total.Calls++
	c.log.call(out, account, op)
	return out
}

// end releases the account of a call counted by begin.
func (c *counts) end(account string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.inFlight[account] - 1; n > 0 {
		c.inFlight[account] = n
	} else {
		delete(c.inFlight, account)
	}
}

// fault counts and logs a call that asked for the fault f. It is not a
// call: it touches neither the account's counts nor what is in flight.
func (c *counts) fault(account, op string, f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total.Faults++
	c.log.fault(f, account, op)
}

// reset zeroes the counts and forgets the starts (not what is in flight),
// and logs label.
func (c *counts) reset(label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total = Report{}
	c.accounts = make(map[string]*Counts)
	c.starts = make(map[string]time.Time)
	c.log.reset(label)
}

// report returns the counts since the last reset.
func (c *counts) report() Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.total
	r.Accounts = make(map[string]Counts, len(c.accounts))
	for k, v := range c.accounts {
		r.Accounts[k] = *v
	}
	return r
}

// inFlightNow returns a copy of the calls in flight per account.
func (c *counts) inFlightNow() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.inFlight)
}
