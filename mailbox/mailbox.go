// Package mailbox is the FIFO queue behind every perkey actor.
//
// A Queue is an intrusive doubly linked list: the element carries its own
// links in a Node, so Push, Pop, Peek and Remove are O(1) and never allocate.
// Removing an element from the middle is what lets a scheduler cancel or
// expire queued work at once instead of skipping it later.
//
// Guarantees:
//   - FIFO: Pop returns elements in the order they were pushed.
//   - Unbounded: a Queue holds any number of nodes; it has no capacity to
//     reach and its memory is the nodes themselves, so an empty Queue
//     retains nothing.
//   - Exclusive: a Node is in at most one Queue at a time. Pushing a node
//     that is already queued, or removing one from a queue it is not in,
//     is refused and changes nothing.
//
// A Queue is not safe for concurrent use: its owner (an actor's dispatcher,
// or whoever holds the lock that guards it) serializes access.
package mailbox

import "iter"

// Node links one element into a Queue. Embed it in the element, set Value to
// the element (or whatever the queue's owner wants back), and push a pointer
// to it. The zero Node is unlinked and ready to push.
type Node[T any] struct {
	next, prev *Node[T]
	q          *Queue[T]

	// Value is the payload; the queue never reads or writes it.
	Value T
}

// Queued reports whether n is currently in a queue.
func (n *Node[T]) Queued() bool { return n.q != nil }

// Queue is a FIFO of nodes. The zero Queue is empty and ready to use.
type Queue[T any] struct {
	head, tail *Node[T]
	n          int
}

// Len returns the number of nodes in q.
func (q *Queue[T]) Len() int { return q.n }

// Push appends n at the tail of q. It returns false, and changes nothing,
// if n is nil or already in a queue.
func (q *Queue[T]) Push(n *Node[T]) bool {
	if n == nil || n.q != nil {
		return false
	}
	n.q = q
	n.prev = q.tail
	n.next = nil
	if q.tail == nil {
		q.head = n
	} else {
		q.tail.next = n
	}
	q.tail = n
	q.n++
	return true
}

// Peek returns the node at the head of q without removing it, or nil if q is
// empty.
func (q *Queue[T]) Peek() *Node[T] { return q.head }

// Pop removes and returns the node at the head of q, or nil if q is empty.
func (q *Queue[T]) Pop() *Node[T] {
	n := q.head
	if n != nil {
		q.unlink(n)
	}
	return n
}

// Remove takes n out of q wherever it stands. It returns false, and changes
// nothing, if n is nil or not in q.
func (q *Queue[T]) Remove(n *Node[T]) bool {
	if n == nil || n.q != q {
		return false
	}
	q.unlink(n)
	return true
}

func (q *Queue[T]) unlink(n *Node[T]) {
	if n.prev == nil {
		q.head = n.next
	} else {
		n.prev.next = n.next
	}
	if n.next == nil {
		q.tail = n.prev
	} else {
		n.next.prev = n.prev
	}
	n.next, n.prev, n.q = nil, nil, nil
	q.n--
}

// All returns an iterator over the nodes of q from head to tail. The queue
// must not change while the iteration runs.
func (q *Queue[T]) All() iter.Seq[*Node[T]] {
	return func(yield func(*Node[T]) bool) {
		for n := q.head; n != nil; n = n.next {
			if !yield(n) {
				return
			}
		}
	}
}
