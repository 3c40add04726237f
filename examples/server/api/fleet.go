package api

import (
	"context"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// fleet is every call this package makes into the Manager, each scoped to
// an account (a campaign or device of another account is not found: the
// Manager checks campaigns; ownDevices adds the server's own inventory
// check on device lists). Nothing else in the package touches the Manager.
type fleet struct {
	m   *fota.Manager
	inv fota.Inventory // Options.Inventory: who owns a device; nil: no device scoping
}

// schedule creates an HTTP campaign for the account.
func (f fleet) schedule(ctx context.Context, acc string, req fota.CampaignRequest) (fota.Campaign, error) {
	if err := f.ownDevices(ctx, acc, req.DeviceList); err != nil {
		return fota.Campaign{}, err
	}
	info, err := f.m.Schedule(ctx, acc, req)
	return info.Campaign, err
}

// campaign returns the account's campaign: another account's is not
// found, exactly like one that does not exist, so ids do not leak.
func (f fleet) campaign(ctx context.Context, acc, id string) (fota.Campaign, error) {
	info, err := f.m.Campaign(ctx, acc, id)
	return info.Campaign, err
}

// changeDevices appends devices to the campaign (add) or removes them,
// and returns the campaign's new revision.
func (f fleet) changeDevices(ctx context.Context, acc, id string, add bool, ids []string) (uint64, error) {
	change := f.m.RemoveDevices
	if add {
		if err := f.ownDevices(ctx, acc, ids); err != nil {
			return 0, err
		}
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

// campaigns is one page of the account's campaigns in one status (zero:
// every status).
func (f fleet) campaigns(ctx context.Context, acc string, status campaign.Status, after string, limit int) (fota.CampaignPage, error) {
	return f.m.Campaigns(ctx, acc, status, after, limit)
}

// devices is one page of the campaign's devices.
func (f fleet) devices(ctx context.Context, acc, id, after string, limit int) (fota.DevicePage, error) {
	return f.m.Devices(ctx, acc, id, after, limit)
}

// loggingDevices lists the account's devices with verbose logging on.
func (f fleet) loggingDevices(ctx context.Context, acc string) ([]fota.LoggingStatus, error) {
	return f.m.LoggingDevices(ctx, acc)
}

// enableLogging turns verbose logging on for the account's devices.
func (f fleet) enableLogging(ctx context.Context, acc string, ids []string) ([]fota.LoggingStatus, error) {
	if err := f.ownDevices(ctx, acc, ids); err != nil {
		return nil, err
	}
	return f.m.EnableLogging(ctx, acc, ids)
}

// disableLogging turns verbose logging off for the account's devices.
func (f fleet) disableLogging(ctx context.Context, acc string, ids []string) error {
	if err := f.ownDevices(ctx, acc, ids); err != nil {
		return err
	}
	return f.m.DisableLogging(ctx, acc, ids)
}

// fetchLogs returns the log bundles of one of the account's devices.
func (f fleet) fetchLogs(ctx context.Context, acc, id string) ([]verboselog.Bundle, error) {
	if err := f.ownDevices(ctx, acc, []string{id}); err != nil {
		return nil, err
	}
	return f.m.FetchLogs(ctx, acc, id)
}

// checkInHistory returns one page of a device's check-ins, newest first.
func (f fleet) checkInHistory(ctx context.Context, acc, id string) ([]verboselog.CheckIn, error) {
	if err := f.ownDevices(ctx, acc, []string{id}); err != nil {
		return nil, err
	}
	return f.m.CheckInHistory(ctx, acc, id, time.Time{}, verboselog.MaxPage)
}

// license assigns (assign) or removes one device's licence. Licence
// answers are per device, so the handler calls this once per device and
// one device's refusal does not undo another's success.
func (f fleet) license(ctx context.Context, acc, id string, assign bool) (fota.LicenseResult, error) {
	if err := f.ownDevices(ctx, acc, []string{id}); err != nil {
		return fota.LicenseResult{}, err
	}
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

// ownDevices refuses device ids that the inventory records for another
// account (not found, as if unknown).
func (f fleet) ownDevices(ctx context.Context, acc string, ids []string) error {
	if f.inv == nil {
		return nil
	}
	for _, id := range ids {
		info, found, err := f.inv.Lookup(ctx, id)
		if err != nil {
			return err
		}
		if found && info.Account != "" && info.Account != acc {
			return &fota.NotFoundError{Kind: "device", ID: id}
		}
	}
	return nil
}
