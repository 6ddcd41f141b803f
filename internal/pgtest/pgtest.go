// Package pgtest gives tests a PostgreSQL server: the one named by
// PERKEY_DATABASE_URL, or a private one that pgserver starts once per test
// binary. When neither is possible, tests skip with a message that says how
// to install the server, and fail instead when CI=true.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/perkey/perkey/internal/pgserver"
)

// EnvURL names the environment variable that points the tests at a server
// of one's own.
const EnvURL = "PERKEY_DATABASE_URL"

var (
	mu     sync.Mutex
	server *pgserver.Server
	url    string
	err    error
	done   bool
)

// URL returns the connection string of the test server, starting a private
// one on first use. It skips t (fails it when CI=true) if no server can be
// had.
func URL(t testing.TB) string {
	t.Helper()
	url, err := Start()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required in CI: %v", err)
		}
		t.Skipf("no PostgreSQL server: %v", err)
	}
	return url
}

// Start returns the connection string of the test server, starting a
// private one on first use, for a TestMain. Tests use URL.
func Start() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if !done {
		done = true
		if url = os.Getenv(EnvURL); url == "" {
			server, err = pgserver.Start(context.Background(), pgserver.Options{})
			if err == nil {
				url = server.URL()
			}
		}
	}
	return url, err
}

// Stop stops the private server, if one was started. TestMain calls it
// after m.Run.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	server.Stop()
	server, done = nil, false
}

// Schema returns a new unique schema name, so that each test has its own
// tables on the shared server.
func Schema(t testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("t_%s", hex.EncodeToString(b[:]))
}
