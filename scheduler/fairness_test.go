package scheduler_test

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	. "github.com/perkey/perkey/scheduler"
)

// A cold key with one invocation waits at most one turn of the keys already
// waiting, however deep their backlogs: each key holds one place in the
// slot queue at a time, and takes it again at the back.
func TestFairness(t *testing.T) {
	tests := []struct {
		hotKeys, backlog, slots int
	}{
		{1, 10000, 1},
		{10, 1000, 1},
		{10, 1000, 3},
		{100, 100, 8},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("hot=%d backlog=%d slots=%d", tt.hotKeys, tt.backlog, tt.slots), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newScheduler(t, Config{MaxParallel: tt.slots})
				p := newProbe()
				p.gate = make(chan struct{})
				task := newTask(t, s, "t", p, Options[call]{Running: ByKey, Key: keyOf})
				for n := range tt.backlog {
					for h := range tt.hotKeys {
						submit(t, task, fmt.Sprintf("hot%d", h), n)
					}
				}
				synctest.Wait() // the first hot calls hold every slot
				cold := submit(t, task, "cold", 0)
				close(p.gate)
				_, err := wait(t, cold)
				require.NoError(t, err)

				_, _, _, started := p.snapshot()
				pos := slices.Index(started, call{"cold", 0})
				require.GreaterOrEqual(t, pos, 0)
				// Before it: the calls running when it arrived, and at most
				// one more call of each hot key.
				require.LessOrEqual(t, pos, tt.slots+tt.hotKeys,
					"cold key started %d-th behind %d hot keys", pos, tt.hotKeys)
			})
		})
	}
}
