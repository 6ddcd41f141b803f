package provider

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxErrorText bounds, in characters, the text of a provider's answer
// that a Client error carries: a provider's error message, an outcome it
// should not have sent, the target of a redirect.
const maxErrorText = 200

// truncatedMark ends a text that cleanText cut short.
const truncatedMark = "... (truncated)"

// cleanText makes text that came from the provider safe to print on a
// terminal, as one line of at most limit characters (plus truncatedMark
// when cut): terminal escape sequences (ESC or C1 introduced: CSI, OSC,
// DCS and the like) are removed with their parameters; other control
// characters, newlines and tabs included, become spaces, and runs of
// spaces one; bidirectional overrides and other invisible format
// characters are removed; invalid UTF-8 becomes U+FFFD.
func cleanText(s string, limit int) string {
	rs := []rune(strings.ToValidUTF8(s, string(utf8.RuneError)))
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == 0x1b || isC1Introducer(r):
			i = escapeEnd(rs, i)
			continue
		case unicode.IsControl(r):
			r = ' '
		case unicode.Is(unicode.Cf, r):
			continue
		}
		b.WriteRune(r)
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	if utf8.RuneCountInString(out) <= limit {
		return out
	}
	return string([]rune(out)[:limit]) + truncatedMark
}

// isC1Introducer reports whether r is a C1 control that starts a sequence
// with parameters: CSI, OSC, DCS, SOS, PM or APC.
func isC1Introducer(r rune) bool {
	switch r {
	case 0x9b, 0x9d, 0x90, 0x98, 0x9e, 0x9f:
		return true
	}
	return false
}

// escapeEnd returns the index of the last character of the escape
// sequence that starts at rs[i] (ESC or a C1 introducer), or len(rs)-1 if
// it runs to the end.
func escapeEnd(rs []rune, i int) int {
	csi := rs[i] == 0x9b // else a string (OSC and the like) for C1
	if rs[i] == 0x1b {
		if i+1 == len(rs) {
			return i
		}
		i++
		switch rs[i] {
		case '[':
			csi = true
		case ']', 'P', 'X', '^', '_':
		default:
			return i // a two-character sequence, such as ESC c
		}
	}
	for i++; i < len(rs); i++ {
		c := rs[i]
		switch {
		case csi && c >= 0x40 && c <= 0x7e: // the final byte
			return i
		case csi && (c < 0x20 || c > 0x3f): // not a parameter: a broken sequence
			return i - 1
		case !csi && (c == 0x07 || c == 0x9c): // BEL or ST ends a string
			return i
		case !csi && c == 0x1b: // ESC \ (ST) ends a string
			if i+1 < len(rs) && rs[i+1] == '\\' {
				return i + 1
			}
			return i
		}
	}
	return len(rs) - 1
}
