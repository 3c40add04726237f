package fota

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fotakit/fota/device"
)

// zeroMicro is the zero time in Unix microseconds: the store keeps
// instants as microseconds, the zero time included, so that it reads back
// as zero.
var zeroMicro = time.Time{}.UnixMicro()

func micro(t time.Time) int64 { return t.UnixMicro() }

// fromMicro is an instant the store keeps, as a time in UTC (the zero time
// as zero, without the conversion: most members have no push time due).
func fromMicro(us int64) time.Time {
	if us == zeroMicro {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// microUTC is t as the store keeps it: in UTC, to the microsecond, with no
// monotonic reading. Most times come from the Manager's clock already
// whole microseconds (Manager.now), and UTC alone makes them so.
func microUTC(t time.Time) time.Time {
	if t.Nanosecond()%1000 == 0 {
		return t.UTC()
	}
	return fromMicro(micro(t))
}

// nameTable interns the texts the store keeps per device as an index: the
// account and last campaign of device records, the ids of campaigns. Reads
// take no lock; a text seen for the first time takes one.
type nameTable struct {
	mu   sync.Mutex
	ids  sync.Map // text -> uint32
	list atomic.Pointer[[]string]
}

func (t *nameTable) init() {
	l := []string{""}
	t.list.Store(&l)
}

// index returns the text's index, adding it when new; "" is 0.
func (t *nameTable) index(s string) uint32 {
	if s == "" {
		return 0
	}
	if v, ok := t.ids.Load(s); ok {
		return v.(uint32)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.ids.Load(s); ok {
		return v.(uint32)
	}
	l := *t.list.Load()
	id := uint32(len(l))
	// Readers hold older headers and read only below their length, so
	// writing past it, in place, is safe; the new header is published
	// after.
	l = append(l, s)
	t.list.Store(&l)
	t.ids.Store(s, id)
	return id
}

// lookup returns the text's index if it has one.
func (t *nameTable) lookup(s string) (uint32, bool) {
	if s == "" {
		return 0, true
	}
	v, ok := t.ids.Load(s)
	if !ok {
		return 0, false
	}
	return v.(uint32), true
}

func (t *nameTable) name(i uint32) string { return (*t.list.Load())[i] }

// newDevice adds the device of probe p and returns its handle. The store
// must be stopped (an exclusive transaction), so columns grow in place.
func (s *MemoryStore) newDevice(p *probe) uint32 {
	h := uint32(s.devs.len())
	k := p.key
	if k == 0 {
		k = keyText | idKey(len(s.strs))
		s.strs = append(s.strs, p.id)
	}
	s.devs.push(devRow{key: k, shard: uint8(p.hash >> 58)})
	rc := s.rc.Load()
	if rc.account != nil {
		rc.account.push(0)
	}
	if rc.license != nil {
		rc.license.push(0)
	}
	if rc.licensedAt != nil {
		rc.licensedAt.push(zeroMicro)
	}
	s.insert(h, p)
	return h
}

// truncateDevices drops the devices added since the store held n of them,
// of which strs text ids. The store must be stopped.
func (s *MemoryStore) truncateDevices(n, strs int) {
	if s.devs.len() == n {
		return
	}
	s.devs.truncate(n)
	s.strs = s.strs[:strs]
	rc := s.rc.Load()
	if rc.account != nil {
		rc.account.truncate(n)
	}
	if rc.license != nil {
		rc.license.truncate(n)
	}
	if rc.licensedAt != nil {
		rc.licensedAt.truncate(n)
	}
	for h := range s.elsewhere {
		if int(h) >= n {
			delete(s.elsewhere, h)
		}
	}
	s.records.invalidate()
}

// activeOf returns the id of the campaign holding device h, or "".
func (s *MemoryStore) activeOf(h uint32) string {
	switch a := s.devs.at(h).active; a {
	case 0:
		return ""
	case heldElsewhere:
		// Device transactions of other shards may write elsewhere.
		s.recMu.Lock()
		defer s.recMu.Unlock()
		return s.elsewhere[h]
	default:
		return s.campaigns[a-1].id
	}
}

// activeValue returns what the active column keeps for a campaign id.
func (s *MemoryStore) activeValue(campaignID string) uint32 {
	if campaignID == "" {
		return 0
	}
	if i, ok := s.byID[campaignID]; ok {
		return i + 1
	}
	return heldElsewhere
}

// setActive records the campaign holding device h.
func (s *MemoryStore) setActive(h, a uint32, campaignID string) {
	if s.devs.at(h).active == heldElsewhere && a != heldElsewhere {
		delete(s.elsewhere, h)
	}
	s.devs.at(h).active = a
	if a == heldElsewhere {
		s.elsewhere[h] = campaignID
	}
}

// memberOf finds device h's member record in campaign c: the newest first
// (the campaign holding it, almost always), then the older ones.
func (s *MemoryStore) memberOf(h uint32, c *memCampaign) (uint32, bool) {
	want := c.idx + 1
	for r := s.devs.at(h).head; r.camp != 0; r = s.campaigns[r.camp-1].ms.at(r.slot).next {
		if r.camp == want {
			return r.slot, true
		}
	}
	return 0, false
}

// addMember appends device h's member record to campaign c, first in the
// device's list, and returns its slot. The store must be stopped.
func (s *MemoryStore) addMember(c *memCampaign, h uint32, r memberRec, tally *memberTally) uint32 {
	slot := uint32(c.ms.len())
	if c.sorted && slot > 0 && s.compareDevices(c.ms.at(slot-1).dev, h) >= 0 {
		c.sorted, c.stale = false, true
	} else if !c.sorted {
		c.stale = true
	}
	d := s.devs.at(h)
	stripe := d.shard % countStripes
	c.ms.push(memberRow{at: r.at, next: d.head, dev: h, state: r.state, reason: r.reason, stripe: stripe})
	d.head = memberRef{c.idx + 1, slot}
	pc := c.pc.Load()
	if pc == nil && r.push != noPush {
		pc = c.pushColumns(int(slot))
		c.pc.Store(pc)
	}
	if pc != nil {
		r.push.ver = 0
		pc.rec.push(r.push)
		if r.push.due != zeroMicro {
			s.due.set(s, c, slot)
		}
	}
	if tally != nil {
		tally[stripe][r.state]++
	} else {
		c.counts[stripe][r.state].Add(1)
	}
	return slot
}

// memberTally gathers what a bulk add does to a campaign's counts, added
// to them once (addTally): an atomic add per member would wait, as the
// fence it is, for the member rows written before it to reach memory.
type memberTally [countStripes][countStates]int32

// addTally adds t to the campaign's counts and clears it.
func (c *memCampaign) addTally(t *memberTally) {
	for i := range t {
		for st, n := range t[i] {
			if n != 0 {
				c.counts[i][st].Add(n)
				t[i][st] = 0
			}
		}
	}
}

// pushColumns returns push columns for the campaign's first n slots, none
// of which has push bookkeeping.
func (c *memCampaign) pushColumns(n int) *pushColumns {
	return &pushColumns{rec: filled(n, noPush)}
}

// betweenCounts, when set (by a test), runs between counting a moving
// member in its new state and out of its old one.
var betweenCounts func()

// setMember replaces slot's record; shared says a device transaction
// applies it beside others (allocating the push columns and the due heap
// then take their locks).
func (s *MemoryStore) setMember(c *memCampaign, slot uint32, r memberRec, shared bool) {
	m := c.ms.at(slot)
	if old := m.state; old != r.state {
		// Up before down: a transaction reading counts beside this one
		// (AnyMember) may see the device in both states, never in none.
		stripe := &c.counts[m.stripe]
		stripe[r.state].Add(1)
		if betweenCounts != nil {
			betweenCounts()
		}
		stripe[old].Add(-1)
	}
	m.state, m.reason, m.at = r.state, r.reason, r.at
	pc := c.pc.Load()
	if pc == nil {
		if r.push == noPush {
			return
		}
		if shared {
			c.colMu.Lock()
			if pc = c.pc.Load(); pc == nil {
				pc = c.pushColumns(c.ms.len())
				c.pc.Store(pc)
			}
			c.colMu.Unlock()
		} else {
			pc = c.pushColumns(c.ms.len())
			c.pc.Store(pc)
		}
	}
	oldDue := pc.rec.at(slot).due
	putPush(pc.rec.at(slot), r.push)
	if oldDue == r.push.due {
		return
	}
	if shared {
		s.dueMu.Lock()
		defer s.dueMu.Unlock()
	}
	s.due.set(s, c, slot)
}

// putPush writes a member's push record but its due index version: the
// index writes that, under dueMu, and may renumber any member's while a
// device transaction of another shard writes its own member's record.
func putPush(dst *pushRec, r pushRec) {
	dst.due, dst.lease, dst.machine, dst.result = r.due, r.lease, r.machine, r.result
	dst.proto, dst.attempt, dst.bits = r.proto, r.attempt, r.bits
}

// getPush reads a member's push record but its due index version (see
// putPush), which it leaves 0.
func getPush(src *pushRec) pushRec {
	return pushRec{due: src.due, lease: src.lease, machine: src.machine, result: src.result,
		proto: src.proto, attempt: src.attempt, bits: src.bits}
}

// removeMember takes slot out of campaign c: its state becomes 0 and it
// leaves its device's list. The store must be stopped.
func (s *MemoryStore) removeMember(c *memCampaign, slot uint32) {
	h := c.ms.at(slot).dev
	c.count(slot, c.ms.at(slot).state, -1)
	c.ms.at(slot).state = 0
	if pc := c.pc.Load(); pc != nil && pc.rec.at(slot).due != zeroMicro {
		pc.rec.at(slot).due = zeroMicro
		s.due.set(s, c, slot)
	}
	ref := memberRef{c.idx + 1, slot}
	if prev := s.predecessor(h, ref); prev.camp == 0 {
		s.devs.at(h).head = c.ms.at(slot).next
	} else {
		s.campaigns[prev.camp-1].ms.at(prev.slot).next = c.ms.at(slot).next
	}
}

// restoreMember puts a removed slot back as it was, after prev in its
// device's list (the undo of removeMember, writes being undone in reverse
// order).
func (s *MemoryStore) restoreMember(c *memCampaign, slot uint32, r memberRec, prev memberRef) {
	h := c.ms.at(slot).dev
	ref := memberRef{c.idx + 1, slot}
	if prev.camp == 0 {
		s.devs.at(h).head = ref
	} else {
		s.campaigns[prev.camp-1].ms.at(prev.slot).next = ref
	}
	c.ms.at(slot).state, c.ms.at(slot).reason, c.ms.at(slot).at = r.state, r.reason, r.at
	c.count(slot, r.state, 1)
	if pc := c.pc.Load(); pc != nil {
		putPush(pc.rec.at(slot), r.push)
		if r.push.due != zeroMicro {
			s.due.set(s, c, slot)
		}
	}
}

// predecessor returns the member record before ref in device h's list
// (camp 0: ref is the head).
func (s *MemoryStore) predecessor(h uint32, ref memberRef) memberRef {
	prev := memberRef{}
	for r := s.devs.at(h).head; r.camp != 0 && r != ref; r = s.campaigns[r.camp-1].ms.at(r.slot).next {
		prev = r
	}
	return prev
}

// dropMember undoes addMember of the campaign's last slot (writes being
// undone in reverse order, it is first in its device's list).
func (s *MemoryStore) dropMember(c *memCampaign, slot uint32) {
	h := c.ms.at(slot).dev
	if c.ms.at(slot).state != 0 {
		c.count(slot, c.ms.at(slot).state, -1)
		s.devs.at(h).head = c.ms.at(slot).next
	}
	if pc := c.pc.Load(); pc != nil {
		if pc.rec.at(slot).due != zeroMicro {
			pc.rec.at(slot).due = zeroMicro
			s.due.set(s, c, slot)
		}
		pc.rec.truncate(int(slot))
	}
	c.ms.truncate(int(slot))
	c.stale = true
}

// ordered returns campaign c's slots in device id order (nil: slot order
// is that order), sorting them when members were added out of order.
func (s *MemoryStore) ordered(c *memCampaign) []uint32 {
	if c.sorted {
		return nil
	}
	if c.stale {
		// Members added in order after all (a rolled-back append may have
		// marked it stale).
		inOrder := true
		for i := uint32(1); int(i) < c.ms.len() && inOrder; i++ {
			inOrder = s.compareDevices(c.ms.at(i-1).dev, c.ms.at(i).dev) < 0
		}
		if inOrder {
			c.sorted, c.stale, c.order = true, false, nil
			return nil
		}
		c.order = c.order[:0]
		for i := range c.ms.len() {
			c.order = append(c.order, uint32(i))
		}
		slices.SortFunc(c.order, func(a, b uint32) int {
			if d := s.compareDevices(c.ms.at(a).dev, c.ms.at(b).dev); d != 0 {
				return d
			}
			return int(a) - int(b) // a device removed and added again: its live slot is the later
		})
		c.stale = false
	}
	return c.order
}

// recordColumns are the device records' columns beside flags, each nil
// until first written.
type recordColumns struct {
	license    *rows[device.License]
	account    *rows[uint32] // names index of DeviceRecord.Account
	licensedAt *rows[int64]
}

// deviceRec is a device record's columns, gathered.
type deviceRec struct {
	flags      uint8
	license    device.License
	account    uint32
	lastCamp   uint32
	licensedAt int64
}

func (s *MemoryStore) record(h uint32) deviceRec {
	r := deviceRec{flags: s.devs.at(h).flags, lastCamp: s.devs.at(h).lastCamp, licensedAt: zeroMicro}
	rc := s.rc.Load()
	if rc.license != nil {
		r.license = *rc.license.at(h)
	}
	if rc.account != nil {
		r.account = *rc.account.at(h)
	}
	if rc.licensedAt != nil {
		r.licensedAt = *rc.licensedAt.at(h)
	}
	return r
}

// setRecord writes device h's record columns. A column first written is
// allocated and published in a new recordColumns, under recMu when shared
// (a device transaction beside others).
func (s *MemoryStore) setRecord(h uint32, r deviceRec, shared bool) {
	old := s.record(h)
	if old.flags&flagRecord != r.flags&flagRecord || old.account != r.account {
		s.records.invalidate()
	}
	s.devs.at(h).flags = s.devs.at(h).flags&^(flagRecord|flagUpgraded) | r.flags&(flagRecord|flagUpgraded)
	rc := s.rc.Load()
	if r.license != 0 && rc.license == nil || r.account != 0 && rc.account == nil ||
		r.licensedAt != zeroMicro && rc.licensedAt == nil {
		if shared {
			s.recMu.Lock()
			defer s.recMu.Unlock()
			rc = s.rc.Load()
		}
		n := s.devs.len()
		next := *rc
		if r.license != 0 && next.license == nil {
			col := filled(n, device.License(0))
			next.license = &col
		}
		if r.account != 0 && next.account == nil {
			col := filled(n, uint32(0))
			next.account = &col
		}
		if r.licensedAt != zeroMicro && next.licensedAt == nil {
			col := filled(n, zeroMicro)
			next.licensedAt = &col
		}
		rc = &next
		s.rc.Store(rc)
	}
	if rc.license != nil {
		*rc.license.at(h) = r.license
	}
	if rc.account != nil {
		*rc.account.at(h) = r.account
	}
	s.devs.at(h).lastCamp = r.lastCamp
	if rc.licensedAt != nil {
		*rc.licensedAt.at(h) = r.licensedAt
	}
}

func (s *MemoryStore) accountOf(h uint32) uint32 {
	if rc := s.rc.Load(); rc.account != nil {
		return *rc.account.at(h)
	}
	return 0
}

func packRecord(s *MemoryStore, d *DeviceRecord) deviceRec {
	r := deviceRec{flags: flagRecord, license: d.License, account: s.names.index(d.Account),
		lastCamp: s.names.index(d.LastCampaign), licensedAt: micro(d.LicensedAt)}
	if d.EverUpgraded {
		r.flags |= flagUpgraded
	}
	return r
}

// deviceRecord returns device h's record (a zero record with its id when
// none is stored).
func (s *MemoryStore) deviceRecord(h uint32, id string) DeviceRecord {
	r := s.record(h)
	if r.flags&flagRecord == 0 {
		return DeviceRecord{DeviceID: id}
	}
	return DeviceRecord{DeviceID: id, Account: s.names.name(r.account), License: r.license, LicensedAt: fromMicro(r.licensedAt),
		EverUpgraded: r.flags&flagUpgraded != 0, LastCampaign: s.names.name(r.lastCamp)}
}

// recordIndex lists each account's devices with a record, in id order,
// rebuilt after a record is added or changes account.
type recordIndex struct {
	stale     atomic.Bool
	built     bool
	byAccount map[uint32][]uint32
}

// invalidate marks the index for a rebuild. Device transactions call it
// as devices finish: once stale, it is only read, so cores do not trade
// its cache line back and forth.
func (x *recordIndex) invalidate() {
	if !x.stale.Load() {
		x.stale.Store(true)
	}
}

// accountDevices returns the account's devices with a record, in id order.
// The store must be stopped.
func (s *MemoryStore) accountDevices(account uint32) []uint32 {
	x := &s.records
	if x.stale.Swap(false) || !x.built {
		x.byAccount = make(map[uint32][]uint32)
		for h := range uint32(s.devs.len()) {
			if s.devs.at(h).flags&flagRecord != 0 {
				a := s.accountOf(uint32(h))
				x.byAccount[a] = append(x.byAccount[a], uint32(h))
			}
		}
		for _, hs := range x.byAccount {
			slices.SortFunc(hs, s.compareDevices)
		}
		x.built = true
	}
	return x.byAccount[account]
}
