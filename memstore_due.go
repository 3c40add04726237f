package fota

import (
	"cmp"
	"slices"
	"strings"
)

// dueIndex finds the push members whose DueAt is set, earliest first, ties
// by campaign id then device id, for DueMembers and NextDue. It is a
// calendar: members sit in buckets by due time (dueShift wide), and a
// bucket is put in order only when read. Setting a member's due time,
// which every confirmation and observation does, appends one entry to its
// bucket and writes the member's version: no reordering, no entry moved.
//
// The entry a member had before is not looked for: an entry is current
// while its version is the one its member's push record holds (each
// version is handed out once, 0 meaning no due time), and a stale one is
// dropped when a read passes it or when the index compacts, which it does
// once stale entries outnumber the current ones (amortised O(1) a set).
//
// A bucket keeps items[head:sorted] in order (stale entries among them
// are skipped) and items[sorted:] as appended since; a read sorts what
// was appended and merges it in. Reads run with the store stopped; sets
// from device transactions hold the store's dueMu.
type dueIndex struct {
	buckets []*dueBucket // by key, ascending; none empty after a read
	keys    []int64      // the buckets' keys, searched without loading buckets
	// recent are the buckets set appended to lately: a device's answer
	// plans the next look a lease or an ObserveTimeout ahead, so sets
	// alternate among a few.
	recent   [4]*dueBucket
	recentAt int    // the recent slot to replace
	ver      uint32 // the last version handed out
	live     int    // members with a due time: one current entry each
	entries  int    // entries in the buckets, current or stale
	sorter   []dueSortItem
	merged   []dueEntry
	refs     []dueRef // earliest's answer, read before the next call
	// spare are entry arrays of buckets dropped or outgrown lately, for
	// the buckets added next: due times move on, a bucket some seconds
	// wide empties as a later one fills, and reusing its array spares a
	// rollout's collector most of what the index would allocate.
	spare [][]dueEntry
}

// A spare array is kept when it holds at most dueSpareMax entries (1 MiB),
// and at most dueSpares of them.
const (
	dueSpareMax = 1 << 16
	dueSpares   = 64
)

// recycle keeps items' array for a bucket added later.
func (x *dueIndex) recycle(items []dueEntry) {
	if cap(items) == 0 || cap(items) > dueSpareMax || len(x.spare) >= dueSpares {
		return
	}
	x.spare = append(x.spare, items[:0])
}

// takeSpare returns an empty array kept by recycle, or nil.
func (x *dueIndex) takeSpare() []dueEntry {
	n := len(x.spare)
	if n == 0 {
		return nil
	}
	items := x.spare[n-1]
	x.spare[n-1] = nil
	x.spare = x.spare[:n-1]
	return items
}

// dueShift sets a bucket's width: 2^24 µs, about 17 s, so that a read
// sorts what falls due within seconds of now, and a week of due times
// needs some 36,000 buckets at most.
const dueShift = 24

// dueSlack is how many stale entries the index keeps before it compacts,
// beyond as many as there are current ones (a variable for tests).
var dueSlack = 1024

// maxDueVersion is the last version handed out before the index numbers
// its entries afresh (a variable for tests).
var maxDueVersion = ^uint32(0)

// dueScratch is the largest sort buffer a read keeps for the next (1.5
// MiB): a busy bucket holds thousands of entries, and a buffer dropped
// after each read was most of what a rollout's reads allocated.
const dueScratch = 1 << 16

type dueBucket struct {
	key    int64 // due >> dueShift
	items  []dueEntry
	head   int // items[:head] are dropped
	sorted int // items[head:sorted] are in order
}

// dueEntry is one due time of one member: 16 bytes.
type dueEntry struct {
	off  uint32 // the due time less the bucket's start, in µs
	camp uint32 // campaign index
	slot uint32
	ver  uint32 // the member's version when the entry was added
}

// dueRef names a member that is due.
type dueRef struct {
	camp, slot uint32
}

// dueSortItem is an entry with what orders it among ties, read once
// before a sort: for a campaign whose slots are in device id order the
// slot is enough; otherwise the device's key.
type dueSortItem struct {
	e   dueEntry
	key idKey
}

// current reports whether e is its member's entry.
func (x *dueIndex) current(s *MemoryStore, e dueEntry) bool {
	if int(e.camp) >= len(s.campaigns) {
		return false // a campaign rolled back
	}
	pc := s.campaigns[e.camp].pc.Load()
	return pc != nil && int(e.slot) < pc.rec.len() && pc.rec.at(e.slot).ver == e.ver
}

// set records the due time slot's push columns now hold (taking it out
// when zero).
func (x *dueIndex) set(s *MemoryStore, c *memCampaign, slot uint32) {
	if x.ver == maxDueVersion {
		x.compact(s)
		x.renumber(s)
	}
	pc := c.pc.Load()
	r := pc.rec.at(slot)
	due, v := r.due, &r.ver
	if *v != 0 {
		x.live--
	}
	*v = 0
	if due != zeroMicro {
		x.ver++
		*v = x.ver
		x.live++
		b := x.bucket(due >> dueShift)
		x.add(b, dueEntry{off: uint32(due - b.key<<dueShift), camp: c.idx, slot: slot, ver: x.ver})
		x.entries++
	}
	if x.entries > 2*x.live+dueSlack {
		x.compact(s)
	}
}

// reserve makes room for n more entries due at due, so that adding them
// one by one copies none.
func (x *dueIndex) reserve(due int64, n int) {
	b := x.bucket(due >> dueShift)
	b.items = slices.Grow(b.items, n)
}

// add appends e to bucket b. A full bucket doubles: a busy one (every
// device of a campaign answering within seconds, each filed again a lease
// or an ObserveTimeout ahead) takes hundreds of thousands of entries one
// at a time, and append's growth of a quarter copies each some five times.
func (x *dueIndex) add(b *dueBucket, e dueEntry) {
	if len(b.items) == cap(b.items) {
		old := b.items
		b.items = slices.Grow(b.items, max(len(b.items), 16))
		x.recycle(old)
	}
	b.items = append(b.items, e)
}

// bucket returns the bucket of key, adding it when new.
func (x *dueIndex) bucket(key int64) *dueBucket {
	for _, b := range x.recent {
		if b != nil && b.key == key {
			return b
		}
	}
	i, found := slices.BinarySearch(x.keys, key)
	if !found {
		x.buckets = slices.Insert(x.buckets, i, &dueBucket{key: key, items: x.takeSpare()})
		x.keys = slices.Insert(x.keys, i, key)
	}
	b := x.buckets[i]
	x.recent[x.recentAt] = b
	x.recentAt = (x.recentAt + 1) % len(x.recent)
	return b
}

// dropped forgets the buckets that a compaction or a read emptied.
func (x *dueIndex) dropped(kept []*dueBucket) {
	clear(x.buckets[len(kept):])
	x.buckets = kept
	x.keys = x.keys[:0]
	for _, b := range kept {
		x.keys = append(x.keys, b.key)
	}
	x.recent = [len(x.recent)]*dueBucket{}
}

// compact drops every stale entry.
func (x *dueIndex) compact(s *MemoryStore) {
	kept := x.buckets[:0]
	x.entries = 0
	for _, b := range x.buckets {
		w, sorted := 0, 0
		for i := b.head; i < len(b.items); i++ {
			if e := b.items[i]; x.current(s, e) {
				b.items[w] = e
				w++
				if i < b.sorted {
					sorted = w // the run stays in order
				}
			}
		}
		clear(b.items[w:])
		b.items, b.head, b.sorted = b.items[:w], 0, sorted
		if w > 0 {
			kept = append(kept, b)
			x.entries += w
		} else {
			x.recycle(b.items)
		}
	}
	x.dropped(kept)
	x.live = x.entries
}

// renumber numbers the entries afresh from 1, so that versions never wrap.
// Every entry must be current (compact first), one a member: renumbering
// cannot make a stale one look current.
func (x *dueIndex) renumber(s *MemoryStore) {
	x.ver = 0
	for _, b := range x.buckets {
		for i := range b.items {
			e := &b.items[i]
			x.ver++
			e.ver = x.ver
			s.campaigns[e.camp].pc.Load().rec.at(e.slot).ver = x.ver
		}
	}
}

// dropCampaigns takes the members of the campaigns a rollback dropped out
// of the index (s.campaigns no longer holds them, so their entries are
// stale), and recounts the members due.
func (x *dueIndex) dropCampaigns(s *MemoryStore) { x.compact(s) }

// compare orders two current entries of one bucket: by due time, campaign
// id, then device id.
func (x *dueIndex) compare(s *MemoryStore, a, b dueSortItem) int {
	if a.e.off != b.e.off {
		return cmp.Compare(a.e.off, b.e.off)
	}
	if a.e.camp != b.e.camp {
		return strings.Compare(s.campaigns[a.e.camp].id, s.campaigns[b.e.camp].id)
	}
	c := s.campaigns[a.e.camp]
	if c.sorted {
		return cmp.Compare(a.e.slot, b.e.slot)
	}
	if !a.key.text() && !b.key.text() {
		if d := compareNumeric(a.key, b.key); d != 0 {
			return d
		}
	} else if d := s.compareDevices(c.ms.at(a.e.slot).dev, c.ms.at(b.e.slot).dev); d != 0 {
		return d
	}
	return cmp.Compare(a.e.slot, b.e.slot) // a device has one current entry in a campaign: not reached
}

// item is e with its tie-breaking key.
func (x *dueIndex) item(s *MemoryStore, e dueEntry) dueSortItem {
	c := s.campaigns[e.camp]
	if c.sorted {
		return dueSortItem{e: e}
	}
	return dueSortItem{e: e, key: s.devs.at(c.ms.at(e.slot).dev).key}
}

// normalize puts bucket b in order: the entries appended since it was
// last read are sorted (the stale ones dropped) and merged into the run
// already in order.
func (x *dueIndex) normalize(s *MemoryStore, b *dueBucket) {
	if b.sorted == len(b.items) {
		return
	}
	if b.sorted < b.head {
		b.sorted = b.head
	}
	if need := len(b.items) - b.sorted; cap(x.sorter) < need {
		x.sorter = make([]dueSortItem, 0, need) // one allocation, not a chain of growths
	}
	tail := x.sorter[:0]
	for _, e := range b.items[b.sorted:] {
		if x.current(s, e) {
			tail = append(tail, x.item(s, e))
		}
	}
	x.entries -= len(b.items) - b.sorted - len(tail)
	slices.SortFunc(tail, func(p, q dueSortItem) int { return x.compare(s, p, q) })
	if cap(x.sorter) > dueScratch {
		x.sorter = nil // a campaign's start, say: let the large buffer go
	}
	run := b.items[b.head:b.sorted]
	// Appended in order after the run (time moves on): no merge.
	inOrder := len(run) == 0 || len(tail) == 0
	if !inOrder && x.current(s, run[len(run)-1]) {
		inOrder = x.compare(s, x.item(s, run[len(run)-1]), tail[0]) < 0
	}
	if inOrder {
		b.items = b.items[:b.sorted]
		for _, it := range tail {
			b.items = append(b.items, it.e)
		}
		b.sorted = len(b.items)
		return
	}
	if need := len(run) + len(tail); cap(x.merged) < need {
		x.merged = make([]dueEntry, 0, need)
	}
	merged := x.merged[:0]
	i := 0
	for _, e := range run {
		if !x.current(s, e) {
			x.entries--
			continue
		}
		r := x.item(s, e)
		for i < len(tail) && x.compare(s, tail[i], r) < 0 {
			merged = append(merged, tail[i].e)
			i++
		}
		merged = append(merged, e)
	}
	for ; i < len(tail); i++ {
		merged = append(merged, tail[i].e)
	}
	b.items = append(b.items[:b.head], merged...)
	b.sorted = len(b.items)
	if cap(x.merged) > dueScratch {
		x.merged = nil
	}
}

// squeeze drops the stale entries of b.items[head:end], keeping the
// current ones in order at its end.
func (x *dueIndex) squeeze(s *MemoryStore, b *dueBucket, end int) {
	w := end
	for i := end - 1; i >= b.head; i-- {
		if e := b.items[i]; x.current(s, e) {
			w--
			b.items[w] = e
		}
	}
	x.entries -= w - b.head
	b.head = w
	if b.head > 0 && b.head*2 >= len(b.items) {
		// Mostly dropped: let the front go.
		n := copy(b.items, b.items[b.head:])
		clear(b.items[n:])
		b.items, b.sorted, b.head = b.items[:n], b.sorted-b.head, 0
	}
}

// dropEmpty removes the buckets a read emptied.
func (x *dueIndex) dropEmpty() {
	kept := x.buckets[:0]
	for _, b := range x.buckets {
		if b.head < len(b.items) {
			kept = append(kept, b)
		} else {
			x.recycle(b.items)
		}
	}
	if len(kept) < len(x.buckets) {
		x.dropped(kept)
	}
}

// earliest returns up to limit members due at or before now (limit < 0:
// all of them), in order, in a slice the next call reuses. The store must
// be stopped.
func (x *dueIndex) earliest(s *MemoryStore, now int64, limit int) []dueRef {
	out := x.refs[:0]
	nk := now >> dueShift
	for _, b := range x.buckets {
		if b.key > nk || limit >= 0 && len(out) >= limit {
			break
		}
		x.normalize(s, b)
		base := b.key << dueShift
		i := b.head
		for ; i < len(b.items) && (limit < 0 || len(out) < limit); i++ {
			e := b.items[i]
			if !x.current(s, e) {
				continue
			}
			if base+int64(e.off) > now {
				break // the rest of the bucket is later still
			}
			out = append(out, dueRef{e.camp, e.slot})
		}
		x.squeeze(s, b, i)
	}
	x.dropEmpty()
	if cap(out) <= dueScratch {
		x.refs = out // the caller reads it before the next call
	}
	return out
}

// next returns the earliest due time, if any. The store must be stopped.
func (x *dueIndex) next(s *MemoryStore) (int64, bool) {
	for _, b := range x.buckets {
		x.normalize(s, b)
		i := b.head
		for i < len(b.items) && !x.current(s, b.items[i]) {
			i++
		}
		x.squeeze(s, b, i)
		if b.head < len(b.items) {
			x.dropEmpty()
			return b.key<<dueShift + int64(b.items[b.head].off), true
		}
	}
	x.dropEmpty()
	return 0, false
}
