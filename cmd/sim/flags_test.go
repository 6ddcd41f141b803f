package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBadFlags: every misuse of the command line is a clear error with the
// usage, exit status 2, nothing on stdout, and no panic.
func TestBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"bad hold", []string{"-hold", "soon"}, "invalid value"},
		{"zero hold", []string{"-hold", "0s"}, "must be positive"},
		{"negative hold", []string{"-hold", "-1s"}, "must be positive"},
		{"zero parallel", []string{"-parallel", "0"}, "at least 1"},
		{"negative parallel", []string{"-parallel", "-3"}, "-parallel -3: must be at least 1"},
		{"bad parallel", []string{"-parallel", "many"}, "invalid value"},
		{"unknown scenario", []string{"-scenarios", "A,Z"}, `unknown scenario "Z"`},
		{"empty scenarios", []string{"-scenarios", ""}, `unknown scenario ""`},
		{"trailing comma", []string{"-scenarios", "A,"}, `unknown scenario ""`},
		{"scenario twice", []string{"-scenarios", "A,a"}, "A given twice"},
		{"scenario by name", []string{"-scenarios", "keyed"}, `unknown scenario "keyed" (known: A,B,C,D,E,F,G,H)`},
		{"bad provider URL", []string{"-provider", "127.0.0.1:8765"}, "want a URL"},
		{"provider URL other scheme", []string{"-provider", "ftp://127.0.0.1:8765"}, "want a URL"},
		{"provider URL without host", []string{"-provider", "http://"}, "want a URL"},
		{"argument", []string{"extra"}, `unexpected argument "extra"`},
		{"argument after flags", []string{"-quiet", "B"}, `unexpected argument "B"`},
		{"bad monitor address", []string{"-monitor", "8000"}, "want an address such as 127.0.0.1:8000"},
		{"negative slack", []string{"-slack", "-1ms"}, "-slack -1ms: must not be negative"},
		{"bad slack", []string{"-slack", "lots"}, "invalid value"},

		{"soak: bad duration", []string{"-soak", "soon"}, "invalid value"},
		{"soak: duration without unit", []string{"-soak", "60"}, "invalid value"},
		{"soak: zero", []string{"-soak", "0s"}, "-soak 0s: must be positive"},
		{"soak: negative", []string{"-soak", "-5s"}, "-soak -5s: must be positive"},
		{"soak: zero accounts", []string{"-soak", "1s", "-accounts", "0"}, "-accounts 0: must be at least 1"},
		{"soak: negative accounts", []string{"-soak", "1s", "-accounts", "-10"}, "-accounts -10: must be at least 1"},
		{"soak: bad accounts", []string{"-soak", "1s", "-accounts", "many"}, "invalid value"},
		{"soak: bad seed", []string{"-soak", "1s", "-seed", "-1"}, "invalid value"},
		{"soak with scenarios", []string{"-soak", "1s", "-scenarios", "A"}, "-scenarios does not apply to -soak"},
		{"soak with hold", []string{"-soak", "1s", "-hold", "10ms"}, "-hold does not apply to -soak"},
		{"soak with slack", []string{"-soak", "1s", "-slack", "10ms"}, "-slack does not apply to -soak"},
		{"soak with strict", []string{"-soak", "1s", "-strict"}, "-strict does not apply to -soak"},
		{"strict with a value", []string{"-strict=maybe"}, "invalid boolean value"},
		{"soak with timeline", []string{"-soak", "1s", "-timeline", "t.html"}, "-timeline does not apply to -soak"},
		{"soak with monitor", []string{"-soak", "1s", "-monitor", "127.0.0.1:0"}, "-monitor does not apply to -soak"},
		{"soak with bad provider", []string{"-soak", "1s", "-provider", "nowhere"}, "want a URL"},
		{"accounts without soak", []string{"-accounts", "10"}, "-accounts needs -soak"},
		{"seed without soak", []string{"-seed", "1"}, "-seed needs -soak"},
		{"soak argument", []string{"-soak", "1s", "extra"}, `unexpected argument "extra"`},

		{"unknown backend", []string{"-backend", "mysql"}, `-backend "mysql": want memory or postgres`},
		{"workers in memory", []string{"-workers", "2"}, "-workers needs -backend postgres"},
		{"database in memory", []string{"-database", "postgres://u@/db"}, "-database needs -backend postgres"},
		{"schema in memory", []string{"-schema", "s"}, "-schema needs -backend postgres"},
		{"lease in memory", []string{"-lease", "2s"}, "-lease needs -backend postgres"},
		{"negative workers", []string{"-backend", "postgres", "-workers", "-1"}, "-workers -1: must not be negative"},
		{"workers 0 without database", []string{"-backend", "postgres", "-workers", "0"}, "-workers 0 needs -database URL"},
		{"short lease", []string{"-backend", "postgres", "-lease", "10ms"}, "-lease 10ms: must be at least 100ms"},
		{"bad schema", []string{"-backend", "postgres", "-schema", "a-b"}, `-schema "a-b": want a plain identifier`},
		{"bad database URL", []string{"-backend", "postgres", "-database", "::nope"}, "-database: want a URL such as postgres://"},
		{"chaos without soak", []string{"-backend", "postgres", "-chaos", "5s"}, "-chaos needs -soak"},
		{"chaos in memory", []string{"-soak", "1s", "-chaos", "5s"}, "-chaos needs -backend postgres"},
		{"chaos zero", []string{"-soak", "1s", "-backend", "postgres", "-chaos", "0s"}, "-chaos 0s: must be positive"},
		{"chaos without workers", []string{"-soak", "1s", "-backend", "postgres", "-database", "postgres://u@/db", "-workers", "0", "-chaos", "1s"},
			"-chaos needs -workers 1 or more"},

		{"worker: no database", []string{"worker"}, "-database is required"},
		{"worker: bad database URL", []string{"worker", "-database", "::nope"}, "-database: want a URL"},
		{"worker: zero parallel", []string{"worker", "-database", "postgres://u@/db", "-parallel", "0"}, "-parallel 0: must be at least 1"},
		{"worker: short lease", []string{"worker", "-database", "postgres://u@/db", "-lease", "1ms"}, "-lease 1ms: must be at least 100ms"},
		{"worker: zero poll", []string{"worker", "-database", "postgres://u@/db", "-poll", "0s"}, "-poll 0s: must be positive"},
		{"worker: bad schema", []string{"worker", "-database", "postgres://u@/db", "-schema", "x y"}, `-schema "x y": want a plain identifier`},
		{"worker: bad monitor", []string{"worker", "-database", "postgres://u@/db", "-monitor", "8001"}, `-monitor "8001": want an address`},
		{"worker: argument", []string{"worker", "-database", "postgres://u@/db", "extra"}, `unexpected argument "extra"`},
		{"worker: scenario flag", []string{"worker", "-database", "postgres://u@/db", "-scenarios", "A"}, "flag provided but not defined: -scenarios"},

		{"provider: unknown flag", []string{"provider", "-nope"}, "flag provided but not defined"},
		{"provider: argument", []string{"provider", "extra"}, `unexpected argument "extra"`},
		{"provider: zero hold", []string{"provider", "-hold", "0s"}, "must be positive"},
		{"provider: soak", []string{"provider", "-soak", "1s"}, "flag provided but not defined: -soak"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			var code int
			require.NotPanics(t, func() { code = run(tc.args, &stdout, &stderr) })
			require.Equal(t, exitUsage, code, stderr.String())
			require.Contains(t, stderr.String(), tc.msg)
			require.Contains(t, stderr.String(), "Usage:")
			require.Empty(t, stdout.String())
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"provider", "-help"}, {"worker", "-h"}} {
		r := runSim(t.Context(), args...)
		require.Equal(t, exitOK, r.code)
		require.Contains(t, r.stderr, "Usage:")
	}
}

func TestParseFlags(t *testing.T) {
	o, _, ok := parseFlags(nil, &strings.Builder{})
	require.True(t, ok)
	require.Equal(t, []string{"A", "B", "C", "D", "E", "F", "G", "H"}, o.scenarios)
	require.Equal(t, 400*time.Millisecond, o.hold)
	require.Equal(t, 8, o.parallel)
	require.Empty(t, o.providerURL)
	require.False(t, o.quiet || o.json)
	require.Zero(t, o.soak)
	require.Zero(t, o.slack)
	require.False(t, o.strict, "a time goal missed is not fatal by default")

	o, _, ok = parseFlags([]string{"-scenarios", " d, b ,h", "-hold", "1s", "-parallel", "3",
		"-provider", "http://127.0.0.1:8765", "-quiet", "-json", "-slack", "5ms", "-strict"}, &strings.Builder{})
	require.True(t, ok)
	require.Equal(t, options{scenarios: []string{"D", "B", "H"}, hold: time.Second, parallel: 3, slack: 5 * time.Millisecond,
		strict: true, providerURL: "http://127.0.0.1:8765", quiet: true, json: true, accounts: defaultSoakAccounts, backend: backendMemory}, o)

	o, _, ok = parseFlags([]string{"-soak", "15s", "-accounts", "1000", "-seed", "42", "-parallel", "4",
		"-provider", "http://127.0.0.1:8765", "-quiet", "-json"}, &strings.Builder{})
	require.True(t, ok)
	require.Equal(t, options{hold: 400 * time.Millisecond, parallel: 4, providerURL: "http://127.0.0.1:8765",
		quiet: true, json: true, soak: 15 * time.Second, accounts: 1000, seed: 42, backend: backendMemory}, o)

	o, _, ok = parseFlags([]string{"-backend", "postgres"}, &strings.Builder{})
	require.True(t, ok)
	require.Equal(t, backendPostgres, o.backend)
	require.Equal(t, 3, o.workers, "3 worker processes by default")
	require.Empty(t, o.database, "a private server by default")
	require.Empty(t, o.schema, "a fresh schema by default")
	require.Zero(t, o.lease)

	o, _, ok = parseFlags([]string{"-backend", "postgres", "-database", "postgres://u@h/db", "-workers", "0", "-schema", "s1",
		"-soak", "20s", "-lease", "1s"}, &strings.Builder{})
	require.True(t, ok)
	require.Equal(t, options{hold: 400 * time.Millisecond, parallel: 8, soak: 20 * time.Second, accounts: defaultSoakAccounts,
		backend: backendPostgres, database: "postgres://u@h/db", schema: "s1", lease: time.Second}, o)

	o, _, ok = parseFlags([]string{"-soak", "1m"}, &strings.Builder{})
	require.True(t, ok)
	require.Equal(t, defaultSoakAccounts, o.accounts)
	require.Nil(t, o.scenarios, "a soak runs no scenario")
}
