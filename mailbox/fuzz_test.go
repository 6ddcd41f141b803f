package mailbox_test

import (
	"slices"
	"testing"

	"github.com/perkey/perkey/mailbox"
)

// fuzzNodes is how many nodes a FuzzMailbox run moves between its queues.
const fuzzNodes = 8

// mailboxModel is the reference FuzzMailbox checks a pair of queues
// against: a slice per queue, and where each node is.
type mailboxModel struct {
	q  [2][]int
	in [fuzzNodes]int // the queue each node is in, or -1
}

func (m *mailboxModel) remove(q, n int) {
	m.q[q] = slices.DeleteFunc(m.q[q], func(v int) bool { return v == n })
	m.in[n] = -1
}

// FuzzMailbox runs a byte-coded sequence of operations on two queues
// sharing eight nodes and checks every result against a slice model: FIFO
// order, Len, Peek, Remove from anywhere, refusal of a node that is already
// queued (in either queue) or not in the queue it is removed from, re-push
// after Pop or Remove, and All, including when the iteration stops early.
// The queue has no capacity: a burst of up to thousands of nodes all go in
// and come out in order.
func FuzzMailbox(f *testing.F) {
	f.Add([]byte{0x00, 0x08, 0x10, 0x01, 0x02, 0x03})
	f.Add([]byte{0x00, 0x08, 0x10, 0x18, 0x22, 0x0a, 0x01, 0x05, 0x04})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var (
			qs    [2]mailbox.Queue[int]
			nodes [fuzzNodes]*mailbox.Node[int]
			m     mailboxModel
		)
		for i := range nodes {
			nodes[i] = &mailbox.Node[int]{Value: i}
			m.in[i] = -1
		}
		for step, op := range ops {
			// The low 3 bits pick the operation, bit 3 the queue, the high
			// bits a node or a count.
			q, arg := int(op>>3)&1, int(op>>4)%fuzzNodes
			switch op & 7 {
			case 0, 1: // Push
				n := arg
				want := m.in[n] < 0
				if got := qs[q].Push(nodes[n]); got != want {
					t.Fatalf("step %d: Push(%d) onto %d = %v, want %v (node in %d)", step, n, q, got, want, m.in[n])
				}
				if want {
					m.q[q] = append(m.q[q], n)
					m.in[n] = q
				}
			case 2: // Pop
				got := qs[q].Pop()
				if len(m.q[q]) == 0 {
					if got != nil {
						t.Fatalf("step %d: Pop of empty queue %d = %d", step, q, got.Value)
					}
					continue
				}
				want := m.q[q][0]
				if got != nodes[want] {
					t.Fatalf("step %d: Pop of %d = %v, want node %d", step, q, got, want)
				}
				m.remove(q, want)
			case 3: // Remove
				n := arg
				want := m.in[n] == q
				if got := qs[q].Remove(nodes[n]); got != want {
					t.Fatalf("step %d: Remove(%d) from %d = %v, want %v (node in %d)", step, n, q, got, want, m.in[n])
				}
				if want {
					m.remove(q, n)
				}
			case 4: // nil is refused
				if qs[q].Push(nil) || qs[q].Remove(nil) {
					t.Fatalf("step %d: a nil node was accepted", step)
				}
			case 5: // All, stopping after arg nodes
				var seen []int
				for n := range qs[q].All() {
					if len(seen) == arg {
						break
					}
					seen = append(seen, n.Value)
				}
				want := m.q[q][:min(arg, len(m.q[q]))]
				if !slices.Equal(seen, want) {
					t.Fatalf("step %d: All of %d stopped at %d = %v, want %v", step, q, arg, seen, want)
				}
			case 6: // Pop everything, then push it back in order
				var popped []*mailbox.Node[int]
				for n := qs[q].Pop(); n != nil; n = qs[q].Pop() {
					popped = append(popped, n)
				}
				for _, n := range popped {
					if !qs[q].Push(n) {
						t.Fatalf("step %d: re-push of popped node %d refused", step, n.Value)
					}
				}
			case 7:
				if arg < 4 { // a zero Queue is empty and takes nothing it should not
					var z mailbox.Queue[int]
					if z.Len() != 0 || z.Peek() != nil || z.Pop() != nil || z.Remove(nodes[arg]) {
						t.Fatalf("step %d: zero Queue is not empty", step)
					}
					continue
				}
				// No capacity: a burst of fresh nodes all go in, behind what
				// is there, and come out in order.
				burst := make([]*mailbox.Node[int], 256*arg)
				for i := range burst {
					burst[i] = &mailbox.Node[int]{Value: fuzzNodes + i}
					if !qs[q].Push(burst[i]) {
						t.Fatalf("step %d: Push refused node %d of a burst", step, i)
					}
				}
				if got, want := qs[q].Len(), len(m.q[q])+len(burst); got != want {
					t.Fatalf("step %d: Len after a burst = %d, want %d", step, got, want)
				}
				for _, n := range burst[len(burst)/2:] { // half leave from the middle
					if !qs[q].Remove(n) {
						t.Fatalf("step %d: Remove refused burst node %d", step, n.Value)
					}
				}
				for _, want := range m.q[q] {
					if n := qs[q].Pop(); n != nodes[want] {
						t.Fatalf("step %d: Pop after a burst = %v, want node %d", step, n, want)
					}
					m.in[want] = -1
				}
				m.q[q] = nil
				for _, want := range burst[:len(burst)/2] {
					if n := qs[q].Pop(); n != want {
						t.Fatalf("step %d: Pop = %v, want burst node %d", step, n, want.Value)
					}
				}
			}
			check(t, step, &qs, &nodes, &m)
		}
	})
}

// check compares both queues and every node with the model.
func check(t *testing.T, step int, qs *[2]mailbox.Queue[int], nodes *[fuzzNodes]*mailbox.Node[int], m *mailboxModel) {
	t.Helper()
	for q := range qs {
		if got, want := qs[q].Len(), len(m.q[q]); got != want {
			t.Fatalf("step %d: Len of %d = %d, want %d", step, q, got, want)
		}
		var all []int
		for n := range qs[q].All() {
			all = append(all, n.Value)
		}
		if !slices.Equal(all, m.q[q]) {
			t.Fatalf("step %d: queue %d holds %v, want %v", step, q, all, m.q[q])
		}
		head := qs[q].Peek()
		switch {
		case len(m.q[q]) == 0 && head != nil:
			t.Fatalf("step %d: Peek of empty queue %d = %d", step, q, head.Value)
		case len(m.q[q]) > 0 && head != nodes[m.q[q][0]]:
			t.Fatalf("step %d: Peek of %d = %v, want node %d", step, q, head, m.q[q][0])
		}
	}
	for i, n := range nodes {
		if n.Queued() != (m.in[i] >= 0) {
			t.Fatalf("step %d: node %d Queued = %v, model says queue %d", step, i, n.Queued(), m.in[i])
		}
		if n.Value != i {
			t.Fatalf("step %d: node %d Value changed to %d", step, i, n.Value)
		}
	}
}
