package monitor

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/perkey/perkey/internal/displaytext"
	"github.com/perkey/perkey/scheduler"
)

// walkShare bounds the share of the dispatcher's time that listing the
// busiest keys may take: after a walk that took d, the next starts no
// sooner than walkShare × d later (and no sooner than Interval/2).
// scheduler.Keys visits every live key on the dispatcher goroutine, so
// with many keys one walk takes long; at 20 the monitor keeps it below
// about 5% of the dispatcher's time, whatever the number of keys and of
// viewers.
const walkShare = 20

// sampleAbove is how many live keys the monitor walks at most. Beyond,
// one walk would keep the dispatcher for long (about 2.5µs a key, so half
// a second for 200,000), and the monitor samples instead: it asks
// scheduler.Key for the keys of the recent events, sampleShare × Keys of
// them at most, one short question each.
const (
	sampleAbove = 10_000
	sampleShare = 4
)

// keyCache keeps the busiest keys, as the latest walk (or sample) found
// them, for every viewer to share. At most one walk runs at a time; while
// one runs, the others are given the keys of the one before.
type keyCache struct {
	mu          sync.Mutex
	keys        []Key
	sampled     bool          // keys is a sample, not the busiest of all
	at          time.Time     // when the walk that found keys ended
	took        time.Duration // how long it took
	walking     chan struct{} // closed when the walk under way ends; nil if none
	walks       int           // walks started, for tests
	samples     int           // samples taken, for tests
	sampleAbove int           // sampleAbove, or less in tests
}

// get returns the busiest keys, whether they are a sample, when they were
// taken and how long that took. actors is the scheduler's count of live
// keys now: with none, there is nothing to walk.
func (c *keyCache) get(m *Monitor, actors int) (keys []Key, sampled bool, at time.Time, took time.Duration) {
	c.mu.Lock()
	for {
		now := time.Now()
		switch {
		case c.walking == nil && actors == 0:
			c.keys, c.sampled, c.at, c.took = []Key{}, false, now, 0
		case c.walking == nil && (c.at.IsZero() || now.Sub(c.at) >= max(m.cfg.Interval/2, walkShare*c.took)):
			c.walk(m, now, actors > c.sampleAbove)
		case c.walking != nil && c.at.IsZero():
			// The first walk is under way: nothing to give yet.
			done := c.walking
			c.mu.Unlock()
			<-done
			c.mu.Lock()
			continue
		}
		keys, sampled, at, took := c.keys, c.sampled, c.at, c.took
		c.mu.Unlock()
		return keys, sampled, at, took
	}
}

// walk lists the busiest keys, or a sample of them, without holding c.mu
// meanwhile, and stamps them with the time the walk ended. c.mu is held on
// entry and on return.
func (c *keyCache) walk(m *Monitor, start time.Time, sample bool) {
	done := make(chan struct{})
	c.walking = done
	if sample {
		c.samples++
	} else {
		c.walks++
	}
	c.mu.Unlock()
	var ks []scheduler.KeyStats
	if sample {
		ks = m.sampleKeys()
	} else {
		ks = m.s.Keys(m.cfg.Keys)
	}
	keys := make([]Key, len(ks))
	for i, k := range ks {
		var cut [2]bool
		keys[i] = Key{Queued: k.Queued, Pending: k.Pending, Running: k.Running}
		keys[i].Task, cut[0] = displaytext.Clean(k.Task, m.cfg.MaxText)
		keys[i].Key, cut[1] = displaytext.Clean(k.Key, m.cfg.MaxText)
		keys[i].Truncated = cut[0] || cut[1]
	}
	end := time.Now()
	c.mu.Lock()
	c.keys, c.sampled, c.at, c.took = keys, sample, end, end.Sub(start)
	c.walking = nil
	close(done)
}

// sampleKeys returns the busiest of the keys of the recent events, asking
// the scheduler for the load of each: a sample of the busiest keys, whose
// cost does not grow with the number of live keys. Without a watch there
// are no recent events, and no sample.
func (m *Monitor) sampleKeys() []scheduler.KeyStats {
	var out []scheduler.KeyStats
	for _, tk := range m.ring.recentKeys(sampleShare * m.cfg.Keys) {
		if k := m.s.Key(tk[0], tk[1]); k.Busy() > 0 {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b scheduler.KeyStats) int {
		return cmp.Or(cmp.Compare(b.Busy(), a.Busy()), cmp.Compare(a.Task, b.Task), cmp.Compare(a.Key, b.Key))
	})
	if len(out) > m.cfg.Keys {
		out = out[:m.cfg.Keys]
	}
	return out
}
