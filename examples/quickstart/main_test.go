package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun: the program prints every result, in submit order, and each
// account's two calls ran one after the other.
func TestRun(t *testing.T) {
	var out strings.Builder
	start := time.Now()
	require.NoError(t, run(t.Context(), &out))
	require.Equal(t, ""+
		"acme fetch_profile: done\n"+
		"globex fetch_profile: done\n"+
		"initech fetch_profile: done\n"+
		"acme list_invoices: done\n"+
		"globex list_invoices: done\n"+
		"initech list_invoices: done\n", out.String())
	require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "two calls of 50ms per account, serially")
}

// TestReadmeShowsThisProgram: the README's Usage section shows this file,
// whole, so that the snippet a new user copies is the program CI builds,
// vets and runs.
func TestReadmeShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	program, err := os.ReadFile("main.go")
	require.NoError(t, err)
	block, err := usageBlock(string(readme))
	require.NoError(t, err)
	require.Equal(t, string(program), block,
		"README.md's Usage block and examples/quickstart/main.go differ: copy main.go into the block")
}
