package provider

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestCleanText(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name, in, want string
	}{
		{"plain", "account acme is busy", "account acme is busy"},
		{"empty", "", ""},
		{"CSI colour", "\x1b[31mred\x1b[0m text", "red text"},
		{"CSI with parameters", "a\x1b[1;31;40mb", "ab"},
		{"CSI clear screen and cursor home", "\x1b[2J\x1b[Hwiped", "wiped"},
		{"CSI private mode", "\x1b[?25lhidden cursor", "hidden cursor"},
		{"OSC title ended by BEL", "\x1b]0;pwned\x07after", "after"},
		{"OSC hyperlink ended by ST", "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"DCS string", "\x1bPq#0;2;0;0;0\x1b\\after", "after"},
		{"two-character sequence", "\x1bcreset", "reset"},
		{"ESC at the end", "end\x1b", "end"},
		{"unterminated CSI", "x\x1b[31", "x"},
		{"broken CSI", "x\x1b[31\ny", "x y"},
		{"C1 CSI", "a\u009b31mb", "ab"},
		{"C1 OSC", "a\u009d0;title\u009cb", "ab"},
		{"newlines and tabs", "line one\nline two\r\n\tthree", "line one line two three"},
		{"other controls", "bell\x07 back\x08space del\x7f nul\x00", "bell back space del nul"},
		{"bidi override", "pending \u202esucceeded\u202c", "pending succeeded"},
		{"bidi isolates and marks", "\u2066a\u2069\u200fb\u200e", "ab"},
		{"invalid UTF-8", "bad \xff\xfe bytes", "bad \ufffd bytes"},
		{"spaces trimmed and collapsed", "  a    b  ", "a b"},
		{"long text cut", long, strings.Repeat("é", maxErrorText) + truncatedMark},
		{"exactly the limit", long[:2*maxErrorText], strings.Repeat("é", maxErrorText)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := cleanText(tc.in, maxErrorText)
			require.Equal(t, tc.want, got)
			require.True(t, utf8.ValidString(got))
			for _, r := range got {
				require.False(t, unicode.IsControl(r) || unicode.Is(unicode.Cf, r), "%q left in %q", r, got)
			}
		})
	}
}

// FuzzCleanText: whatever the provider sends, the text is valid UTF-8,
// one line, bounded, and free of control and format characters.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "\x1b[31mred", "\x1b]0;t\x07", "\u009b1m", "a\u202eb", "\xff", "\x1b", "\x1bP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := cleanText(s, 20)
		require.True(t, utf8.ValidString(got))
		require.LessOrEqual(t, utf8.RuneCountInString(got), 20+len(truncatedMark))
		for _, r := range got {
			require.False(t, unicode.IsControl(r) || unicode.Is(unicode.Cf, r), "%q left in %q", r, got)
		}
	})
}
