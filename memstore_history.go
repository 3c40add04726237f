package fota

import (
	"math/bits"

	"github.com/fotakit/fota/verboselog"
)

// historySlab keeps the check-in histories of a shard's devices: each a
// ring in a block of a power-of-two size cut from one array of entries,
// sixteen bytes each and no pointer. Freed blocks are
// kept per size for the next ring of that size.
type historySlab struct {
	entries   []histEntry
	free      [32][]uint32
	rings     []histRing
	freeRings []uint32
}

// histEntry is a check-in: its instant and the index of its text in the
// store's checkInTexts.
type histEntry struct {
	at   int64 // Unix microseconds
	text uint32
}

// histRing is one device's history: n entries from start (the oldest) in
// the block at off of 1<<class entries.
type histRing struct {
	off   uint32
	class uint8
	start uint32
	n     uint32
}

func (r *histRing) size() uint32 { return 1 << r.class }

// pos is the slab index of the ring's i-th oldest entry.
func (r *histRing) pos(i uint32) uint32 { return r.off + (r.start+i)&(r.size()-1) }

func (sl *historySlab) alloc(class uint8) uint32 {
	if f := sl.free[class]; len(f) > 0 {
		off := f[len(f)-1]
		sl.free[class] = f[:len(f)-1]
		return off
	}
	off := uint32(len(sl.entries))
	sl.entries = append(sl.entries, make([]histEntry, 1<<class)...)
	return off
}

func (sl *historySlab) release(off uint32, class uint8) {
	sl.free[class] = append(sl.free[class], off)
}

// newRing returns the index of a new, empty ring.
func (sl *historySlab) newRing() uint32 {
	if f := sl.freeRings; len(f) > 0 {
		i := f[len(f)-1]
		sl.freeRings = f[:len(f)-1]
		sl.rings[i] = histRing{off: sl.alloc(0)}
		return i
	}
	sl.rings = append(sl.rings, histRing{off: sl.alloc(0)})
	return uint32(len(sl.rings) - 1)
}

// dropRing frees ring i and its block.
func (sl *historySlab) dropRing(i uint32) {
	r := &sl.rings[i]
	sl.release(r.off, r.class)
	*r = histRing{}
	sl.freeRings = append(sl.freeRings, i)
}

// add appends an entry to ring i, keeping the newest keep (at least 1).
// The ring moves to a larger block when full, and to a smaller one when
// keep leaves most of its block unused.
func (sl *historySlab) add(i uint32, at int64, text uint32, keep int) {
	r := &sl.rings[i]
	want := uint32(min(int(r.n)+1, keep)) // entries after the call
	kept := want - 1                      // of the ones there now: the newest
	if want > r.size() || r.class > 3 && want*4 <= r.size() {
		class := uint8(bits.Len32(want - 1))
		off := sl.alloc(class)
		for j := range kept {
			src := r.pos(r.n - kept + j)
			sl.entries[off+j] = sl.entries[src]
		}
		sl.release(r.off, r.class)
		*r = histRing{off: off, class: class, n: kept}
	} else {
		drop := r.n - kept
		r.start = (r.start + drop) & (r.size() - 1)
		r.n = kept
	}
	p := r.pos(r.n)
	sl.entries[p].at, sl.entries[p].text = at, text
	r.n++
}

// clone copies ring i into a new block and returns the copy, for a
// transaction that may undo its change (the original stays as it was).
func (sl *historySlab) clone(i uint32) histRing {
	r := sl.rings[i]
	off := sl.alloc(r.class)
	for j := range r.n {
		src := r.pos(j)
		sl.entries[off+j] = sl.entries[src]
	}
	return histRing{off: off, class: r.class, n: r.n}
}

// checkInText is what a check-in says besides its time.
type checkInText struct {
	clientType  verboselog.ClientType
	result      string
	failureType string
}

// checkInTexts interns the few distinct check-in texts a fleet sends.
// Texts no check-in refers to any more are dropped when the table grows
// past maxCheckInTexts, so a device sending ever new results cannot grow
// it without bound.
type checkInTexts struct {
	ids map[checkInText]uint32
	all []checkInText
}

const maxCheckInTexts = 1 << 16

func (t *checkInTexts) intern(x checkInText) uint32 {
	if id, ok := t.ids[x]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = make(map[checkInText]uint32)
	}
	id := uint32(len(t.all))
	t.ids[x] = id
	t.all = append(t.all, x)
	return id
}

// textCacheSize bounds a shard's cache of interned texts.
const textCacheSize = 256

// intern returns a check-in text's index, through sh's cache first.
// shared says a device transaction runs beside others: the table then
// takes its lock.
func (s *MemoryStore) intern(sh *shard, x checkInText, shared bool) uint32 {
	if id, ok := sh.textCache[x]; ok {
		return id
	}
	if shared {
		s.textsMu.Lock()
	}
	id := s.texts.intern(x)
	if shared {
		s.textsMu.Unlock()
	}
	if sh.textCache == nil || len(sh.textCache) >= textCacheSize {
		sh.textCache = make(map[checkInText]uint32)
	}
	sh.textCache[x] = id
	return id
}

// compactTexts keeps only the texts some history refers to. The store must
// be stopped, with no transaction holding a text index.
func (s *MemoryStore) compactTexts() {
	live := make(map[uint32]uint32) // old index -> new
	var next checkInTexts
	for i := range s.shards {
		sh := &s.shards[i]
		sh.textCache = nil
		sl := &sh.hist
		for _, r := range sl.rings {
			for j := range r.n {
				p := r.pos(j)
				id, ok := live[sl.entries[p].text]
				if !ok {
					id = next.intern(s.texts.all[sl.entries[p].text])
					live[sl.entries[p].text] = id
				}
				sl.entries[p].text = id
			}
		}
	}
	s.texts = next
}
