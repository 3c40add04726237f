package fota

import (
	"container/heap"
	"sort"
	"strings"
	"time"
)

// deadlineKey is a deadline's identity.
type deadlineKey struct {
	kind DeadlineKind
	key  string
}

func deadlineLess(a, b Deadline) bool {
	if !a.At.Equal(b.At) {
		return a.At.Before(b.At)
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return strings.Compare(a.Key, b.Key) < 0
}

// deadlineHeap is a min-heap of deadlines with an index by (kind, key), so
// that replacing or removing one costs O(log n).
type deadlineHeap struct {
	items []Deadline
	index map[deadlineKey]int
}

func (h *deadlineHeap) Len() int           { return len(h.items) }
func (h *deadlineHeap) Less(i, j int) bool { return deadlineLess(h.items[i], h.items[j]) }
func (h *deadlineHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.index[deadlineKey{h.items[i].Kind, h.items[i].Key}] = i
	h.index[deadlineKey{h.items[j].Kind, h.items[j].Key}] = j
}
func (h *deadlineHeap) Push(x any) {
	d := x.(Deadline)
	h.index[deadlineKey{d.Kind, d.Key}] = len(h.items)
	h.items = append(h.items, d)
}
func (h *deadlineHeap) Pop() any {
	d := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	delete(h.index, deadlineKey{d.Kind, d.Key})
	return d
}

func (h *deadlineHeap) get(k deadlineKey) (Deadline, bool) {
	i, ok := h.index[k]
	if !ok {
		return Deadline{}, false
	}
	return h.items[i], true
}

func (h *deadlineHeap) put(d Deadline) {
	d.At = microUTC(d.At)
	k := deadlineKey{d.Kind, d.Key}
	if i, ok := h.index[k]; ok {
		h.items[i] = d
		heap.Fix(h, i)
		return
	}
	heap.Push(h, d)
}

func (h *deadlineHeap) remove(k deadlineKey) {
	if i, ok := h.index[k]; ok {
		heap.Remove(h, i)
	}
}

// due returns up to limit deadlines at or before now, earliest first.
func (h *deadlineHeap) due(now time.Time, limit int) []Deadline {
	// The heap's order is partial: collect what is due by walking it.
	var out []Deadline
	var walk func(i int)
	walk = func(i int) {
		if i >= len(h.items) || h.items[i].At.After(now) {
			return
		}
		out = append(out, h.items[i])
		walk(2*i + 1)
		walk(2*i + 2)
	}
	walk(0)
	sort.Slice(out, func(i, j int) bool { return deadlineLess(out[i], out[j]) })
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
