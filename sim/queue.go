package sim

import (
	"cmp"
	"slices"
	"time"
)

// Queue is a priority queue of timed events: Pop returns the earliest
// event, and events at the same instant come out in the order they were
// pushed, so a run that pushes the same events pops them in the same
// order. Instants are integers: the simulator's are Unix microseconds
// (Micros converts a time.Time), any int64 orders correctly, and the
// calendar below is tuned for microseconds.
//
// It is a calendar queue: a ring of buckets, each holding 2^24 µs (about
// 16.8 seconds) of the next three days, sorted only when its turn comes;
// a small 4-ary min-heap for what is pushed into the bucket being popped;
// and another for instants outside the ring's window (the past, the far
// future, and everything while the queue is small). A simulation's events
// mostly fall within a day of now, so Push and Pop cost O(1) amortised
// and touch memory nearly in order, where a heap of a million events
// costs a cache miss per level. Nothing is boxed in an interface. A
// bucket is a chain of blocks of 64 events from one pool: it grows
// without copying what it holds, and when its turn comes its events are
// gathered into one array and sorted there; its blocks go back to the
// pool for the next buckets to fill, and the pool keeps no more spare
// blocks than the ring holds in use, so the ring holds about as much
// memory as it holds events, not the most each bucket ever held.
//
// The zero Queue is empty and ready to use. A Queue is not safe for
// concurrent use.
type Queue[T any] struct {
	far  []queued[T] // 4-ary min-heap
	now  []queued[T] // 4-ary min-heap: pushed into the current bucket's slot
	ring []chain
	// The ring holds slots [base, base+ringSlots): slot s (the instant
	// >> slotBits) in bucket s & mask. The current bucket, base's, is
	// gathered in cur, sorted, and popped from head on; the others are
	// gathered and sorted when they become current.
	cur    []queued[T]
	base   int64
	head   int
	inRing int // events in the ring's chains and in cur[head:]
	seq    uint64
	mask   int64 // len(ring) - 1
	// popped is the slot of the last event popped, when hasPopped: where
	// the next events most likely are.
	popped    int64
	hasPopped bool
	// blocks is the pool of blocks (each a slice of capacity blockLen, or
	// nil once its memory is given back), next their chains' links; spare
	// lists the free blocks with memory, bare those without; used is how
	// many blocks chains hold.
	blocks [][]queued[T]
	next   []int32
	spare  []int32
	bare   []int32
	used   int
	// tmp is sortBucket's buffer.
	tmp []queued[T]

	// The ring's size in buckets (a power of two) and the heap size at
	// which it grows; zero means ringSlots and ringFrom. Tests make them
	// small.
	slots, growAt int
}

// chain is a bucket's blocks: first and last are block indexes plus one
// (0: the bucket is empty).
type chain struct{ first, last int32 }

// blockLen is how many events a block holds.
const blockLen = 64

const (
	slotBits  = 24 // a bucket holds 2^24 µs, about 16.8 seconds
	ringBits  = 14
	ringSlots = 1 << ringBits // 16,384 buckets: about 76 hours
	// ringFrom is the size at which a queue grows its ring; smaller
	// queues are just a heap.
	ringFrom = 4096
	// minSpare is how many spare blocks the pool keeps whatever the ring
	// holds.
	minSpare = 64
)

type queued[T any] struct {
	at  int64
	seq uint64
	v   T
}

func (a *queued[T]) less(b *queued[T]) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// Micros is t as the simulator's integer instant: Unix microseconds
// (sub-microsecond digits dropped). Every instant from year -290,000 to
// 294,000 fits.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// Time is the instant us (Unix microseconds) as a time in UTC.
func Time(us int64) time.Time { return time.UnixMicro(us).UTC() }

func cmpQueued[T any](a, b queued[T]) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// Len is the number of queued events.
func (q *Queue[T]) Len() int { return len(q.far) + len(q.now) + q.inRing }

// Reset drops every event, keeping the memory. The push sequence
// continues, so ties stay in push order across a reset.
func (q *Queue[T]) Reset() {
	clear(q.far)
	q.far = q.far[:0]
	clear(q.now)
	q.now = q.now[:0]
	for i := range q.ring {
		q.release(&q.ring[i])
	}
	clear(q.cur)
	q.cur = q.cur[:0]
	q.head, q.inRing = 0, 0
}

// Push queues v at instant at.
func (q *Queue[T]) Push(at int64, v T) {
	q.seq++
	it := queued[T]{at: at, seq: q.seq, v: v}
	if q.ring == nil && len(q.far) >= cmp.Or(q.growAt, ringFrom) {
		q.ring = make([]chain, cmp.Or(q.slots, ringSlots))
		q.mask = int64(len(q.ring) - 1)
		q.inRing = 0
	}
	if q.ring != nil {
		slot := it.at >> slotBits
		if q.inRing == 0 && len(q.now) == 0 {
			// An empty ring starts its window anew: at the last event
			// popped (or, before any pop, the earliest queued), when the
			// new event is not long after it, so that the events still to
			// come after that one fit; else at the new event.
			clear(q.cur)
			q.cur = q.cur[:0]
			q.head, q.base = 0, slot
			lo, ok := q.popped, q.hasPopped
			if !ok && len(q.far) > 0 {
				lo, ok = q.far[0].at>>slotBits, true
			}
			if ok && lo <= slot && uint64(slot-lo) < uint64(len(q.ring)/2) {
				q.base = lo
			}
		}
		if d := uint64(slot - q.base); slot >= q.base && d < uint64(len(q.ring)) {
			if d == 0 {
				// The current bucket is sorted and being popped: the
				// newcomer waits beside it. (Every structure is ordered
				// and first compares their heads, so a newcomer may stay
				// there after base moves on.)
				push(&q.now, it)
				return
			}
			q.add(&q.ring[slot&q.mask], it)
			q.inRing++
			return
		}
	}
	push(&q.far, it)
}

// add appends it to chain c, taking a block from the pool when c's last
// is full.
func (q *Queue[T]) add(c *chain, it queued[T]) {
	if c.last != 0 {
		if b := &q.blocks[c.last-1]; len(*b) < blockLen {
			*b = append(*b, it)
			return
		}
	}
	k := q.block()
	q.blocks[k] = append(q.blocks[k], it)
	if c.last == 0 {
		c.first = k + 1
	} else {
		q.next[c.last-1] = k + 1
	}
	c.last = k + 1
}

// block takes an empty block from the pool.
func (q *Queue[T]) block() int32 {
	var k int32
	switch {
	case len(q.spare) > 0:
		k = q.spare[len(q.spare)-1]
		q.spare = q.spare[:len(q.spare)-1]
	case len(q.bare) > 0:
		k = q.bare[len(q.bare)-1]
		q.bare = q.bare[:len(q.bare)-1]
		q.blocks[k] = make([]queued[T], 0, blockLen)
	default:
		k = int32(len(q.blocks))
		q.blocks = append(q.blocks, make([]queued[T], 0, blockLen))
		q.next = append(q.next, 0)
	}
	q.next[k] = 0
	q.used++
	return k
}

// release gives chain c's blocks back to the pool, emptied; beyond as
// many spare blocks as the ring holds in use (and minSpare), their memory
// goes too.
func (q *Queue[T]) release(c *chain) {
	for k := c.first; k != 0; k = q.next[k-1] {
		b := &q.blocks[k-1]
		clear(*b)
		*b = (*b)[:0]
		q.spare = append(q.spare, k-1)
		q.used--
	}
	*c = chain{}
	for len(q.spare) > max(minSpare, q.used) {
		k := q.spare[len(q.spare)-1]
		q.spare = q.spare[:len(q.spare)-1]
		q.blocks[k] = nil
		q.bare = append(q.bare, k)
	}
}

// gather makes chain c the current bucket: its events in cur, in order.
func (q *Queue[T]) gather(c *chain) {
	clear(q.cur)
	q.cur = q.cur[:0]
	for k := c.first; k != 0; k = q.next[k-1] {
		q.cur = append(q.cur, q.blocks[k-1]...)
	}
	q.release(c)
	if len(q.cur) > 1 && !slices.IsSortedFunc(q.cur, cmpQueued[T]) {
		q.sortBucket(q.cur)
	}
}

// Peek returns the earliest event without removing it; ok is false when
// the queue is empty.
func (q *Queue[T]) Peek() (at int64, v T, ok bool) {
	it := q.first()
	if it == nil {
		return at, v, false
	}
	return it.at, it.v, true
}

// Upcoming appends to dst up to n of the events most likely to be popped
// next, in the order they would be, without removing them: the rest of
// the bucket being popped. It is a hint, for reading ahead what they will
// touch: an event pushed later may come before them, and the events kept
// outside the ring (a small queue's, the far future's) are not among them.
func (q *Queue[T]) Upcoming(dst []T, n int) []T {
	if q.inRing == 0 || q.first() == nil {
		return dst
	}
	for _, it := range q.cur[q.head:min(len(q.cur), q.head+n)] {
		dst = append(dst, it.v)
	}
	return dst
}

// Pop removes and returns the earliest event (the first pushed among
// equals); ok is false when the queue is empty.
func (q *Queue[T]) Pop() (at int64, v T, ok bool) {
	it := q.first()
	if it == nil {
		return at, v, false
	}
	return q.take(it)
}

// PopAt removes and returns the earliest event when it is at instant at
// and keep accepts it; ok is false, and nothing is removed, otherwise. (A
// Peek and a Pop in one look.)
func (q *Queue[T]) PopAt(at int64, keep func(T) bool) (v T, ok bool) {
	it := q.first()
	if it == nil || it.at != at || !keep(it.v) {
		return v, false
	}
	_, v, ok = q.take(it)
	return v, ok
}

// take removes it, the earliest event, and returns it.
func (q *Queue[T]) take(it *queued[T]) (at int64, v T, ok bool) {
	top := *it
	q.popped, q.hasPopped = top.at>>slotBits, true
	switch {
	case len(q.far) > 0 && it == &q.far[0]:
		pop(&q.far)
	case len(q.now) > 0 && it == &q.now[0]:
		pop(&q.now)
	default:
		var zero queued[T]
		*it = zero // let v's references go
		q.head++
		q.inRing--
	}
	return top.at, top.v, true
}

// first returns the earliest event, in the ring or a heap, or nil.
func (q *Queue[T]) first() *queued[T] {
	var r *queued[T]
	if q.inRing > 0 {
		for q.head >= len(q.cur) {
			// The current bucket is spent: move on to the next, and put
			// its events in order.
			q.head = 0
			q.base++
			q.gather(&q.ring[q.base&q.mask])
		}
		r = &q.cur[q.head]
	}
	if len(q.now) > 0 && (r == nil || q.now[0].less(r)) {
		r = &q.now[0]
	}
	if len(q.far) > 0 && (r == nil || q.far[0].less(r)) {
		r = &q.far[0]
	}
	return r
}

// radixFrom is the size from which sortBucket sorts by radix.
const radixFrom = 64

// sortBucket puts a bucket of the ring in (at, seq) order. Its events
// were appended in push order, seq rising, so a stable sort by at is
// enough, and they share one slot, the bits of at above slotBits: a
// least-significant-digit radix sort of the slotBits low bits, 8 at a
// time (a pass whose digit is the same for every event is skipped),
// costs a few sequential passes where a comparison sort of a large bucket
// costs a compare per level.
func (q *Queue[T]) sortBucket(b []queued[T]) {
	if len(b) < radixFrom {
		slices.SortFunc(b, cmpQueued[T])
		return
	}
	if cap(q.tmp) < len(b) {
		q.tmp = make([]queued[T], len(b))
	}
	src, dst := b, q.tmp[:len(b)]
	for shift := 0; shift < slotBits; shift += 8 {
		var count [256]int
		for i := range src {
			count[uint8(src[i].at>>shift)]++
		}
		if count[uint8(src[0].at>>shift)] == len(src) {
			continue // one digit: already in order by it
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for i := range src {
			d := uint8(src[i].at >> shift)
			dst[count[d]] = src[i]
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &b[0] {
		copy(b, src)
	}
	clear(q.tmp[:len(b)]) // let v's references go
}

// push adds it to the 4-ary min-heap h.
func push[T any](h *[]queued[T], it queued[T]) {
	*h = append(*h, it)
	items := *h
	i := len(items) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !it.less(&items[p]) {
			break
		}
		items[i] = items[p]
		i = p
	}
	items[i] = it
}

// pop removes the least item of the 4-ary min-heap h.
func pop[T any](h *[]queued[T]) {
	items := *h
	last := len(items) - 1
	x := items[last]
	var zero queued[T]
	items[last] = zero // let v's references go
	items = items[:last]
	*h = items
	if last == 0 {
		return
	}
	n, i := last, 0
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
