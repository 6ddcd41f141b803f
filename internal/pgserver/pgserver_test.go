package pgserver

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartStop(t *testing.T) {
	s, err := Start(context.Background(), Options{})
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	require.NoError(t, err)
	require.Contains(t, s.URL(), "host=")
	_, err = os.Stat(s.Dir())
	require.NoError(t, err)
	require.NoError(t, s.Stop())
	require.NoError(t, s.Stop())
	_, err = os.Stat(s.Dir())
	require.True(t, os.IsNotExist(err), "the directory is removed")
}
