package scheduler_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	. "github.com/perkey/perkey/scheduler"
)

// Drop drops only what its key has no room for (see Drop): Limit places
// taken by the key's Pending, Running and Queued invocations, or no Rate
// token left once those are counted. An invocation handed out but not yet
// started is one place taken, not a full key.
func TestDropDecidesOnRoom(t *testing.T) {
	tests := []struct {
		name        string
		maxParallel int
		holdSlot    bool // a task of another key holds the only slot
		opts        Options[call]
		submits     int
		wantRun     int // run, all at once when the slots allow
		wantDropped int
	}{
		// Eight free slots: the three start together.
		{"Limit 3, 3 back-to-back", 8, false, Options[call]{Limit: 3}, 3, 3, 0},
		{"Limit 3, 5 back-to-back", 8, false, Options[call]{Limit: 3}, 5, 3, 2},
		// No free slot: the first is Pending and has not started, the
		// next two wait Queued for it to start, and still have room.
		{"Limit 3, 3 while the slot is taken", 1, true, Options[call]{Limit: 3}, 3, 3, 0},
		{"Limit 3, 5 while the slot is taken", 1, true, Options[call]{Limit: 3}, 5, 3, 2},
		// A Burst of 3 tokens: three immediate starts, the fourth has no
		// token (one a minute).
		{"Rate with Burst 3, 3 back-to-back", 8, false, Options[call]{Limit: 8, Rate: rate.Every(60e9), Burst: 3}, 3, 3, 0},
		{"Rate with Burst 3, 4 back-to-back", 8, false, Options[call]{Limit: 8, Rate: rate.Every(60e9), Burst: 3}, 4, 3, 1},
		{"Rate with Burst 3, 4 while the slot is taken", 1, true, Options[call]{Limit: 8, Rate: rate.Every(60e9), Burst: 3}, 4, 3, 1},
		// Limit 1, as before: the second finds the key busy.
		{"Limit 1, 2 back-to-back", 8, false, Options[call]{}, 2, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Many rounds: on free slots the submissions race the starts.
			for range 20 {
				synctest.Test(t, func(t *testing.T) {
					runDropRoom(t, tt.maxParallel, tt.holdSlot, tt.opts, tt.submits, tt.wantRun, tt.wantDropped)
				})
			}
		})
	}
}

func runDropRoom(t *testing.T, maxParallel int, holdSlot bool, opts Options[call], submits, wantRun, wantDropped int) {
	s := newScheduler(t, Config{MaxParallel: maxParallel})
	p := newProbe()
	p.gate = make(chan struct{})
	var blocker *Invocation[string]
	if holdSlot {
		other := newTask(t, s, "other", p, Options[call]{})
		blocker = submit(t, other, "other", 0)
		synctest.Wait()
		require.Equal(t, Running, blocker.State())
	}
	opts.Running, opts.Key, opts.OnBusy = ByKey, keyOf, Drop
	task := newTask(t, s, "t", p, opts)
	var invs []*Invocation[string]
	for i := range submits {
		invs = append(invs, submit(t, task, "a", i+1))
	}
	synctest.Wait()
	dropped := 0
	for _, inv := range invs {
		if inv.State() == Dropped {
			dropped++
			requireFinal(t, inv, Dropped, ErrDropped)
		}
	}
	require.Equal(t, wantDropped, dropped, "dropped, of %d submissions: %v", submits, states(invs...))
	if !holdSlot {
		require.Equal(t, wantRun, p.running(), "running at once")
	}
	close(p.gate)
	for _, inv := range invs {
		_, _ = inv.Wait(context.Background())
	}
	others := 0 // the blocker's run
	if holdSlot {
		others = 1
	}
	runs, maxPerKey, _, _ := p.snapshot()
	require.Equal(t, wantRun, runs-others)
	require.LessOrEqual(t, maxPerKey, max(opts.Limit, 1))
	st := s.Stats()
	require.EqualValues(t, wantDropped, st.Dropped)
	require.EqualValues(t, wantRun+others, st.Succeeded)
}
