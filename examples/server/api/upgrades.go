package api

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
)

// FirmwareUpgrade is a /v1 push campaign (FirmwareUpgrade): the request's
// fields, its status (RequestPending, RequestFailed, Queued, InProgress,
// Finished, UpgradeFailed, or fota's Cancelled) and its devices with
// their push statuses ("Device Accepted", "Upgrade Success", ...).
// Beyond the SDK's model it carries endDate, and campaignName,
// firmwareFrom, make and model where the request or the catalog gave
// them; a client built from the SDK drops them.
type FirmwareUpgrade struct {
	ID           string         `json:"id"`
	AccountName  string         `json:"accountName"`
	CampaignName string         `json:"campaignName,omitempty"`
	FirmwareName string         `json:"firmwareName"`
	FirmwareFrom string         `json:"firmwareFrom,omitempty"`
	FirmwareTo   string         `json:"firmwareTo"`
	Make         string         `json:"make,omitempty"`
	Model        string         `json:"model,omitempty"`
	StartDate    schedule.Date  `json:"startDate"`
	EndDate      schedule.Date  `json:"endDate"`
	Status       string         `json:"status"`
	DeviceList   []DeviceResult `json:"deviceList,omitempty"` // FirmwareUpgradeDeviceListItem
}

func firmwareUpgrade(c fota.Campaign, devices []fota.DeviceStatus) FirmwareUpgrade {
	out := FirmwareUpgrade{ID: c.ID, AccountName: c.Account, CampaignName: c.Name,
		FirmwareName: c.Target.SoftwareName, FirmwareFrom: c.Target.SoftwareFrom, FirmwareTo: c.Target.SoftwareTo,
		Make: c.Make, Model: c.Model, StartDate: c.Timing.StartDate, EndDate: c.Timing.EndDate, Status: c.Status.String()}
	if devices != nil {
		out.DeviceList = make([]DeviceResult, len(devices))
		for i, d := range devices {
			out.DeviceList[i] = DeviceResult{DeviceID: d.DeviceID, Status: d.Status, ResultReason: d.ResultReason}
		}
	}
	return out
}

// FirmwareUpgradeChangeResult answers a /v1 device change
// (FirmwareUpgradeChangeResult): each listed device's status afterwards.
type FirmwareUpgradeChangeResult struct {
	AccountName string           `json:"accountName"`
	ID          string           `json:"id"`
	DeviceList  []DeviceResultV1 `json:"deviceList"`
}

// statusRemoved is a device's status in a /v1 change result once it was
// removed: ThingSpace names none; this server's, in /v1's "Device ..."
// spelling.
const statusRemoved = "Device Removed"

// UpgradeListQueryResult is one page of an account's /v1 upgrades in one
// status (UpgradeListQueryResult). lastSeenUpgradeId is the last
// upgrade's index (fota.Campaign.Seq), the next page's startIndex.
type UpgradeListQueryResult struct {
	HasMoreFlag       bool              `json:"hasMoreFlag"`
	LastSeenUpgradeID uint64            `json:"lastSeenUpgradeId,omitempty"`
	ReportList        []FirmwareUpgrade `json:"reportList"`
}

// DeviceUpgradeHistory is one /v1 upgrade in a device's history
// (DeviceUpgradeHistory).
type DeviceUpgradeHistory struct {
	DeviceID         string `json:"deviceId"`
	ID               string `json:"id"`
	AccountName      string `json:"accountName"`
	FirmwareFrom     string `json:"firmwareFrom,omitempty"`
	FirmwareTo       string `json:"firmwareTo"`
	StartDate        string `json:"startDate"`
	UpgradeStartTime string `json:"upgradeStartTime,omitempty"`
	Status           string `json:"status"`
	Reason           string `json:"reason,omitempty"`
}

// DeviceSoftwareUpgrade is one /v2 campaign in a device's history
// (DeviceSoftwareUpgrade; reason is required there, "" when none).
type DeviceSoftwareUpgrade struct {
	DeviceID     string `json:"deviceId"`
	ID           string `json:"id"`
	AccountName  string `json:"accountName"`
	SoftwareName string `json:"softwareName,omitempty"`
	StartDate    string `json:"startDate"`
	Status       string `json:"status"`
	Reason       string `json:"reason"`
}

// scheduleUpgrade: /v1 POST /upgrades (FirmwareUpgradeRequest →
// FirmwareUpgrade). The account is the body's accountName, and it must
// be the one the token acts for (403 otherwise, as for another account's
// path); acc is the token's account ("" when the server is insecure).
func (s *server) scheduleUpgrade(r *http.Request, acc string) (any, error) {
	var req fota.UpgradeRequest
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.AccountName == "" {
		return nil, &fota.RequestError{Field: "accountName", Value: "", Reason: "required"}
	}
	if acc != "" && req.AccountName != acc {
		s.log.Info("api: token of another account", "account", req.AccountName, "tokenAccount", acc)
		return nil, errForbidden
	}
	c, err := s.fleet.scheduleUpgrade(r.Context(), req.AccountName, req)
	if err != nil {
		return nil, err
	}
	return s.upgradeWithDevices(r, c)
}

// upgradeWithDevices renders a push campaign with every device.
func (s *server) upgradeWithDevices(r *http.Request, c fota.Campaign) (any, error) {
	devices, err := s.fleet.allDevices(r.Context(), c.Account, c.ID)
	if err != nil {
		return nil, err
	}
	return firmwareUpgrade(c, devices), nil
}

// getUpgrade: /v1 GET /upgrades/{acc}/upgrade/{upgradeId}.
func (s *server) getUpgrade(r *http.Request, acc string) (any, error) {
	c, err := s.fleet.campaign(r.Context(), acc, r.PathValue("campaignId"), device.FamilyPush)
	if err != nil {
		return nil, err
	}
	return s.upgradeWithDevices(r, c)
}

// changeUpgradeDevices: /v1 PUT /upgrades/{acc}/upgrade/{upgradeId} with
// "type" append or remove (FirmwareUpgradeChangeRequest →
// FirmwareUpgradeChangeResult). Appended devices are listed with their
// status in the upgrade ("Device Accepted", or "Device Rejected" with the
// reason); removed ones as "Device Removed".
func (s *server) changeUpgradeDevices(r *http.Request, acc string) (any, error) {
	id := r.PathValue("campaignId")
	if _, err := s.fleet.campaign(r.Context(), acc, id, device.FamilyPush); err != nil {
		return nil, err
	}
	var req DeviceChange
	if err := s.decode(r, &req); err != nil {
		return nil, err
	}
	if req.Type != "append" && req.Type != "remove" {
		return nil, &fota.RequestError{Field: "type", Value: req.Type, Reason: `want "append" or "remove"`}
	}
	add := req.Type == "append"
	if _, err := s.fleet.changeDevices(r.Context(), acc, id, add, req.DeviceList); err != nil {
		return nil, err
	}
	out := FirmwareUpgradeChangeResult{AccountName: acc, ID: id, DeviceList: make([]DeviceResultV1, len(req.DeviceList))}
	if !add {
		for i, d := range req.DeviceList {
			out.DeviceList[i] = DeviceResultV1{DeviceID: d, Status: statusRemoved}
		}
		return out, nil
	}
	all, err := s.fleet.allDevices(r.Context(), acc, id)
	if err != nil {
		return nil, err
	}
	for i, d := range req.DeviceList {
		out.DeviceList[i] = DeviceResultV1{DeviceID: d}
		if j, ok := slices.BinarySearchFunc(all, d, func(s fota.DeviceStatus, id string) int { return cmp.Compare(s.DeviceID, id) }); ok {
			out.DeviceList[i].Status, out.DeviceList[i].Reason = all[j].Status, all[j].ResultReason
		}
	}
	return out, nil
}

// cancelUpgrade: /v1 DELETE /upgrades/{acc}/upgrade/{upgradeId}, before
// the start (a push campaign cannot be stopped once started).
func (s *server) cancelUpgrade(r *http.Request, acc string) (any, error) {
	return s.delete(r, acc, device.FamilyPush)
}

// upgradesByStatus: /v1 GET /reports/{acc}/status/{upgradeStatus}/index/{startIndex}.
// Upgrade ids are UUIDs, but the SDK pages by a number (lastSeenUpgradeId,
// then startIndex): the upgrade's index, fota.Campaign.Seq, which grows
// with every campaign created. So the page holds the upgrades in the
// status whose index is above startIndex ("0" first), lowest first,
// without their device lists (GET the upgrade for those).
func (s *server) upgradesByStatus(r *http.Request, acc string) (any, error) {
	v := r.PathValue("upgradeStatus")
	st, err := campaign.ParseStatus(v)
	if err != nil || st.Family() != device.FamilyPush {
		return nil, &fota.RequestError{Field: "upgradeStatus", Value: v, Reason: "not a /v1 upgrade status"}
	}
	start, err := parseIndex(r)
	if err != nil {
		return nil, err
	}
	list, _, err := s.fleet.campaigns(r.Context(), acc, "", -1, func(c fota.Campaign) bool { return c.Status == st && c.Seq > start })
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b fota.Campaign) int { return cmp.Compare(a.Seq, b.Seq) })
	out := UpgradeListQueryResult{ReportList: []FirmwareUpgrade{}}
	if len(list) > s.opts.PageSize {
		list, out.HasMoreFlag = list[:s.opts.PageSize], true
	}
	for _, c := range list {
		out.ReportList = append(out.ReportList, firmwareUpgrade(c, nil))
	}
	if len(list) > 0 {
		out.LastSeenUpgradeID = list[len(list)-1].Seq
	}
	return out, nil
}

// parseIndex reads the path's startIndex: a decimal number, "0" first.
func parseIndex(r *http.Request) (uint64, error) {
	v := r.PathValue("startIndex")
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, &fota.RequestError{Field: "startIndex", Value: v, Reason: "want a number: 0 first, then the last page's lastSeen value"}
	}
	return n, nil
}

// deviceHistoryV1: /v1 GET /reports/{acc}/devices/{deviceId}, the
// device's push upgrades of the last six months
// (fota.UpgradeHistoryPeriod), in campaign id order.
func (s *server) deviceHistoryV1(r *http.Request, acc string) (any, error) {
	recs, err := s.fleet.upgradeHistory(r.Context(), acc, r.PathValue("deviceId"), device.FamilyPush)
	if err != nil {
		return nil, err
	}
	out := make([]DeviceUpgradeHistory, len(recs))
	for i, h := range recs {
		out[i] = DeviceUpgradeHistory{DeviceID: h.DeviceID, ID: h.CampaignID, AccountName: h.Account,
			FirmwareFrom: h.SoftwareFrom, FirmwareTo: h.SoftwareTo, StartDate: h.StartDate, Status: h.Status, Reason: h.Reason}
		if !h.StartedAt.IsZero() {
			out[i].UpgradeStartTime = h.StartedAt.UTC().Format(time.RFC3339)
		}
	}
	return out, nil
}

// deviceHistoryV2: GET /reports/{acc}/devices/{deviceId}, the device's
// HTTP campaigns of the last six months.
func (s *server) deviceHistoryV2(r *http.Request, acc string) (any, error) {
	recs, err := s.fleet.upgradeHistory(r.Context(), acc, r.PathValue("deviceId"), device.FamilyHTTP)
	if err != nil {
		return nil, err
	}
	out := make([]DeviceSoftwareUpgrade, len(recs))
	for i, h := range recs {
		out[i] = DeviceSoftwareUpgrade{DeviceID: h.DeviceID, ID: h.CampaignID, AccountName: h.Account,
			SoftwareName: h.SoftwareName, StartDate: h.StartDate, Status: h.Status, Reason: h.Reason}
	}
	return out, nil
}
