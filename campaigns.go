package fota

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/lifecycle"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
)

// CampaignRequest is a /v2 (HTTP) schedule request, in ThingSpace's JSON
// shape (CampaignSoftwareUpgrade). ThingSpace takes make and model from the
// software package: so does fota when the host has a PackageCatalog that
// knows SoftwareName; otherwise the optional make and model fields say
// (empty means any make or model).
type CampaignRequest struct {
	CampaignName     string `json:"campaignName,omitempty"`
	SoftwareName     string `json:"softwareName"`
	SoftwareFrom     string `json:"softwareFrom"`
	SoftwareTo       string `json:"softwareTo"`
	DistributionType string `json:"distributionType"` // "HTTP"; empty means HTTP
	Make             string `json:"make,omitempty"`
	Model            string `json:"model,omitempty"`
	// Timing holds the dates and windows; in JSON its fields sit at the
	// top level of the request, as in ThingSpace's.
	Timing     schedule.HTTPRequest `json:"-"`
	DeviceList []string             `json:"deviceList"`
}

// CampaignInfo is a campaign as queries return it: its record and how many
// of its devices are in each state.
type CampaignInfo struct {
	Campaign
	Counts Counts
}

func (r *CampaignRequest) validate() error {
	for _, f := range []struct{ name, value string }{
		{"softwareName", r.SoftwareName}, {"softwareFrom", r.SoftwareFrom}, {"softwareTo", r.SoftwareTo},
	} {
		if f.value == "" {
			return &RequestError{Field: f.name, Value: "", Reason: "required"}
		}
	}
	if r.DistributionType != "" && r.DistributionType != "HTTP" {
		return &RequestError{Field: "distributionType", Value: r.DistributionType,
			Reason: "only HTTP campaigns are scheduled through this call; push campaigns through ScheduleUpgrade (/v1)"}
	}
	if err := checkTexts(
		text{"campaignName", r.CampaignName, maxName}, text{"softwareName", r.SoftwareName, maxName},
		text{"softwareFrom", r.SoftwareFrom, maxName}, text{"softwareTo", r.SoftwareTo, maxName},
		text{"make", r.Make, maxName}, text{"model", r.Model, maxName},
	); err != nil {
		return err
	}
	if err := checkTiming(r.Timing); err != nil {
		return err
	}
	return checkDeviceList(r.DeviceList)
}

// checkDeviceList requires a non-empty list of distinct, well-formed
// device ids.
func checkDeviceList(ids []string) error {
	if len(ids) == 0 {
		return &RequestError{Field: "deviceList", Value: "", Reason: "at least one device is required"}
	}
	// IMEIs (and any id of up to 17 digits) are told apart by a number
	// (the memory store's key): a million-device list is checked by
	// sorting its numbers, with no hash map to probe at random.
	nums := make([]idKey, 0, len(ids))
	var others map[string]struct{}
	for _, id := range ids {
		if err := checkDeviceID("deviceList", id); err != nil {
			return err
		}
		if k, ok := numericKey(id); ok {
			nums = append(nums, k)
			continue
		}
		if others == nil {
			others = make(map[string]struct{})
		}
		if _, dup := others[id]; dup {
			return &RequestError{Field: "deviceList", Value: id, Reason: "listed twice"}
		}
		others[id] = struct{}{}
	}
	slices.Sort(nums)
	for i := 1; i < len(nums); i++ {
		if nums[i] == nums[i-1] {
			var buf [maxKeyDigit]byte
			return &RequestError{Field: "deviceList", Value: string(nums[i].appendDigits(buf[:0])), Reason: "listed twice"}
		}
	}
	return nil
}

// lookup asks the inventory about every device before a transaction opens.
func (m *Manager) lookup(ctx context.Context, ids []string) ([]DeviceInfo, []bool, error) {
	infos := make([]DeviceInfo, len(ids))
	found := make([]bool, len(ids))
	for i, id := range ids {
		info, ok, err := m.inventory.Lookup(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		info.DeviceID = id
		infos[i], found[i] = info, ok
	}
	return infos, found, nil
}

// facts is what the inventory said of one device joining a campaign, in
// two bytes: the eligibility checks that need no store are decided before
// the transaction opens, so that scheduling a million devices holds no
// inventory record per device.
type facts struct {
	protocol device.Protocol
	bits     uint8
}

const (
	factFound    = 1 << iota // known to the inventory, and not another account's
	factFOTA                 // FOTA capable
	factActive               // active and connected
	factLicensed             // licensed by the inventory
	factMake                 // make meets the prerequisite
	factModel                // model meets the prerequisite
	factSoftware             // current software meets the prerequisite
)

// prerequisites is what a campaign asks of its devices' inventory facts.
type prerequisites struct {
	account, make_, model, from string
}

// survey asks the inventory about every device before a transaction
// opens and keeps, per device, the facts the eligibility checks need.
func (m *Manager) survey(ctx context.Context, ids []string, p prerequisites) ([]facts, error) {
	out := make([]facts, len(ids))
	ahead, _ := m.inventory.(idPrefetcher)
	for i, id := range ids {
		if ahead != nil && i%PrefetchMax == 0 {
			ahead.prefetchIDs(ids[i:])
		}
		info, ok, err := m.inventory.Lookup(ctx, id)
		if err != nil {
			return nil, err
		}
		f := facts{protocol: info.Protocol}
		for _, b := range []struct {
			set bool
			bit uint8
		}{
			// The inventory may know which account a device belongs to:
			// another account's device is not found in this one.
			{ok && (info.Account == "" || info.Account == p.account), factFound},
			{info.FOTACapable, factFOTA}, {info.ActiveConnected, factActive}, {info.Licensed, factLicensed},
			{p.make_ == "" || info.Make == p.make_, factMake}, {p.model == "" || info.Model == p.model, factModel},
			{p.from == "" || info.Software == p.from, factSoftware},
		} {
			if b.set {
				f.bits |= b.bit
			}
		}
		out[i] = f
	}
	return out, nil
}

// owned asks the inventory about devices an account acts on directly
// (licences, logging): each must be known, and not another account's.
func (m *Manager) owned(ctx context.Context, account string, ids []string) ([]DeviceInfo, error) {
	infos, found, err := m.lookup(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i, ok := range found {
		if !ok || (infos[i].Account != "" && infos[i].Account != account) {
			return nil, &NotFoundError{Kind: "device", ID: ids[i]}
		}
	}
	return infos, nil
}

// admission runs the eligibility checks of the devices joining one
// campaign, remembering the other campaigns it looked at.
type admission struct {
	m      *Manager
	tx     Tx
	c      *Campaign
	now    time.Time
	others map[string]bool // campaign id -> still holds its devices at now
	// The campaign's prerequisites, and the facts of the device checked
	// last: kept here for device.Check to read in place.
	prereq device.Prerequisites
	facts  device.Facts
}

// mismatch stands for a make, model or software the inventory reported and
// the campaign does not take: no valid text holds a NUL byte, so it
// equals no prerequisite.
const mismatch = "\x00"

// member runs the eligibility checks for one device and returns its new
// member record: Accepted (holding the device) or Rejected with the first
// failing check's reason.
func (a *admission) member(id string, f facts) (NewMember, error) {
	other, err := a.tx.ActiveCampaign(id)
	if err != nil {
		return NewMember{}, err
	}
	inOther := false
	if other != "" && other != a.c.ID {
		if inOther, err = a.holds(other); err != nil {
			return NewMember{}, err
		}
	}
	rec, err := a.tx.Device(id)
	if err != nil {
		return NewMember{}, err
	}
	pick := func(bit uint8, want string) string {
		if f.bits&bit != 0 {
			return want
		}
		return mismatch
	}
	a.facts = device.Facts{
		Exists:          f.bits&factFound != 0,
		IMEI:            id,
		Protocol:        f.protocol,
		Make:            pick(factMake, a.c.Make),
		Model:           pick(factModel, a.c.Model),
		Software:        pick(factSoftware, a.c.Target.SoftwareFrom),
		FOTACapable:     f.bits&factFOTA != 0,
		Licensed:        f.bits&factLicensed != 0 || rec.License == device.Licensed,
		ActiveConnected: f.bits&factActive != 0,
		InOtherCampaign: inOther,
	}
	v := device.Check(&a.facts, &a.prereq)
	nm := NewMember{Member: Member{CampaignID: a.c.ID, DeviceID: id, State: device.StateAccepted, UpdatedAt: a.now}}
	if v.Status != device.Accepted {
		nm.State, nm.Reason = device.StateRejected, v.Reason
		return nm, nil
	}
	nm.Hold = true
	if a.c.Family == device.FamilyPush {
		// The first push goes out at the start; a date change before it
		// is caught up lazily by the outbox.
		nm.Push = Push{Protocol: f.protocol, DueAt: a.c.StartsAt}
	}
	return nm, nil
}

// holds reports whether campaign id still holds its devices at now (a
// campaign that ended but whose sweep has not reached them does not).
func (a *admission) holds(id string) (bool, error) {
	if h, ok := a.others[id]; ok {
		return h, nil
	}
	c, err := a.tx.Campaign(id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	h := effective(&c, a.now).Active()
	if a.others == nil {
		a.others = make(map[string]bool)
	}
	a.others[id] = h
	return h, nil
}

// admitBatch is how many new members an operation writes at once.
const admitBatch = 1000

// admit checks every device and adds them to the campaign in batches,
// returning how many were accepted. With an observer, the devices'
// changes are gathered here only for small lists; a large schedule
// announces them after its commit (announce).
func (m *Manager) admit(tx Tx, o *op, c *Campaign, ids []string, fs []facts, gather bool) (int, error) {
	a := &admission{m: m, tx: tx, c: c, now: o.now, prereq: device.Prerequisites{
		Protocol:        c.Protocol,
		Family:          c.Family,
		Make:            c.Make,
		Model:           c.Model,
		SoftwareFrom:    c.Target.SoftwareFrom,
		LicenseRequired: m.licenseRequired,
	}}
	if r, ok := tx.(scheduleReserver); ok && len(ids) > admitBatch {
		var due time.Time
		if c.Family == device.FamilyPush {
			due = c.StartsAt // its devices are all due at the start
		}
		r.reserveSchedule(len(ids), due)
	}
	batch := make([]NewMember, 0, min(len(ids), admitBatch))
	accepted := 0
	ahead, _ := tx.(idPrefetcher)
	for i, id := range ids {
		if ahead != nil && i%PrefetchMax == 0 {
			ahead.prefetchIDs(ids[i:])
		}
		nm, err := a.member(id, fs[i])
		if err != nil {
			return 0, err
		}
		if nm.Hold {
			accepted++
			o.pushDue = o.pushDue || !nm.Push.DueAt.IsZero()
		}
		if gather {
			o.device(c, nm.DeviceID, 0, nm.State, nm.Reason, 0)
		}
		batch = append(batch, nm)
		if len(batch) == cap(batch) || i == len(ids)-1 {
			if err := tx.AddMembers(c.ID, batch); err != nil {
				return 0, err
			}
			clear(batch)
			batch = batch[:0]
		}
	}
	return accepted, nil
}

// idPrefetcher is an inventory or a transaction (MemoryInventory's,
// MemoryStore's) that can read ahead what looking up the first
// PrefetchMax of these devices will read: a schedule looks up each of a
// million devices in both, and one miss after the other would be most of
// its time.
type idPrefetcher interface {
	prefetchIDs(ids []string)
}

// scheduleReserver is a transaction that can make room for a schedule of
// n devices (MemoryStore's) before it adds them a batch at a time: in its
// id table, and, for push members all due at due (not zero), in its due
// index.
type scheduleReserver interface {
	reserveSchedule(n int, due time.Time)
}

// gatherLimit is the largest device list whose changes an operation
// gathers before its commit; beyond it they are read back after.
const gatherLimit = 1000

// announce tells the observer, after a schedule committed, how each of the
// campaign's devices was admitted, reading the campaign back page by page
// instead of holding a change per device in memory. A member not rejected
// was accepted at scheduling, whatever it has done since.
func (m *Manager) announce(ctx context.Context, c Campaign, at time.Time) error {
	// Each page's devices are read in a View and told after it, so that
	// the observer holds up no device operation.
	type joined struct {
		id string
		st device.State
		r  device.Reason
	}
	var page []joined
	after := ""
	for {
		var n int
		err := m.store.View(ctx, func(tx Tx) error {
			page = page[:0]
			var err error
			n, after, err = eachMember(tx, c.ID, after, MaxPageSize, false, func(mem *Member) error {
				j := joined{mem.DeviceID, device.StateAccepted, 0}
				if mem.State == device.StateRejected {
					j.st, j.r = mem.State, mem.Reason
				}
				page = append(page, j)
				return nil
			})
			return err
		})
		if err != nil {
			return err
		}
		for _, j := range page {
			m.observer.Observe(deviceChange(&c, at, j.id, 0, j.st, j.r, 0))
		}
		if n < MaxPageSize {
			return nil
		}
	}
}

// create writes a new campaign, admits its devices, and accepts or rejects
// it: the common body of Schedule and ScheduleUpgrade.
func (m *Manager) create(tx Tx, o *op, c *Campaign, ids []string, fs []facts, gather bool) error {
	seq, err := tx.NextSeq()
	if err != nil {
		return err
	}
	c.ID, c.Seq, c.Revision, c.CreatedAt, c.UpdatedAt = m.newID(seq), seq, 1, o.now, o.now
	if err := checkText("id", c.ID, maxID); err != nil {
		return err // the host's NewID made an id no store may hold
	}
	if err := tx.PutCampaign(*c); err != nil { // members need their campaign
		return err
	}
	o.campaign(c)
	accepted, err := m.admit(tx, o, c, ids, fs, gather)
	if err != nil {
		return err
	}
	ev := campaign.Accept
	switch {
	case accepted == 0:
		ev = campaign.Reject
	case c.OnDemand && c.Family == device.FamilyHTTP:
		ev = campaign.AcceptOnDemand
	}
	if err := m.apply(tx, o, c, ev); err != nil {
		return err
	}
	if ev == campaign.Accept {
		if err := m.putDeadline(tx, o, DeadlineCampaignStart, c.ID, c.StartsAt); err != nil {
			return err
		}
	}
	if ev != campaign.Reject {
		return m.putDeadline(tx, o, DeadlineCampaignEnd, c.ID, c.EndsAt)
	}
	return nil
}

// putDeadline writes a deadline and notes it for Run.
func (m *Manager) putDeadline(tx Tx, o *op, kind DeadlineKind, key string, at time.Time) error {
	o.wakeAt(at)
	return tx.PutDeadline(Deadline{Kind: kind, Key: key, At: at})
}

// Schedule creates an HTTP campaign for the account (ThingSpace POST
// /campaigns/{acc}): checks the request, the software's pilot gate and
// every device, and leaves the campaign Queued (future), Scheduled
// (on-demand) or RequestFailed (no device passed its checks), with every
// device Accepted or Rejected with its reason. A malformed request or a
// pilot refusal returns an error and creates nothing.
func (m *Manager) Schedule(ctx context.Context, account string, req CampaignRequest) (CampaignInfo, error) {
	if err := checkAccount(account); err != nil {
		return CampaignInfo{}, err
	}
	if err := req.validate(); err != nil {
		return CampaignInfo{}, err
	}
	pkg, err := m.resolvePackage(ctx, account, req.SoftwareName, req.Make, req.Model, req.SoftwareFrom, req.SoftwareTo)
	if err != nil {
		return CampaignInfo{}, err
	}
	return m.scheduleCampaign(ctx, "schedule", account, req.DeviceList, pkg, func(tx Tx, o *op) (Campaign, error) {
		sched, err := schedule.NewHTTP(req.Timing, o.now, m.schedule)
		if err != nil {
			return Campaign{}, err
		}
		target := pilot.Target{Account: account, SoftwareName: req.SoftwareName, SoftwareFrom: pkg.From, SoftwareTo: pkg.To}
		gate, err := tx.Gate(target)
		if err != nil {
			return Campaign{}, err
		}
		if err := gate.Admit(len(req.DeviceList), m.pilot); err != nil {
			return Campaign{}, err
		}
		return Campaign{
			Account: account, Name: req.CampaignName, Family: device.FamilyHTTP, Protocol: device.HTTP,
			Status: campaign.HTTPRequestPending, Target: target, Make: pkg.Make, Model: pkg.Model, Package: pkg,
			Timing: sched.Request(), StartsAt: sched.StartsAt(), EndsAt: sched.EndsAt(), OnDemand: sched.OnDemand(),
			Pilot: !gate.Lifted(),
		}, nil
	})
}

// scheduleCampaign is the body of Schedule and ScheduleUpgrade: it asks
// the inventory about the devices, then in one transaction has the
// campaign built (build may still refuse the request), admits the devices
// and accepts or rejects the campaign. A list larger than gatherLimit has
// its devices announced to the observer after the commit.
func (m *Manager) scheduleCampaign(ctx context.Context, name, account string, ids []string, pkg Package,
	build func(tx Tx, o *op) (Campaign, error)) (CampaignInfo, error) {
	fs, err := m.survey(ctx, ids, prerequisites{account, pkg.Make, pkg.Model, pkg.From})
	if err != nil {
		return CampaignInfo{}, err
	}
	gather := len(ids) <= gatherLimit
	var info CampaignInfo
	o := getOp()
	defer o.release()
	err = m.updateOp(ctx, name, o, func(tx Tx, o *op) error {
		c, err := build(tx, o)
		if err != nil {
			return err
		}
		if err := m.create(tx, o, &c, ids, fs, gather); err != nil {
			return err
		}
		info, err = campaignInfo(tx, c, o.now)
		return err
	})
	if err == nil && !gather && m.observer != nil {
		if aerr := m.announce(ctx, info.Campaign, o.now); aerr != nil {
			m.log.Warn("fota: announcing a schedule's devices failed", "campaign", info.ID, "err", aerr)
		}
	}
	return info, err
}

// apply moves the campaign through its lifecycle and stores it.
func (m *Manager) apply(tx Tx, o *op, c *Campaign, ev campaign.Event) error {
	next, err := campaign.Next(c.Status, ev)
	if err != nil {
		return err
	}
	c.Status = next
	if err := putRevision(tx, c, o.now); err != nil {
		return err
	}
	o.campaign(c)
	return nil
}

// campaignInfo reads a campaign's counts as of now: the devices of a
// campaign whose end (or cancel, or abort) is not yet swept are counted
// as the sweep will leave them.
func campaignInfo(tx Tx, c Campaign, now time.Time) (CampaignInfo, error) {
	counts, err := tx.Counts(c.ID)
	if err != nil {
		return CampaignInfo{}, err
	}
	st := effective(&c, now)
	c.Status = st
	return CampaignInfo{Campaign: c, Counts: sweptCounts(c.Family, st, counts)}, nil
}

// load reads an account's campaign: another account's campaign is not
// found, exactly as a missing one.
func load(tx Tx, account, id string) (Campaign, error) {
	c, err := tx.Campaign(id)
	if err != nil {
		return c, err
	}
	if c.Account != account {
		return Campaign{}, &NotFoundError{Kind: "campaign", ID: id}
	}
	return c, nil
}

// loadSettled reads an account's campaign and brings it up to date with
// the clock (a due start or end is applied first), so that no operation
// acts on a stale status.
func (m *Manager) loadSettled(tx Tx, o *op, account, id string) (Campaign, error) {
	c, err := load(tx, account, id)
	if err != nil {
		return c, err
	}
	return c, m.settle(tx, o, &c)
}

// AddDevices adds devices to an account's campaign that has not started
// (ThingSpace PUT /campaigns/{acc}/{id} with "Type": "append"; /v1 PUT
// /upgrades/{acc}/upgrade/{id} with "type": "append"). Each device passes
// the eligibility checks or joins as Rejected with its reason; the pilot
// gate bounds the campaign's size while it stands.
func (m *Manager) AddDevices(ctx context.Context, account, campaignID string, ids []string) (CampaignInfo, error) {
	if err := checkDeviceList(ids); err != nil {
		return CampaignInfo{}, err
	}
	// A campaign's prerequisites never change: read them first, to ask the
	// inventory before the transaction opens.
	var c Campaign
	err := m.view(ctx, func(tx Tx, _ time.Time) error {
		var err error
		c, err = load(tx, account, campaignID)
		return err
	})
	if err != nil {
		return CampaignInfo{}, err
	}
	fs, err := m.survey(ctx, ids, prerequisites{account, c.Make, c.Model, c.Target.SoftwareFrom})
	if err != nil {
		return CampaignInfo{}, err
	}
	var info CampaignInfo
	err = m.update(ctx, "addDevices", func(tx Tx, o *op) error {
		c, err := m.loadSettled(tx, o, account, campaignID)
		if err != nil {
			return err
		}
		if err := campaign.CanChangeDevices(c.Status); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.Member(c.ID, id); err == nil {
				return &RequestError{Field: "deviceList", Value: id, Reason: "already in the campaign"}
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		if c.Family == device.FamilyHTTP {
			counts, err := tx.Counts(c.ID)
			if err != nil {
				return err
			}
			gate, err := tx.Gate(c.Target)
			if err != nil {
				return err
			}
			if err := gate.Admit(counts.Accepted()+len(ids), m.pilot); err != nil {
				return err
			}
		}
		if _, err := m.admit(tx, o, &c, ids, fs, true); err != nil {
			return err
		}
		if err := putRevision(tx, &c, o.now); err != nil {
			return err
		}
		info, err = campaignInfo(tx, c, o.now)
		return err
	})
	return info, err
}

// RemoveDevices takes devices out of an account's campaign that has not
// started ("Type": "remove"). In the push family, removing the last
// accepted device cancels the campaign.
func (m *Manager) RemoveDevices(ctx context.Context, account, campaignID string, ids []string) (CampaignInfo, error) {
	if err := checkDeviceList(ids); err != nil {
		return CampaignInfo{}, err
	}
	var info CampaignInfo
	err := m.update(ctx, "removeDevices", func(tx Tx, o *op) error {
		c, err := m.loadSettled(tx, o, account, campaignID)
		if err != nil {
			return err
		}
		if err := campaign.CanChangeDevices(c.Status); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.Member(c.ID, id); err != nil {
				return err
			}
			if err := tx.DeleteMember(c.ID, id); err != nil {
				return err
			}
			if err := m.release(tx, c.ID, id); err != nil {
				return err
			}
		}
		counts, err := tx.Counts(c.ID)
		if err != nil {
			return err
		}
		c.Revision++
		c.UpdatedAt = o.now
		if counts.Accepted() == 0 && campaign.Can(c.Status, campaign.RemoveLast) {
			if err := m.finishWith(tx, o, &c, campaign.RemoveLast); err != nil {
				return err
			}
		} else if err := tx.PutCampaign(c); err != nil {
			return err
		}
		info, err = campaignInfo(tx, c, o.now)
		return err
	})
	return info, err
}

// ChangeDates changes an account's HTTP campaign's dates and windows
// (ThingSpace PUT /campaigns/{acc}/{id}/dates): anything before the start;
// after it, only a later end (no earlier than 24 h from now) and added
// windows.
func (m *Manager) ChangeDates(ctx context.Context, account, campaignID string, req schedule.HTTPRequest) (CampaignInfo, error) {
	if err := checkTiming(req); err != nil {
		return CampaignInfo{}, err
	}
	var info CampaignInfo
	err := m.update(ctx, "changeDates", func(tx Tx, o *op) error {
		c, err := m.loadSettled(tx, o, account, campaignID)
		if err != nil {
			return err
		}
		if c.Family != device.FamilyHTTP {
			return &FamilyError{Op: "change dates", ID: c.ID, Protocol: c.Protocol}
		}
		if !c.Status.Active() {
			return &lifecycle.TransitionError{Lifecycle: campaign.Table(device.FamilyHTTP).Name(), State: c.Status.String(), Event: "changeDates"}
		}
		old, err := m.httpSchedule(&c)
		if err != nil {
			return err
		}
		next, err := old.Change(req, o.now)
		if err != nil {
			return err
		}
		c.Timing, c.StartsAt, c.EndsAt = next.Request(), next.StartsAt(), next.EndsAt()
		if err := putRevision(tx, &c, o.now); err != nil {
			return err
		}
		if c.Status == campaign.HTTPQueued {
			if err := m.putDeadline(tx, o, DeadlineCampaignStart, c.ID, c.StartsAt); err != nil {
				return err
			}
		}
		if err := m.putDeadline(tx, o, DeadlineCampaignEnd, c.ID, c.EndsAt); err != nil {
			return err
		}
		info, err = campaignInfo(tx, c, o.now)
		return err
	})
	return info, err
}

// Cancel cancels an account's campaign before its start: it and every
// device in it become Cancelled and the devices are free for other
// campaigns.
func (m *Manager) Cancel(ctx context.Context, account, campaignID string) (CampaignInfo, error) {
	return m.stop(ctx, "cancel", account, campaignID, campaign.Cancel)
}

// Abort aborts an account's HTTP campaign after its start and before its
// end: devices not yet finished become CampaignAborted; upgraded devices
// stay upgraded.
func (m *Manager) Abort(ctx context.Context, account, campaignID string) (CampaignInfo, error) {
	return m.stop(ctx, "abort", account, campaignID, campaign.Abort)
}

// Delete is ThingSpace's DELETE /campaigns/{acc}/{id} (and /v1 DELETE
// /upgrades/{acc}/upgrade/{id}): a cancel before the start, an abort after
// it (HTTP only; a push campaign cannot be stopped once started).
func (m *Manager) Delete(ctx context.Context, account, campaignID string) (CampaignInfo, error) {
	return m.stop(ctx, "delete", account, campaignID, 0)
}

func (m *Manager) stop(ctx context.Context, name, account, campaignID string, ev campaign.Event) (CampaignInfo, error) {
	var info CampaignInfo
	err := m.update(ctx, name, func(tx Tx, o *op) error {
		c, err := m.loadSettled(tx, o, account, campaignID)
		if err != nil {
			return err
		}
		e := ev
		switch ev {
		case campaign.Cancel:
			err = campaign.CanCancel(c.Status, o.now, c.StartsAt)
		case campaign.Abort:
			err = campaign.CanAbort(c.Status, o.now, c.StartsAt, c.EndsAt)
		default:
			e, err = campaign.Delete(c.Status, o.now, c.StartsAt, c.EndsAt)
		}
		if err != nil {
			return err
		}
		if err := m.finishWith(tx, o, &c, e); err != nil {
			return err
		}
		info, err = campaignInfo(tx, c, o.now)
		return err
	})
	return info, err
}

// putRevision stores campaign c as a new revision, changed at now (a
// revision names one content: compiled schedules are cached by it).
func putRevision(tx Tx, c *Campaign, now time.Time) error {
	c.Revision++
	c.UpdatedAt = now
	return tx.PutCampaign(*c)
}
