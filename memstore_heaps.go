package fota

import (
	"container/heap"
	"sort"
	"strings"
	"time"
)

// dueHeap holds the push members whose DueAt is set, earliest first, ties
// by campaign id then device id: DueMembers and NextDue read it without a
// scan. A member's position is kept in its campaign's push columns.
type dueHeap struct {
	items []dueItem
}

type dueItem struct {
	at   int64
	camp uint32 // campaign index
	slot uint32
	// key is the member's device key, kept here so that comparing two
	// items due at the same moment (a campaign's start, a 04:00 retry)
	// reads no member or device row.
	key idKey
}

func (h *dueHeap) less(s *MemoryStore, a, b dueItem) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.camp != b.camp {
		return s.campaigns[a.camp].id < s.campaigns[b.camp].id
	}
	if !a.key.text() && !b.key.text() {
		return compareNumeric(a.key, b.key) < 0
	}
	c := s.campaigns[a.camp]
	return s.compareDevices(c.ms.at(a.slot).dev, c.ms.at(b.slot).dev) < 0
}

func (h *dueHeap) place(s *MemoryStore, i int) {
	it := h.items[i]
	*s.campaigns[it.camp].pc.Load().pos.at(it.slot) = int32(i)
}

func (h *dueHeap) swap(s *MemoryStore, i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.place(s, i)
	h.place(s, j)
}

func (h *dueHeap) up(s *MemoryStore, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(s, h.items[i], h.items[p]) {
			return
		}
		h.swap(s, i, p)
		i = p
	}
}

func (h *dueHeap) down(s *MemoryStore, i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(s, h.items[r], h.items[l]) {
			m = r
		}
		if !h.less(s, h.items[m], h.items[i]) {
			return
		}
		h.swap(s, i, m)
		i = m
	}
}

// set places a member in the heap by its DueAt as its push columns say
// (taking it out when zero).
func (h *dueHeap) set(s *MemoryStore, c *memCampaign, slot uint32) {
	pc := c.pc.Load()
	due, pos := pc.rec.at(slot).due, int(*pc.pos.at(slot))
	switch {
	case due == zeroMicro && pos < 0:
	case due == zeroMicro:
		last := len(h.items) - 1
		if pos != last {
			h.swap(s, pos, last)
		}
		h.items = h.items[:last]
		*pc.pos.at(slot) = -1
		if pos != last {
			h.down(s, pos)
			h.up(s, pos)
		}
	case pos < 0:
		key := s.devs.at(c.ms.at(slot).dev).key
		h.items = append(h.items, dueItem{at: due, camp: c.idx, slot: slot, key: key})
		h.place(s, len(h.items)-1)
		h.up(s, len(h.items)-1)
	case due > h.items[pos].at:
		h.items[pos].at = due
		h.down(s, pos)
	default:
		h.items[pos].at = due
		h.up(s, pos)
	}
}

// dropCampaigns takes the members of campaigns from index c0 on out of
// the heap (they are being dropped) and rebuilds it.
func (h *dueHeap) dropCampaigns(s *MemoryStore, c0 int) {
	kept := h.items[:0]
	for _, it := range h.items {
		if int(it.camp) < c0 {
			kept = append(kept, it)
		}
	}
	h.items = kept
	for i := range h.items {
		h.place(s, i)
	}
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(s, i)
	}
}

// earliest returns up to limit items at or before now, in order, walking
// the heap best first without changing it: O(k log k) for k items.
func (h *dueHeap) earliest(s *MemoryStore, now int64, limit int) []dueItem {
	var out []dueItem
	if len(h.items) == 0 || h.items[0].at > now {
		return nil
	}
	f := &frontier{s: s, h: h, idx: []int{0}}
	for f.Len() > 0 && (limit < 0 || len(out) < limit) {
		i := heap.Pop(f).(int)
		it := h.items[i]
		if it.at > now {
			continue // its subtree is later still
		}
		out = append(out, it)
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h.items) {
				heap.Push(f, c)
			}
		}
	}
	return out
}

// frontier is the heap of due heap indexes still to visit.
type frontier struct {
	s   *MemoryStore
	h   *dueHeap
	idx []int
}

func (f *frontier) Len() int { return len(f.idx) }
func (f *frontier) Less(i, j int) bool {
	return f.h.less(f.s, f.h.items[f.idx[i]], f.h.items[f.idx[j]])
}
func (f *frontier) Swap(i, j int) { f.idx[i], f.idx[j] = f.idx[j], f.idx[i] }
func (f *frontier) Push(x any)    { f.idx = append(f.idx, x.(int)) }
func (f *frontier) Pop() any {
	x := f.idx[len(f.idx)-1]
	f.idx = f.idx[:len(f.idx)-1]
	return x
}

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
