package fota

import (
	"context"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
)

// UpgradeRequest is a /v1 (push family: LwM2M and OMA-DM) schedule request,
// ThingSpace's FirmwareUpgradeRequest (POST /upgrades, the account in the
// body). ThingSpace's parameter checks use make, model and the current
// firmware; its body carries none of them, as the firmware package names
// them. fota takes them from its PackageCatalog when the host has one that
// knows FirmwareName, and from the optional fields otherwise (empty: any).
type UpgradeRequest struct {
	AccountName  string        `json:"accountName"`
	CampaignName string        `json:"campaignName,omitempty"`
	FirmwareName string        `json:"firmwareName"`
	FirmwareTo   string        `json:"firmwareTo"`
	StartDate    schedule.Date `json:"startDate"`
	EndDate      schedule.Date `json:"endDate"`
	DeviceList   []string      `json:"deviceList"`
	// The prerequisites, beyond ThingSpace's body.
	Make         string `json:"make,omitempty"`
	Model        string `json:"model,omitempty"`
	FirmwareFrom string `json:"firmwareFrom,omitempty"`
}

func (r *UpgradeRequest) validate(account string) error {
	for _, f := range []struct{ name, value string }{
		{"accountName", r.AccountName}, {"firmwareName", r.FirmwareName}, {"firmwareTo", r.FirmwareTo},
	} {
		if f.value == "" {
			return &RequestError{Field: f.name, Value: "", Reason: "required"}
		}
	}
	if r.AccountName != account {
		return &RequestError{Field: "accountName", Value: r.AccountName, Reason: "not the account the request is made for"}
	}
	if err := checkTexts(
		text{"accountName", r.AccountName, maxName}, text{"campaignName", r.CampaignName, maxName},
		text{"firmwareName", r.FirmwareName, maxName}, text{"firmwareTo", r.FirmwareTo, maxName},
		text{"make", r.Make, maxName}, text{"model", r.Model, maxName}, text{"firmwareFrom", r.FirmwareFrom, maxName},
	); err != nil {
		return err
	}
	if err := checkTiming(schedule.HTTPRequest{StartDate: r.StartDate, EndDate: r.EndDate}); err != nil {
		return err
	}
	switch {
	case r.EndDate.IsZero():
		return &RequestError{Field: "endDate", Value: "", Reason: "required", Err: schedule.ErrMissingDate}
	case r.EndDate.Before(r.StartDate):
		return &RequestError{Field: "endDate", Value: r.EndDate.String(), Reason: "before startDate " + r.StartDate.String(), Err: schedule.ErrEndBeforeStart}
	}
	return checkDeviceList(r.DeviceList)
}

// ScheduleUpgrade creates a push campaign for the account (ThingSpace /v1
// POST /upgrades): RequestPending, then Queued once the parameter checks
// pass (FOTA eligibility, unknown client type, make, model, firmware,
// device in another campaign), each device "Device Accepted" or "Device
// Rejected" with its reason, or RequestFailed when no device passes. A
// device's protocol (LwM2M or OMA-DM) comes from the inventory's client
// type; one campaign may hold both. A start date of today is on-demand
// (the campaign starts after the pre-validation delay, Schedule.
// PreValidation, 2 h); a later one starts at 00:00 UTC that day. The
// campaign runs to the end of its end date and is then Finished. Push
// campaigns have no pilot gate (it is the HTTP family's). A malformed
// request returns an error and creates nothing.
func (m *Manager) ScheduleUpgrade(ctx context.Context, account string, req UpgradeRequest) (CampaignInfo, error) {
	if err := checkAccount(account); err != nil {
		return CampaignInfo{}, err
	}
	if err := req.validate(account); err != nil {
		return CampaignInfo{}, err
	}
	pkg, err := m.resolvePackage(ctx, account, req.FirmwareName, req.Make, req.Model, req.FirmwareFrom, req.FirmwareTo)
	if err != nil {
		return CampaignInfo{}, err
	}
	return m.scheduleCampaign(ctx, "scheduleUpgrade", account, req.DeviceList, pkg, func(_ Tx, o *op) (Campaign, error) {
		start, err := schedule.NewPush(req.StartDate, o.now, m.schedule)
		if err != nil {
			return Campaign{}, err
		}
		c := Campaign{
			Account: account, Name: req.CampaignName, Family: device.FamilyPush,
			Status: campaign.PushRequestPending,
			Target: pilot.Target{Account: account, SoftwareName: req.FirmwareName, SoftwareFrom: pkg.From, SoftwareTo: pkg.To},
			Make:   pkg.Make, Model: pkg.Model, Package: pkg,
			Timing:   schedule.HTTPRequest{StartDate: req.StartDate, EndDate: req.EndDate},
			StartsAt: start.StartsAt(), EndsAt: req.EndDate.End(), OnDemand: start.OnDemand(),
		}
		if !c.StartsAt.Before(c.EndsAt) {
			// An on-demand campaign scheduled late on its end date would
			// start after its end.
			return Campaign{}, &RequestError{Field: "endDate", Value: req.EndDate.String(), Reason: "the campaign would start (" + c.StartsAt.Format(timeLayout) + ") after it ends", Err: schedule.ErrEndBeforeStart}
		}
		return c, nil
	})
}

// FailUpgrade records that the push server cannot run an account's Queued
// campaign (ThingSpace: a Queued upgrade that did not run becomes
// UpgradeFailed): the campaign becomes UpgradeFailed and each of its
// devices Upgrade Failed with "Internal System Error. Please retry
// upgrade.". The host calls it when its LwM2M or OMA-DM server cannot take
// the campaign (say, no transport for a protocol the campaign holds).
func (m *Manager) FailUpgrade(ctx context.Context, account, campaignID string) (CampaignInfo, error) {
	var info CampaignInfo
	err := m.update(ctx, "failUpgrade", func(tx Tx, o *op) error {
		c, err := m.loadSettled(tx, o, account, campaignID)
		if err != nil {
			return err
		}
		if c.Family != device.FamilyPush {
			return &FamilyError{Op: "fail upgrade", ID: c.ID, Protocol: c.Protocol}
		}
		if err := m.finishWith(tx, o, &c, campaign.Fail); err != nil {
			return err
		}
		info, err = campaignInfo(tx, c, o.now)
		return err
	})
	return info, err
}
