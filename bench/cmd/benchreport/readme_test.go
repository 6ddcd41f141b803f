package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReplaceSection(t *testing.T) {
	const section = "## Performance\n\nnew\n"
	cases := []struct {
		name string
		doc  string
		want string
		err  error
	}{
		{
			name: "replaces between the markers",
			doc:  "# perkey\n\n" + beginMarker + "\nold\ntext\n" + endMarker + "\n\n## Next\n",
			want: "# perkey\n\n" + beginMarker + "\n## Performance\n\nnew\n" + endMarker + "\n\n## Next\n",
		},
		{
			name: "empty section between adjacent markers",
			doc:  beginMarker + endMarker,
			want: beginMarker + "\n## Performance\n\nnew\n" + endMarker,
		},
		{name: "no markers", doc: "# perkey\n", err: ErrNoMarkers},
		{name: "no end", doc: beginMarker + "\nold\n", err: ErrNoMarkers},
		{name: "reversed", doc: endMarker + "\nold\n" + beginMarker, err: ErrNoMarkers},
		{name: "twice", doc: beginMarker + endMarker + beginMarker + endMarker, err: ErrNoMarkers},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := replaceSection(tc.doc, section)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestUpdateReadme(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	require.NoError(t, os.WriteFile(path, []byte("intro\n"+beginMarker+"\nold\n"+endMarker+"\nend\n"), 0o640))
	require.NoError(t, updateReadme(path, "fresh"))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "intro\n"+beginMarker+"\nfresh\n"+endMarker+"\nend\n", string(got))
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), info.Mode().Perm())

	require.NoError(t, os.WriteFile(path, []byte("no markers\n"), 0o640))
	require.ErrorIs(t, updateReadme(path, "fresh"), ErrNoMarkers)
	require.Error(t, updateReadme(filepath.Join(t.TempDir(), "missing.md"), "fresh"))
}
