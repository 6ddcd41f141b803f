//go:build !race

package scheduler_test

// raceEnabled: the race detector is on (see race_test.go).
const raceEnabled = false
