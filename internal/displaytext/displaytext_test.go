package displaytext

import (
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		in, want string
		limit    int
		cut      bool
	}{
		{"acme", "acme", 10, false},
		{"", "", 10, false},
		{"héllo wörld", "héllo wörld", 20, false},
		{"line\nbreak\ttab\rret", `line\nbreak\ttab\rret`, 50, false},
		{"\x1b[31mred", `\x1b[31mred`, 50, false},
		{"pending\u202esucceeded", `pending\u202esucceeded`, 50, false},
		{"a\u2066b\u2069c\u200fd\u061ce", `a\u2066b\u2069c\u200fd\u061ce`, 50, false},
		{"zero\u200bwidth\ufeff", `zero\u200bwidth\ufeff`, 50, false},
		{"c1\u0085", `c1\u0085`, 50, false},
		{"bad\xff\xfebytes", "bad\uFFFD\uFFFDbytes", 50, false},
		{"abcdefghij", "abcde…", 5, true},
		{"ééééé", "éé…", 5, true},  // never in the middle of a character
		{"ab\ncd", "ab…", 3, true}, // an escape is not cut in two
	}
	for _, tc := range tests {
		got, cut := Clean(tc.in, tc.limit)
		require.Equal(t, tc.want, got, "%q", tc.in)
		require.Equal(t, tc.cut, cut, "%q", tc.in)
		require.True(t, utf8.ValidString(got), "%q", tc.in)
	}
	s := strings.Repeat("plain", 2)
	got, _ := Clean(s, 20)
	require.Same(t, unsafe.StringData(s), unsafe.StringData(got), "text that needs no change is not copied")
	long := strings.Repeat("k", 16<<10)
	got, _ = Clean(long, 20)
	require.NotSame(t, unsafe.StringData(long), unsafe.StringData(got), "a cut key does not keep the long one alive")
}
