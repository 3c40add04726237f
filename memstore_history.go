package fota

import (
	"math/bits"

	"github.com/fotakit/fota/internal/prefault"
	"github.com/fotakit/fota/verboselog"
)

// historySlab keeps the check-in histories of a shard's devices, each a
// ring in a block of entries (twelve bytes each, no pointer): the block's
// first entry is the ring's header, then 1<<class entries, so that a
// device's header and newest check-ins share a cache line. Blocks are cut
// from chunks of histChunk entries, allocated as the histories grow and
// never copied (a slab grown by doubling one array copied it over and
// over, and held old and new copies at once); a block never straddles two
// chunks, except one larger than a chunk, which gets whole chunks of one
// array of its own. Freed blocks are kept per class for the next ring of
// that size. A device's row holds its block's offset.
type historySlab struct {
	chunks [][]histEntry // offset o is chunks[o>>histChunkBits][o&histChunkMask]
	next   uint32        // the offset where the next block is cut
	free   [32][]uint32
}

// A chunk holds 1<<histChunkBits entries (48 KiB): a shard's last chunk,
// partly cut, wastes little.
const (
	histChunkBits = 12
	histChunk     = 1 << histChunkBits
	histChunkMask = histChunk - 1
)

// at returns the entry at offset off.
func (sl *historySlab) at(off uint32) *histEntry {
	return &sl.chunks[off>>histChunkBits][off&histChunkMask]
}

// histEntry is a check-in: its instant (Unix microseconds, in two
// halves, so that an entry takes 12 bytes rather than 16: a million
// devices keeping 8 check-ins each hold 36 MB less) and the index of its
// text in the store's checkInTexts. A block's header entry holds the
// ring's class and start in the instant and its length in text.
type histEntry struct {
	atLo, atHi uint32
	text       uint32
}

func newHistEntry(at int64, text uint32) histEntry {
	return histEntry{atLo: uint32(at), atHi: uint32(uint64(at) >> 32), text: text}
}

// at is the entry's instant.
func (e *histEntry) at() int64 { return int64(uint64(e.atHi)<<32 | uint64(e.atLo)) }

// histRing is a ring's header: n entries from start (the oldest) in the
// block at off.
type histRing struct {
	off   uint32
	class uint8
	start uint32
	n     uint32
}

func (r *histRing) size() uint32 { return 1 << r.class }

// pos is the slab index of the ring's i-th oldest entry.
func (r *histRing) pos(i uint32) uint32 { return r.off + 1 + (r.start+i)&(r.size()-1) }

// ring reads the header of the block at off.
func (sl *historySlab) ring(off uint32) histRing {
	h := *sl.at(off)
	return histRing{off: off, class: uint8(h.atHi), start: h.atLo, n: h.text}
}

func (sl *historySlab) setRing(r histRing) {
	*sl.at(r.off) = histEntry{atLo: r.start, atHi: uint32(r.class), text: r.n}
}

func (sl *historySlab) alloc(class uint8) uint32 {
	if f := sl.free[class]; len(f) > 0 {
		off := f[len(f)-1]
		sl.free[class] = f[:len(f)-1]
		return off
	}
	size := uint32(1) + 1<<class
	if size > histChunk {
		// Whole chunks of one array, each chunk a window of it.
		if sl.next&histChunkMask != 0 {
			sl.next = (sl.next | histChunkMask) + 1
		}
		off := sl.next
		n := (size + histChunkMask) >> histChunkBits
		all := prefault.Make[histEntry](int(n<<histChunkBits), int(n<<histChunkBits))
		for k := range n {
			sl.chunks = append(sl.chunks, all[k<<histChunkBits:(k+1)<<histChunkBits:(k+1)<<histChunkBits])
		}
		sl.next += n << histChunkBits
		return off
	}
	if sl.next&histChunkMask+size > histChunk {
		sl.next = (sl.next | histChunkMask) + 1 // the rest of this chunk stays unused
	}
	if int(sl.next>>histChunkBits) == len(sl.chunks) {
		sl.chunks = append(sl.chunks, prefault.Make[histEntry](histChunk, histChunk))
	}
	off := sl.next
	sl.next += size
	return off
}

// release frees the block at off.
func (sl *historySlab) release(off uint32) {
	class := sl.ring(off).class
	sl.free[class] = append(sl.free[class], off)
}

// firstClass bounds the class of a new ring: room for up to 8 check-ins
// at once (or keep, if fewer), so that a device keeping a few check-ins
// never moves its ring, and moving through the small classes leaves no
// trail of freed blocks that only the next new devices could reuse.
const firstClass = 3

// newRing returns the offset of a new, empty ring for a device keeping
// its newest keep check-ins.
func (sl *historySlab) newRing(keep int) uint32 {
	class := uint8(bits.Len32(uint32(min(max(keep, 1), 1<<firstClass)) - 1))
	off := sl.alloc(class)
	sl.setRing(histRing{off: off, class: class})
	return off
}

// add appends an entry to the ring at off, keeping the newest keep (at
// least 1), and returns the ring's offset: it moves to a larger block when
// full, and to a smaller one when keep leaves most of its block unused.
func (sl *historySlab) add(off uint32, at int64, text uint32, keep int) uint32 {
	r := sl.ring(off)
	want := uint32(min(int(r.n)+1, keep, maxHistory)) // entries after the call
	kept := want - 1                                  // of the ones there now: the newest
	if want > r.size() || r.class > firstClass && want*4 <= r.size() {
		class := uint8(bits.Len32(want - 1))
		noff := sl.alloc(class)
		for j := range kept {
			*sl.at(noff + 1 + j) = *sl.at(r.pos(r.n - kept + j))
		}
		sl.release(off)
		r = histRing{off: noff, class: class, n: kept}
	} else {
		drop := r.n - kept
		r.start = (r.start + drop) & (r.size() - 1)
		r.n = kept
	}
	*sl.at(r.pos(r.n)) = newHistEntry(at, text)
	r.n++
	sl.setRing(r)
	return r.off
}

// maxHistory bounds a ring, whatever keep a caller asks for.
const maxHistory = 1 << 30

// clone copies the ring at off into a new block and returns its offset,
// for a transaction that may undo its change (the original stays as it
// was).
func (sl *historySlab) clone(off uint32) uint32 {
	r := sl.ring(off)
	noff := sl.alloc(r.class)
	for j := range r.n {
		*sl.at(noff + 1 + j) = *sl.at(r.pos(j))
	}
	sl.setRing(histRing{off: noff, class: r.class, n: r.n})
	return noff
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
	if sh.lastTextSet && sh.lastText == x {
		return sh.lastTextID // a fleet's check-ins mostly say the same
	}
	if id, ok := sh.textCache[x]; ok {
		sh.lastText, sh.lastTextID, sh.lastTextSet = x, id, true
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
	sh.lastText, sh.lastTextID, sh.lastTextSet = x, id, true
	return id
}

// compactTexts keeps only the texts some history refers to. The store must
// be stopped, with no transaction holding a text index.
func (s *MemoryStore) compactTexts() {
	live := make(map[uint32]uint32) // old index -> new
	var next checkInTexts
	for i := range s.shards {
		s.shards[i].textCache, s.shards[i].lastTextSet = nil, false
	}
	for h := range uint32(s.devs.len()) {
		if s.devs.at(h).hist == 0 {
			continue
		}
		sl := &s.shardOf(s.keyHash(uint32(h))).hist
		r := sl.ring(s.devs.at(h).hist - 1)
		for j := range r.n {
			e := sl.at(r.pos(j))
			id, ok := live[e.text]
			if !ok {
				id = next.intern(s.texts.all[e.text])
				live[e.text] = id
			}
			e.text = id
		}
	}
	s.texts = next
}
