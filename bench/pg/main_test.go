package pg

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the worker processes that runs start (this binary,
// re-executed), and otherwise the tests and benchmarks; then it stops
// the private server and checks that no goroutine outlived them.
func TestMain(m *testing.M) {
	if raw := os.Getenv(envWorker); raw != "" {
		os.Exit(workerMain(raw))
	}
	code := m.Run()
	db.stop()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
