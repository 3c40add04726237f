package fota

import "math/bits"

// PrefetchMax is how many devices one Prefetch call reads ahead for;
// further ids are ignored.
const PrefetchMax = 32

// Prefetch reads what the next operations on these devices will read
// first (the device's slot in the id table, its row, its newest member
// record with a push member's bookkeeping, its history ring), one kind
// after the other across all the devices, so that their cache misses
// overlap instead of following one another. On a fleet far larger than
// the processor's caches a device operation mostly waits for memory, one
// miss after the other; a host that knows which devices come next (a
// queue of requests read in a burst, a simulator's event queue) calls
// Prefetch with a few of them (up to PrefetchMax) before serving them, and
// they then run from the cache.
//
// It changes nothing and answers nothing: an id the store does not hold is
// skipped, and the operations' results are the same with or without it.
// It holds the shards of the devices named, as their operations do, for
// the few hundred nanoseconds it takes.
func (s *MemoryStore) Prefetch(ids []string) {
	n := min(len(ids), PrefetchMax)
	if n == 0 {
		return
	}
	var ps [PrefetchMax]probe
	var held uint64 // the shards to hold, a bit each
	for i := range n {
		ps[i] = probeOf(ids[i])
		held |= 1 << (ps[i].hash >> 58)
	}
	// In index order, as an exclusive transaction takes them all.
	for m := held; m != 0; m &= m - 1 {
		s.shards[bits.TrailingZeros64(m)].mu.Lock()
	}
	sum := s.prefetch(ps[:n])
	first := &s.shards[bits.TrailingZeros64(held)]
	first.touched += sum // kept, so that the loads stay
	for m := held; m != 0; m &= m - 1 {
		s.shards[bits.TrailingZeros64(m)].mu.Unlock()
	}
}

// prefetch makes the loads of Prefetch in stages: each stage's loads
// depend on the stage before only, not on each other.
func (s *MemoryStore) prefetch(ps []probe) uint64 {
	t := &s.table
	if len(t.slots) == 0 {
		return 0
	}
	mask := uint64(len(t.slots) - 1)
	var sum uint64
	// The slot where each probe starts.
	for i := range ps {
		sum += t.slots[ps[i].hash&mask]
	}
	// The row of the first device whose slot matches (almost always the
	// one sought), without checking its key yet.
	for i := range ps {
		if h, ok := firstMatch(t.slots, ps[i].hash); ok && int(h) < s.devs.len() {
			sum += uint64(s.devs.at(h).key)
		}
	}
	// Now from the cache: the devices held, and where their records are.
	var hot [PrefetchMax]hotRefs
	for i := range ps {
		if h := s.find(&ps[i]); h != noDevice {
			hot[i] = s.hotRefs(h, &s.shardOf(ps[i].hash).hist)
		}
	}
	for i := range hot {
		sum += hot[i].read()
	}
	// With the rings' headers here: where each ring's next check-in goes.
	for i := range ps {
		if hot[i].hist != nil {
			sl := &s.shardOf(ps[i].hash).hist
			r := sl.ring(hot[i].off)
			sum += uint64(sl.at(r.pos(r.n % r.size())).text)
		}
	}
	return sum
}

// firstMatch returns the row that the first of hash's first four slots
// whose top half matches hash's names (almost always hash's entry; its key
// is not checked), in a table of slots laid out as the memory store's id
// table and MemoryInventory's index are: the hash's top half beside
// row+1, 0 for empty. A prefetch reads that row before the lookup does.
func firstMatch(slots []uint64, hash uint64) (uint32, bool) {
	mask := uint64(len(slots) - 1)
	for j, k := hash&mask, 0; k < 4; j, k = (j+1)&mask, k+1 {
		v := slots[j]
		if v == 0 {
			return 0, false
		}
		if v&slotTop == hash&slotTop {
			return uint32(v) - 1, true
		}
	}
	return 0, false
}

// hotRefs is what an operation on a device reads first after its row:
// its newest member record, that member's push record (a push member's)
// and the header of its check-in history ring (at off); nil for what the
// device has not.
type hotRefs struct {
	mem  *memberRow
	push *pushRec
	hist *histEntry
	off  uint32
}

// hotRefs finds device h's hot records; sl is its shard's history slab.
func (s *MemoryStore) hotRefs(h uint32, sl *historySlab) hotRefs {
	var hr hotRefs
	row := s.devs.at(h)
	if r := row.head; r.camp != 0 {
		c := s.campaigns[r.camp-1]
		hr.mem = c.ms.at(r.slot)
		if pc := c.pc.Load(); pc != nil { // push rows stand beside every member row
			hr.push = pc.rec.at(r.slot)
		}
	}
	if row.hist != 0 {
		hr.off = row.hist - 1
		hr.hist = sl.at(hr.off)
	}
	return hr
}

// read loads the hot records and returns what it read, so that the loads
// stay. A row of 24 bytes may straddle two cache lines: it reads both
// ends.
func (hr *hotRefs) read() uint64 {
	var sum uint64
	if hr.mem != nil {
		sum += uint64(hr.mem.at) + uint64(hr.mem.reason)
	}
	if hr.push != nil {
		sum += uint64(hr.push.due) + uint64(hr.push.bits)
	}
	if hr.hist != nil {
		sum += uint64(hr.hist.text)
	}
	return sum
}

// Partition says which of n partitions device id falls in (0..n-1; n
// from 1 to 64). Devices are spread over the store's 64 lock shards by a
// hash of their id, and a partition is a set of whole shards: goroutines
// that each serve the devices of their own partition never wait on each
// other's locks, and neither do their Prefetch calls, which hold every
// shard they name. The answer depends only on id and n, never on what the
// store holds, so a host may compute it once per device. An n outside
// 1..64 is taken as 1 or 64.
func (s *MemoryStore) Partition(id string, n int) int {
	n = min(max(n, 1), numShards)
	return int(probeOf(id).hash>>58) % n
}

// prefetchIDs reads ahead what looking up these devices (up to
// PrefetchMax) will read, as Prefetch does, for a schedule that looks up
// a million devices one after the other (idPrefetcher). It stops the
// store, as the schedule's writes do.
func (tx *memTx) prefetchIDs(ids []string) {
	n := min(len(ids), PrefetchMax)
	if n == 0 {
		return
	}
	tx.exclusive()
	var ps [PrefetchMax]probe
	for i := range n {
		ps[i] = probeOf(ids[i])
	}
	tx.s.shards[0].touched += tx.s.prefetch(ps[:n])
}

// prefetchIDs reads ahead the index slots and rows of these devices (up
// to PrefetchMax), so that their lookups' cache misses overlap
// (idPrefetcher).
func (inv *MemoryInventory) prefetchIDs(ids []string) {
	n := min(len(ids), PrefetchMax)
	var hs [PrefetchMax]uint64
	inv.mu.RLock()
	slots := inv.byNum.slots
	if len(slots) == 0 {
		inv.mu.RUnlock()
		return
	}
	mask := uint64(len(slots) - 1)
	var sum uint64
	for i := range n {
		if k, ok := numericKey(ids[i]); ok {
			hs[i] = mix(uint64(k))
			sum += slots[hs[i]&mask]
		}
	}
	// The row of the first slot whose hash matches (almost always the
	// device's), without checking its key yet.
	for i := range n {
		if hs[i] == 0 {
			continue
		}
		if r, ok := firstMatch(slots, hs[i]); ok && int(r) < len(inv.rows) {
			sum += uint64(inv.rows[r].account)
		}
	}
	inv.mu.RUnlock()
	inv.touched.Store(sum) // kept, so that the loads stay
}
