package scheduler

// fifo is a queue of pointers in a ring buffer: pushing and popping write
// one slot each, where a linked list would rewrite several pointers (each a
// write barrier while the garbage collector runs). It grows as needed and
// shrinks only when its owner calls compact, so that a queue that fills
// and drains in bursts does not reallocate on every burst. It is not safe
// for concurrent use.
type fifo[T any] struct {
	buf        []*T
	head, size int
}

// minFIFO is the smallest buffer a fifo keeps once it has grown.
const minFIFO = 64

func (q *fifo[T]) len() int { return q.size }

// capacity is how many elements the buffer holds without growing.
func (q *fifo[T]) capacity() int { return len(q.buf) }

// push appends x, and reports whether the buffer grew beyond its
// smallest size to take it.
func (q *fifo[T]) push(x *T) (grew bool) {
	if q.size == len(q.buf) {
		q.resize(max(minFIFO, 2*len(q.buf)))
		grew = len(q.buf) > minFIFO
	}
	q.buf[(q.head+q.size)%len(q.buf)] = x
	q.size++
	return grew
}

// pop removes and returns the oldest element, or nil if q is empty.
func (q *fifo[T]) pop() *T {
	if q.size == 0 {
		return nil
	}
	x := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return x
}

// compact gives back the space of a buffer that is mostly empty.
func (q *fifo[T]) compact() {
	if len(q.buf) > minFIFO && q.size < len(q.buf)/4 {
		q.resize(max(minFIFO, 2*q.size))
	}
}

// filter keeps, in order, only the elements keep accepts.
func (q *fifo[T]) filter(keep func(*T) bool) {
	n := 0
	for i := range q.size {
		x := q.buf[(q.head+i)%len(q.buf)]
		if keep(x) {
			q.buf[(q.head+n)%len(q.buf)] = x
			n++
		}
	}
	for i := n; i < q.size; i++ {
		q.buf[(q.head+i)%len(q.buf)] = nil
	}
	q.size = n
}

// all calls f on every element, oldest first.
func (q *fifo[T]) all(f func(*T)) {
	for i := range q.size {
		f(q.buf[(q.head+i)%len(q.buf)])
	}
}

func (q *fifo[T]) resize(n int) {
	buf := make([]*T, n)
	for i := range q.size {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}
