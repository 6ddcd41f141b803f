package mailbox_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/perkey/perkey/mailbox"
)

func nodes(n int) []*mailbox.Node[int] {
	out := make([]*mailbox.Node[int], n)
	for i := range out {
		out[i] = &mailbox.Node[int]{Value: i}
	}
	return out
}

func values(q *mailbox.Queue[int]) []int {
	var out []int
	for n := range q.All() {
		out = append(out, n.Value)
	}
	return out
}

func TestFIFO(t *testing.T) {
	var q mailbox.Queue[int]
	require.Nil(t, q.Pop(), "zero queue is empty")
	require.Nil(t, q.Peek())
	ns := nodes(5)
	for _, n := range ns {
		require.True(t, q.Push(n))
		require.True(t, n.Queued())
	}
	require.Equal(t, 5, q.Len())
	require.Equal(t, []int{0, 1, 2, 3, 4}, values(&q))
	require.Same(t, ns[0], q.Peek())
	for i := range 5 {
		n := q.Pop()
		require.Equal(t, i, n.Value)
		require.False(t, n.Queued())
	}
	require.Zero(t, q.Len())
	require.Nil(t, q.Pop())
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name   string
		remove []int
		want   []int
	}{
		{"head", []int{0}, []int{1, 2, 3}},
		{"tail", []int{3}, []int{0, 1, 2}},
		{"middle", []int{1, 2}, []int{0, 3}},
		{"all", []int{2, 0, 3, 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q mailbox.Queue[int]
			ns := nodes(4)
			for _, n := range ns {
				q.Push(n)
			}
			for _, i := range tt.remove {
				require.True(t, q.Remove(ns[i]))
				require.False(t, q.Remove(ns[i]), "second remove is refused")
			}
			require.Equal(t, tt.want, values(&q))
			require.Equal(t, len(tt.want), q.Len())
			// Removed nodes can be pushed again, at the tail.
			for _, i := range tt.remove {
				require.True(t, q.Push(ns[i]))
			}
			require.Equal(t, append(slices.Clone(tt.want), tt.remove...), values(&q))
		})
	}
}

func TestOneQueueAtATime(t *testing.T) {
	var a, b mailbox.Queue[int]
	n := &mailbox.Node[int]{}
	require.True(t, a.Push(n))
	require.False(t, a.Push(n), "already in a")
	require.False(t, b.Push(n), "already in a")
	require.False(t, b.Remove(n), "not in b")
	require.Equal(t, 1, a.Len())
	require.Zero(t, b.Len())
	require.False(t, a.Push(nil))
	require.False(t, a.Remove(nil))
	require.True(t, a.Remove(n))
	require.True(t, b.Push(n))
}

func TestAllStopsEarly(t *testing.T) {
	var q mailbox.Queue[int]
	for _, n := range nodes(10) {
		q.Push(n)
	}
	var seen []int
	for n := range q.All() {
		if n.Value == 3 {
			break
		}
		seen = append(seen, n.Value)
	}
	require.Equal(t, []int{0, 1, 2}, seen)
}

func BenchmarkPushPop(b *testing.B) {
	var q mailbox.Queue[int]
	ns := nodes(64)
	b.ReportAllocs()
	for b.Loop() {
		for _, n := range ns {
			q.Push(n)
		}
		for q.Pop() != nil {
		}
	}
}
