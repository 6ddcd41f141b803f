package postgres

import (
	"sync"
	"time"
)

// failureLogEvery is how often, at most, the backend logs the same kind of
// failure: a database that is away makes every loop fail several times a
// second, and one line a while says as much.
const failureLogEvery = 10 * time.Second

// failures rate-limits the backend's failure logs, per kind of failure.
type failures struct {
	mu   sync.Mutex
	last map[string]failureLog
}

type failureLog struct {
	at      time.Time // last logged
	dropped int       // failures not logged since
}

// logFailure logs a failure of what, at most once per failureLogEvery for
// the same what, with how many were not logged in between. Failures after
// Close has begun stopping the loops are not logged.
func (b *Backend) logFailure(what string, err error) {
	if b.life != nil && b.life.Err() != nil {
		return
	}
	f := &b.failures
	f.mu.Lock()
	if f.last == nil {
		f.last = make(map[string]failureLog)
	}
	prev := f.last[what]
	now := time.Now()
	if !prev.at.IsZero() && now.Sub(prev.at) < failureLogEvery {
		prev.dropped++
		f.last[what] = prev
		f.mu.Unlock()
		return
	}
	f.last[what] = failureLog{at: now}
	f.mu.Unlock()
	if prev.dropped > 0 {
		b.host.Logger.Warn("postgres: "+what+" failed", "err", err, "failures_since_last_log", prev.dropped+1)
		return
	}
	b.host.Logger.Warn("postgres: "+what+" failed", "err", err)
}
