package scheduler

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// fifo keeps order across growth, wrap-around and shrinking.
func TestFIFO(t *testing.T) {
	var q fifo[int]
	require.Nil(t, q.pop())
	vals := make([]int, 1000)
	next, out := 0, 0
	for _, burst := range []int{3, 200, 1, 700, 50, 46} {
		for range burst {
			vals[next] = next
			q.push(&vals[next])
			next++
		}
		for range burst / 2 {
			require.Equal(t, out, *q.pop())
			out++
		}
		require.Equal(t, next-out, q.len())
	}
	var rest []int
	q.all(func(x *int) { rest = append(rest, *x) })
	for i, v := range rest {
		require.Equal(t, out+i, v)
	}
	for q.len() > 0 {
		require.Equal(t, out, *q.pop())
		out++
	}
	require.Greater(t, len(q.buf), minFIFO, "pop does not shrink")
	q.compact()
	require.LessOrEqual(t, len(q.buf), minFIFO, "compact shrinks")
}

func TestFIFOFilter(t *testing.T) {
	var q fifo[int]
	vals := make([]int, 100)
	for i := range vals {
		vals[i] = i
		q.push(&vals[i])
	}
	for range 30 { // wrap the head around
		q.pop()
	}
	for i := range 30 {
		q.push(&vals[i])
	}
	q.filter(func(x *int) bool { return *x%3 == 0 })
	var got []int
	q.all(func(x *int) { got = append(got, *x) })
	var want []int
	for i := 30; i < 100; i++ {
		if i%3 == 0 {
			want = append(want, i)
		}
	}
	for i := range 30 {
		if i%3 == 0 {
			want = append(want, i)
		}
	}
	require.Equal(t, want, got)
}
