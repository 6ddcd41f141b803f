package main

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/perkey/perkey/internal/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(envRole) == "worker" {
		// A worker process that a test's sim started (-backend postgres):
		// the test binary, re-executed as `sim worker`.
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
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
