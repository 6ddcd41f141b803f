//go:build race

package scheduler_test

// raceEnabled: the race detector is on. It makes sync.Pool drop what it is
// given now and then, so allocation counts are checked without it.
const raceEnabled = true
