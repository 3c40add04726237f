package fota

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/lifecycle"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
)

// CampaignRequest is a /v2 (HTTP) schedule request, in ThingSpace's JSON
// shape (CampaignSoftwareUpgrade). ThingSpace derives make and model from
// the software package; fota takes them as optional fields instead (empty
// means any make or model).
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

// UnmarshalJSON reads ThingSpace's flat request; errors name the field.
func (r *CampaignRequest) UnmarshalJSON(b []byte) error {
	type fields CampaignRequest // without these methods
	var f fields
	if err := json.Unmarshal(b, &f); err != nil {
		return jsonFieldError(err)
	}
	if err := json.Unmarshal(b, &f.Timing); err != nil {
		return err
	}
	*r = CampaignRequest(f)
	return nil
}

// MarshalJSON writes ThingSpace's flat request.
func (r CampaignRequest) MarshalJSON() ([]byte, error) {
	type fields CampaignRequest
	a, err := json.Marshal(fields(r))
	if err != nil {
		return nil, err
	}
	t, err := json.Marshal(r.Timing)
	if err != nil || len(t) <= 2 {
		return a, err
	}
	return append(append(a[:len(a)-1], ','), t[1:]...), nil
}

// jsonFieldError turns encoding/json's errors into a RequestError naming
// the field where it can.
func jsonFieldError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &RequestError{Field: te.Field, Value: te.Value, Reason: "want " + te.Type.String()}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &RequestError{Field: "body", Value: strconv.FormatInt(se.Offset, 10), Reason: "malformed JSON: " + se.Error()}
	}
	return err
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
		return &RequestError{Field: "distributionType", Value: r.DistributionType, Reason: "only HTTP campaigns are scheduled through this call"}
	}
	return checkDeviceList(r.DeviceList)
}

// checkDeviceList requires a non-empty list of distinct device ids.
func checkDeviceList(ids []string) error {
	if len(ids) == 0 {
		return &RequestError{Field: "deviceList", Value: "", Reason: "at least one device is required"}
	}
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if id == "" {
			return &RequestError{Field: "deviceList", Value: id, Reason: "empty device id"}
		}
		if _, dup := seen[id]; dup {
			return &RequestError{Field: "deviceList", Value: id, Reason: "listed twice"}
		}
		seen[id] = struct{}{}
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

// admit runs the eligibility checks for one device joining c and writes
// its member record: Accepted (holding the device) or Rejected.
func (m *Manager) admit(tx Tx, o *op, c *Campaign, info DeviceInfo, found bool) (bool, error) {
	other, err := tx.ActiveCampaign(info.DeviceID)
	if err != nil {
		return false, err
	}
	rec, err := tx.Device(info.DeviceID)
	if err != nil {
		return false, err
	}
	// The inventory may know which account a device belongs to: another
	// account's device is not found in this one.
	if info.Account != "" && info.Account != c.Account {
		found = false
	}
	v := device.Check(device.Facts{
		Exists:          found,
		IMEI:            info.DeviceID,
		Protocol:        info.Protocol,
		Make:            info.Make,
		Model:           info.Model,
		Software:        info.Software,
		FOTACapable:     info.FOTACapable,
		Licensed:        info.Licensed || rec.License == device.Licensed,
		ActiveConnected: info.ActiveConnected,
		InOtherCampaign: other != "" && other != c.ID,
	}, device.Prerequisites{
		Protocol:        c.Protocol,
		Make:            c.Target.Make,
		Model:           c.Target.Model,
		SoftwareFrom:    c.Target.SoftwareFrom,
		LicenseRequired: m.licenseRequired,
	})
	mem := Member{CampaignID: c.ID, DeviceID: info.DeviceID, State: device.StateAccepted, UpdatedAt: o.now}
	if v.Status != device.Accepted {
		mem.State, mem.Reason = device.StateRejected, v.Reason
	}
	if err := tx.PutMember(mem); err != nil {
		return false, err
	}
	o.device(c, mem.DeviceID, mem.State, mem.Reason)
	if mem.State != device.StateAccepted {
		return false, nil
	}
	return true, tx.SetActiveCampaign(info.DeviceID, c.ID)
}

// Schedule creates an HTTP campaign (ThingSpace POST /campaigns/{acc}):
// checks the request, the target's pilot gate and every device, and
// leaves the campaign Queued (future), Scheduled (on-demand) or
// RequestFailed (no device passed its checks), with every device Accepted
// or Rejected with its reason. A malformed request or a pilot refusal
// returns an error and creates nothing.
func (m *Manager) Schedule(ctx context.Context, account string, req CampaignRequest) (CampaignInfo, error) {
	if err := req.validate(); err != nil {
		return CampaignInfo{}, err
	}
	infos, found, err := m.lookup(ctx, req.DeviceList)
	if err != nil {
		return CampaignInfo{}, err
	}
	var info CampaignInfo
	err = m.update(ctx, "schedule", func(tx Tx, o *op) error {
		sched, err := schedule.NewHTTP(req.Timing, o.now, m.schedule)
		if err != nil {
			return err
		}
		target := pilot.Target{Make: req.Make, Model: req.Model, SoftwareFrom: req.SoftwareFrom, SoftwareTo: req.SoftwareTo}
		gate, err := tx.Gate(target)
		if err != nil {
			return err
		}
		if err := gate.Admit(len(req.DeviceList), m.pilot); err != nil {
			return err
		}
		seq, err := tx.NextSeq()
		if err != nil {
			return err
		}
		c := Campaign{
			ID: m.newID(seq), Account: account, Name: req.CampaignName, Protocol: device.HTTP,
			Status: campaign.HTTPRequestPending, Target: target, SoftwareName: req.SoftwareName,
			Timing: sched.Request(), StartsAt: sched.StartsAt(), EndsAt: sched.EndsAt(), OnDemand: sched.OnDemand(),
			Pilot: !gate.Lifted(), Revision: 1, CreatedAt: o.now, UpdatedAt: o.now,
		}
		if err := tx.PutCampaign(c); err != nil { // members need their campaign
			return err
		}
		o.campaign(&c)
		accepted := 0
		for i := range infos {
			ok, err := m.admit(tx, o, &c, infos[i], found[i])
			if err != nil {
				return err
			}
			if ok {
				accepted++
			}
		}
		ev := campaign.Accept
		switch {
		case accepted == 0:
			ev = campaign.Reject
		case c.OnDemand:
			ev = campaign.AcceptOnDemand
		}
		if err := m.apply(tx, o, &c, ev); err != nil {
			return err
		}
		if ev == campaign.Accept {
			if err := tx.PutDeadline(Deadline{Kind: DeadlineCampaignStart, Key: c.ID, At: c.StartsAt}); err != nil {
				return err
			}
		}
		if ev != campaign.Reject {
			if err := tx.PutDeadline(Deadline{Kind: DeadlineCampaignEnd, Key: c.ID, At: c.EndsAt}); err != nil {
				return err
			}
		}
		info, err = campaignInfo(tx, c)
		return err
	})
	return info, err
}

// apply moves the campaign through its lifecycle and stores it.
func (m *Manager) apply(tx Tx, o *op, c *Campaign, ev campaign.Event) error {
	next, err := campaign.Next(c.Status, ev)
	if err != nil {
		return err
	}
	c.Status = next
	c.Revision++
	c.UpdatedAt = o.now
	if err := tx.PutCampaign(*c); err != nil {
		return err
	}
	o.campaign(c)
	return nil
}

func campaignInfo(tx Tx, c Campaign) (CampaignInfo, error) {
	counts, err := tx.Counts(c.ID)
	return CampaignInfo{Campaign: c, Counts: counts}, err
}

// load reads a campaign and brings it up to date with the clock: a start
// or end that fell due since the last Tick is applied first, so that no
// operation acts on a stale status.
func (m *Manager) load(tx Tx, o *op, id string) (Campaign, error) {
	c, err := tx.Campaign(id)
	if err != nil {
		return c, err
	}
	return c, m.settle(tx, o, &c)
}

// startDue and endDue say whether the clock has passed a start or an end
// that the campaign's status does not show yet.
func (c *Campaign) startDue(now time.Time) bool {
	return c.Status == campaign.HTTPQueued && !now.Before(c.StartsAt)
}

func (c *Campaign) endDue(now time.Time) bool {
	return (c.Status == campaign.HTTPScheduled || c.Status == campaign.HTTPInProgress) && !now.Before(c.EndsAt)
}

// settle applies the campaign's due start and end.
func (m *Manager) settle(tx Tx, o *op, c *Campaign) error {
	if c.Protocol.Family() != device.FamilyHTTP {
		return nil
	}
	if c.startDue(o.now) {
		if err := m.apply(tx, o, c, campaign.Start); err != nil {
			return err
		}
		if err := tx.DeleteDeadline(DeadlineCampaignStart, c.ID); err != nil {
			return err
		}
	}
	if c.endDue(o.now) {
		return m.end(tx, o, c)
	}
	return nil
}

// settleDue brings the campaign up to date with the clock for a query:
// a read first, and a write only when a start or end fell due since the
// last Tick, so that a query never shows a stale status.
func (m *Manager) settleDue(ctx context.Context, id string) error {
	due := false
	err := m.view(ctx, func(tx Tx, now time.Time) error {
		c, err := tx.Campaign(id)
		due = err == nil && (c.startDue(now) || c.endDue(now))
		return err
	})
	if err != nil || !due {
		return err
	}
	return m.update(ctx, "settle", func(tx Tx, o *op) error {
		_, err := m.load(tx, o, id)
		return err
	})
}

// end closes a started campaign: every device still waiting fails with
// its reason (never reported, or downloaded but not installed), every
// device is released, and the pilot gate learns the outcome.
func (m *Manager) end(tx Tx, o *op, c *Campaign) error {
	if err := m.apply(tx, o, c, campaign.End); err != nil {
		return err
	}
	if err := m.finish(tx, o, c, device.EventCampaignEnd); err != nil {
		return err
	}
	return m.learn(tx, o, c, pilot.EndedNormally)
}

// finish applies ev to every member not yet in a final state, releases
// every device the campaign holds, and drops its deadlines.
func (m *Manager) finish(tx Tx, o *op, c *Campaign, ev device.Event) error {
	fam := c.Protocol.Family()
	after := ""
	for {
		page, err := tx.Members(c.ID, after, 1000)
		if err != nil {
			return err
		}
		for _, mem := range page {
			if !mem.State.Terminal() {
				next, err := device.Next(fam, mem.State, ev)
				if err != nil {
					return err
				}
				mem.State, mem.UpdatedAt = next, o.now
				if err := tx.PutMember(mem); err != nil {
					return err
				}
				o.device(c, mem.DeviceID, mem.State, 0)
			}
			if err := m.release(tx, c.ID, mem.DeviceID); err != nil {
				return err
			}
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].DeviceID
	}
	if err := tx.DeleteDeadline(DeadlineCampaignStart, c.ID); err != nil {
		return err
	}
	// A finished campaign's windows are never asked again. Should the
	// transaction roll back, the schedule is simply compiled anew.
	m.compiled.Delete(c.ID)
	return tx.DeleteDeadline(DeadlineCampaignEnd, c.ID)
}

// release frees a device held by campaign id.
func (m *Manager) release(tx Tx, id, deviceID string) error {
	held, err := tx.ActiveCampaign(deviceID)
	if err != nil || held != id {
		return err
	}
	return tx.SetActiveCampaign(deviceID, "")
}

// learn tells the target's pilot gate how a pilot campaign ended.
func (m *Manager) learn(tx Tx, o *op, c *Campaign, ending pilot.Ending) error {
	if !c.Pilot {
		return nil
	}
	counts, err := tx.Counts(c.ID)
	if err != nil {
		return err
	}
	gate, err := tx.Gate(c.Target)
	if err != nil {
		return err
	}
	next, _, err := gate.Learn(pilot.Outcome{Ending: ending, Devices: counts.Accepted(), Succeeded: counts.Of(device.StateSucceeded)}, o.now, m.pilot)
	if err != nil {
		return err
	}
	if next == gate {
		return nil
	}
	return tx.PutGate(next)
}

// AddDevices adds devices to a campaign that has not started (ThingSpace
// PUT /campaigns/{acc}/{id} with "Type": "append"). Each device passes the
// eligibility checks or joins as Rejected with its reason; the pilot gate
// bounds the campaign's size while it stands.
func (m *Manager) AddDevices(ctx context.Context, campaignID string, ids []string) (CampaignInfo, error) {
	if err := checkDeviceList(ids); err != nil {
		return CampaignInfo{}, err
	}
	infos, found, err := m.lookup(ctx, ids)
	if err != nil {
		return CampaignInfo{}, err
	}
	var info CampaignInfo
	err = m.update(ctx, "addDevices", func(tx Tx, o *op) error {
		c, err := m.load(tx, o, campaignID)
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
		for i := range ids {
			if _, err := m.admit(tx, o, &c, infos[i], found[i]); err != nil {
				return err
			}
		}
		c.Revision++
		c.UpdatedAt = o.now
		if err := tx.PutCampaign(c); err != nil {
			return err
		}
		info, err = campaignInfo(tx, c)
		return err
	})
	return info, err
}

// RemoveDevices takes devices out of a campaign that has not started
// ("Type": "remove"). In the push family, removing the last device cancels
// the campaign.
func (m *Manager) RemoveDevices(ctx context.Context, campaignID string, ids []string) (CampaignInfo, error) {
	if err := checkDeviceList(ids); err != nil {
		return CampaignInfo{}, err
	}
	var info CampaignInfo
	err := m.update(ctx, "removeDevices", func(tx Tx, o *op) error {
		c, err := m.load(tx, o, campaignID)
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
			if err := m.apply(tx, o, &c, campaign.RemoveLast); err != nil {
				return err
			}
			if err := m.finish(tx, o, &c, device.EventCancel); err != nil {
				return err
			}
		} else if err := tx.PutCampaign(c); err != nil {
			return err
		}
		info, err = campaignInfo(tx, c)
		return err
	})
	return info, err
}

// ChangeDates changes an HTTP campaign's dates and windows (ThingSpace PUT
// /campaigns/{acc}/{id}/dates): anything before the start; after it, only a
// later end (no earlier than 24 h from now) and added windows.
func (m *Manager) ChangeDates(ctx context.Context, campaignID string, req schedule.HTTPRequest) (CampaignInfo, error) {
	var info CampaignInfo
	err := m.update(ctx, "changeDates", func(tx Tx, o *op) error {
		c, err := m.load(tx, o, campaignID)
		if err != nil {
			return err
		}
		if c.Protocol.Family() != device.FamilyHTTP {
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
		c.Revision++
		c.UpdatedAt = o.now
		if err := tx.PutCampaign(c); err != nil {
			return err
		}
		if c.Status == campaign.HTTPQueued {
			if err := tx.PutDeadline(Deadline{Kind: DeadlineCampaignStart, Key: c.ID, At: c.StartsAt}); err != nil {
				return err
			}
		}
		if err := tx.PutDeadline(Deadline{Kind: DeadlineCampaignEnd, Key: c.ID, At: c.EndsAt}); err != nil {
			return err
		}
		info, err = campaignInfo(tx, c)
		return err
	})
	return info, err
}

// Cancel cancels a campaign before its start: it and every device in it
// become Cancelled and the devices are free for other campaigns.
func (m *Manager) Cancel(ctx context.Context, campaignID string) (CampaignInfo, error) {
	return m.stop(ctx, "cancel", campaignID, campaign.Cancel)
}

// Abort aborts an HTTP campaign after its start and before its end:
// devices not yet finished become CampaignAborted; upgraded devices stay
// upgraded.
func (m *Manager) Abort(ctx context.Context, campaignID string) (CampaignInfo, error) {
	return m.stop(ctx, "abort", campaignID, campaign.Abort)
}

// Delete is ThingSpace's DELETE /campaigns/{acc}/{id}: a cancel before the
// start, an abort after it.
func (m *Manager) Delete(ctx context.Context, campaignID string) (CampaignInfo, error) {
	return m.stop(ctx, "delete", campaignID, 0)
}

func (m *Manager) stop(ctx context.Context, name, campaignID string, ev campaign.Event) (CampaignInfo, error) {
	var info CampaignInfo
	err := m.update(ctx, name, func(tx Tx, o *op) error {
		c, err := m.load(tx, o, campaignID)
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
		if err := m.apply(tx, o, &c, e); err != nil {
			return err
		}
		dev, ending := device.EventCancel, pilot.Cancelled
		if e == campaign.Abort {
			dev, ending = device.EventAbort, pilot.Aborted
		}
		if err := m.finish(tx, o, &c, dev); err != nil {
			return err
		}
		if err := m.learn(tx, o, &c, ending); err != nil {
			return err
		}
		info, err = campaignInfo(tx, c)
		return err
	})
	return info, err
}
