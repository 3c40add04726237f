package fota

import (
	"context"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
)

// MaxPageSize is the most devices or campaigns one page holds, as in
// ThingSpace's reports.
const MaxPageSize = 1000

// UpgradeHistoryPeriod is how far back a device's upgrade history goes
// ("History covers the previous six months", /v1 device upgrade history).
const UpgradeHistoryPeriod = 183 * 24 * time.Hour

// DeviceStatus is one device of a campaign as ThingSpace reports it, with
// the family's wire spellings.
type DeviceStatus struct {
	DeviceID     string       `json:"deviceId"`
	Status       string       `json:"status"`
	ResultReason string       `json:"resultReason,omitempty"`
	State        device.State `json:"state"` // the fine-grained state behind Status
	// Protocol and Result are a push device's client type and its
	// protocol's own result (LwM2M Update Result, FUMO result code), kept
	// beside ThingSpace's reason.
	Protocol    device.Protocol `json:"protocol,omitzero"`
	Result      uint16          `json:"result,omitzero"`
	UpdatedTime time.Time       `json:"updatedTime"`
}

// DevicePage is one page of a campaign's devices (V2CampaignDevice).
type DevicePage struct {
	TotalDevice      int            `json:"totalDevice"`
	HasMoreData      bool           `json:"hasMoreData"`
	LastSeenDeviceID string         `json:"lastSeenDeviceId,omitempty"`
	MaxPageSize      int            `json:"maxPageSize"`
	DeviceList       []DeviceStatus `json:"deviceList"`
}

// CampaignPage is one page of an account's campaigns.
type CampaignPage struct {
	HasMoreData        bool       `json:"hasMoreData"`
	LastSeenCampaignID string     `json:"lastSeenCampaignId,omitempty"`
	CampaignList       []Campaign `json:"campaignList"`
}

// UpgradeRecord is one campaign in a device's upgrade history (ThingSpace
// DeviceUpgradeHistory, /v1, and DeviceSoftwareUpgrade, /v2).
type UpgradeRecord struct {
	DeviceID     string        `json:"deviceId"`
	CampaignID   string        `json:"id"`
	Account      string        `json:"accountName"`
	Family       device.Family `json:"family"`
	SoftwareName string        `json:"firmwareName"`
	SoftwareFrom string        `json:"firmwareFrom,omitempty"`
	SoftwareTo   string        `json:"firmwareTo"`
	StartDate    string        `json:"startDate"`
	// StartedAt is when the campaign started updating devices (its start
	// time, or zero before it).
	StartedAt time.Time    `json:"upgradeStartTime,omitzero"`
	Status    string       `json:"status"`
	Reason    string       `json:"reason,omitempty"`
	State     device.State `json:"state"`
	Result    uint16       `json:"result,omitzero"`
	UpdatedAt time.Time    `json:"updatedTime"`
}

func pageSize(limit int) int {
	if limit <= 0 || limit > MaxPageSize {
		return MaxPageSize
	}
	return limit
}

// Campaign returns an account's campaign and its device counts, as of now
// (a start or end that fell due is applied first).
func (m *Manager) Campaign(ctx context.Context, account, id string) (CampaignInfo, error) {
	if err := m.settleDue(ctx, account, id); err != nil {
		return CampaignInfo{}, err
	}
	var info CampaignInfo
	err := m.view(ctx, func(tx Tx, now time.Time) error {
		c, err := load(tx, account, id)
		if err != nil {
			return err
		}
		info, err = campaignInfo(tx, c, now)
		return err
	})
	return info, err
}

// Devices returns one page of an account's campaign's devices in
// device-id order, after lastSeenDeviceID ("" or "0" for the first page),
// at most limit (and at most MaxPageSize) of them.
func (m *Manager) Devices(ctx context.Context, account, campaignID, lastSeenDeviceID string, limit int) (DevicePage, error) {
	n := pageSize(limit)
	if lastSeenDeviceID == "0" {
		lastSeenDeviceID = ""
	}
	if err := m.settleDue(ctx, account, campaignID); err != nil {
		return DevicePage{}, err
	}
	page := DevicePage{MaxPageSize: MaxPageSize}
	err := m.view(ctx, func(tx Tx, now time.Time) error {
		c, err := load(tx, account, campaignID)
		if err != nil {
			return err
		}
		counts, err := tx.Counts(c.ID)
		if err != nil {
			return err
		}
		page.TotalDevice = counts.Total()
		members, err := tx.Members(c.ID, lastSeenDeviceID, n+1)
		if err != nil {
			return err
		}
		if len(members) > n {
			page.HasMoreData, members = true, members[:n]
		}
		st := effective(&c, now)
		page.DeviceList = make([]DeviceStatus, len(members))
		for i, mem := range members {
			page.DeviceList[i] = deviceStatus(&c, st, mem)
		}
		if len(members) > 0 {
			page.LastSeenDeviceID = members[len(members)-1].DeviceID
		}
		return nil
	})
	return page, err
}

// deviceStatus is a member as a campaign in status st reports it.
func deviceStatus(c *Campaign, st campaign.Status, mem Member) DeviceStatus {
	s := effectiveState(c.Family, st, mem.State)
	r := mem.Reason
	if r == 0 || s != mem.State {
		r = s.Reason()
	}
	return DeviceStatus{
		DeviceID: mem.DeviceID, Status: s.Status().Wire(c.Family), ResultReason: r.Text(c.Family),
		State: s, Protocol: mem.Push.Protocol, Result: mem.Push.Result, UpdatedTime: mem.UpdatedAt,
	}
}

// Campaigns returns one page of an account's campaigns in id order, after
// lastSeenCampaignID, optionally only those whose status at now is status
// (zero: any).
func (m *Manager) Campaigns(ctx context.Context, account string, status campaign.Status, lastSeenCampaignID string, limit int) (CampaignPage, error) {
	n := pageSize(limit)
	if lastSeenCampaignID == "0" {
		lastSeenCampaignID = ""
	}
	var page CampaignPage
	err := m.view(ctx, func(tx Tx, now time.Time) error {
		after := lastSeenCampaignID
		for len(page.CampaignList) <= n {
			batch, err := tx.Campaigns(account, after, MaxPageSize)
			if err != nil {
				return err
			}
			for _, c := range batch {
				c.Status = effective(&c, now)
				if status == 0 || c.Status == status {
					page.CampaignList = append(page.CampaignList, c)
				}
			}
			if len(batch) < MaxPageSize {
				break
			}
			after = batch[len(batch)-1].ID
		}
		if len(page.CampaignList) > n {
			page.HasMoreData, page.CampaignList = true, page.CampaignList[:n]
		}
		if k := len(page.CampaignList); k > 0 {
			page.LastSeenCampaignID = page.CampaignList[k-1].ID
		}
		return nil
	})
	return page, err
}

// UpgradeHistory returns a device's upgrade history in the account: every
// campaign of the account that held it, updated within
// UpgradeHistoryPeriod, ordered by campaign id.
func (m *Manager) UpgradeHistory(ctx context.Context, account, deviceID string) ([]UpgradeRecord, error) {
	if err := checkDeviceID("deviceId", deviceID); err != nil {
		return nil, err
	}
	out := []UpgradeRecord{}
	err := m.view(ctx, func(tx Tx, now time.Time) error {
		members, err := tx.DeviceMembers(deviceID)
		if err != nil {
			return err
		}
		for _, mem := range members {
			c, err := tx.Campaign(mem.CampaignID)
			if err != nil {
				return err
			}
			if c.Account != account || now.Sub(mem.UpdatedAt) > UpgradeHistoryPeriod {
				continue
			}
			st := effective(&c, now)
			ds := deviceStatus(&c, st, mem)
			rec := UpgradeRecord{
				DeviceID: deviceID, CampaignID: c.ID, Account: c.Account, Family: c.Family,
				SoftwareName: c.Target.SoftwareName, SoftwareFrom: c.Target.SoftwareFrom, SoftwareTo: c.Target.SoftwareTo,
				StartDate: c.Timing.StartDate.String(), Status: ds.Status, Reason: ds.ResultReason,
				State: ds.State, Result: ds.Result, UpdatedAt: mem.UpdatedAt,
			}
			if !now.Before(c.StartsAt) {
				rec.StartedAt = c.StartsAt
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}
