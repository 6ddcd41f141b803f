package scheduler

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The ring hands out every job once, in order, across wrap-arounds, and
// clear drops exactly the references to jobs already taken.
func TestRing(t *testing.T) {
	var r ring
	jobs := make([]job, 5000)
	rng := rand.New(rand.NewPCG(1, 2))
	next, took := 0, 0
	for took < len(jobs) {
		staged := 0
		for range rng.IntN(ringSize + 10) {
			if next == len(jobs) || staged == r.room() {
				break
			}
			r.stage(staged, &jobs[next])
			staged++
			next++
		}
		r.publish(staged)
		for range rng.IntN(ringSize + 10) {
			j := r.get()
			if j == nil {
				break
			}
			require.Same(t, &jobs[took], j, "FIFO")
			took++
		}
		r.clear()
		h, tl := r.head.Load(), r.tail.Load()
		require.EqualValues(t, next, tl)
		for i := range uint64(ringSize) {
			idx := h + i // the live indices first, then the taken ones
			if idx < tl {
				require.Same(t, &jobs[idx], r.slots[idx%ringSize].Load(), "live slot %d", idx)
			} else {
				require.Nil(t, r.slots[idx%ringSize].Load(), "taken slot %d still referenced", idx)
			}
		}
	}
	require.Nil(t, r.get())
}
