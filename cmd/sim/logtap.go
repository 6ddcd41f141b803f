package main

import (
	"strings"
	"sync"
	"time"
)

// logTap collects the in-process provider's log, so that each scenario
// can print the calls it made, each with the time it was logged. It is
// safe for concurrent use.
type logTap struct {
	mu      sync.Mutex
	partial strings.Builder // the start of a line not yet complete
	lines   []logLine
	now     func() time.Time // nil: time.Now
}

// logLine is one line of the provider's log, without its newline, and
// when the tap received it. The provider writes a call's line as it
// counts the call, so at is when the call arrived, give or take the
// write.
type logLine struct {
	at   time.Time
	text string
}

// Write appends p to the log; each line completed by p is stamped now.
func (t *logTap) Write(p []byte) (int, error) {
	now := time.Now
	if t.now != nil {
		now = t.now
	}
	at := now()
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(p)
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		t.partial.WriteString(s[:i])
		t.lines = append(t.lines, logLine{at: at, text: t.partial.String()})
		t.partial.Reset()
		s = s[i+1:]
	}
	t.partial.WriteString(s)
	return len(p), nil
}

// take returns the complete lines written since the last take, and
// forgets them.
func (t *logTap) take() []logLine {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	t.lines = nil
	return lines
}
