package postgres_test

import (
	"fmt"
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
	url, err := pgtest.Start()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "PostgreSQL is required in CI: %v\n", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "skipping the postgres tests: %v\n", err)
		os.Exit(0)
	}
	os.Setenv("DATABASE_URL", url) // for the Examples
	code := m.Run()
	pgtest.Stop() // before the leak check: the server has a goroutine
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
