package fota

import (
	"context"
	"time"

	"github.com/fotakit/fota/device"
)

// LicenseResult is one device's outcome of a licence assignment or
// removal.
type LicenseResult struct {
	DeviceID string
	Status   device.LicenseStatus
	Reason   device.Reason
}

// AssignLicenses assigns FOTA licences to devices of an account.
func (m *Manager) AssignLicenses(ctx context.Context, account string, deviceIDs []string) ([]LicenseResult, error) {
	return m.licenses(ctx, "assignLicenses", account, deviceIDs, func(d DeviceRecord) (device.License, device.LicenseOutcome, error) {
		return device.AssignLicense(d.License)
	})
}

// RemoveLicenses removes devices' licences. A device that ever upgraded
// its firmware keeps its licence: LicenseRemoveFailed with "License removal
// not allowed for devices that have ever upgraded firmware."
func (m *Manager) RemoveLicenses(ctx context.Context, account string, deviceIDs []string) ([]LicenseResult, error) {
	return m.licenses(ctx, "removeLicenses", account, deviceIDs, func(d DeviceRecord) (device.License, device.LicenseOutcome, error) {
		return device.RemoveLicense(d.License, d.EverUpgraded)
	})
}

func (m *Manager) licenses(ctx context.Context, name, account string, deviceIDs []string, fn func(DeviceRecord) (device.License, device.LicenseOutcome, error)) ([]LicenseResult, error) {
	if err := checkDeviceList(deviceIDs); err != nil {
		return nil, err
	}
	if _, err := m.owned(ctx, account, deviceIDs); err != nil {
		return nil, err
	}
	var out []LicenseResult
	err := m.update(ctx, name, func(tx Tx, o *op) error {
		out = out[:0]
		for _, id := range deviceIDs {
			d, err := tx.Device(id)
			if err != nil {
				return err
			}
			if d.License == 0 { // never licensed through the Manager
				d.License = device.Unlicensed
			}
			l, res, err := fn(d)
			if err != nil {
				return err
			}
			if l == device.Licensed && d.License != device.Licensed {
				d.LicensedAt = o.now
			}
			d.Account, d.License = account, l
			if err := tx.PutDevice(d); err != nil {
				return err
			}
			out = append(out, LicenseResult{DeviceID: id, Status: res.Status, Reason: res.Reason})
			if o.observe {
				o.changes = append(o.changes, Change{Kind: LicenseChanged, Time: o.now, Account: account, DeviceID: id,
					Family: device.FamilyHTTP, License: res.Status, Reason: res.Reason})
			}
		}
		return nil
	})
	return out, err
}

// LicensedDevice is one device holding a licence (ThingSpace's
// AccountLicenseDeviceListItem / V2LicenseDevice).
type LicensedDevice struct {
	DeviceID   string    `json:"deviceId"`
	AssignedAt time.Time `json:"assignmentTime"`
}

// LicensePage is one page of an account's licensed devices, with how many
// licences the account has assigned in all.
type LicensePage struct {
	Assigned         int              `json:"assignedLicenses"`
	HasMoreData      bool             `json:"hasMoreData"`
	LastSeenDeviceID string           `json:"lastSeenDeviceId,omitempty"`
	DeviceList       []LicensedDevice `json:"deviceList"`
}

// Licenses returns one page of the account's devices holding a licence
// assigned through the Manager, in device-id order after lastSeenDeviceID
// ("" or "0" for the first), at most limit (and MaxPageSize), with the
// account's total. How many licences an account bought is the host's to
// know (ThingSpace's totalLicenses).
func (m *Manager) Licenses(ctx context.Context, account, lastSeenDeviceID string, limit int) (LicensePage, error) {
	if err := checkAccount(account); err != nil {
		return LicensePage{}, err
	}
	n := pageSize(limit)
	if lastSeenDeviceID == "0" {
		lastSeenDeviceID = ""
	}
	page := LicensePage{DeviceList: []LicensedDevice{}}
	err := m.view(ctx, func(tx Tx, _ time.Time) error {
		after := ""
		for {
			recs, err := tx.DeviceRecords(account, after, MaxPageSize)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if r.License != device.Licensed {
					continue
				}
				page.Assigned++
				if r.DeviceID > lastSeenDeviceID && len(page.DeviceList) <= n {
					page.DeviceList = append(page.DeviceList, LicensedDevice{DeviceID: r.DeviceID, AssignedAt: r.LicensedAt})
				}
			}
			if len(recs) < MaxPageSize {
				break
			}
			after = recs[len(recs)-1].DeviceID
		}
		if len(page.DeviceList) > n {
			page.HasMoreData, page.DeviceList = true, page.DeviceList[:n]
		}
		if k := len(page.DeviceList); k > 0 {
			page.LastSeenDeviceID = page.DeviceList[k-1].DeviceID
		}
		return nil
	})
	return page, err
}
