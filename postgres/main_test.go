package postgres_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/perkey/perkey/internal/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(envWorker) != "" {
		// This process is a worker that a test started.
		os.Exit(runWorker())
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { pgtest.Stop() }))
}
