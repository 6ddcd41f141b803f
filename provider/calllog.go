package provider

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
)

// callLog writes the provider's log: one line per call and per reset. Its
// owner (counts) serializes the writes; write errors are ignored, the log
// being a courtesy.
type callLog struct {
	w   io.Writer // nil: no log
	now func() time.Time
}

// call logs one call, as "[ok       ] acme     fetch_profile", with the
// tag COLLISION or TOO SOON for the other outcomes.
func (l *callLog) call(out Outcome, account, op string) {
	if l.w == nil {
		return
	}
	tag := "ok"
	switch out {
	case Collision:
		tag = "COLLISION"
	case RateViolation:
		tag = "TOO SOON"
	}
	fmt.Fprintf(l.w, "[%-9s] %-8s %s\n", tag, oneLine(account), oneLine(op))
}

// fault logs a call that asked for a fault, as
// "[FAULT    ] acme     fetch_profile (slow)".
func (l *callLog) fault(f Fault, account, op string) {
	if l.w == nil {
		return
	}
	fmt.Fprintf(l.w, "[%-9s] %-8s %s (%s)\n", "FAULT", oneLine(account), oneLine(op), f)
}

// reset logs a reset, as "--- reset @ 15:04:05 label ---".
func (l *callLog) reset(label string) {
	if l.w == nil {
		return
	}
	stamp := l.now().Format(time.TimeOnly)
	if label = oneLine(label); label != "" {
		label += " "
	}
	fmt.Fprintf(l.w, "--- reset @ %s %s---\n", stamp, label)
}

// oneLine replaces control characters (C0, DEL and C1, ESC included) with
// spaces and removes invisible format characters (bidirectional
// overrides among them), so that what a client sends cannot break the
// log's one-line-per-event shape or rewrite a terminal's display.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
}
