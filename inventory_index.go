package fota

// keyIndex maps numeric device keys to MemoryInventory rows: open
// addressing with linear probing over a power-of-two array of slots, each
// the top half of the key's hash beside row+1 (0: empty), as the memory
// store's device table does. A lookup reads a slot and the row it names,
// where a Go map reads a control group, a slot and then the row: at a
// million devices, one cache miss fewer for each device a schedule
// admits. A deletion shifts the entries after it back into place, so no
// tombstones build up.
type keyIndex struct {
	slots []uint64
	n     int // entries
}

const slotTop = ^uint64(1<<32 - 1)

// slot returns where k's entry is; ok is false when k has none.
func (x *keyIndex) slot(k idKey, rows []invRow) (i uint64, ok bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	h := mix(uint64(k))
	mask := uint64(len(x.slots) - 1)
	for i = h & mask; ; i = (i + 1) & mask {
		v := x.slots[i]
		if v == 0 {
			return 0, false
		}
		if v&slotTop == h&slotTop && rows[uint32(v)-1].key == k {
			return i, true
		}
	}
}

// get returns k's row.
func (x *keyIndex) get(k idKey, rows []invRow) (uint32, bool) {
	i, ok := x.slot(k, rows)
	if !ok {
		return 0, false
	}
	return uint32(x.slots[i]) - 1, true
}

// put adds k, which has no entry yet, at row; rows hold every entry's key.
func (x *keyIndex) put(k idKey, row uint32, rows []invRow) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow(rows)
	}
	x.place(mix(uint64(k)), row)
	x.n++
}

// place writes an entry in the first empty slot of its probe.
func (x *keyIndex) place(h uint64, row uint32) {
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if x.slots[i] == 0 {
			x.slots[i] = h&slotTop | uint64(row+1)
			return
		}
	}
}

// grow doubles the slots and places every entry again.
func (x *keyIndex) grow(rows []invRow) {
	old := x.slots
	x.slots = make([]uint64, max(8, 2*len(old)))
	for _, v := range old {
		if v != 0 {
			r := uint32(v) - 1
			x.place(mix(uint64(rows[r].key)), r)
		}
	}
}

// del removes k's entry, if any, while its row still holds its key: each
// entry after it in the run moves back into the hole when the hole lies
// on its probe (between its home slot and where it sits).
func (x *keyIndex) del(k idKey, rows []invRow) {
	hole, ok := x.slot(k, rows)
	if !ok {
		return
	}
	x.n--
	mask := uint64(len(x.slots) - 1)
	for j := (hole + 1) & mask; ; j = (j + 1) & mask {
		v := x.slots[j]
		if v == 0 {
			x.slots[hole] = 0
			return
		}
		home := mix(uint64(rows[uint32(v)-1].key)) & mask
		// Stays when its home lies cyclically in (hole, j].
		if hole <= j && hole < home && home <= j || hole > j && (home > hole || home <= j) {
			continue
		}
		x.slots[hole] = v
		hole = j
	}
}
