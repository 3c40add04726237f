package fota

import "github.com/fotakit/fota/internal/prefault"

// rows is an array of T that grows without moving what it holds: its
// first chunk grows as a slice does, up to chunkSize rows, and every later
// chunk is allocated whole. Adding a million devices or members then
// copies nothing and never holds two copies at once.
type rows[T any] struct {
	chunks [][]T
	n      int
}

const (
	chunkBits = 14
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

func (r *rows[T]) len() int { return r.n }

// at returns row i (i < len).
func (r *rows[T]) at(i uint32) *T { return &r.chunks[i>>chunkBits][i&chunkMask] }

// push appends v.
func (r *rows[T]) push(v T) {
	k := r.n >> chunkBits
	if k == len(r.chunks) {
		size := chunkSize
		if k == 0 {
			size = 8
		}
		r.chunks = append(r.chunks, prefault.Make[T](0, size))
	}
	r.chunks[k] = append(r.chunks[k], v)
	r.n++
}

// truncate drops the rows from n on.
func (r *rows[T]) truncate(n int) {
	if n >= r.n {
		return
	}
	k := n >> chunkBits
	clear(r.chunks[k+1:])
	r.chunks = r.chunks[:k+1]
	r.chunks[k] = r.chunks[k][:n&chunkMask]
	r.n = n
}

// filled returns n rows of v.
func filled[T any](n int, v T) rows[T] {
	var r rows[T]
	for range n {
		r.push(v)
	}
	return r
}
