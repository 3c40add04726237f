package fota

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"slices"
	"strings"

	"github.com/fotakit/fota/internal/decimal"
	"github.com/fotakit/fota/internal/prefault"
)

// A device id is kept as a key of 64 bits. An id of 1 to 17 decimal
// digits (an IMEI, almost always) is its value with its length in the top
// bits, so that leading zeros count; any other id is the index of its text
// in the store's strs with keyText set. Keys are hashed and compared as
// integers: a device's id text is read once per operation, to make its
// key.
type idKey uint64

const (
	keyText     idKey = 1 << 63
	keyLenShift       = 57
	keyValMask        = 1<<keyLenShift - 1
	maxKeyDigit       = 17
)

// pow10 holds 10^0 to 10^17.
var pow10 = func() (p [maxKeyDigit + 1]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// numericKey returns the key of an id of 1 to 17 decimal digits. Every
// device operation makes its id's key, so an IMEI's 15 digits are read as
// two words of eight bytes, the second overlapping the first and its
// overlap read as zeros (decimal.Parse), rather than in a chain of 15
// dependent multiplications.
func numericKey(id string) (idKey, bool) {
	v, ok := decimal.Parse(id)
	return numericOf(id, v, ok)
}

// numericOf is id's numeric key from decimal.Parse's answer: separate, so
// that probeOf, on every device operation's path, makes one call where
// numericKey would make two.
func numericOf(id string, v uint64, ok bool) (idKey, bool) {
	if !ok || len(id) > maxKeyDigit {
		return 0, false
	}
	return idKey(len(id))<<keyLenShift | idKey(v), true
}

func (k idKey) text() bool    { return k&keyText != 0 }
func (k idKey) digits() int   { return int(k >> keyLenShift & 31) }
func (k idKey) value() uint64 { return uint64(k & keyValMask) }

// appendDigits appends a numeric key's id, eight digits at a time
// (decimal.Text8): a sweep or an outbox names every member of a page.
func (k idKey) appendDigits(b []byte) []byte {
	n := k.digits()
	v := k.value()
	if n > 16 {
		start := len(b)
		b = slices.Grow(b, n)[:start+n]
		for i := len(b) - 1; i >= start; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
		return b
	}
	// Sixteen digits, leading zeros included, of which the last n are the
	// id's.
	var text [16]byte
	hi := v / 1e8
	binary.LittleEndian.PutUint64(text[:8], decimal.Text8(hi))
	binary.LittleEndian.PutUint64(text[8:], decimal.Text8(v-hi*1e8))
	return append(b, text[16-n:]...)
}

// compareNumeric orders two numeric keys as their ids' bytes: ids of one
// length as their values; otherwise the shorter padded with zeros on the
// right compares first, and a tie (one a prefix of the other) puts the
// shorter first. No text is built.
func compareNumeric(a, b idKey) int {
	la, lb := a.digits(), b.digits()
	va, vb := a.value(), b.value()
	switch {
	case la < lb:
		va *= pow10[lb-la]
	case lb < la:
		vb *= pow10[la-lb]
	}
	switch {
	case va < vb:
		return -1
	case va > vb:
		return 1
	case la < lb:
		return -1
	case la > lb:
		return 1
	}
	return 0
}

// probe is a device id looked up once: its key (for a text id, the text
// itself until the store holds it) and its hash.
type probe struct {
	id    string
	key   idKey // 0 for a text id
	hash  uint64
	empty uint32 // 1 + the empty slot where finding it ended, or 0
	gen   uint32 // the table's generation then
}

// hashSeed seeds the hash of text ids.
var hashSeed = maphash.MakeSeed()

// probeOf makes an id's probe.
func probeOf(id string) probe {
	v, ok := decimal.Parse(id)
	if k, ok := numericOf(id, v, ok); ok {
		return probe{id: id, key: k, hash: mix(uint64(k))}
	}
	return probe{id: id, hash: maphash.String(hashSeed, id)}
}

// mix is a 64-bit finalizer (splitmix64's).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// noDevice is the handle of a device the store does not hold.
const noDevice = ^uint32(0)

// deviceTable maps device keys to dense handles: open addressing with
// linear probing over a power-of-two array of slots, each the top half of
// the id's hash beside handle+1 (0: empty), so that a probe passing other
// devices rarely reads their keys. Slots whose handle is past the devices'
// count (a rolled-back transaction added them) are skipped, and dropped at
// the next growth.
type deviceTable struct {
	slots []uint64
	used  int    // slots not empty, stale ones included
	gen   uint32 // incremented at every growth
}

func slotOf(hash uint64, h uint32) uint64 { return hash&^(1<<32-1) | uint64(h+1) }

// find returns the handle of p's device, or noDevice; for a device not
// held, p remembers the empty slot where its probe ended.
func (s *MemoryStore) find(p *probe) uint32 {
	t := &s.table
	if len(t.slots) == 0 {
		return noDevice
	}
	mask := uint64(len(t.slots) - 1)
	top := p.hash &^ (1<<32 - 1)
	for i := p.hash & mask; ; i = (i + 1) & mask {
		v := t.slots[i]
		if v == 0 {
			p.empty, p.gen = uint32(i)+1, t.gen
			return noDevice
		}
		if v&^(1<<32-1) != top {
			continue
		}
		h := uint32(v) - 1
		if int(h) < s.devs.len() && s.matches(h, p) {
			return h
		}
	}
}

// absent reports, without a probe, that p's device is still not held: the
// empty slot its last find ended at is still empty (adding it would have
// filled that slot, the first empty one of its sequence).
func (s *MemoryStore) absent(p *probe) bool {
	return p.empty != 0 && p.gen == s.table.gen && s.table.slots[p.empty-1] == 0
}

// matches reports whether device h has p's id.
func (s *MemoryStore) matches(h uint32, p *probe) bool {
	k := s.devs.at(h).key
	if p.key != 0 {
		return k == p.key
	}
	return k.text() && s.strs[k&^keyText] == p.id
}

// insert adds device h, the last added, whose id is p's, to the table.
func (s *MemoryStore) insert(h uint32, p *probe) {
	t := &s.table
	if (t.used+1)*4 > len(t.slots)*3 {
		s.rehash() // places every device held, h included
		return
	}
	t.used++
	// Slots only fill between growths: the slot where p's probe found no
	// device is still the first empty one of its sequence if still empty.
	if s.absent(p) {
		t.slots[p.empty-1] = slotOf(p.hash, h)
		return
	}
	mask := uint64(len(t.slots) - 1)
	for i := p.hash & mask; ; i = (i + 1) & mask {
		if t.slots[i] == 0 {
			t.slots[i] = slotOf(p.hash, h)
			return
		}
	}
}

// rehash rebuilds the table for the devices held, twice as large as they
// need at least.
func (s *MemoryStore) rehash() { s.rehashFor(s.devs.len() + 1) }

// reserve makes the table take n more devices without growing, so that a
// schedule of a million new devices builds it once rather than some
// twenty times over. The store must be stopped.
func (s *MemoryStore) reserve(n int) {
	if n > 0 && (s.table.used+n)*4 > len(s.table.slots)*3 {
		s.rehashFor(s.devs.len() + n)
	}
}

// rehashFor rebuilds the table, placing the devices held, twice as large
// as n devices need at least.
func (s *MemoryStore) rehashFor(n int) {
	size := 1 << bits.Len(uint(n*2))
	s.table = deviceTable{slots: prefault.Make[uint64](size, size), gen: s.table.gen + 1}
	mask := uint64(size - 1)
	for h := range uint32(s.devs.len()) {
		hash := s.keyHash(uint32(h))
		for i := hash & mask; ; i = (i + 1) & mask {
			if s.table.slots[i] == 0 {
				s.table.slots[i] = slotOf(hash, uint32(h))
				s.table.used++
				break
			}
		}
	}
}

// keyHash is the hash of device h's id.
func (s *MemoryStore) keyHash(h uint32) uint64 {
	k := s.devs.at(h).key
	if k.text() {
		return maphash.String(hashSeed, s.strs[k&^keyText])
	}
	return mix(uint64(k))
}

// idOf returns device h's id.
func (s *MemoryStore) idOf(h uint32) string {
	k := s.devs.at(h).key
	if k.text() {
		return s.strs[k&^keyText]
	}
	var buf [maxKeyDigit]byte
	return string(k.appendDigits(buf[:0]))
}

// compareDevices orders two devices by their ids' bytes.
func (s *MemoryStore) compareDevices(a, b uint32) int {
	ka, kb := s.devs.at(a).key, s.devs.at(b).key
	if !ka.text() && !kb.text() {
		return compareNumeric(ka, kb)
	}
	var ba, bb [maxKeyDigit]byte
	return strings.Compare(s.keyText(ka, ba[:0]), s.keyText(kb, bb[:0]))
}

// compareToID orders device h against an id.
func (s *MemoryStore) compareToID(h uint32, id string, idk idKey) int {
	k := s.devs.at(h).key
	if !k.text() && idk != 0 {
		return compareNumeric(k, idk)
	}
	var buf [maxKeyDigit]byte
	return strings.Compare(s.keyText(k, buf[:0]), id)
}

// keyText returns a key's id, formatting a numeric one into buf.
func (s *MemoryStore) keyText(k idKey, buf []byte) string {
	if k.text() {
		return s.strs[k&^keyText]
	}
	return string(k.appendDigits(buf))
}
