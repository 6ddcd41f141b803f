package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// Every implementation joins the goroutines it starts in close: none may
// outlive the tests and benchmarks.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
