package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// usageBlock returns the body of the first ```go block after the
// README's "## Usage" heading, with its final newline.
func usageBlock(readme string) (string, error) {
	_, after, ok := strings.Cut(readme, "\n## Usage\n")
	if !ok {
		return "", errors.New(`no "## Usage" heading`)
	}
	_, after, ok = strings.Cut(after, "\n```go\n")
	if !ok {
		return "", errors.New("no ```go block after the Usage heading")
	}
	body, _, ok := strings.Cut(after, "\n```\n")
	if !ok {
		return "", errors.New("the Usage ```go block does not end")
	}
	return body + "\n", nil
}

func TestUsageBlock(t *testing.T) {
	tests := []struct {
		name, readme, want, err string
	}{
		{"found", "# x\n\n## Usage\n\nText.\n\n```go\npackage main\n```\n\n```go\nnot this\n```\n", "package main\n", ""},
		{"no heading", "# x\n```go\npackage main\n```\n", "", "no \"## Usage\" heading"},
		{"a later heading is not it", "# x\n## Usage guide\n```go\nx\n```\n", "", "no \"## Usage\" heading"},
		{"no block", "## x\n\n## Usage\n\n```sh\ngo run .\n```\n", "", "no ```go block"},
		{"unterminated", "## x\n## Usage\n\n```go\npackage main\n", "", "does not end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := usageBlock(tc.readme)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
