package fota

import (
	"slices"
	"sync"
	"time"

	"github.com/fotakit/fota/verboselog"
)

// devTx is one device's transaction (UpdateDevice): it reads the store
// under its device's shard lock and keeps its writes aside until the
// function returns nil, then applies them (commit). Reads see the
// transaction's own writes.
type devTx struct {
	s     *MemoryStore
	id    string
	p     probe
	h     uint32 // noDevice: the store does not hold the device (yet)
	shard *shard
	alone *memTx // the exclusive transaction, for a device not held

	members    []stagedMember
	activeSet  bool
	activeID   string
	recSet     bool
	rec        DeviceRecord
	sessSet    bool
	sess       LogSession
	checkIns   []stagedCheckIn
	bundlesSet bool
	bundles    []verboselog.Bundle
	deadlines  []Deadline

	campID string // one-entry campaign cache
	camp   *memCampaign

	touched uint64 // what touch read, kept so that its loads stay
}

// stagedMember is a member written by the transaction, packed as the
// store keeps it (PutMember packs it once; commit stores it as is).
type stagedMember struct {
	c    *memCampaign
	slot uint32
	rec  memberRec
}

type stagedCheckIn struct {
	c    verboselog.CheckIn
	keep int
}

var devTxPool = sync.Pool{New: func() any { return new(devTx) }}

// release clears the transaction and returns it to the pool.
func (d *devTx) release() {
	d.reset()
	devTxPool.Put(d)
}

// reset clears the transaction, keeping its arrays. It clears only what
// the transaction wrote: zeroing all of it would cost a check-in more
// than its own writes (TestDevTxReset checks that nothing is left).
func (d *devTx) reset() {
	if len(d.members) > 0 {
		clearFew(d.members)
		d.members = d.members[:0]
	}
	if len(d.checkIns) > 0 {
		clearFew(d.checkIns)
		d.checkIns = d.checkIns[:0]
	}
	if len(d.deadlines) > 0 {
		clearFew(d.deadlines)
		d.deadlines = d.deadlines[:0]
	}
	if d.recSet {
		d.recSet, d.rec = false, DeviceRecord{}
	}
	if d.sessSet {
		d.sessSet, d.sess = false, LogSession{}
	}
	if d.bundlesSet {
		d.bundlesSet, d.bundles = false, nil
	}
	if d.activeSet {
		d.activeSet, d.activeID = false, ""
	}
	d.s, d.id, d.p, d.h, d.shard, d.alone = nil, "", probe{}, 0, nil, nil
	d.campID, d.camp, d.touched = "", nil, 0
}

// clearFew zeroes s, which mostly holds one element: a plain store of one,
// where clear's bulk path costs more than the element's own fields.
func clearFew[T any](s []T) {
	if len(s) == 1 {
		var zero T
		s[0] = zero
		return
	}
	clear(s)
}

// touch reads the device's newest member record (with a push member's
// push record) and the head of its history before the operation asks for
// them: the loads are independent, so their cache misses overlap instead
// of following one another (a check-in or a push answer on a large fleet
// waits mostly for memory).
func (d *devTx) touch() {
	hr := d.s.hotRefs(d.h, &d.shard.hist)
	d.touched = hr.read()
}

// foreign refuses a write of another device's records.
func (d *devTx) foreign(id string) error {
	if id == d.id {
		return nil
	}
	return &RequestError{Field: "deviceId", Value: id, Reason: "not the transaction's device " + d.id}
}

func (d *devTx) DeviceID() string { return d.id }

func (d *devTx) Known() (bool, error) {
	if len(d.checkIns) > 0 || d.recSet || d.sessSet {
		return true, nil
	}
	if d.h == noDevice {
		return false, nil
	}
	s := d.s
	return s.devs.at(d.h).flags&(flagRecord|flagSession) != 0 || s.devs.at(d.h).hist != 0 || s.devs.at(d.h).head.camp != 0, nil
}

func (d *devTx) ActiveCampaign() (string, error) {
	if d.activeSet {
		return d.activeID, nil
	}
	if d.h == noDevice {
		return "", nil
	}
	if a := d.s.devs.at(d.h).active; a != 0 && a != heldElsewhere {
		// The operation asks for this campaign next: keep it at hand.
		d.camp = d.s.campaigns[a-1]
		d.campID = d.camp.id
		return d.campID, nil
	}
	return d.s.activeOf(d.h), nil
}

// campaign finds a campaign by id, through a one-entry cache: the id the
// device's active campaign returned comes back, the same text.
func (d *devTx) campaign(id string) (*memCampaign, error) {
	if d.camp != nil && d.campID == id {
		return d.camp, nil
	}
	if d.h != noDevice {
		// Mostly the campaign holding the device (a report, a
		// confirmation): its index is in the device's row, no map needed.
		if a := d.s.devs.at(d.h).active; a != 0 && a != heldElsewhere && d.s.campaigns[a-1].id == id {
			d.campID, d.camp = id, d.s.campaigns[a-1]
			return d.camp, nil
		}
	}
	i, ok := d.s.byID[id]
	if !ok {
		return nil, &NotFoundError{Kind: "campaign", ID: id}
	}
	d.campID, d.camp = id, d.s.campaigns[i]
	return d.camp, nil
}

func (d *devTx) Campaign(id string) (Campaign, error) {
	c, err := d.lendCampaign(id)
	if err != nil {
		return Campaign{}, err
	}
	return *c, nil
}

// lendCampaign returns the campaign's record itself, for reading only: a
// committed record is never changed in place (an Update publishes a new
// one), and a device transaction writes no campaign.
func (d *devTx) lendCampaign(id string) (*Campaign, error) {
	c, err := d.campaign(id)
	if err != nil {
		return nil, err
	}
	if d.alone != nil {
		return d.alone.record(c), nil
	}
	return c.record.Load(), nil
}

// slot finds the device's member record in campaign c.
func (d *devTx) slot(c *memCampaign) (uint32, bool) {
	if d.h == noDevice {
		return 0, false
	}
	return d.s.memberOf(d.h, c)
}

func (d *devTx) Member(campaignID string) (Member, error) {
	c, err := d.campaign(campaignID)
	if err != nil {
		return Member{}, err
	}
	for i := range d.members {
		if sm := &d.members[i]; sm.c == c {
			return Member{CampaignID: c.id, DeviceID: d.id, State: sm.rec.state, Reason: sm.rec.reason,
				UpdatedAt: fromMicro(sm.rec.at), Push: sm.rec.push.unpack()}, nil
		}
	}
	if slot, ok := d.slot(c); ok {
		var m Member
		c.memberInto(&m, slot, d.id)
		return m, nil
	}
	return Member{}, &NotFoundError{Kind: "device", ID: d.id, Campaign: campaignID}
}

func (d *devTx) Device() (DeviceRecord, error) {
	if d.recSet {
		return d.rec, nil
	}
	if d.h == noDevice {
		return DeviceRecord{DeviceID: d.id}, nil
	}
	return d.s.deviceRecord(d.h, d.id), nil
}

func (d *devTx) Session() (LogSession, error) {
	if d.sessSet {
		return d.sess, nil
	}
	if d.h != noDevice && d.s.devs.at(d.h).flags&flagSession != 0 {
		return d.shard.sessions[d.h], nil
	}
	return LogSession{Session: verboselog.Session{DeviceID: d.id}}, nil
}

// noSession reports that the device has no logging session, stored or
// written by the transaction.
func (d *devTx) noSession() bool {
	return !d.sessSet && (d.h == noDevice || d.s.devs.at(d.h).flags&flagSession == 0)
}

// storedBundles returns the device's bundles as the transaction sees them.
func (d *devTx) storedBundles() []verboselog.Bundle {
	if d.bundlesSet {
		return d.bundles
	}
	if d.h == noDevice {
		return nil
	}
	return d.shard.bundles[d.h]
}

func (d *devTx) Bundles() ([]verboselog.Bundle, error) {
	return slices.Clone(d.storedBundles()), nil
}

func (d *devTx) PutMember(m Member) error {
	if err := d.foreign(m.DeviceID); err != nil {
		return err
	}
	c, err := d.campaign(m.CampaignID)
	if err != nil {
		return err
	}
	if err := checkState(m.State); err != nil {
		return err
	}
	for i := range d.members {
		if d.members[i].c == c {
			d.members[i].rec = packMember(&m)
			return nil
		}
	}
	slot, ok := d.slot(c)
	if !ok {
		return &NotFoundError{Kind: "device", ID: d.id, Campaign: m.CampaignID}
	}
	d.members = append(d.members, stagedMember{c, slot, packMember(&m)})
	return nil
}

func (d *devTx) SetActiveCampaign(campaignID string) error {
	d.activeSet, d.activeID = true, campaignID
	return nil
}

func (d *devTx) PutDevice(r DeviceRecord) error {
	if err := d.foreign(r.DeviceID); err != nil {
		return err
	}
	r.LicensedAt = microUTC(r.LicensedAt)
	d.recSet, d.rec = true, r
	return nil
}

func (d *devTx) PutSession(ls LogSession) error {
	if err := d.foreign(ls.DeviceID); err != nil {
		return err
	}
	d.sessSet, d.sess = true, ls
	return nil
}

func (d *devTx) AddCheckIn(c verboselog.CheckIn, keep int) error {
	if err := d.foreign(c.DeviceID); err != nil {
		return err
	}
	if keep > 0 {
		d.checkIns = append(d.checkIns, stagedCheckIn{c, keep})
	}
	return nil
}

func (d *devTx) AddBundle(b verboselog.Bundle) error {
	if err := d.foreign(b.DeviceID); err != nil {
		return err
	}
	d.bundles = append(slices.Clip(d.storedBundles()), b)
	d.bundlesSet = true
	return nil
}

func (d *devTx) DeleteBundles(before time.Time) error {
	d.bundles = keepBundles(d.storedBundles(), before)
	d.bundlesSet = true
	return nil
}

func (d *devTx) PutDeadline(dl Deadline) error {
	d.deadlines = append(d.deadlines, dl)
	return nil
}

// holds reports whether the writes leave the store holding something of
// the device, so that one not held yet must be added.
func (d *devTx) holds() bool {
	return d.activeSet && d.activeID != "" || d.recSet || d.sessSet || len(d.checkIns) > 0 || d.bundlesSet && len(d.bundles) > 0
}

// commit applies the staged writes: under the device's shard lock beside
// other device transactions, or with the store stopped for a device not
// held yet.
func (d *devTx) commit() {
	s := d.s
	shared := d.alone == nil
	if d.h == noDevice && d.holds() {
		d.h = s.newDevice(&d.p)
	}
	if d.h != noDevice {
		h, sh := d.h, d.shard
		for i := range d.members {
			sm := &d.members[i]
			s.setMember(sm.c, sm.slot, sm.rec, shared)
		}
		if d.activeSet {
			s.setActiveShared(h, d.activeID, shared)
		}
		if d.recSet {
			s.setRecord(h, packRecord(s, &d.rec), shared)
		}
		if d.sessSet {
			s.putSession(sh, h, d.sess, shared)
		}
		for i := range d.checkIns {
			ci := &d.checkIns[i]
			text := s.intern(sh, checkInText{clientType: ci.c.ClientType, result: ci.c.Result, failureType: ci.c.FailureType}, shared)
			if s.devs.at(h).hist == 0 {
				s.devs.at(h).hist = sh.hist.newRing(ci.keep) + 1
			}
			s.devs.at(h).hist = sh.hist.add(s.devs.at(h).hist-1, micro(ci.c.TimeCompleted), text, ci.keep) + 1
		}
		if d.bundlesSet {
			s.setBundles(sh, h, d.bundles)
		}
	}
	if len(d.deadlines) > 0 {
		if shared {
			s.dlMu.Lock()
			defer s.dlMu.Unlock()
		}
		for _, dl := range d.deadlines {
			s.deadlines.put(dl)
		}
	}
}

// setActiveShared records the campaign holding device h from a device
// transaction. A campaign the store does not hold is kept in elsewhere,
// under recMu when shared.
func (s *MemoryStore) setActiveShared(h uint32, campaignID string, shared bool) {
	a := s.activeValue(campaignID)
	if !shared || a != heldElsewhere && s.devs.at(h).active != heldElsewhere {
		s.setActive(h, a, campaignID)
		return
	}
	s.recMu.Lock()
	s.setActive(h, a, campaignID)
	s.recMu.Unlock()
}
