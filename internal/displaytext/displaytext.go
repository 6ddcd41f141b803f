// Package displaytext makes text from tasks (task names, keys, labels,
// error text) safe to display in a page or a file: valid UTF-8, with
// control, bidirectional and invisible characters escaped, cut to a bound.
// The monitor and the timeline share it.
package displaytext

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Clean returns s as text safe to display: valid UTF-8 (each invalid
// byte becomes U+FFFD), with control, bidirectional and invisible
// formatting characters written as escapes such as \n or \u202e, and at
// most limit bytes long before a final "…" (cut at a character boundary).
// It reports whether s was cut. The result is s itself when s needed no
// change, and shares no memory with s otherwise, so that a cut key does
// not keep a long one alive.
func Clean(s string, limit int) (string, bool) {
	if len(s) <= limit && plain(s) {
		return s, false
	}
	var b strings.Builder
	b.Grow(min(len(s), limit) + len("…"))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size == 1:
			piece = "\uFFFD"
		case Hidden(r):
			piece = escape(r)
		default:
			piece = s[i : i+size]
		}
		if b.Len()+len(piece) > limit {
			b.WriteString("…")
			return b.String(), true
		}
		b.WriteString(piece)
		i += size
	}
	return b.String(), false
}

// plain reports whether s is printable ASCII only: the common case, which
// needs no change.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// Hidden reports whether r is a character that changes how the text
// around it reads without showing itself: a control character (C0, DEL,
// C1), a bidirectional control, a line or paragraph separator, or an
// invisible joiner or mark.
func Hidden(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, // ALM, LRM, RLM
		r >= 0x202a && r <= 0x202e, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069, // LRI, RLI, FSI, PDI
		r == 0x2028, r == 0x2029,   // line and paragraph separators
		r >= 0x200b && r <= 0x200d, r == 0x2060, r == 0xfeff: // zero-width
		return true
	}
	return false
}

// escape writes r the way Go source would: \n, \t, \r, \x1b, \u202e.
func escape(r rune) string {
	switch r {
	case '\n':
		return `\n`
	case '\t':
		return `\t`
	case '\r':
		return `\r`
	}
	if r < 0x80 {
		return `\x` + hex(int(r), 2)
	}
	return `\u` + hex(int(r), 4)
}

func hex(v, width int) string {
	s := strconv.FormatInt(int64(v), 16)
	return strings.Repeat("0", width-len(s)) + s
}
