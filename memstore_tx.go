package fota

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/verboselog"
)

// memTx is the one Update or View running: light until its first call that
// needs the store stopped (exclusive), in place with an undo log from then
// on (see MemoryStore).
type memTx struct {
	s          *MemoryStore
	ro, open   bool
	excl       bool
	undo       []undoEntry
	staged     []stagedCampaign // campaign records written, published at commit
	n0, strs0  int              // devices and text ids when the store was stopped
	c0         int              // campaigns then: those from c0 on were created here
	freeBlocks []histBlock      // history blocks to free once the transaction commits

	// last is the device looked up last: an operation asks about one
	// device several times (its active campaign, record, member).
	last     probe
	lastH    uint32
	lastSeen bool
	// recent remembers the latest lookups in order, so that adding
	// members after checking each device (a schedule) finds them again
	// without a second lookup; cursor is where the next is expected.
	recent     [recentLookups]recentLookup
	recentNext int
	cursor     int
	lastRecent int  // the recent entry the last lookup used, or -1
	recentUsed bool // recent holds entries
	// page is the last Members page: a sweep puts its members back and
	// releases their devices in that order.
	page    []uint32 // handles
	pageIDs []string
	pagePos int
	// Buffers of a page: its slots, its ids and the text they are cut
	// from while it is written, and where each id ends.
	slots    []uint32
	idsBuf   []string
	textBuf  []byte
	endsBuf  []int
	campID   string
	campHint *memCampaign
}

const recentLookups = 1024

type recentLookup struct {
	p    probe
	h    uint32
	used bool
}

type stagedCampaign struct {
	idx uint32
	rec *Campaign
}

type histBlock struct {
	sh  *shard
	off uint32
}

// undoEntry restores what one write replaced. The writes a schedule or a
// sweep makes by the thousand are typed; rare ones carry a function.
type undoEntry struct {
	kind undoKind
	camp uint32 // campaign index
	slot uint32
	h    uint32
	a    uint32 // active value
	mem  memberRec
	ref  memberRef
	rec  deviceRec
	id   string
	fn   func()
}

type undoKind uint8

const (
	undoMember undoKind = iota + 1 // member (camp, slot) was mem
	undoAppend                     // member (camp, slot) was appended
	undoRemove                     // member (camp, slot) was mem, after ref in its device's list
	undoActive                     // device h's active value was a (id when held elsewhere)
	undoHead                       // device h's newest member record was ref
	undoRecord                     // device h's record was rec
	undoFunc
)

func (tx *memTx) onUndo(fn func()) { tx.undo = append(tx.undo, undoEntry{kind: undoFunc, fn: fn}) }

// exclusive stops every device transaction: the transaction now reads and
// writes devices, members and indexes in place.
func (tx *memTx) exclusive() {
	if tx.excl {
		return
	}
	s := tx.s
	for i := range s.shards {
		s.shards[i].mu.Lock()
	}
	tx.excl = true
	tx.n0, tx.strs0, tx.c0 = s.devs.len(), len(s.strs), len(s.campaigns)
	if !tx.ro && len(s.texts.all) > maxCheckInTexts {
		s.compactTexts()
	}
}

func (tx *memTx) write() error {
	if tx.ro {
		return ErrReadOnly
	}
	return nil
}

// commit publishes the campaign records written and frees what the
// changes replaced.
func (tx *memTx) commit() {
	for _, sc := range tx.staged {
		c := tx.s.campaigns[sc.idx]
		if c.record.Swap(sc.rec) == nil {
			tx.s.committed.Store(c.id, c) // its first commit
		}
	}
	for _, b := range tx.freeBlocks {
		b.sh.hist.release(b.off)
	}
	tx.open = false
}

// rollback undoes every write in reverse order, then drops the campaigns
// and devices the transaction created.
func (tx *memTx) rollback() {
	s := tx.s
	for i := len(tx.undo) - 1; i >= 0; i-- {
		u := &tx.undo[i]
		switch u.kind {
		case undoFunc:
			u.fn()
		case undoMember:
			s.setMember(s.campaigns[u.camp], u.slot, u.mem, false)
		case undoAppend:
			s.dropMember(s.campaigns[u.camp], u.slot)
		case undoRemove:
			s.restoreMember(s.campaigns[u.camp], u.slot, u.mem, u.ref)
		case undoActive:
			s.setActive(u.h, u.a, u.id)
		case undoHead:
			s.devs.at(u.h).head = u.ref
		case undoRecord:
			s.setRecord(u.h, u.rec, false)
		}
	}
	if tx.excl {
		if len(s.campaigns) > tx.c0 {
			for _, c := range s.campaigns[tx.c0:] {
				delete(s.byID, c.id)
				s.committed.Delete(c.id)
			}
			clear(s.campaigns[tx.c0:])
			s.campaigns = s.campaigns[:tx.c0]
			s.due.dropCampaigns(s)
		}
		s.truncateDevices(tx.n0, tx.strs0)
	}
	tx.staged = tx.staged[:0]
	tx.freeBlocks = tx.freeBlocks[:0]
	tx.open = false
}

// reset empties the transaction for the next, keeping a small undo log
// and letting a large one (a campaign of a million devices) go.
func (tx *memTx) reset() {
	if cap(tx.undo) > 1<<14 {
		tx.undo = nil
	} else {
		clear(tx.undo)
		tx.undo = tx.undo[:0]
	}
	clear(tx.staged)
	tx.staged, tx.freeBlocks = tx.staged[:0], tx.freeBlocks[:0]
	tx.last, tx.lastSeen = probe{}, false
	if tx.recentUsed {
		clear(tx.recent[:])
		tx.recentUsed = false
	}
	tx.recentNext, tx.cursor, tx.lastRecent = 0, -1, -1
	tx.page, tx.pageIDs, tx.pagePos = tx.page[:0], nil, 0
	tx.campID, tx.campHint = "", nil
}

// campaign finds a campaign by id, through a one-entry cache.
func (tx *memTx) campaign(id string) (*memCampaign, error) {
	if tx.campHint != nil && tx.campID == id {
		return tx.campHint, nil
	}
	i, ok := tx.s.byID[id]
	if !ok {
		return nil, &NotFoundError{Kind: "campaign", ID: id}
	}
	c := tx.s.campaigns[i]
	tx.campID, tx.campHint = id, c
	return c, nil
}

// record returns campaign c's record as this transaction sees it.
func (tx *memTx) record(c *memCampaign) *Campaign {
	for i := len(tx.staged) - 1; i >= 0; i-- {
		if tx.staged[i].idx == c.idx {
			return tx.staged[i].rec
		}
	}
	return c.record.Load()
}

// lookup finds a device by id: through the device asked about last, the
// expected next of the recent lookups, the next of the last Members page,
// and only then the table.
func (tx *memTx) lookup(id string) (probe, uint32) {
	if tx.lastSeen && tx.last.id == id {
		return tx.last, tx.lastH
	}
	tx.lastRecent = -1
	if tx.cursor >= 0 {
		if r := &tx.recent[tx.cursor]; r.used && r.p.id == id {
			if r.h == noDevice && !tx.s.absent(&r.p) {
				r.h = tx.s.find(&r.p) // added since, by a later lookup
			}
			tx.lastRecent = tx.cursor
			tx.cursor = (tx.cursor + 1) % recentLookups
			tx.remember(r.p, r.h)
			return r.p, r.h
		}
		tx.cursor = -1
	}
	for i := tx.pagePos; i < len(tx.pageIDs) && i < tx.pagePos+4; i++ {
		if tx.pageIDs[i] == id {
			tx.pagePos = i + 1
			h := tx.page[i]
			p := probe{id: id} // its hash is not needed: the device is held
			if k := tx.s.devs.at(h).key; !k.text() {
				p.key = k
			}
			tx.remember(p, h)
			return p, h
		}
	}
	p := probeOf(id)
	h := tx.s.find(&p)
	tx.remember(p, h)
	tx.recent[tx.recentNext] = recentLookup{p: p, h: h, used: true}
	tx.recentUsed = true
	tx.lastRecent = tx.recentNext
	tx.recentNext = (tx.recentNext + 1) % recentLookups
	return p, h
}

func (tx *memTx) remember(p probe, h uint32) {
	tx.last, tx.lastH, tx.lastSeen = p, h, true
}

// seek points the recent lookups' cursor at id's lookup, if remembered,
// for a list of devices looked up in the same order before.
func (tx *memTx) seek(id string) {
	for i := 1; i <= recentLookups; i++ {
		j := (tx.recentNext - i + recentLookups) % recentLookups
		if r := &tx.recent[j]; r.used && r.p.id == id {
			tx.cursor = j
			return
		}
	}
	tx.cursor = -1
}

// device returns the handle of a device, adding it when create is set
// (else noDevice for one not held).
func (tx *memTx) device(id string, create bool) uint32 {
	p, h := tx.lookup(id)
	if h != noDevice || !create {
		return h
	}
	h = tx.s.newDevice(&p)
	tx.remember(p, h)
	if tx.lastRecent >= 0 {
		tx.recent[tx.lastRecent].h = h
	}
	return h
}

// shardOfDevice returns device h's shard.
func (tx *memTx) shardOfDevice(h uint32) *shard {
	if tx.lastSeen && tx.lastH == h && tx.last.hash != 0 {
		return tx.s.shardOf(tx.last.hash)
	}
	return tx.s.shardOf(tx.s.keyHash(h))
}

// logActive logs device h's active value for undo, unless the device was
// added by this transaction.
func (tx *memTx) logActive(h uint32) {
	if int(h) >= tx.n0 {
		return
	}
	a := tx.s.devs.at(h).active
	u := undoEntry{kind: undoActive, h: h, a: a}
	if a == heldElsewhere {
		u.id = tx.s.elsewhere[h]
	}
	tx.undo = append(tx.undo, u)
}

func (tx *memTx) Campaign(id string) (Campaign, error) {
	c, err := tx.campaign(id)
	if err != nil {
		return Campaign{}, err
	}
	return *tx.record(c), nil
}

func (tx *memTx) PutCampaign(c Campaign) error {
	if err := tx.write(); err != nil {
		return err
	}
	s := tx.s
	c.StartsAt, c.EndsAt, c.CreatedAt, c.UpdatedAt = microUTC(c.StartsAt), microUTC(c.EndsAt), microUTC(c.CreatedAt), microUTC(c.UpdatedAt)
	rec := &c
	if i, ok := s.byID[c.ID]; ok {
		tx.stage(i, rec)
		return nil
	}
	tx.exclusive()
	mc := &memCampaign{id: c.ID, idx: uint32(len(s.campaigns)), name: s.names.index(c.ID), sorted: true}
	s.campaigns = append(s.campaigns, mc)
	s.byID[c.ID] = mc.idx
	tx.stage(mc.idx, rec)
	return nil
}

func (tx *memTx) stage(idx uint32, rec *Campaign) {
	for i := range tx.staged {
		if tx.staged[i].idx == idx {
			tx.staged[i].rec = rec
			return
		}
	}
	tx.staged = append(tx.staged, stagedCampaign{idx, rec})
}

func (tx *memTx) Campaigns(account, afterID string, limit int) ([]Campaign, error) {
	var out []Campaign
	for _, c := range tx.s.campaigns {
		if rec := tx.record(c); rec != nil && rec.Account == account && c.id > afterID {
			out = append(out, *rec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// memberInto writes slot's member record, of device deviceID, into m:
// read from the columns in place (every device call reads its member).
func (c *memCampaign) memberInto(m *Member, slot uint32, deviceID string) {
	row := c.ms.at(slot)
	*m = Member{CampaignID: c.id, DeviceID: deviceID, State: row.state, Reason: row.reason, UpdatedAt: fromMicro(row.at)}
	if pc := c.pc.Load(); pc != nil {
		m.Push = getPush(pc.rec.at(slot)).unpack()
	}
}

func (tx *memTx) Member(campaignID, deviceID string) (Member, error) {
	tx.exclusive()
	c, err := tx.campaign(campaignID)
	if err != nil {
		return Member{}, err
	}
	if h := tx.device(deviceID, false); h != noDevice {
		if slot, ok := tx.s.memberOf(h, c); ok {
			var m Member
			c.memberInto(&m, slot, deviceID)
			return m, nil
		}
	}
	return Member{}, &NotFoundError{Kind: "device", ID: deviceID, Campaign: campaignID}
}

// checkState refuses a member state the store cannot keep.
func checkState(st device.State) error {
	if st == 0 || int(st) >= countStates {
		return &RequestError{Field: "state", Value: st.String(), Reason: "not a device state"}
	}
	return nil
}

func (tx *memTx) PutMember(m Member) error {
	if err := tx.write(); err != nil {
		return err
	}
	tx.exclusive()
	c, err := tx.campaign(m.CampaignID)
	if err != nil {
		return err
	}
	if err := checkState(m.State); err != nil {
		return err
	}
	s := tx.s
	h := tx.device(m.DeviceID, true)
	r := packMember(&m)
	if slot, ok := s.memberOf(h, c); ok {
		if int(c.idx) < tx.c0 {
			tx.undo = append(tx.undo, undoEntry{kind: undoMember, camp: c.idx, slot: slot, mem: c.rec(slot)})
		}
		s.setMember(c, slot, r, false)
		return nil
	}
	tx.append(c, h, r, nil)
	return nil
}

// append adds a member to campaign c, logging for undo what a rollback
// that keeps the campaign and the device must restore; a bulk add counts
// it in tally (nil: in the campaign's counts at once).
func (tx *memTx) append(c *memCampaign, h uint32, r memberRec, tally *memberTally) {
	s := tx.s
	switch {
	case int(c.idx) < tx.c0:
		tx.undo = append(tx.undo, undoEntry{kind: undoAppend, camp: c.idx, slot: uint32(c.ms.len())})
	case int(h) < tx.n0:
		// A campaign this transaction created: dropped whole on
		// rollback, but the device stays and its list must not lead
		// into it.
		tx.undo = append(tx.undo, undoEntry{kind: undoHead, h: h, ref: s.devs.at(h).head})
	}
	s.addMember(c, h, r, tally)
}

func (tx *memTx) AddMembers(campaignID string, ms []NewMember) error {
	if err := tx.write(); err != nil {
		return err
	}
	tx.exclusive()
	c, err := tx.campaign(campaignID)
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return nil
	}
	s := tx.s
	tx.seek(ms[0].DeviceID)
	var tally memberTally
	defer c.addTally(&tally) // whatever was added, before a rollback takes it back
	for i := range ms {
		m := &ms[i]
		if err := checkState(m.State); err != nil {
			return err
		}
		h := tx.device(m.DeviceID, true)
		if _, dup := s.memberOf(h, c); dup {
			return &RequestError{Field: "deviceList", Value: m.DeviceID, Reason: "already in campaign " + campaignID}
		}
		tx.append(c, h, packMember(&m.Member), &tally)
		if m.Hold && s.devs.at(h).active != c.idx+1 {
			tx.logActive(h)
			s.setActive(h, c.idx+1, "")
		}
	}
	return nil
}

// reserveSchedule makes room for a schedule of n devices that adds them a
// batch at a time (scheduleReserver): in the id table when the store
// holds fewer than n (most are then new to it, and the table is built
// once; a schedule of devices it mostly holds reserves nothing), and in
// the due index for push members all due at due.
func (tx *memTx) reserveSchedule(n int, due time.Time) {
	if tx.write() != nil {
		return
	}
	tx.exclusive()
	if tx.s.devs.len() < n {
		tx.s.reserve(n)
	}
	if !due.IsZero() {
		tx.s.due.reserve(micro(due), n)
	}
}

func (tx *memTx) DeleteMember(campaignID, deviceID string) error {
	if err := tx.write(); err != nil {
		return err
	}
	tx.exclusive()
	c, err := tx.campaign(campaignID)
	if err != nil {
		return err
	}
	s := tx.s
	h := tx.device(deviceID, false)
	slot, ok := uint32(0), false
	if h != noDevice {
		slot, ok = s.memberOf(h, c)
	}
	if !ok {
		return &NotFoundError{Kind: "device", ID: deviceID, Campaign: campaignID}
	}
	if int(c.idx) < tx.c0 {
		ref := memberRef{c.idx + 1, slot}
		tx.undo = append(tx.undo, undoEntry{kind: undoRemove, camp: c.idx, slot: slot, mem: c.rec(slot), ref: s.predecessor(h, ref)})
	} else if int(h) < tx.n0 {
		tx.undo = append(tx.undo, undoEntry{kind: undoHead, h: h, ref: s.devs.at(h).head})
	}
	s.removeMember(c, slot)
	return nil
}

func (tx *memTx) Members(campaignID, afterDeviceID string, limit int) ([]Member, error) {
	c, slots, err := tx.pageOf(campaignID, afterDeviceID, limit)
	if err != nil {
		return nil, err
	}
	ids := tx.namePage()
	out := make([]Member, len(slots))
	for j, slot := range slots {
		c.memberInto(&out[j], slot, ids[j])
	}
	return out, nil
}

// scanMembers is Members without the page: it calls fn with each member
// in turn, in one Member it reuses, and returns how many it visited and
// the last one's id. The ids are cut from one text per page, as Members'
// are, and stay valid; fn may write the members and their devices, not
// list members. (A sweep or an announcement of a million members then
// allocates their ids, 15 bytes each, not a Member of a hundred.) With
// skipSettled, a settled member (settled) is visited, counted and named
// as the last one if it is, but not passed to fn nor named otherwise.
func (tx *memTx) scanMembers(campaignID, afterDeviceID string, limit int, skipSettled bool, fn func(*Member) error) (int, string, error) {
	c, slots, err := tx.pageOf(campaignID, afterDeviceID, limit)
	if err != nil || len(slots) == 0 {
		return 0, "", err
	}
	visited, lastDev := len(slots), c.ms.at(slots[len(slots)-1]).dev
	if skipSettled {
		k := 0
		for j, slot := range slots {
			if !tx.s.settled(c, slot) {
				tx.slots[k], tx.page[k] = slot, tx.page[j]
				k++
			}
		}
		tx.slots, tx.page = tx.slots[:k], tx.page[:k]
		slots = tx.slots
	}
	ids := tx.namePage()
	var m Member
	for j, slot := range slots {
		c.memberInto(&m, slot, ids[j])
		if err := fn(&m); err != nil {
			return j, "", err
		}
	}
	if len(ids) > 0 && tx.page[len(ids)-1] == lastDev {
		return visited, ids[len(ids)-1], nil
	}
	return visited, tx.s.idOf(lastDev), nil
}

// settled reports a member of campaign c that a sweep or give-up pass
// has nothing to do for: finished, with no push command planned or out,
// and its device not held by the campaign.
func (s *MemoryStore) settled(c *memCampaign, slot uint32) bool {
	row := c.ms.at(slot)
	if !row.state.Terminal() || s.devs.at(row.dev).active == c.idx+1 {
		return false
	}
	if pc := c.pc.Load(); pc != nil {
		if r := pc.rec.at(slot); r.due != zeroMicro || r.bits&pushLeased != 0 {
			return false
		}
	}
	return true
}

// pageOf finds a page of campaign campaignID's members, in device id order
// after afterDeviceID (at most limit; all when limit < 0): their slots (in
// tx.slots) and their devices (in tx.page).
func (tx *memTx) pageOf(campaignID, afterDeviceID string, limit int) (*memCampaign, []uint32, error) {
	tx.exclusive()
	c, err := tx.campaign(campaignID)
	if err != nil {
		return nil, nil, err
	}
	s := tx.s
	order := s.ordered(c)
	n := c.ms.len()
	at := func(i int) uint32 {
		if order != nil {
			return order[i]
		}
		return uint32(i)
	}
	afterKey, _ := numericKey(afterDeviceID)
	i := sort.Search(n, func(i int) bool { return s.compareToID(c.ms.at(at(i)).dev, afterDeviceID, afterKey) > 0 })
	tx.page, tx.slots = tx.page[:0], tx.slots[:0]
	for ; i < n && (limit < 0 || len(tx.slots) < limit); i++ {
		if slot := at(i); c.ms.at(slot).state != 0 {
			tx.slots = append(tx.slots, slot)
			tx.page = append(tx.page, c.ms.at(slot).dev)
		}
	}
	return c, tx.slots, nil
}

// namePage gives the devices of tx.page their ids, all cut from one text
// (the only allocation: the page's buffers are the transaction's), and
// keeps them as the page's ids for lookup. The slice of ids is good until
// the next page; the ids themselves for good.
func (tx *memTx) namePage() []string {
	s := tx.s
	text, ends := tx.textBuf[:0], tx.endsBuf[:0]
	for _, h := range tx.page {
		if k := s.devs.at(h).key; k.text() {
			text = append(text, s.strs[k&^keyText]...)
		} else {
			text = k.appendDigits(text)
		}
		ends = append(ends, len(text))
	}
	all := string(text)
	ids := tx.idsBuf[:0]
	start := 0
	for _, end := range ends {
		ids, start = append(ids, all[start:end]), end
	}
	tx.textBuf, tx.endsBuf, tx.idsBuf = text, ends, ids
	tx.pageIDs, tx.pagePos = ids, 0
	return ids
}

func (tx *memTx) Counts(campaignID string) (Counts, error) {
	c, err := tx.campaign(campaignID)
	if err != nil {
		return Counts{}, err
	}
	return c.totals(), nil
}

func (tx *memTx) AnyMember(campaignID string, states StateSet) (bool, error) {
	c, err := tx.campaign(campaignID)
	if err != nil {
		return false, err
	}
	return c.anyIn(states), nil
}

func (tx *memTx) DeviceMembers(deviceID string) ([]Member, error) {
	tx.exclusive()
	s := tx.s
	h := tx.device(deviceID, false)
	if h == noDevice {
		return nil, nil
	}
	var out []Member
	for r := s.devs.at(h).head; r.camp != 0; r = s.campaigns[r.camp-1].ms.at(r.slot).next {
		out = append(out, Member{})
		s.campaigns[r.camp-1].memberInto(&out[len(out)-1], r.slot, deviceID)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.CampaignID, b.CampaignID) })
	return out, nil
}

func (tx *memTx) DueMembers(now time.Time, limit int) ([]Member, error) {
	tx.exclusive()
	s := tx.s
	due := s.due.earliest(s, micro(now), limit)
	if len(due) == 0 {
		return nil, nil
	}
	// The ids share one text, and the page remembers their handles: the
	// caller writes each member back next (a lease), and lookup finds it
	// without hashing its id.
	tx.page = tx.page[:0]
	for _, r := range due {
		tx.page = append(tx.page, s.campaigns[r.camp].ms.at(r.slot).dev)
	}
	ids := tx.namePage()
	out := make([]Member, len(due))
	for j, r := range due {
		s.campaigns[r.camp].memberInto(&out[j], r.slot, ids[j])
	}
	return out, nil
}

func (tx *memTx) NextDue() (time.Time, bool, error) {
	tx.exclusive()
	at, ok := tx.s.due.next(tx.s)
	if !ok {
		return time.Time{}, false, nil
	}
	return fromMicro(at), true, nil
}

func (tx *memTx) ActiveCampaign(deviceID string) (string, error) {
	tx.exclusive()
	if h := tx.device(deviceID, false); h != noDevice {
		return tx.s.activeOf(h), nil
	}
	return "", nil
}

func (tx *memTx) SetActiveCampaign(deviceID, campaignID string) error {
	if err := tx.write(); err != nil {
		return err
	}
	tx.exclusive()
	s := tx.s
	h := tx.device(deviceID, campaignID != "")
	if h == noDevice {
		return nil // releasing a device the store does not hold
	}
	a := s.activeValue(campaignID)
	if a == s.devs.at(h).active && (a != heldElsewhere || s.elsewhere[h] == campaignID) {
		return nil
	}
	tx.logActive(h)
	s.setActive(h, a, campaignID)
	return nil
}

func (tx *memTx) Device(deviceID string) (DeviceRecord, error) {
	tx.exclusive()
	if h := tx.device(deviceID, false); h != noDevice {
		return tx.s.deviceRecord(h, deviceID), nil
	}
	return DeviceRecord{DeviceID: deviceID}, nil
}

func (tx *memTx) PutDevice(d DeviceRecord) error {
	if err := tx.write(); err != nil {
		return err
	}
	tx.exclusive()
	s := tx.s
	h := tx.device(d.DeviceID, true)
	if int(h) < tx.n0 {
		tx.undo = append(tx.undo, undoEntry{kind: undoRecord, h: h, rec: s.record(h)})
	}
	s.setRecord(h, packRecord(s, &d), false)
	return nil
}

func (tx *memTx) DeviceRecords(account, afterID string, limit int) ([]DeviceRecord, error) {
	tx.exclusive()
	s := tx.s
	a, ok := s.names.lookup(account)
	if !ok {
		return nil, nil
	}
	hs := s.accountDevices(a)
	afterKey, _ := numericKey(afterID)
	i := sort.Search(len(hs), func(i int) bool { return s.compareToID(hs[i], afterID, afterKey) > 0 })
	var out []DeviceRecord
	for ; i < len(hs) && (limit < 0 || len(out) < limit); i++ {
		out = append(out, s.deviceRecord(hs[i], s.idOf(hs[i])))
	}
	return out, nil
}

func (tx *memTx) AddCheckIn(c verboselog.CheckIn, keep int) error {
	if err := tx.write(); err != nil {
		return err
	}
	if keep <= 0 {
		return nil
	}
	tx.exclusive()
	s := tx.s
	h := tx.device(c.DeviceID, true)
	sh := tx.shardOfDevice(h)
	text := s.intern(sh, checkInText{clientType: c.ClientType, result: c.Result, failureType: c.FailureType}, false)
	sl := &sh.hist
	at := micro(c.TimeCompleted)
	if s.devs.at(h).hist == 0 {
		off := sl.add(sl.newRing(keep), at, text, keep)
		s.devs.at(h).hist = off + 1
		tx.onUndo(func() { sl.release(off); s.devs.at(h).hist = 0 })
		return nil
	}
	// Change a copy, so that the ring as it was stays for an undo; the
	// original is freed once the transaction commits.
	old := s.devs.at(h).hist - 1
	now := sl.add(sl.clone(old), at, text, keep)
	s.devs.at(h).hist = now + 1
	tx.freeBlocks = append(tx.freeBlocks, histBlock{sh, old})
	tx.onUndo(func() {
		sl.release(now)
		s.devs.at(h).hist = old + 1
		// The old block stays in use.
		for j := len(tx.freeBlocks) - 1; j >= 0; j-- {
			if b := tx.freeBlocks[j]; b.sh == sh && b.off == old {
				tx.freeBlocks = slices.Delete(tx.freeBlocks, j, j+1)
				break
			}
		}
	})
	return nil
}

func (tx *memTx) CheckIns(deviceID string, before time.Time, limit int) ([]verboselog.CheckIn, error) {
	tx.exclusive()
	s := tx.s
	h := tx.device(deviceID, false)
	if h == noDevice || s.devs.at(h).hist == 0 {
		return nil, nil
	}
	sl := &tx.shardOfDevice(h).hist
	r := sl.ring(s.devs.at(h).hist - 1)
	var out []verboselog.CheckIn
	for i := int(r.n) - 1; i >= 0 && (limit < 0 || len(out) < limit); i-- {
		p := r.pos(uint32(i))
		// before may hold nanoseconds: compare instants, not microseconds.
		if at := fromMicro(sl.at(p).at()); before.IsZero() || at.Before(before) {
			x := s.texts.all[sl.at(p).text]
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
	tx.exclusive()
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
	tx.exclusive()
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
	tx.exclusive()
	return tx.s.deadlines.due(now, limit), nil
}

func (tx *memTx) NextDeadline() (time.Time, bool, error) {
	tx.exclusive()
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
	gates := tx.s.gates
	old, existed := gates[g.Target]
	gates[g.Target] = g
	tx.onUndo(func() {
		if existed {
			gates[g.Target] = old
		} else {
			delete(gates, g.Target)
		}
	})
	return nil
}

func (tx *memTx) Session(deviceID string) (LogSession, error) {
	tx.exclusive()
	s := tx.s
	if h := tx.device(deviceID, false); h != noDevice && s.devs.at(h).flags&flagSession != 0 {
		return tx.shardOfDevice(h).sessions[h], nil
	}
	return LogSession{Session: verboselog.Session{DeviceID: deviceID}}, nil
}

func (tx *memTx) PutSession(ls LogSession) error {
	if err := tx.write(); err != nil {
		return err
	}
	tx.exclusive()
	s := tx.s
	h := tx.device(ls.DeviceID, true)
	sh := tx.shardOfDevice(h)
	old, had := sh.sessions[h]
	flags := s.devs.at(h).flags
	s.putSession(sh, h, ls, false)
	tx.onUndo(func() {
		s.devs.at(h).flags = flags
		if had {
			s.putSession(sh, h, old, false)
		} else {
			s.dropSession(sh, h, ls.Account, false)
		}
	})
	return nil
}

// putSession stores device h's session and indexes it by account.
func (s *MemoryStore) putSession(sh *shard, h uint32, ls LogSession, shared bool) {
	old, had := sh.sessions[h]
	sh.sessions[h] = ls
	s.devs.at(h).flags |= flagSession
	if had && old.Account == ls.Account {
		return
	}
	if shared {
		s.sessMu.Lock()
		defer s.sessMu.Unlock()
	}
	if had {
		delete(s.sessionsByAccount[old.Account], h)
	}
	set := s.sessionsByAccount[ls.Account]
	if set == nil {
		set = make(map[uint32]struct{})
		s.sessionsByAccount[ls.Account] = set
	}
	set[h] = struct{}{}
}

// dropSession removes device h's session.
func (s *MemoryStore) dropSession(sh *shard, h uint32, account string, shared bool) {
	delete(sh.sessions, h)
	s.devs.at(h).flags &^= flagSession
	if shared {
		s.sessMu.Lock()
		defer s.sessMu.Unlock()
	}
	delete(s.sessionsByAccount[account], h)
}

func (tx *memTx) Sessions(account string) ([]LogSession, error) {
	tx.exclusive()
	s := tx.s
	var out []LogSession
	for h := range s.sessionsByAccount[account] {
		out = append(out, s.shardOf(s.keyHash(h)).sessions[h])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DeviceID < out[j].DeviceID })
	return out, nil
}

func (tx *memTx) AddBundle(b verboselog.Bundle) error {
	if err := tx.write(); err != nil {
		return err
	}
	tx.exclusive()
	h := tx.device(b.DeviceID, true)
	sh := tx.shardOfDevice(h)
	old := sh.bundles[h]
	tx.s.setBundles(sh, h, append(slices.Clip(old), b))
	tx.onUndo(func() { tx.s.setBundles(sh, h, old) })
	return nil
}

// setBundles stores device h's bundles.
func (s *MemoryStore) setBundles(sh *shard, h uint32, bs []verboselog.Bundle) {
	if len(bs) == 0 {
		delete(sh.bundles, h)
		s.devs.at(h).flags &^= flagBundles
		return
	}
	sh.bundles[h] = bs
	s.devs.at(h).flags |= flagBundles
}

func (tx *memTx) Bundles(deviceID string) ([]verboselog.Bundle, error) {
	tx.exclusive()
	if h := tx.device(deviceID, false); h != noDevice {
		return slices.Clone(tx.shardOfDevice(h).bundles[h]), nil
	}
	return nil, nil
}

func (tx *memTx) DeleteBundles(deviceID string, before time.Time) error {
	if err := tx.write(); err != nil {
		return err
	}
	tx.exclusive()
	h := tx.device(deviceID, false)
	if h == noDevice {
		return nil
	}
	sh := tx.shardOfDevice(h)
	old := sh.bundles[h]
	tx.s.setBundles(sh, h, keepBundles(old, before))
	tx.onUndo(func() { tx.s.setBundles(sh, h, old) })
	return nil
}

// keepBundles returns the bundles uploaded at or after before, in a new
// slice.
func keepBundles(bs []verboselog.Bundle, before time.Time) []verboselog.Bundle {
	var keep []verboselog.Bundle
	for _, b := range bs {
		if !b.UploadedAt.Before(before) {
			keep = append(keep, b)
		}
	}
	return keep
}

func (tx *memTx) NextSeq() (uint64, error) {
	if err := tx.write(); err != nil {
		return 0, err
	}
	tx.s.seq++
	tx.onUndo(func() { tx.s.seq-- })
	return tx.s.seq, nil
}
