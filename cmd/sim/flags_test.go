package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

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
		{"bad parallel", []string{"-parallel", "many"}, "invalid value"},
		{"unknown scenario", []string{"-scenarios", "A,Z"}, `unknown scenario "Z"`},
		{"empty scenarios", []string{"-scenarios", ""}, `unknown scenario ""`},
		{"scenario twice", []string{"-scenarios", "A,a"}, "A given twice"},
		{"bad provider URL", []string{"-provider", "127.0.0.1:8765"}, "want a URL"},
		{"argument", []string{"extra"}, `unexpected argument "extra"`},
		{"bad monitor address", []string{"-monitor", "8000"}, "want an address such as 127.0.0.1:8000"},
		{"provider: unknown flag", []string{"provider", "-nope"}, "flag provided but not defined"},
		{"provider: argument", []string{"provider", "extra"}, `unexpected argument "extra"`},
		{"provider: zero hold", []string{"provider", "-hold", "0s"}, "must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			code := run(tc.args, &stdout, &stderr)
			require.Equal(t, exitUsage, code)
			require.Contains(t, stderr.String(), tc.msg)
			require.Contains(t, stderr.String(), "Usage:")
			require.Empty(t, stdout.String())
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"provider", "-help"}} {
		r := runSim(t.Context(), args...)
		require.Equal(t, exitOK, r.code)
		require.Contains(t, r.stderr, "Usage:")
	}
}

func TestParseFlags(t *testing.T) {
	o, _, ok := parseFlags(nil, &strings.Builder{})
	require.True(t, ok)
	require.Equal(t, []string{"A", "B", "C", "D"}, o.scenarios)
	require.Equal(t, 400*time.Millisecond, o.hold)
	require.Equal(t, 8, o.parallel)
	require.Empty(t, o.providerURL)
	require.False(t, o.quiet || o.json)

	o, _, ok = parseFlags([]string{"-scenarios", " d, b ", "-hold", "1s", "-parallel", "3",
		"-provider", "http://127.0.0.1:8765", "-quiet", "-json"}, &strings.Builder{})
	require.True(t, ok)
	require.Equal(t, options{scenarios: []string{"D", "B"}, hold: time.Second, parallel: 3,
		providerURL: "http://127.0.0.1:8765", quiet: true, json: true}, o)
}
