package fota

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/verboselog"
)

// MemoryStore is the in-memory reference Store, built for a million
// devices.
//
// Layout. A device is a dense integer handle: its id is made into a key
// once per operation (an IMEI's digits read as one integer) and
// looked up in one open-addressing table. What the store keeps per device
// and per member lives in dense arrays indexed by handle or by member
// slot, of small fixed-size rows with no pointer: states and reasons as
// bytes, instants as Unix microseconds, the campaign holding a device as a
// campaign index, flags as bits, check-in history as a ring in a slab of
// its shard. What one device operation touches sits together (the
// device's row of 32 bytes, the member's row of 24), so that a check-in
// reads a few cache lines; what it rarely touches (a licence, a push
// member's bookkeeping) sits in columns of its own, allocated when first
// written. Rows grow in chunks, so adding a million devices or members
// never copies what is there. On Linux a chunk, the id table and each
// chunk of check-in history are backed with memory when allocated, by one
// madvise(MADV_POPULATE_WRITE) rather than a page fault a page: where a
// hypervisor traps page faults, those faults were a tenth of a
// million-device rollout. No device or member is a heap object of its own, and a device
// that finished a campaign costs what one under way does. A device's
// member records form a list through the campaigns' rows, newest first,
// so finding a device's record in the campaign holding it costs no lookup.
// Those few loads still depend on one another, a cache miss each on a
// fleet larger than the caches: a host that knows which devices come next
// hands them to Prefetch, which overlaps their misses.
//
// Concurrency. Devices are spread over 64 shards by the hash of their id,
// each with a lock. A device transaction (UpdateDevice) locks its device's
// shard only, runs its function once, keeps its writes aside (reads see
// them) and applies them when the function returns nil: no undo log, and
// device transactions of other shards run beside it. Update takes the
// store's update lock, so Updates run one after another; it reads and
// writes campaign records, counts, gates and sequence numbers without
// stopping device transactions (a campaign record it writes is published
// when it commits; counts are atomic), and stops them all (takes every
// shard) at its first call that reads or writes devices, members,
// deadlines or the push index. From then on it writes in place and keeps
// an undo log, except for what it created: members of a campaign it
// created and devices it added are dropped whole if it fails, not undone
// one by one. A device transaction moves a member's count up in its new
// state before down in its old, so that a read of counts beside it
// (AnyMember in an Update, lagging) may see the member in both states,
// never in neither. View stops everything and reads a consistent store. A
// device transaction on a device the store does not hold yet runs like an
// Update that stopped everything, as it adds a device.
//
// Indexes. Counts are kept per campaign and state, striped and atomic.
// Push members with a DueAt sit in a calendar of buckets by DueAt, put in
// (DueAt, campaign id, device id) order when read (dueIndex); deadlines in
// a heap by (At, kind, key). A campaign's members are
// listed in device id order through a slot order built when members were
// not added in that order (IMEIs of one length compare as integers, so no
// text is sorted). It is the default store of a Manager and the model the
// storetest suite is written against.
type MemoryStore struct {
	updMu  sync.Mutex // Updates, Views and device transactions adding a device, one at a time
	shards [numShards]shard

	// Devices, by handle.
	table deviceTable
	devs  rows[devRow]
	strs  []string // text ids (keyText)
	// rc holds the device records' columns, each allocated when first
	// written; a device transaction allocating one publishes a new rc.
	rc    atomic.Pointer[recordColumns]
	recMu sync.Mutex // device transactions allocating a record column
	// elsewhere holds the active campaign of devices held by a campaign
	// the store does not hold (active = heldElsewhere).
	elsewhere map[uint32]string

	// Campaigns, by index; byID finds one. committed finds a committed
	// one without a lock (id → *memCampaign), for lagging.
	campaigns []*memCampaign
	byID      map[string]uint32
	committed sync.Map

	names nameTable

	dueMu     sync.Mutex // device transactions' writes to due
	due       dueIndex
	dlMu      sync.Mutex // device transactions' writes to deadlines
	deadlines deadlineHeap

	gates map[pilot.Target]pilot.Gate
	seq   uint64

	textsMu sync.Mutex // device transactions' interning
	texts   checkInTexts

	sessMu            sync.Mutex // device transactions' writes to sessionsByAccount
	sessionsByAccount map[string]map[uint32]struct{}

	records recordIndex

	tx memTx // the one Update or View at a time; reused
}

// numShards is how many shards devices are spread over: enough that two
// cores rarely wait for each other, few enough that stopping them all
// costs little.
const numShards = 64

// shard holds what is kept per device but grows: history slabs, logging
// sessions and bundles, under the shard's lock.
type shard struct {
	mu sync.Mutex
	// The lock is written at every transaction: it has a cache line of
	// its own, so that taking it does not evict what the transaction reads.
	_           [56]byte
	hist        historySlab
	textCache   map[checkInText]uint32 // texts this shard interned lately
	lastText    checkInText            // the text interned last, and its index
	lastTextID  uint32
	lastTextSet bool
	sessions    map[uint32]LogSession
	bundles     map[uint32][]verboselog.Bundle
	touched     uint64   // what Prefetch read, kept so that its loads stay
	_           [64]byte // keeps the next shard's lock off this one's cache line
}

// shardOf returns the shard of a device with this id hash.
func (s *MemoryStore) shardOf(hash uint64) *shard { return &s.shards[hash>>58] }

// Device flags.
const (
	flagRecord   = 1 << iota // PutDevice stored a record
	flagUpgraded             // DeviceRecord.EverUpgraded
	flagSession              // a logging session is stored
	flagBundles              // bundles are stored
)

// devRow is what a device operation reads of its device, together: its
// key, its newest member record, the campaign holding it, its history
// ring, its flags and its lock shard, in 32 bytes.
type devRow struct {
	key      idKey
	head     memberRef // the device's newest member record
	active   uint32    // 1 + index of the campaign holding the device; see heldElsewhere
	hist     uint32    // 1 + index of its history ring in its shard, or 0
	lastCamp uint32    // names index of DeviceRecord.LastCampaign
	flags    uint8
	shard    uint8 // its lock shard (the id hash's top 6 bits)
}

// heldElsewhere in active: the campaign holding the device is not in the
// store (elsewhere has its id).
const heldElsewhere = ^uint32(0)

// memberRef names a member record: 1 + campaign index (0: none), slot.
type memberRef struct {
	camp uint32
	slot uint32
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{
		byID:              make(map[string]uint32),
		elsewhere:         make(map[uint32]string),
		deadlines:         deadlineHeap{index: make(map[deadlineKey]int)},
		gates:             make(map[pilot.Target]pilot.Gate),
		sessionsByAccount: make(map[string]map[uint32]struct{}),
	}
	s.names.init()
	s.rc.Store(&recordColumns{})
	s.tx.s = s
	for i := range s.shards {
		s.shards[i].sessions = make(map[uint32]LogSession)
		s.shards[i].bundles = make(map[uint32][]verboselog.Bundle)
	}
	return s
}

// Update runs fn in a read-write transaction (see MemoryStore).
func (s *MemoryStore) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx := s.begin(false)
	defer tx.end()
	if err := fn(tx); err != nil {
		tx.rollback()
		return err
	}
	tx.commit()
	return nil
}

// View runs fn in a read-only transaction on a consistent store: it stops
// every other transaction, so that the counts it reads add up to the
// members it lists. (The Manager's check after each device operation,
// whether its campaign is over, needs no View: see lagging.)
func (s *MemoryStore) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tx := s.begin(true)
	defer tx.end()
	tx.exclusive()
	err := fn(tx)
	tx.open = false // nothing to undo
	return err
}

// begin starts the one Update or View.
func (s *MemoryStore) begin(ro bool) *memTx {
	s.updMu.Lock()
	tx := &s.tx
	tx.ro, tx.open = ro, true
	return tx
}

// end releases what the transaction holds. A function that panicked left
// the transaction open: it is rolled back first.
func (tx *memTx) end() {
	if tx.open {
		tx.rollback()
	}
	s := tx.s
	if tx.excl {
		for i := range s.shards {
			s.shards[i].mu.Unlock()
		}
		tx.excl = false
	}
	tx.reset()
	s.updMu.Unlock()
}

// UpdateDevice runs fn in a transaction of one device (see MemoryStore):
// under its shard's lock, once, its writes applied when fn returns nil.
func (s *MemoryStore) UpdateDevice(ctx context.Context, deviceID string, fn func(DeviceTx) error) error {
	// A pooled transaction, not one per shard: the pool's stays in this
	// core's cache, where a shard's would move between the cores that
	// serve its devices.
	d := devTxPool.Get().(*devTx)
	defer d.release()
	return s.updateDevice(ctx, deviceID, fn, d)
}

// updateDevice is UpdateDevice in the transaction d, which the caller
// clears after: the Manager's pooled operations carry one (op.dtx), so
// that a device call takes one thing from a pool, not two.
func (s *MemoryStore) updateDevice(ctx context.Context, deviceID string, fn func(DeviceTx) error, d *devTx) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.s, d.id, d.p = s, deviceID, probeOf(deviceID)
	sh := s.shardOf(d.p.hash)
	sh.mu.Lock()
	if d.h = s.find(&d.p); d.h != noDevice {
		d.shard = sh
		d.touch()
		err := fn(d)
		if err == nil {
			d.commit()
		}
		sh.mu.Unlock()
		return err
	}
	sh.mu.Unlock()
	// A device the store does not hold: adding it needs the store alone.
	tx := s.begin(false)
	defer tx.end()
	tx.exclusive()
	d.h, d.shard, d.alone = s.find(&d.p), sh, tx
	err := fn(d)
	if err == nil {
		d.commit()
	}
	tx.open = false
	return err
}

// memCampaign is one campaign: its record and its members' columns, by
// slot. A removed member's slot keeps state 0 and is never reused.
type memCampaign struct {
	id     string
	idx    uint32
	name   uint32                   // names index of id
	record atomic.Pointer[Campaign] // the committed record

	ms rows[memberRow] // by slot
	// pc holds the push columns, allocated when a member first has push
	// bookkeeping; a device transaction allocating them publishes pc.
	pc    atomic.Pointer[pushColumns]
	colMu sync.Mutex // device transactions allocating pc

	// order lists the slots in device id order when they were not added
	// in it (sorted false); stale says it must be checked again.
	order  []uint32
	sorted bool
	stale  bool

	counts [countStripes][countStates]atomic.Int32
}

// Counts are striped by the devices' lock shards, so that device
// transactions of different shards rarely share a counter: goroutines
// that serve the devices of their own partition (Partition, into a number
// of partitions that divides 16) write counters of their own, where a
// stripe chosen by handle would bounce its cache line between them.
const (
	countStripes = 16
	countStates  = len(Counts{})
)

// count adds delta to the count of st in the stripe of the member at
// slot.
func (c *memCampaign) count(slot uint32, st device.State, delta int32) {
	c.counts[c.ms.at(slot).stripe][st].Add(delta)
}

// anyIn reports whether any member is in one of states. A device always
// counts in one stripe, so no stripe is negative: any stripe's count is
// enough to answer.
func (c *memCampaign) anyIn(states StateSet) bool {
	for st := range countStates {
		if !states.Has(device.State(st)) {
			continue
		}
		for i := range c.counts {
			if c.counts[i][st].Load() != 0 {
				return true
			}
		}
	}
	return false
}

// lagging reports, without a transaction, whether campaign id's stored
// status lags what settling it would write (due): its committed record
// and its counts are published atomically, so a device operation's
// is-it-over check stops nothing and takes no lock. ok is false for a
// campaign not committed yet; the caller then asks through a View.
func (s *MemoryStore) lagging(id string, now time.Time) (lag, ok bool) {
	v, found := s.committed.Load(id)
	if !found {
		return false, false
	}
	c := v.(*memCampaign)
	rec := c.record.Load()
	if rec == nil {
		return false, false
	}
	return dueWith(rec, now, c.anyIn), true
}

func (c *memCampaign) totals() Counts {
	var out Counts
	for i := range c.counts {
		for st := range c.counts[i] {
			out[st] += int(c.counts[i][st].Load())
		}
	}
	return out
}

// memberRow is a member record but its push bookkeeping: what a device
// operation reads and writes of it, together, in 24 bytes. State 0 marks a
// removed member.
type memberRow struct {
	at     int64     // UpdatedAt, Unix microseconds
	next   memberRef // the device's next older member record
	dev    uint32
	state  device.State
	reason device.Reason
	stripe uint8 // the device's stripe of the counts: its shard's, so never another
}

// pushColumns are a campaign's push members' columns.
type pushColumns struct {
	rec rows[pushRec]
}

// pushRec is a member's Push, packed.
type pushRec struct {
	due     int64 // Unix microseconds; zeroMicro: none
	lease   uint64
	machine uint16
	result  uint16
	proto   device.Protocol
	attempt uint8
	bits    uint8
	// ver is the member's version in the due index (0: not due), beside
	// the due time so that setting one touches one cache line. Only the
	// index writes it (putPush keeps it).
	ver uint32
}

const (
	pushObserving = 1 << iota
	pushSpent
	pushLeased
)

func packPush(p Push) pushRec {
	if p == (Push{}) {
		return noPush // an HTTP member's
	}
	r := pushRec{due: micro(p.DueAt), lease: p.Lease, machine: p.Machine, result: p.Result, proto: p.Protocol, attempt: p.Attempt}
	if p.Observing {
		r.bits |= pushObserving
	}
	if p.Spent {
		r.bits |= pushSpent
	}
	if p.Leased {
		r.bits |= pushLeased
	}
	return r
}

func (r pushRec) unpack() Push {
	if r == noPush {
		return Push{} // an HTTP member's
	}
	return Push{Protocol: r.proto, Attempt: r.attempt, Observing: r.bits&pushObserving != 0, Spent: r.bits&pushSpent != 0,
		Leased: r.bits&pushLeased != 0, Machine: r.machine, Result: r.result, DueAt: fromMicro(r.due), Lease: r.lease}
}

// memberRec is a member's columns, gathered.
type memberRec struct {
	state  device.State
	reason device.Reason
	at     int64
	push   pushRec
}

func packMember(m *Member) memberRec {
	return memberRec{state: m.State, reason: m.Reason, at: micro(m.UpdatedAt), push: packPush(m.Push)}
}

// noPush is the push bookkeeping of an HTTP member.
var noPush = pushRec{due: zeroMicro}

// rec gathers slot's columns.
func (c *memCampaign) rec(slot uint32) memberRec {
	r := memberRec{state: c.ms.at(slot).state, reason: c.ms.at(slot).reason, at: c.ms.at(slot).at, push: noPush}
	if pc := c.pc.Load(); pc != nil {
		r.push = getPush(pc.rec.at(slot))
	}
	return r
}
