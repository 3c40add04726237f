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

// DeviceStatus is one device of a campaign as ThingSpace reports it, with
// the family's wire spellings.
type DeviceStatus struct {
	DeviceID     string       `json:"deviceId"`
	Status       string       `json:"status"`
	ResultReason string       `json:"resultReason,omitempty"`
	State        device.State `json:"-"` // the fine-grained state behind Status
	UpdatedTime  time.Time    `json:"updatedTime"`
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

func pageSize(limit int) int {
	if limit <= 0 || limit > MaxPageSize {
		return MaxPageSize
	}
	return limit
}

// Campaign returns a campaign and its device counts.
func (m *Manager) Campaign(ctx context.Context, id string) (CampaignInfo, error) {
	if err := m.settleDue(ctx, id); err != nil {
		return CampaignInfo{}, err
	}
	var info CampaignInfo
	err := m.view(ctx, func(tx Tx, _ time.Time) error {
		c, err := tx.Campaign(id)
		if err != nil {
			return err
		}
		info, err = campaignInfo(tx, c)
		return err
	})
	return info, err
}

// Devices returns one page of a campaign's devices in device-id order,
// after lastSeenDeviceID ("" or "0" for the first page), at most limit
// (and at most MaxPageSize) of them.
func (m *Manager) Devices(ctx context.Context, campaignID, lastSeenDeviceID string, limit int) (DevicePage, error) {
	n := pageSize(limit)
	if lastSeenDeviceID == "0" {
		lastSeenDeviceID = ""
	}
	if err := m.settleDue(ctx, campaignID); err != nil {
		return DevicePage{}, err
	}
	page := DevicePage{MaxPageSize: MaxPageSize}
	err := m.view(ctx, func(tx Tx, _ time.Time) error {
		c, err := tx.Campaign(campaignID)
		if err != nil {
			return err
		}
		counts, err := tx.Counts(c.ID)
		if err != nil {
			return err
		}
		for _, k := range counts {
			page.TotalDevice += k
		}
		members, err := tx.Members(c.ID, lastSeenDeviceID, n+1)
		if err != nil {
			return err
		}
		if len(members) > n {
			page.HasMoreData, members = true, members[:n]
		}
		fam := c.Protocol.Family()
		page.DeviceList = make([]DeviceStatus, len(members))
		for i, mem := range members {
			r := mem.Reason
			if r == 0 {
				r = mem.State.Reason()
			}
			page.DeviceList[i] = DeviceStatus{
				DeviceID: mem.DeviceID, Status: mem.State.Status().Wire(fam), ResultReason: r.Text(fam),
				State: mem.State, UpdatedTime: mem.UpdatedAt,
			}
		}
		if len(members) > 0 {
			page.LastSeenDeviceID = members[len(members)-1].DeviceID
		}
		return nil
	})
	return page, err
}

// Campaigns returns one page of an account's campaigns in id order, after
// lastSeenCampaignID, optionally only those in status (zero: any).
func (m *Manager) Campaigns(ctx context.Context, account string, status campaign.Status, lastSeenCampaignID string, limit int) (CampaignPage, error) {
	n := pageSize(limit)
	if lastSeenCampaignID == "0" {
		lastSeenCampaignID = ""
	}
	if err := m.settleAccount(ctx, account); err != nil {
		return CampaignPage{}, err
	}
	var page CampaignPage
	err := m.view(ctx, func(tx Tx, _ time.Time) error {
		after := lastSeenCampaignID
		for len(page.CampaignList) <= n {
			batch, err := tx.Campaigns(account, after, MaxPageSize)
			if err != nil {
				return err
			}
			for _, c := range batch {
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

// settleAccount settles every campaign of the account whose start or end
// fell due, so that a listing by status is current.
func (m *Manager) settleAccount(ctx context.Context, account string) error {
	var due []string
	err := m.view(ctx, func(tx Tx, now time.Time) error {
		after := ""
		for {
			batch, err := tx.Campaigns(account, after, MaxPageSize)
			if err != nil {
				return err
			}
			for _, c := range batch {
				if c.startDue(now) || c.endDue(now) {
					due = append(due, c.ID)
				}
			}
			if len(batch) < MaxPageSize {
				return nil
			}
			after = batch[len(batch)-1].ID
		}
	})
	for _, id := range due {
		if err == nil {
			err = m.settleDue(ctx, id)
		}
	}
	return err
}
