package main

import (
	"strings"
	"sync"
)

// logTap collects the in-process provider's log, so that each scenario
// can print the calls it made. It is safe for concurrent use.
type logTap struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p to the log.
func (t *logTap) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.Write(p)
}

// take returns the complete lines written since the last take, without
// their newlines, and forgets them.
func (t *logTap) take() []string {
	t.mu.Lock()
	s := t.b.String()
	n := strings.LastIndexByte(s, '\n') + 1
	t.b.Reset()
	t.b.WriteString(s[n:])
	t.mu.Unlock()
	var lines []string
	for l := range strings.Lines(s[:n]) {
		lines = append(lines, strings.TrimSuffix(l, "\n"))
	}
	return lines
}
