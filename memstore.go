package fota

import (
	"container/heap"
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/verboselog"
)

// MemoryStore is the in-memory reference Store. Update and View
// transactions run alone under the write lock; an Update writes in place,
// keeping an undo log that a failed transaction replays backwards.
// Check-ins through UpdateDevice run side by side under the read lock
// while they touch one device's history only (see UpdateDevice). It is
// the default store of a Manager and the model the storetest suite is
// written against.
type MemoryStore struct {
	mu        sync.RWMutex
	seq       uint64
	campaigns map[string]*memCampaign
	// devices holds everything kept per device in one place, so that a
	// check-in finds its device with one map lookup.
	devices   deviceIndex
	texts     checkInTexts
	textsMu   sync.Mutex // texts are interned by shared-mode check-ins too
	stripes   [256]sync.Mutex
	shared    sync.Pool // *memTx for shared mode
	deadlines deadlineHeap
	gates     map[pilot.Target]pilot.Gate
	// sessionsByAccount lists the devices with a logging session per
	// account.
	sessionsByAccount map[string]map[string]struct{}
	tx                memTx // the one read-write transaction; reused under mu
}

// memDevice is one device's records: what every check-in touches inline,
// the rest behind a pointer that most devices never need. Fields are
// replaced, never mutated in place, so an undo entry can hold the old
// value.
type memDevice struct {
	active string      // campaign holding the device
	slot   int32       // its member slot in that campaign; -1 unknown
	hist   []histEntry // the newest keep check-ins, oldest first
	more   *memDeviceMore
}

// memDeviceMore is copied on write.
type memDeviceMore struct {
	rec        DeviceRecord
	session    LogSession
	hasSession bool
	bundles    []verboselog.Bundle
}

// moreForWrite returns a copy of d's rarely written records, to change and
// store back in d.more.
func (d *memDevice) moreForWrite() *memDeviceMore {
	if d.more == nil {
		return &memDeviceMore{}
	}
	m := *d.more
	return &m
}

// histEntry is a check-in without its device id, its client type, result
// and failure type interned: sixteen bytes with no pointers, so a fleet's
// history costs the garbage collector nothing to scan and an append
// nothing to copy but bytes.
type histEntry struct {
	at   int64  // Unix microseconds: the store keeps instants to the microsecond
	text uint32 // index in the store's checkInTexts
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

// compactTexts keeps only the texts some device's history refers to. It
// runs between transactions, when no undo entry holds an old history.
func (s *MemoryStore) compactTexts() {
	live := make(map[uint32]uint32) // old id -> new id
	var next checkInTexts
	remap := func(d *memDevice) {
		for i := range d.hist {
			id, ok := live[d.hist[i].text]
			if !ok {
				id = next.intern(s.texts.all[d.hist[i].text])
				live[d.hist[i].text] = id
			}
			d.hist[i].text = id
		}
	}
	for _, d := range s.devices.byNum {
		remap(d)
	}
	for _, d := range s.devices.byStr {
		remap(d)
	}
	s.texts = next
}

type memCampaign struct {
	rec Campaign
	// index finds a member's slot in recs. A removed member's slot is
	// zeroed and never reused, so a device may remember its slot in the
	// campaign that holds it and skip the index on its next check-in.
	index  map[string]int32
	recs   []memberRec
	counts Counts

	orderMu sync.Mutex // guards order and sorted, rebuilt lazily by readers
	order   []string
	sorted  bool
}

// memberRec is a member without the keys it is stored under, to keep a
// device's footprint small.
type memberRec struct {
	at     int64        // UpdatedAt, Unix microseconds (zero time included)
	state  device.State // 0: the slot of a removed member
	reason device.Reason
	push   Push
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{
		campaigns: make(map[string]*memCampaign),
		devices:   deviceIndex{byNum: make(map[uint64]*memDevice), byStr: make(map[string]*memDevice)},
		deadlines: deadlineHeap{index: make(map[deadlineKey]int)},
		gates:     make(map[pilot.Target]pilot.Gate),

		sessionsByAccount: make(map[string]map[string]struct{}),
	}
	s.tx.s = s
	s.shared.New = func() any { return &memTx{s: s, shared: true} }
	return s
}

// Update runs fn in a read-write transaction, alone under the write lock.
func (s *MemoryStore) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.updateExclusive(fn)
}

// UpdateDevice implements Store. A check-in that only appends to
// its device's history while reading the rest runs in shared mode: under
// the read lock, with the device's stripe lock held to the end, beside
// other devices' check-ins. The first write shared mode does not allow
// (anything but a check-in on a device already known, or a touch of a
// second device) rolls the attempt back, and fn runs again alone.
func (s *MemoryStore) UpdateDevice(ctx context.Context, deviceID string, fn func(DeviceTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	run := func(tx Tx) error { return fn(devTx{tx.(*memTx), deviceID}) }
	if err, done := s.updateShared(run); done {
		return err
	}
	return s.updateExclusive(run)
}

// updateShared runs fn in shared mode; done is false when fn needs the
// store alone.
func (s *MemoryStore) updateShared(fn func(Tx) error) (err error, done bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	tx := s.shared.Get().(*memTx)
	defer s.shared.Put(tx)
	defer func() {
		if p := recover(); p != nil {
			tx.rollback()
			panic(p)
		}
	}()
	err = fn(tx)
	if alone := tx.needAlone; alone || err != nil {
		tx.rollback() // resets needAlone
		return err, !alone
	}
	tx.reset()
	return nil, true
}

// updateExclusive runs fn alone under the write lock.
func (s *MemoryStore) updateExclusive(fn func(Tx) error) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.texts.all) > maxCheckInTexts {
		s.compactTexts()
	}
	tx := &s.tx
	tx.undo = tx.undo[:0]
	defer func() {
		if p := recover(); p != nil {
			tx.rollback()
			panic(p)
		}
	}()
	if err = fn(tx); err != nil {
		tx.rollback()
		return err
	}
	tx.reset()
	return nil
}

// View runs fn in a read-only transaction. It holds the store alone, so
// that no check-in running in shared mode changes what it reads.
func (s *MemoryStore) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn(&memTx{s: s, ro: true})
}

// errAlone stops a shared-mode attempt that needs the store alone.
var errAlone = errors.New("fota: memory store: transaction needs the store alone")

type memTx struct {
	s    *MemoryStore
	ro   bool
	undo []undoEntry
	// In shared mode the transaction may touch one device, whose stripe
	// it locks at the first touch and holds to the end; needAlone records
	// that it asked for more.
	shared    bool
	sharedDev string
	stripe    *sync.Mutex
	needAlone bool
	// lastID and lastDev remember the device found last: an operation asks
	// about one device several times (history, session, campaign).
	lastID  string
	lastDev *memDevice
	// lastCampID and lastCamp do the same for campaigns.
	lastCampID string
	lastCamp   *memCampaign
}

// find looks a device up, through the one-entry cache.
func (tx *memTx) find(id string) (*memDevice, bool) {
	if tx.lastDev != nil && tx.lastID == id {
		return tx.lastDev, true
	}
	if tx.shared && !tx.touch(id) {
		return nil, false
	}
	d, ok := tx.s.devices.get(id)
	if ok {
		tx.lastID, tx.lastDev = id, d
	}
	return d, ok
}

// touch claims device id for a shared-mode transaction: the first device
// it touches is locked; any other means the transaction needs the store
// alone, and what it reads of it does not matter (the attempt is undone).
func (tx *memTx) touch(id string) bool {
	if tx.sharedDev == "" {
		tx.sharedDev = id
		tx.stripe = tx.s.stripeOf(id)
		tx.stripe.Lock()
		return true
	}
	if id == tx.sharedDev {
		return true
	}
	tx.needAlone = true
	return false
}

// alone marks a shared-mode transaction as needing the store alone.
func (tx *memTx) alone() error {
	tx.needAlone = true
	return errAlone
}

// stripeOf is the lock that serializes shared-mode transactions on one
// device.
func (s *MemoryStore) stripeOf(id string) *sync.Mutex {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return &s.stripes[h%uint32(len(s.stripes))]
}

// undoEntry restores what one write replaced. The hot writes (a member, a
// device's record) are typed, so a transaction allocates no closure for
// them; rare writes carry a function.
type undoEntry struct {
	dev    *memDevice // restore *dev = devOld
	devOld memDevice
	camp   *memCampaign // restore a member
	key    string
	slot   int32
	mem    memberRec
	member memberChange
	fn     func()
}

// memberChange says what a member write did, for its undo.
type memberChange uint8

const (
	memberReplaced memberChange = iota + 1
	memberInserted
	memberDeleted
)

func (u *undoEntry) apply(s *MemoryStore) {
	switch {
	case u.fn != nil:
		u.fn()
	case u.dev != nil:
		*u.dev = u.devOld
	case u.camp != nil:
		c := u.camp
		switch u.member {
		case memberReplaced:
			c.counts[c.recs[u.slot].state]--
			c.recs[u.slot] = u.mem
			c.counts[u.mem.state]++
		case memberInserted:
			c.counts[c.recs[u.slot].state]--
			delete(c.index, u.key)
			if int(u.slot) == len(c.recs)-1 {
				c.recs = c.recs[:u.slot]
			} else {
				c.recs[u.slot] = memberRec{}
			}
			c.markUnsorted()
		case memberDeleted:
			c.recs[u.slot] = u.mem
			c.index[u.key] = u.slot
			c.counts[u.mem.state]++
			c.markUnsorted()
		}
	}
}

func (tx *memTx) rollback() {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i].apply(tx.s)
	}
	tx.reset()
}

// reset empties the undo log, keeping a small one for the next
// transaction and letting a large one (a campaign of a million devices)
// go.
func (tx *memTx) reset() {
	if tx.stripe != nil {
		tx.stripe.Unlock()
		tx.stripe = nil
	}
	tx.sharedDev, tx.needAlone = "", false
	tx.lastID, tx.lastDev = "", nil
	tx.lastCampID, tx.lastCamp = "", nil
	if cap(tx.undo) > 4096 {
		tx.undo = nil
		return
	}
	clear(tx.undo)
	tx.undo = tx.undo[:0]
}

func (tx *memTx) onUndo(fn func()) { tx.undo = append(tx.undo, undoEntry{fn: fn}) }

// device returns the device's records for writing, creating them, and logs
// their old value for undo.
func (tx *memTx) device(id string) *memDevice {
	d, ok := tx.find(id)
	if !ok {
		d = &memDevice{slot: -1}
		tx.s.devices.put(id, d)
		tx.lastID, tx.lastDev = id, d
		tx.onUndo(func() { tx.s.devices.remove(id) })
		return d
	}
	tx.undo = append(tx.undo, undoEntry{dev: d, devOld: *d})
	return d
}

func (tx *memTx) write() error {
	if tx.ro {
		return ErrReadOnly
	}
	if tx.shared {
		return tx.alone()
	}
	return nil
}

func (tx *memTx) Campaign(id string) (Campaign, error) {
	c, err := tx.campaign(id)
	if err != nil {
		return Campaign{}, err
	}
	return c.rec, nil
}

func (tx *memTx) PutCampaign(c Campaign) error {
	if err := tx.write(); err != nil {
		return err
	}
	s := tx.s
	if old, ok := s.campaigns[c.ID]; ok {
		prev := old.rec
		old.rec = c
		tx.onUndo(func() { old.rec = prev })
		return nil
	}
	s.campaigns[c.ID] = &memCampaign{rec: c, index: make(map[string]int32)}
	tx.onUndo(func() { delete(s.campaigns, c.ID) })
	return nil
}

func (tx *memTx) Campaigns(account, afterID string, limit int) ([]Campaign, error) {
	var out []Campaign
	for id, c := range tx.s.campaigns {
		if c.rec.Account == account && id > afterID {
			out = append(out, c.rec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// campaign looks a campaign up, through a one-entry cache: an operation
// asks about the same campaign several times.
func (tx *memTx) campaign(id string) (*memCampaign, error) {
	if tx.lastCamp != nil && tx.lastCampID == id {
		return tx.lastCamp, nil
	}
	c, ok := tx.s.campaigns[id]
	if !ok {
		return nil, &NotFoundError{Kind: "campaign", ID: id}
	}
	tx.lastCampID, tx.lastCamp = id, c
	return c, nil
}

func (tx *memTx) Member(campaignID, deviceID string) (Member, error) {
	c, err := tx.campaign(campaignID)
	if err != nil {
		return Member{}, err
	}
	slot, ok := tx.slotOf(c, campaignID, deviceID)
	if !ok {
		return Member{}, &NotFoundError{Kind: "device", ID: deviceID, Campaign: campaignID}
	}
	return c.recs[slot].member(campaignID, deviceID), nil
}

// slotOf finds a member's slot: through the device just looked up when
// the campaign holds it (a check-in's path), else through the index.
func (tx *memTx) slotOf(c *memCampaign, campaignID, deviceID string) (int32, bool) {
	// Looking the device up also fills the one-entry cache for the calls
	// that usually follow (release, licence, history).
	if d, ok := tx.find(deviceID); ok && d.active == campaignID &&
		d.slot >= 0 && int(d.slot) < len(c.recs) && c.recs[d.slot].state != 0 {
		return d.slot, true
	}
	slot, ok := c.index[deviceID]
	return slot, ok
}

func (r memberRec) member(campaignID, deviceID string) Member {
	return Member{CampaignID: campaignID, DeviceID: deviceID, State: r.state, Reason: r.reason,
		UpdatedAt: time.UnixMicro(r.at).UTC(), Push: r.push}
}

func (tx *memTx) PutMember(m Member) error {
	if err := tx.write(); err != nil {
		return err
	}
	c, err := tx.campaign(m.CampaignID)
	if err != nil {
		return err
	}
	if m.State == 0 || int(m.State) >= len(c.counts) {
		return &NotFoundError{Kind: "device state", ID: m.State.String()}
	}
	rec := memberRec{at: m.UpdatedAt.UnixMicro(), state: m.State, reason: m.Reason, push: m.Push}
	rec.push.DueAt = microUTC(m.Push.DueAt)
	if slot, ok := tx.slotOf(c, m.CampaignID, m.DeviceID); ok {
		old := c.recs[slot]
		c.counts[old.state]--
		c.recs[slot] = rec
		c.counts[rec.state]++
		tx.undo = append(tx.undo, undoEntry{camp: c, slot: slot, mem: old, member: memberReplaced})
		return nil
	}
	slot := int32(len(c.recs))
	c.recs = append(c.recs, rec)
	c.index[m.DeviceID] = slot
	c.counts[rec.state]++
	c.markUnsorted()
	tx.undo = append(tx.undo, undoEntry{camp: c, key: m.DeviceID, slot: slot, member: memberInserted})
	return nil
}

func (tx *memTx) DeleteMember(campaignID, deviceID string) error {
	if err := tx.write(); err != nil {
		return err
	}
	c, err := tx.campaign(campaignID)
	if err != nil {
		return err
	}
	slot, ok := c.index[deviceID]
	if !ok {
		return &NotFoundError{Kind: "device", ID: deviceID, Campaign: campaignID}
	}
	old := c.recs[slot]
	c.recs[slot] = memberRec{}
	delete(c.index, deviceID)
	c.counts[old.state]--
	c.markUnsorted()
	tx.undo = append(tx.undo, undoEntry{camp: c, key: deviceID, slot: slot, mem: old, member: memberDeleted})
	return nil
}

func (c *memCampaign) markUnsorted() {
	c.orderMu.Lock()
	c.sorted = false
	c.orderMu.Unlock()
}

// sortedIDs returns the member ids in order, rebuilding them after
// membership changed. Readers share the store's read lock, so the rebuild
// has a lock of its own.
func (c *memCampaign) sortedIDs() []string {
	c.orderMu.Lock()
	defer c.orderMu.Unlock()
	if !c.sorted {
		c.order = c.order[:0]
		for id := range c.index {
			c.order = append(c.order, id)
		}
		slices.Sort(c.order)
		c.sorted = true
	}
	return c.order
}

func (tx *memTx) Members(campaignID, afterDeviceID string, limit int) ([]Member, error) {
	c, err := tx.campaign(campaignID)
	if err != nil {
		return nil, err
	}
	ids := c.sortedIDs()
	i, _ := slices.BinarySearch(ids, afterDeviceID)
	if i < len(ids) && ids[i] == afterDeviceID {
		i++
	}
	n := len(ids) - i
	if limit >= 0 && n > limit {
		n = limit
	}
	out := make([]Member, 0, n)
	for _, id := range ids[i : i+n] {
		out = append(out, c.recs[c.index[id]].member(campaignID, id))
	}
	return out, nil
}

func (tx *memTx) Counts(campaignID string) (Counts, error) {
	c, err := tx.campaign(campaignID)
	if err != nil {
		return Counts{}, err
	}
	return c.counts, nil
}

func (tx *memTx) ActiveCampaign(deviceID string) (string, error) {
	if d, ok := tx.find(deviceID); ok {
		return d.active, nil
	}
	return "", nil
}

func (tx *memTx) SetActiveCampaign(deviceID, campaignID string) error {
	if err := tx.write(); err != nil {
		return err
	}
	d := tx.device(deviceID)
	d.active, d.slot = campaignID, -1
	if c, ok := tx.s.campaigns[campaignID]; ok {
		if slot, ok := c.index[deviceID]; ok {
			d.slot = slot
		}
	}
	return nil
}

// undoMapSet sets m[k] and logs how to undo it.
func undoMapSet[K comparable, V any](tx *memTx, m map[K]V, k K, v V) {
	old, existed := m[k]
	m[k] = v
	tx.onUndo(func() {
		if existed {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}

func (tx *memTx) Device(deviceID string) (DeviceRecord, error) {
	if d, ok := tx.find(deviceID); ok && d.more != nil && d.more.rec.DeviceID != "" {
		return d.more.rec, nil
	}
	return DeviceRecord{DeviceID: deviceID}, nil
}

func (tx *memTx) PutDevice(d DeviceRecord) error {
	if err := tx.write(); err != nil {
		return err
	}
	dev := tx.device(d.DeviceID)
	m := dev.moreForWrite()
	m.rec = d
	dev.more = m
	return nil
}

func (tx *memTx) AddCheckIn(c verboselog.CheckIn, keep int) error {
	if tx.ro {
		return ErrReadOnly
	}
	if tx.shared {
		// The one write shared mode allows: on a device already known.
		if _, ok := tx.find(c.DeviceID); !ok {
			return tx.alone()
		}
	}
	if keep <= 0 {
		return nil
	}
	d := tx.device(c.DeviceID)
	// Appending never overwrites what the old slice header covers, and
	// dropping the oldest only reslices, so restoring the header undoes
	// both. append copies just the kept window when it grows the array.
	tx.s.textsMu.Lock()
	text := tx.s.texts.intern(checkInText{clientType: c.ClientType, result: c.Result, failureType: c.FailureType})
	tx.s.textsMu.Unlock()
	h := append(d.hist, histEntry{at: c.TimeCompleted.UnixMicro(), text: text})
	if len(h) > keep {
		h = h[len(h)-keep:]
	}
	d.hist = h
	return nil
}

func (tx *memTx) CheckIns(deviceID string, before time.Time, limit int) ([]verboselog.CheckIn, error) {
	d, ok := tx.find(deviceID)
	if !ok {
		return nil, nil
	}
	var out []verboselog.CheckIn
	for i := len(d.hist) - 1; i >= 0 && (limit < 0 || len(out) < limit); i-- {
		e := d.hist[i]
		at := time.UnixMicro(e.at).UTC()
		if before.IsZero() || at.Before(before) {
			tx.s.textsMu.Lock()
			x := tx.s.texts.all[e.text]
			tx.s.textsMu.Unlock()
			out = append(out, verboselog.CheckIn{DeviceID: deviceID, ClientType: x.clientType, Result: x.result,
				FailureType: x.failureType, TimeCompleted: at})
		}
	}
	return out, nil
}

func (tx *memTx) PutDeadline(d Deadline) error {
	if err := tx.write(); err != nil {
		return err
	}
	h := &tx.s.deadlines
	k := deadlineKey{d.Kind, d.Key}
	old, existed := h.get(k)
	h.put(d)
	tx.onUndo(func() {
		if existed {
			h.put(old)
		} else {
			h.remove(k)
		}
	})
	return nil
}

func (tx *memTx) DeleteDeadline(kind DeadlineKind, key string) error {
	if err := tx.write(); err != nil {
		return err
	}
	h := &tx.s.deadlines
	k := deadlineKey{kind, key}
	old, existed := h.get(k)
	if !existed {
		return nil
	}
	h.remove(k)
	tx.onUndo(func() { h.put(old) })
	return nil
}

func (tx *memTx) Due(now time.Time, limit int) ([]Deadline, error) {
	// The heap's order is partial: collect what is due by walking it.
	var out []Deadline
	h := &tx.s.deadlines
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
	return out, nil
}

func (tx *memTx) NextDeadline() (time.Time, bool, error) {
	if len(tx.s.deadlines.items) == 0 {
		return time.Time{}, false, nil
	}
	return tx.s.deadlines.items[0].At, true, nil
}

func (tx *memTx) Gate(t pilot.Target) (pilot.Gate, error) {
	if g, ok := tx.s.gates[t]; ok {
		return g, nil
	}
	return pilot.Gate{Target: t}, nil
}

func (tx *memTx) PutGate(g pilot.Gate) error {
	if err := tx.write(); err != nil {
		return err
	}
	undoMapSet(tx, tx.s.gates, g.Target, g)
	return nil
}

func (tx *memTx) Session(deviceID string) (LogSession, error) {
	if d, ok := tx.find(deviceID); ok && d.more != nil && d.more.hasSession {
		return d.more.session, nil
	}
	return LogSession{Session: verboselog.Session{DeviceID: deviceID}}, nil
}

func (tx *memTx) PutSession(s LogSession) error {
	if err := tx.write(); err != nil {
		return err
	}
	dev := tx.device(s.DeviceID)
	m := dev.moreForWrite()
	old := m.session
	m.session, m.hasSession = s, true
	dev.more = m
	if old.Account != s.Account || old.DeviceID == "" {
		tx.indexSession(old.Account, s.DeviceID, false)
		tx.indexSession(s.Account, s.DeviceID, true)
	}
	return nil
}

// indexSession adds (or removes) a device in its account's session index,
// so that listing an account's sessions does not scan every device.
func (tx *memTx) indexSession(account, deviceID string, add bool) {
	idx := tx.s.sessionsByAccount
	set := idx[account]
	_, had := set[deviceID]
	if had == add {
		return
	}
	if add {
		if set == nil {
			set = make(map[string]struct{})
			idx[account] = set
		}
		set[deviceID] = struct{}{}
		tx.onUndo(func() { delete(set, deviceID) })
		return
	}
	delete(set, deviceID)
	tx.onUndo(func() { set[deviceID] = struct{}{} })
}

func (tx *memTx) Sessions(account string) ([]LogSession, error) {
	if tx.shared {
		return nil, tx.alone()
	}
	var out []LogSession
	for id := range tx.s.sessionsByAccount[account] {
		if d, ok := tx.s.devices.get(id); ok && d.more != nil && d.more.hasSession {
			out = append(out, d.more.session)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DeviceID < out[j].DeviceID })
	return out, nil
}

func (tx *memTx) AddBundle(b verboselog.Bundle) error {
	if err := tx.write(); err != nil {
		return err
	}
	dev := tx.device(b.DeviceID)
	m := dev.moreForWrite()
	m.bundles = append(slices.Clip(m.bundles), b)
	dev.more = m
	return nil
}

func (tx *memTx) Bundles(deviceID string) ([]verboselog.Bundle, error) {
	if d, ok := tx.find(deviceID); ok && d.more != nil {
		return slices.Clone(d.more.bundles), nil
	}
	return nil, nil
}

func (tx *memTx) DeleteBundles(deviceID string, before time.Time) error {
	if err := tx.write(); err != nil {
		return err
	}
	d, ok := tx.find(deviceID)
	if !ok || d.more == nil {
		return nil
	}
	keep := make([]verboselog.Bundle, 0, len(d.more.bundles))
	for _, b := range d.more.bundles {
		if !b.UploadedAt.Before(before) {
			keep = append(keep, b)
		}
	}
	dev := tx.device(deviceID)
	m := dev.moreForWrite()
	m.bundles = keep
	dev.more = m
	return nil
}

func (tx *memTx) NextSeq() (uint64, error) {
	if err := tx.write(); err != nil {
		return 0, err
	}
	tx.s.seq++
	tx.onUndo(func() { tx.s.seq-- })
	return tx.s.seq, nil
}

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

// deviceIndex finds a device's records. Device ids are IMEIs almost
// always: a numeric id is kept under an integer key, which is hashed and
// compared without reaching for the string's bytes (a cache miss per
// check-in on a large fleet); any other id under its string.
type deviceIndex struct {
	byNum map[uint64]*memDevice
	byStr map[string]*memDevice
}

// numKey packs an id of 1 to 17 decimal digits, with its length so that
// leading zeros count, into one integer.
func numKey(id string) (uint64, bool) {
	if len(id) == 0 || len(id) > 17 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(id); i++ {
		c := id[i] - '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + uint64(c)
	}
	return uint64(len(id))<<57 | v, true
}

func (x *deviceIndex) get(id string) (*memDevice, bool) {
	if k, ok := numKey(id); ok {
		d, ok := x.byNum[k]
		return d, ok
	}
	d, ok := x.byStr[id]
	return d, ok
}

func (x *deviceIndex) put(id string, d *memDevice) {
	if k, ok := numKey(id); ok {
		x.byNum[k] = d
		return
	}
	x.byStr[id] = d
}

func (x *deviceIndex) remove(id string) {
	if k, ok := numKey(id); ok {
		delete(x.byNum, k)
		return
	}
	delete(x.byStr, id)
}

// microUTC is t as the store keeps it: to the microsecond, in UTC, the
// zero time kept zero.
func microUTC(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

func (tx *memTx) AddMembers(campaignID string, ms []NewMember) error {
	if err := tx.write(); err != nil {
		return err
	}
	c, err := tx.campaign(campaignID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if _, dup := c.index[m.DeviceID]; dup {
			return &RequestError{Field: "deviceList", Value: m.DeviceID, Reason: "already in campaign " + campaignID}
		}
		m.CampaignID = campaignID
		if err := tx.PutMember(m.Member); err != nil {
			return err
		}
		if m.Hold {
			if err := tx.SetActiveCampaign(m.DeviceID, campaignID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (tx *memTx) AnyMember(campaignID string, states StateSet) (bool, error) {
	c, err := tx.campaign(campaignID)
	if err != nil {
		return false, err
	}
	for s, n := range c.counts {
		if n > 0 && states.Has(device.State(s)) {
			return true, nil
		}
	}
	return false, nil
}

func (tx *memTx) DeviceMembers(deviceID string) ([]Member, error) {
	ids := make([]string, 0, len(tx.s.campaigns))
	for id := range tx.s.campaigns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []Member
	for _, id := range ids {
		c := tx.s.campaigns[id]
		if slot, ok := c.index[deviceID]; ok {
			out = append(out, c.recs[slot].member(id, deviceID))
		}
	}
	return out, nil
}

func (tx *memTx) DueMembers(now time.Time, limit int) ([]Member, error) {
	if tx.shared {
		return nil, tx.alone()
	}
	var out []Member
	for id, c := range tx.s.campaigns {
		for dev, slot := range c.index {
			r := c.recs[slot]
			if !r.push.DueAt.IsZero() && !r.push.DueAt.After(now) {
				out = append(out, r.member(id, dev))
			}
		}
	}
	slices.SortFunc(out, func(a, b Member) int {
		if c := a.Push.DueAt.Compare(b.Push.DueAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.CampaignID, b.CampaignID); c != 0 {
			return c
		}
		return strings.Compare(a.DeviceID, b.DeviceID)
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (tx *memTx) NextDue() (time.Time, bool, error) {
	if tx.shared {
		return time.Time{}, false, tx.alone()
	}
	var next time.Time
	for _, c := range tx.s.campaigns {
		for _, slot := range c.index {
			if d := c.recs[slot].push.DueAt; !d.IsZero() && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
	}
	return next, !next.IsZero(), nil
}

func (tx *memTx) DeviceRecords(account, afterID string, limit int) ([]DeviceRecord, error) {
	if tx.shared {
		return nil, tx.alone()
	}
	var out []DeviceRecord
	each := func(d *memDevice) {
		if d.more != nil && d.more.rec.DeviceID != "" && d.more.rec.Account == account && d.more.rec.DeviceID > afterID {
			out = append(out, d.more.rec)
		}
	}
	for _, d := range tx.s.devices.byNum {
		each(d)
	}
	for _, d := range tx.s.devices.byStr {
		each(d)
	}
	slices.SortFunc(out, func(a, b DeviceRecord) int { return strings.Compare(a.DeviceID, b.DeviceID) })
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// devTx is a memTx seen as one device's transaction.
type devTx struct {
	tx *memTx
	id string
}

func (d devTx) DeviceID() string { return d.id }

func (d devTx) Known() (bool, error) {
	if dev, ok := d.tx.find(d.id); ok && (len(dev.hist) > 0 ||
		dev.more != nil && (dev.more.rec.DeviceID != "" || dev.more.hasSession)) {
		return true, nil
	}
	for _, c := range d.tx.s.campaigns {
		if _, ok := c.index[d.id]; ok {
			return true, nil
		}
	}
	return false, nil
}

func (d devTx) ActiveCampaign() (string, error)      { return d.tx.ActiveCampaign(d.id) }
func (d devTx) Campaign(id string) (Campaign, error) { return d.tx.Campaign(id) }
func (d devTx) Member(campaignID string) (Member, error) {
	return d.tx.Member(campaignID, d.id)
}
func (d devTx) Device() (DeviceRecord, error)         { return d.tx.Device(d.id) }
func (d devTx) Session() (LogSession, error)          { return d.tx.Session(d.id) }
func (d devTx) Bundles() ([]verboselog.Bundle, error) { return d.tx.Bundles(d.id) }

func (d devTx) PutMember(m Member) error {
	if m.DeviceID != d.id {
		return &RequestError{Field: "deviceId", Value: m.DeviceID, Reason: "not the transaction's device " + d.id}
	}
	if _, err := d.tx.Member(m.CampaignID, m.DeviceID); err != nil {
		return err
	}
	return d.tx.PutMember(m)
}

func (d devTx) SetActiveCampaign(campaignID string) error {
	return d.tx.SetActiveCampaign(d.id, campaignID)
}

func (d devTx) PutDevice(r DeviceRecord) error {
	if r.DeviceID != d.id {
		return &RequestError{Field: "deviceId", Value: r.DeviceID, Reason: "not the transaction's device " + d.id}
	}
	return d.tx.PutDevice(r)
}

func (d devTx) PutSession(s LogSession) error {
	if s.DeviceID != d.id {
		return &RequestError{Field: "deviceId", Value: s.DeviceID, Reason: "not the transaction's device " + d.id}
	}
	return d.tx.PutSession(s)
}

func (d devTx) AddCheckIn(c verboselog.CheckIn, keep int) error {
	if c.DeviceID != d.id {
		return &RequestError{Field: "deviceId", Value: c.DeviceID, Reason: "not the transaction's device " + d.id}
	}
	return d.tx.AddCheckIn(c, keep)
}

func (d devTx) AddBundle(b verboselog.Bundle) error {
	if b.DeviceID != d.id {
		return &RequestError{Field: "deviceId", Value: b.DeviceID, Reason: "not the transaction's device " + d.id}
	}
	return d.tx.AddBundle(b)
}

func (d devTx) DeleteBundles(before time.Time) error { return d.tx.DeleteBundles(d.id, before) }
func (d devTx) PutDeadline(dl Deadline) error        { return d.tx.PutDeadline(dl) }
