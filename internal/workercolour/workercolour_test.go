package workercolour

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClass(t *testing.T) {
	for _, tc := range []struct {
		i    int
		want string
	}{{0, "w0"}, {7, "w7"}, {8, "w0"}, {13, "w5"}, {-1, "w0"}} {
		require.Equal(t, tc.want, Class(tc.i), "process %d", tc.i)
	}
}

// Every class Class gives is defined in CSS, once.
func TestCSSDefinesEveryClass(t *testing.T) {
	for i := range Count {
		require.Equal(t, 1, strings.Count(CSS, "."+Class(i)+" {"), Class(i))
	}
	require.Equal(t, Count, strings.Count(CSS, "\n"))
}
