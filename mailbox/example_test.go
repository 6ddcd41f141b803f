package mailbox_test

import (
	"fmt"

	"github.com/perkey/perkey/mailbox"
)

type job struct {
	node mailbox.Node[*job]
	name string
}

func newJob(name string) *job {
	j := &job{name: name}
	j.node.Value = j
	return j
}

// An element embeds its Node; queueing it allocates nothing, and it can
// leave the queue from anywhere.
func Example() {
	var q mailbox.Queue[*job]
	a, b, c := newJob("a"), newJob("b"), newJob("c")
	q.Push(&a.node)
	q.Push(&b.node)
	q.Push(&c.node)
	q.Remove(&b.node) // cancelled while queued
	for n := q.Pop(); n != nil; n = q.Pop() {
		fmt.Println(n.Value.name)
	}
	// Output:
	// a
	// c
}
