package sim

import "time"

// Queue is a priority queue of timed events: Pop returns the earliest
// event, and events at the same instant come out in the order they were
// pushed, so a run that pushes the same events pops them in the same
// order. It is a 4-ary min-heap keyed by (time, push sequence) with no
// interface boxing: Push and Pop cost O(log n) and allocate only when
// the backing array grows.
//
// The zero Queue is empty and ready to use. A Queue is not safe for
// concurrent use.
type Queue[T any] struct {
	items []queued[T]
	seq   uint64
}

type queued[T any] struct {
	sec  int64 // the instant, as Unix seconds and nanoseconds: exact for every time.Time
	nsec int32
	seq  uint64
	v    T
}

func (a *queued[T]) less(b *queued[T]) bool {
	if a.sec != b.sec {
		return a.sec < b.sec
	}
	if a.nsec != b.nsec {
		return a.nsec < b.nsec
	}
	return a.seq < b.seq
}

// Len is the number of queued events.
func (q *Queue[T]) Len() int { return len(q.items) }

// Reset drops every event, keeping the backing array. The push sequence
// continues, so ties stay in push order across a reset.
func (q *Queue[T]) Reset() {
	clear(q.items)
	q.items = q.items[:0]
}

// Push queues v at instant at.
func (q *Queue[T]) Push(at time.Time, v T) {
	q.seq++
	q.items = append(q.items, queued[T]{sec: at.Unix(), nsec: int32(at.Nanosecond()), seq: q.seq, v: v})
	q.up(len(q.items) - 1)
}

// Peek returns the earliest event without removing it; ok is false when
// the queue is empty.
func (q *Queue[T]) Peek() (at time.Time, v T, ok bool) {
	if len(q.items) == 0 {
		return at, v, false
	}
	it := &q.items[0]
	return time.Unix(it.sec, int64(it.nsec)).UTC(), it.v, true
}

// Pop removes and returns the earliest event (the first pushed among
// equals); ok is false when the queue is empty.
func (q *Queue[T]) Pop() (at time.Time, v T, ok bool) {
	n := len(q.items)
	if n == 0 {
		return at, v, false
	}
	top := q.items[0]
	last := n - 1
	q.items[0] = q.items[last]
	var zero queued[T]
	q.items[last] = zero // let v's references go
	q.items = q.items[:last]
	if last > 0 {
		q.down(0)
	}
	return time.Unix(top.sec, int64(top.nsec)).UTC(), top.v, true
}

func (q *Queue[T]) up(i int) {
	items := q.items
	x := items[i]
	for i > 0 {
		p := (i - 1) / 4
		if !x.less(&items[p]) {
			break
		}
		items[i] = items[p]
		i = p
	}
	items[i] = x
}

func (q *Queue[T]) down(i int) {
	items := q.items
	n := len(items)
	x := items[i]
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c // the least of up to four children
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if items[j].less(&items[m]) {
				m = j
			}
		}
		if !items[m].less(&x) {
			break
		}
		items[i] = items[m]
		i = m
	}
	items[i] = x
}
