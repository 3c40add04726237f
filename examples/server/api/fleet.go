package api

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// fleet is every call this package makes into the Manager, each scoped to
// an account: the Manager answers a campaign of another account as not
// found, and a device its inventory records for another account as it
// answers an unknown one ("Device not found." in a schedule, not found
// in licence, logging and history calls), so ids do not leak. Nothing
// else in the package touches the Manager.
type fleet struct {
	m *fota.Manager
}

// schedule creates an HTTP campaign for the account.
func (f fleet) schedule(ctx context.Context, acc string, req fota.CampaignRequest) (fota.Campaign, error) {
	info, err := f.m.Schedule(ctx, acc, req)
	return info.Campaign, err
}

// scheduleUpgrade creates a push (/v1) campaign for the account.
func (f fleet) scheduleUpgrade(ctx context.Context, acc string, req fota.UpgradeRequest) (fota.Campaign, error) {
	info, err := f.m.ScheduleUpgrade(ctx, acc, req)
	return info.Campaign, err
}

// campaign returns the account's campaign of the family: another
// account's is not found, exactly like one that does not exist, so ids do
// not leak; one of the other family is refused (ErrWrongFamily) with the
// path that serves it, as /v1 serves push campaigns and /v2 HTTP ones.
func (f fleet) campaign(ctx context.Context, acc, id string, family device.Family) (fota.Campaign, error) {
	info, err := f.m.Campaign(ctx, acc, id)
	if err != nil {
		return fota.Campaign{}, err
	}
	if c := info.Campaign; c.Family != family {
		if c.Family == device.FamilyPush {
			return fota.Campaign{}, fmt.Errorf("campaign %s is a /v1 upgrade of push devices: see %s/upgrades/%s/upgrade/%s: %w", c.ID, V1Prefix, acc, c.ID, fota.ErrWrongFamily)
		}
		return fota.Campaign{}, fmt.Errorf("upgrade %s is a /v2 campaign of HTTP devices: see %s/campaigns/%s/%s: %w", c.ID, V2Prefix, acc, c.ID, fota.ErrWrongFamily)
	}
	return info.Campaign, nil
}

// changeDevices appends devices to the campaign (add) or removes them,
// and returns the campaign's new revision.
func (f fleet) changeDevices(ctx context.Context, acc, id string, add bool, ids []string) (uint64, error) {
	change := f.m.RemoveDevices
	if add {
		change = f.m.AddDevices
	}
	info, err := change(ctx, acc, id, ids)
	return info.Revision, err
}

// changeDates replaces the campaign's dates and windows.
func (f fleet) changeDates(ctx context.Context, acc, id string, timing schedule.HTTPRequest) (fota.Campaign, error) {
	info, err := f.m.ChangeDates(ctx, acc, id, timing)
	return info.Campaign, err
}

// delete cancels the campaign before its start and aborts it after.
func (f fleet) delete(ctx context.Context, acc, id string) error {
	_, err := f.m.Delete(ctx, acc, id)
	return err
}

// campaigns lists the account's campaigns that keep accepts, in id
// order after the id after: at most limit of them (all when limit < 0),
// and whether more follow. It reads the Manager's pages of every status
// and filters them, so it costs O(the account's campaigns after after).
func (f fleet) campaigns(ctx context.Context, acc, after string, limit int, keep func(fota.Campaign) bool) ([]fota.Campaign, bool, error) {
	var out []fota.Campaign
	for {
		page, err := f.m.Campaigns(ctx, acc, 0, after, fota.MaxPageSize)
		if err != nil {
			return nil, false, err
		}
		for _, c := range page.CampaignList {
			if !keep(c) {
				continue
			}
			if limit >= 0 && len(out) == limit {
				return out, true, nil
			}
			out = append(out, c)
		}
		if !page.HasMoreData {
			return out, false, nil
		}
		after = page.LastSeenCampaignID
	}
}

// downloadsInUse is the download URLs of the account's campaigns that
// have not ended (their devices may still fetch them).
func (f fleet) downloadsInUse(ctx context.Context, acc string) (map[string]bool, error) {
	urls := map[string]bool{}
	_, _, err := f.campaigns(ctx, acc, "", -1, func(c fota.Campaign) bool {
		if c.Status.Active() && c.Package.URL != "" {
			urls[c.Package.URL] = true
		}
		return false
	})
	return urls, err
}

// devices is one page of the campaign's devices.
func (f fleet) devices(ctx context.Context, acc, id, after string, limit int) (fota.DevicePage, error) {
	return f.m.Devices(ctx, acc, id, after, limit)
}

// allDevices is every device of the campaign, read page by page.
func (f fleet) allDevices(ctx context.Context, acc, id string) ([]fota.DeviceStatus, error) {
	out := []fota.DeviceStatus{}
	after := ""
	for {
		page, err := f.m.Devices(ctx, acc, id, after, fota.MaxPageSize)
		if err != nil {
			return nil, err
		}
		out = append(out, page.DeviceList...)
		if !page.HasMoreData {
			return out, nil
		}
		after = page.LastSeenDeviceID
	}
}

// upgradeHistory is a device's campaigns of the family in the account,
// within fota.UpgradeHistoryPeriod.
func (f fleet) upgradeHistory(ctx context.Context, acc, deviceID string, family device.Family) ([]fota.UpgradeRecord, error) {
	recs, err := f.m.UpgradeHistory(ctx, acc, deviceID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(recs, func(r fota.UpgradeRecord) bool { return r.Family != family }), nil
}

// loggingDevices lists the account's devices with verbose logging on.
func (f fleet) loggingDevices(ctx context.Context, acc string) ([]fota.LoggingStatus, error) {
	return f.m.LoggingDevices(ctx, acc)
}

// enableLogging turns verbose logging on for the account's devices.
func (f fleet) enableLogging(ctx context.Context, acc string, ids []string) ([]fota.LoggingStatus, error) {
	return f.m.EnableLogging(ctx, acc, ids)
}

// disableLogging turns verbose logging off for the account's devices.
func (f fleet) disableLogging(ctx context.Context, acc string, ids []string) error {
	return f.m.DisableLogging(ctx, acc, ids)
}

// fetchLogs returns the log bundles of one of the account's devices.
func (f fleet) fetchLogs(ctx context.Context, acc, id string) ([]verboselog.Bundle, error) {
	return f.m.FetchLogs(ctx, acc, id)
}

// checkInHistory returns one page of a device's check-ins, newest first.
func (f fleet) checkInHistory(ctx context.Context, acc, id string) ([]verboselog.CheckIn, error) {
	return f.m.CheckInHistory(ctx, acc, id, time.Time{}, verboselog.MaxPage)
}

// license assigns (assign) or removes one device's licence. Licence
// answers are per device, so the handler calls this once per device and
// one device's refusal does not undo another's success.
func (f fleet) license(ctx context.Context, acc, id string, assign bool) (fota.LicenseResult, error) {
	op := f.m.RemoveLicenses
	if assign {
		op = f.m.AssignLicenses
	}
	res, err := op(ctx, acc, []string{id})
	if err != nil {
		return fota.LicenseResult{}, err
	}
	return res[0], nil
}

// licenses is one page of the account's licensed devices, with how many
// licences it has assigned in all.
func (f fleet) licenses(ctx context.Context, acc, after string, limit int) (fota.LicensePage, error) {
	return f.m.Licenses(ctx, acc, after, limit)
}

// checkIn, report and uploadLog are the device side: the device itself
// is authenticated before they run, so they need no account.
func (f fleet) checkIn(ctx context.Context, req fota.CheckInRequest) (fota.Instruction, error) {
	return f.m.CheckIn(ctx, req)
}

func (f fleet) report(ctx context.Context, campaignID, deviceID string, o fota.Outcome) (device.State, error) {
	return f.m.Report(ctx, campaignID, deviceID, o)
}

func (f fleet) uploadLog(ctx context.Context, b verboselog.Bundle) error {
	return f.m.UploadLog(ctx, b)
}
