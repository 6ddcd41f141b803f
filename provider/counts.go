package provider

import (
	"maps"
	"sync"
	"time"
)

// counts is the provider's state: the calls and collisions since the last
// reset, and the calls in flight per account. One mutex guards it, so the
// counts are exact under any concurrency, and the log it writes under that
// mutex is in the order the calls were counted.
type counts struct {
	mu       sync.Mutex
	total    Counts
	accounts map[string]*Counts // since the last reset
	// inFlight is never reset: a call held across a reset still occupies
	// its account, and a call arriving meanwhile collides with it.
	inFlight map[string]int
	log      callLog
}

func newCounts(log callLog) *counts {
	if log.now == nil {
		log.now = time.Now
	}
	return &counts{
		accounts: make(map[string]*Counts),
		inFlight: make(map[string]int),
		log:      log,
	}
}

// begin counts a call for account arriving now, logs it and returns its
// outcome. The caller must call end(account) once when the call ends,
// however it ends.
func (c *counts) begin(account, op string, p callParams) Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.inFlight[account]
	c.inFlight[account] = n + 1
	out := OK
	if p.collides(n) {
		out = Collision
	}
	a := c.accounts[account]
	if a == nil {
		a = new(Counts)
		c.accounts[account] = a
	}
	a.Calls++
	c.total.Calls++
	if out == Collision {
		a.Collisions++
		c.total.Collisions++
	}
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

// reset zeroes the counts (not what is in flight) and logs label.
func (c *counts) reset(label string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total = Counts{}
	c.accounts = make(map[string]*Counts)
	c.log.reset(label)
}

// report returns the counts since the last reset.
func (c *counts) report() Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Report{Calls: c.total.Calls, Collisions: c.total.Collisions, Accounts: make(map[string]Counts, len(c.accounts))}
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
