package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/verboselog"
	"pgregory.net/rapid"
)

// model is the hand-written store the suite checks a real one against:
// plain maps, no indexes, the contract read literally.
type model struct {
	keep      int // the check-in history length, one per store as the Manager uses
	campaigns map[string]fota.Campaign
	members   map[string]map[string]fota.Member // campaign, device
	active    map[string]string
	devices   map[string]fota.DeviceRecord
	checkIns  map[string][]verboselog.CheckIn // oldest first, at most keep
	deadlines map[deadlineKey]fota.Deadline
	gates     map[pilot.Target]pilot.Gate
	sessions  map[string]fota.LogSession
	bundles   map[string][]verboselog.Bundle // oldest first
}

type deadlineKey struct {
	kind fota.DeadlineKind
	key  string
}

func newModel(keep int) *model {
	return &model{
		keep:      keep,
		campaigns: map[string]fota.Campaign{},
		members:   map[string]map[string]fota.Member{},
		active:    map[string]string{},
		devices:   map[string]fota.DeviceRecord{},
		checkIns:  map[string][]verboselog.CheckIn{},
		deadlines: map[deadlineKey]fota.Deadline{},
		gates:     map[pilot.Target]pilot.Gate{},
		sessions:  map[string]fota.LogSession{},
		bundles:   map[string][]verboselog.Bundle{},
	}
}

// clone returns a deep copy, so that a transaction's writes can be applied
// to the copy and dropped when it rolls back.
func (m *model) clone() *model {
	c := *m
	c.campaigns = maps.Clone(m.campaigns)
	c.members = make(map[string]map[string]fota.Member, len(m.members))
	for id, ms := range m.members {
		c.members[id] = maps.Clone(ms)
	}
	c.active = maps.Clone(m.active)
	c.devices = maps.Clone(m.devices)
	c.checkIns = maps.Clone(m.checkIns) // slices are never written in place
	c.deadlines = maps.Clone(m.deadlines)
	c.gates = maps.Clone(m.gates)
	c.sessions = maps.Clone(m.sessions)
	c.bundles = maps.Clone(m.bundles)
	return &c
}

func (m *model) counts(campaignID string) fota.Counts {
	var c fota.Counts
	for _, mem := range m.members[campaignID] {
		c[mem.State]++
	}
	return c
}

// deviceMembers lists the device's member records, by campaign id.
func (m *model) deviceMembers(deviceID string) []fota.Member {
	var out []fota.Member
	for _, cid := range slices.Sorted(maps.Keys(m.members)) {
		if mem, ok := m.members[cid][deviceID]; ok {
			out = append(out, mem)
		}
	}
	return out
}

// any reports whether some member of the campaign is in one of the states.
func (m *model) any(campaignID string, states fota.StateSet) bool {
	for _, mem := range m.members[campaignID] {
		if states.Has(mem.State) {
			return true
		}
	}
	return false
}

// dueMembers lists the members whose Push.DueAt is set and at or before
// now, earliest first, ties by campaign then device id.
func (m *model) dueMembers(now time.Time) []fota.Member {
	var out []fota.Member
	for _, ms := range m.members {
		for _, mem := range ms {
			if !mem.Push.DueAt.IsZero() && !mem.Push.DueAt.After(now) {
				out = append(out, mem)
			}
		}
	}
	slices.SortFunc(out, compareDue)
	return out
}

func compareDue(a, b fota.Member) int {
	return cmp.Or(a.Push.DueAt.Compare(b.Push.DueAt), cmp.Compare(a.CampaignID, b.CampaignID), cmp.Compare(a.DeviceID, b.DeviceID))
}

// accountDevices lists the account's device records by device id.
func (m *model) accountDevices(account string) []fota.DeviceRecord {
	var out []fota.DeviceRecord
	for _, id := range slices.Sorted(maps.Keys(m.devices)) {
		if d := m.devices[id]; d.Account == account {
			out = append(out, d)
		}
	}
	return out
}

// known says what DeviceTx.Known must answer for the device: must when
// the store holds a check-in, a device record, a session or a member of
// it (the records the contract names); may when it holds only something
// else of it (an active campaign, bundles), where the contract is silent.
func (m *model) known(deviceID string) (must, may bool) {
	_, rec := m.devices[deviceID]
	_, ses := m.sessions[deviceID]
	must = len(m.checkIns[deviceID]) > 0 || rec || ses || len(m.deviceMembers(deviceID)) > 0
	return must, must || m.active[deviceID] != "" || len(m.bundles[deviceID]) > 0
}

// due lists the deadlines at or before now, earliest first, ties by kind
// then key.
func (m *model) due(now time.Time) []fota.Deadline {
	var out []fota.Deadline
	for _, d := range m.deadlines {
		if !d.At.After(now) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, compareDeadlines)
	return out
}

func compareDeadlines(a, b fota.Deadline) int {
	return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Key, b.Key))
}

// clock hands out strictly increasing instants for check-ins and bundles,
// whose order the contract ties to insertion ("newest", "oldest"). It is
// never rolled back, so instants stay unique across aborted transactions.
type clock struct{ now time.Time }

func (c *clock) next(t *rapid.T, label string) time.Time {
	c.now = c.now.Add(time.Duration(rapid.IntRange(1, 90_000_000).Draw(t, label)) * time.Microsecond)
	return c.now.In(rapid.SampledFrom(zones).Draw(t, label+"Zone"))
}

// op is one write, to a store through apply and to the model through
// model.
type op struct {
	name  string
	apply func(fota.Tx) error
	model func(*model)
}

func (o op) String() string { return o.name }

// writeKinds names every kind of write a Tx offers.
var writeKinds = []string{
	"PutCampaign", "PutMember", "AddMembers", "DeleteMember", "SetActiveCampaign", "PutDevice",
	"AddCheckIn", "PutDeadline", "DeleteDeadline", "PutGate", "PutSession",
	"AddBundle", "DeleteBundles", "NextSeq",
}

// genOp draws a write that is valid against m (members only of existing
// campaigns, AddMembers only of devices not in the campaign, deletions
// mostly of existing records). Ops are drawn before the transaction that
// applies them, so that a store running the transaction's function again
// applies the same ones.
func genOp(t *rapid.T, m *model, clk *clock) op {
	kind := rapid.SampledFrom(writeKinds).Draw(t, "write")
	if len(m.campaigns) == 0 && (kind == "PutMember" || kind == "AddMembers" || kind == "DeleteMember" || kind == "SetActiveCampaign") {
		kind = "PutCampaign"
	}
	if kind == "AddMembers" {
		if o, ok := addMembersOp(t, m); ok {
			return o
		}
		kind = "PutMember" // every device is in every campaign
	}
	switch kind {
	case "PutCampaign":
		c := genCampaign(t, rapid.SampledFrom(campaignIDs).Draw(t, "campaign"))
		return op{fmt.Sprintf("PutCampaign(%s)", c.ID), func(tx fota.Tx) error { return tx.PutCampaign(c) }, func(m *model) {
			m.campaigns[c.ID] = c
			if m.members[c.ID] == nil {
				m.members[c.ID] = map[string]fota.Member{}
			}
		}}
	case "DeleteMember":
		if keys := memberKeys(m); len(keys) > 0 {
			k := rapid.SampledFrom(keys).Draw(t, "member")
			return op{fmt.Sprintf("DeleteMember(%s, %s)", k[0], k[1]), func(tx fota.Tx) error { return tx.DeleteMember(k[0], k[1]) }, func(m *model) {
				delete(m.members[k[0]], k[1])
			}}
		}
		fallthrough
	case "PutMember":
		cid := rapid.SampledFrom(slices.Sorted(maps.Keys(m.campaigns))).Draw(t, "campaign")
		mem := genMember(t, cid, rapid.SampledFrom(deviceIDs).Draw(t, "device"))
		return op{fmt.Sprintf("PutMember(%s, %s, %s)", cid, mem.DeviceID, mem.State), func(tx fota.Tx) error { return tx.PutMember(mem) }, func(m *model) {
			m.members[cid][mem.DeviceID] = mem
		}}
	case "SetActiveCampaign":
		d := rapid.SampledFrom(deviceIDs).Draw(t, "device")
		c := rapid.SampledFrom(append([]string{""}, slices.Sorted(maps.Keys(m.campaigns))...)).Draw(t, "campaign")
		return op{fmt.Sprintf("SetActiveCampaign(%s, %q)", d, c), func(tx fota.Tx) error { return tx.SetActiveCampaign(d, c) }, func(m *model) {
			if c == "" {
				delete(m.active, d)
			} else {
				m.active[d] = c
			}
		}}
	case "PutDevice":
		d := genDevice(t, rapid.SampledFrom(deviceIDs).Draw(t, "device"))
		return op{fmt.Sprintf("PutDevice(%s)", d.DeviceID), func(tx fota.Tx) error { return tx.PutDevice(d) }, func(m *model) { m.devices[d.DeviceID] = d }}
	case "AddCheckIn":
		c := genCheckIn(t, rapid.SampledFrom(deviceIDs).Draw(t, "device"), clk.next(t, "checkInAt"))
		keep := m.keep
		return op{fmt.Sprintf("AddCheckIn(%s, %d)", c.DeviceID, keep), func(tx fota.Tx) error { return tx.AddCheckIn(c, keep) }, func(m *model) {
			h := append(slices.Clone(m.checkIns[c.DeviceID]), c)
			m.checkIns[c.DeviceID] = h[max(0, len(h)-keep):]
		}}
	case "PutDeadline":
		d := genDeadline(t)
		return op{fmt.Sprintf("PutDeadline(%s, %s)", d.Kind, d.Key), func(tx fota.Tx) error { return tx.PutDeadline(d) }, func(m *model) {
			m.deadlines[deadlineKey{d.Kind, d.Key}] = d
		}}
	case "DeleteDeadline":
		return deadlineDeleteOp(t)
	case "PutGate":
		g := genGate(t)
		return op{fmt.Sprintf("PutGate(%s)", g.Target), func(tx fota.Tx) error { return tx.PutGate(g) }, func(m *model) { m.gates[g.Target] = g }}
	case "PutSession":
		s := genSession(t, rapid.SampledFrom(deviceIDs).Draw(t, "device"))
		return op{fmt.Sprintf("PutSession(%s)", s.DeviceID), func(tx fota.Tx) error { return tx.PutSession(s) }, func(m *model) { m.sessions[s.DeviceID] = s }}
	case "AddBundle":
		b := genBundle(t, rapid.SampledFrom(deviceIDs).Draw(t, "device"), clk.next(t, "uploadedAt"))
		return op{fmt.Sprintf("AddBundle(%s)", b.DeviceID), func(tx fota.Tx) error { return tx.AddBundle(b) }, func(m *model) {
			m.bundles[b.DeviceID] = append(slices.Clone(m.bundles[b.DeviceID]), b)
		}}
	case "DeleteBundles":
		return deleteBundlesOp(t, m, clk, rapid.SampledFrom(deviceIDs).Draw(t, "device"))
	case "NextSeq":
		return op{"NextSeq", func(tx fota.Tx) error { _, err := tx.NextSeq(); return err }, func(*model) {}}
	}
	panic("storetest: unknown write " + kind)
}

// addMembersOp draws an AddMembers of devices not yet in a campaign, each
// holding the device or not; ok is false when no campaign has room.
func addMembersOp(t *rapid.T, m *model) (op, bool) {
	var open []string
	for _, cid := range slices.Sorted(maps.Keys(m.campaigns)) {
		if len(m.members[cid]) < len(deviceIDs) {
			open = append(open, cid)
		}
	}
	if len(open) == 0 {
		return op{}, false
	}
	cid := rapid.SampledFrom(open).Draw(t, "campaign")
	var free []string
	for _, d := range deviceIDs {
		if _, in := m.members[cid][d]; !in {
			free = append(free, d)
		}
	}
	ids := rapid.SliceOfNDistinct(rapid.SampledFrom(free), 1, len(free), rapid.ID).Draw(t, "devices")
	nms := make([]fota.NewMember, len(ids))
	for i, d := range ids {
		nms[i] = fota.NewMember{Member: genMember(t, cid, d), Hold: rapid.Bool().Draw(t, "hold")}
	}
	return op{fmt.Sprintf("AddMembers(%s, %v)", cid, ids), func(tx fota.Tx) error { return tx.AddMembers(cid, nms) }, func(m *model) {
		for _, nm := range nms {
			m.members[cid][nm.DeviceID] = nm.Member
			if nm.Hold {
				m.active[nm.DeviceID] = cid
			}
		}
	}}, true
}

// deleteBundlesOp draws a DeleteBundles of device d, cutting at a stored
// bundle's own instant half the time, to check that "before" is strict.
func deleteBundlesOp(t *rapid.T, m *model, clk *clock, d string) op {
	before := clk.now.Add(-time.Duration(rapid.IntRange(0, 300_000_000).Draw(t, "cutBack")) * time.Microsecond)
	if bs := m.bundles[d]; len(bs) > 0 && rapid.Bool().Draw(t, "cutAtBundle") {
		before = rapid.SampledFrom(bs).Draw(t, "cutBundle").UploadedAt
	}
	return op{fmt.Sprintf("DeleteBundles(%s, %s)", d, before.Format(time.RFC3339Nano)), func(tx fota.Tx) error { return tx.DeleteBundles(d, before) }, func(m *model) {
		m.bundles[d] = slices.DeleteFunc(slices.Clone(m.bundles[d]), func(b verboselog.Bundle) bool { return b.UploadedAt.Before(before) })
	}}
}

func memberKeys(m *model) [][2]string {
	var keys [][2]string
	for _, cid := range slices.Sorted(maps.Keys(m.members)) {
		for _, did := range slices.Sorted(maps.Keys(m.members[cid])) {
			keys = append(keys, [2]string{cid, did})
		}
	}
	return keys
}

// snapshot is a full read-back of everything the suite can have written,
// with times in UTC and empty lists as nil, so that two snapshots compare
// with reflect.DeepEqual.
type snapshot struct {
	Campaigns        map[string]fota.Campaign
	AccountCampaigns map[string][]string // ids; read checks each equals Campaigns[id]
	Members          map[string][]fota.Member
	Counts           map[string]fota.Counts
	Any              map[string][]bool // AnyMember of each of anySets
	DeviceMembers    map[string][]fota.Member
	// DueMembers is every member due by farFuture, read only in Updates
	// (a store may lock them, which a read-only transaction cannot).
	DueMembers      []fota.Member
	NextDue         time.Time
	HasNextDue      bool
	Active          map[string]string
	Devices         map[string]fota.DeviceRecord
	AccountDevices  map[string][]fota.DeviceRecord
	CheckIns        map[string][]verboselog.CheckIn // newest first
	Due             []fota.Deadline
	Next            time.Time
	HasNext         bool
	Gates           map[pilot.Target]pilot.Gate
	Sessions        map[string]fota.LogSession
	AccountSessions map[string][]fota.LogSession
	Bundles         map[string][]verboselog.Bundle
}

func newSnapshot() snapshot {
	return snapshot{
		Campaigns: map[string]fota.Campaign{}, AccountCampaigns: map[string][]string{},
		Members: map[string][]fota.Member{}, Counts: map[string]fota.Counts{},
		Any: map[string][]bool{}, DeviceMembers: map[string][]fota.Member{},
		Active: map[string]string{}, Devices: map[string]fota.DeviceRecord{},
		AccountDevices: map[string][]fota.DeviceRecord{},
		CheckIns:       map[string][]verboselog.CheckIn{}, Gates: map[pilot.Target]pilot.Gate{},
		Sessions: map[string]fota.LogSession{}, AccountSessions: map[string][]fota.LogSession{},
		Bundles: map[string][]verboselog.Bundle{},
	}
}

// anySets are the state sets read asks AnyMember about: none, all, and a
// few the Manager uses or that mix final and running states.
var anySets = []fota.StateSet{
	0,
	fota.States(device.States...),
	fota.States(device.StateAccepted),
	fota.States(device.StateSucceeded, device.StateRejected),
	fota.States(device.StateDownloading, device.StateNotified, device.StateCancelled),
}

// read reads everything back through tx; due says whether to read the due
// members too (only in an Update).
func read(tx fota.Tx, due bool) (snapshot, error) {
	s := newSnapshot()
	for _, id := range campaignIDs {
		c, err := tx.Campaign(id)
		if errors.Is(err, fota.ErrNotFound) {
			continue
		}
		if err != nil {
			return s, fmt.Errorf("Campaign(%s): %w", id, err)
		}
		s.Campaigns[id] = normCampaign(c)
		ms, err := tx.Members(id, "", page)
		if err != nil {
			return s, fmt.Errorf("Members(%s): %w", id, err)
		}
		s.Members[id] = normList(ms, normMember)
		if s.Counts[id], err = tx.Counts(id); err != nil {
			return s, fmt.Errorf("Counts(%s): %w", id, err)
		}
		for _, set := range anySets {
			yes, err := tx.AnyMember(id, set)
			if err != nil {
				return s, fmt.Errorf("AnyMember(%s, %b): %w", id, set, err)
			}
			s.Any[id] = append(s.Any[id], yes)
		}
	}
	for _, a := range accounts {
		ds, err := tx.DeviceRecords(a, "", page)
		if err != nil {
			return s, fmt.Errorf("DeviceRecords(%s): %w", a, err)
		}
		s.AccountDevices[a] = normList(ds, normDevice)
		cs, err := tx.Campaigns(a, "", page)
		if err != nil {
			return s, fmt.Errorf("Campaigns(%s): %w", a, err)
		}
		s.AccountCampaigns[a] = nil
		for _, c := range cs {
			if byID, ok := s.Campaigns[c.ID]; !ok || !reflect.DeepEqual(normCampaign(c), byID) {
				return s, fmt.Errorf("Campaigns(%s) lists %+v, Campaign(%s) returns %+v", a, c, c.ID, byID)
			}
			s.AccountCampaigns[a] = append(s.AccountCampaigns[a], c.ID)
		}
		ss, err := tx.Sessions(a)
		if err != nil {
			return s, fmt.Errorf("Sessions(%s): %w", a, err)
		}
		s.AccountSessions[a] = normList(ss, normSession)
	}
	for _, d := range deviceIDs {
		a, err := tx.ActiveCampaign(d)
		if err != nil {
			return s, fmt.Errorf("ActiveCampaign(%s): %w", d, err)
		}
		if a != "" {
			s.Active[d] = a
		}
		rec, err := tx.Device(d)
		if err != nil {
			return s, fmt.Errorf("Device(%s): %w", d, err)
		}
		s.Devices[d] = normDevice(rec)
		ms, err := tx.DeviceMembers(d)
		if err != nil {
			return s, fmt.Errorf("DeviceMembers(%s): %w", d, err)
		}
		if len(ms) > 0 {
			s.DeviceMembers[d] = normList(ms, normMember)
		}
		cs, err := tx.CheckIns(d, time.Time{}, page)
		if err != nil {
			return s, fmt.Errorf("CheckIns(%s): %w", d, err)
		}
		if len(cs) > 0 {
			s.CheckIns[d] = normList(cs, normCheckIn)
		}
		ls, err := tx.Session(d)
		if err != nil {
			return s, fmt.Errorf("Session(%s): %w", d, err)
		}
		s.Sessions[d] = normSession(ls)
		bs, err := tx.Bundles(d)
		if err != nil {
			return s, fmt.Errorf("Bundles(%s): %w", d, err)
		}
		if len(bs) > 0 {
			s.Bundles[d] = normList(bs, normBundle)
		}
	}
	deadlines, err := tx.Due(farFuture, page)
	if err != nil {
		return s, fmt.Errorf("reading deadlines: %w", err)
	}
	s.Due = normList(deadlines, normDeadline)
	if s.Next, s.HasNext, err = tx.NextDeadline(); err != nil {
		return s, fmt.Errorf("NextDeadline: %w", err)
	}
	s.Next = s.Next.UTC()
	if s.NextDue, s.HasNextDue, err = tx.NextDue(); err != nil {
		return s, fmt.Errorf("NextDue: %w", err)
	}
	s.NextDue = s.NextDue.UTC()
	if due {
		ms, err := tx.DueMembers(farFuture, page)
		if err != nil {
			return s, fmt.Errorf("DueMembers: %w", err)
		}
		s.DueMembers = normList(ms, normMember)
	}
	for _, tg := range targets {
		g, err := tx.Gate(tg)
		if err != nil {
			return s, fmt.Errorf("Gate(%s): %w", tg, err)
		}
		s.Gates[tg] = normGate(g)
	}
	return s, nil
}

// snapshot is what read must return from a store holding m.
func (m *model) snapshot(due bool) snapshot {
	s := newSnapshot()
	for id, c := range m.campaigns {
		s.Campaigns[id] = normCampaign(c)
		var ms []fota.Member
		for _, d := range slices.Sorted(maps.Keys(m.members[id])) {
			ms = append(ms, normMember(m.members[id][d]))
		}
		s.Members[id] = ms
		s.Counts[id] = m.counts(id)
		for _, set := range anySets {
			s.Any[id] = append(s.Any[id], m.any(id, set))
		}
	}
	for _, a := range accounts {
		s.AccountDevices[a] = normList(m.accountDevices(a), normDevice)
		var cs []string
		for _, id := range slices.Sorted(maps.Keys(m.campaigns)) {
			if m.campaigns[id].Account == a {
				cs = append(cs, id)
			}
		}
		s.AccountCampaigns[a] = cs
		var ss []fota.LogSession
		for _, d := range slices.Sorted(maps.Keys(m.sessions)) {
			if m.sessions[d].Account == a {
				ss = append(ss, normSession(m.sessions[d]))
			}
		}
		s.AccountSessions[a] = ss
	}
	for _, d := range deviceIDs {
		if a := m.active[d]; a != "" {
			s.Active[d] = a
		}
		s.Devices[d] = fota.DeviceRecord{DeviceID: d}
		if r, ok := m.devices[d]; ok {
			s.Devices[d] = normDevice(r)
		}
		if ms := m.deviceMembers(d); len(ms) > 0 {
			s.DeviceMembers[d] = normList(ms, normMember)
		}
		if h := m.checkIns[d]; len(h) > 0 {
			var cs []verboselog.CheckIn
			for i := len(h) - 1; i >= 0; i-- {
				cs = append(cs, normCheckIn(h[i]))
			}
			s.CheckIns[d] = cs
		}
		s.Sessions[d] = fota.LogSession{Session: verboselog.Session{DeviceID: d}}
		if ls, ok := m.sessions[d]; ok {
			s.Sessions[d] = normSession(ls)
		}
		if bs := m.bundles[d]; len(bs) > 0 {
			s.Bundles[d] = normList(bs, normBundle)
		}
	}
	s.Due = normList(m.due(farFuture), normDeadline)
	if len(s.Due) > 0 {
		s.Next, s.HasNext = s.Due[0].At, true
	}
	if dm := m.dueMembers(farFuture); len(dm) > 0 {
		s.NextDue, s.HasNextDue = dm[0].Push.DueAt.UTC(), true
		if due {
			s.DueMembers = normList(dm, normMember)
		}
	}
	for _, tg := range targets {
		s.Gates[tg] = pilot.Gate{Target: tg}
		if g, ok := m.gates[tg]; ok {
			s.Gates[tg] = normGate(g)
		}
	}
	return s
}

// diff names the first field in which two snapshots differ, or "".
func diff(got, want snapshot) string {
	if got.equal(want) {
		return ""
	}
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("%s:\n got  %+v\n want %+v", gv.Type().Field(i).Name, g, w)
		}
	}
	return ""
}

// equal is reflect.DeepEqual(s, o) without reflection for the records
// that are comparable, which is most of the suite's time otherwise.
func (s snapshot) equal(o snapshot) bool {
	return maps.EqualFunc(s.Campaigns, o.Campaigns, func(a, b fota.Campaign) bool { return reflect.DeepEqual(a, b) }) &&
		maps.EqualFunc(s.AccountCampaigns, o.AccountCampaigns, slices.Equal) &&
		maps.EqualFunc(s.Members, o.Members, slices.Equal) &&
		maps.Equal(s.Counts, o.Counts) &&
		maps.EqualFunc(s.Any, o.Any, slices.Equal) &&
		maps.EqualFunc(s.DeviceMembers, o.DeviceMembers, slices.Equal) &&
		slices.Equal(s.DueMembers, o.DueMembers) &&
		s.NextDue == o.NextDue && s.HasNextDue == o.HasNextDue &&
		maps.Equal(s.Active, o.Active) &&
		maps.Equal(s.Devices, o.Devices) &&
		maps.EqualFunc(s.AccountDevices, o.AccountDevices, slices.Equal) &&
		maps.EqualFunc(s.CheckIns, o.CheckIns, slices.Equal) &&
		slices.Equal(s.Due, o.Due) &&
		s.Next == o.Next && s.HasNext == o.HasNext &&
		maps.Equal(s.Gates, o.Gates) &&
		maps.Equal(s.Sessions, o.Sessions) &&
		maps.EqualFunc(s.AccountSessions, o.AccountSessions, slices.Equal) &&
		maps.EqualFunc(s.Bundles, o.Bundles, slices.Equal)
}

func normList[T any](xs []T, norm func(T) T) []T {
	if len(xs) == 0 {
		return nil
	}
	out := make([]T, len(xs))
	for i, x := range xs {
		out[i] = norm(x)
	}
	return out
}

func normCampaign(c fota.Campaign) fota.Campaign {
	c.StartsAt, c.EndsAt, c.CreatedAt, c.UpdatedAt = c.StartsAt.UTC(), c.EndsAt.UTC(), c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.Timing.CampaignTimeWindowList = normList(c.Timing.CampaignTimeWindowList, same)
	c.Timing.DownloadTimeWindowList = normList(c.Timing.DownloadTimeWindowList, same)
	c.Timing.InstallTimeWindowList = normList(c.Timing.InstallTimeWindowList, same)
	return c
}

func same[T any](x T) T { return x }

func normMember(m fota.Member) fota.Member {
	m.UpdatedAt = m.UpdatedAt.UTC()
	if !m.Push.DueAt.IsZero() {
		m.Push.DueAt = m.Push.DueAt.UTC()
	}
	return m
}

func normDevice(d fota.DeviceRecord) fota.DeviceRecord {
	if !d.LicensedAt.IsZero() {
		d.LicensedAt = d.LicensedAt.UTC()
	}
	return d
}

func normCheckIn(c verboselog.CheckIn) verboselog.CheckIn {
	c.TimeCompleted = c.TimeCompleted.UTC()
	return c
}

func normDeadline(d fota.Deadline) fota.Deadline { d.At = d.At.UTC(); return d }

func normGate(g pilot.Gate) pilot.Gate { g.LiftedAt = g.LiftedAt.UTC(); return g }

func normSession(s fota.LogSession) fota.LogSession {
	s.EnabledAt, s.CollectingAt, s.EndedAt = s.EnabledAt.UTC(), s.CollectingAt.UTC(), s.EndedAt.UTC()
	return s
}

func normBundle(b verboselog.Bundle) verboselog.Bundle {
	b.LogTime, b.UploadedAt = b.LogTime.UTC(), b.UploadedAt.UTC()
	return b
}
