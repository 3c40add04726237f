package api

import (
	"strconv"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// CampaignSoftware is a campaign as ThingSpace's /v2 returns it from the
// schedule (older path), get and change-dates calls and in the history
// (CampaignSoftware, V2CampaignMetaInfo): the request's fields, the id
// and the status as WireCampaignStatus spells it.
type CampaignSoftware struct {
	ID                     string            `json:"id"`
	AccountName            string            `json:"accountName"`
	CampaignName           string            `json:"campaignName,omitempty"`
	SoftwareName           string            `json:"softwareName"`
	DistributionType       string            `json:"distributionType"`
	Make                   string            `json:"make"`
	Model                  string            `json:"model"`
	SoftwareFrom           string            `json:"softwareFrom"`
	SoftwareTo             string            `json:"softwareTo"`
	StartDate              schedule.Date     `json:"startDate"`
	EndDate                schedule.Date     `json:"endDate"`
	DownloadAfterDate      schedule.Date     `json:"downloadAfterDate,omitzero"`
	DownloadTimeWindowList []schedule.Window `json:"downloadTimeWindowList,omitempty"`
	InstallAfterDate       schedule.Date     `json:"installAfterDate,omitzero"`
	InstallTimeWindowList  []schedule.Window `json:"installTimeWindowList,omitempty"`
	// CampaignTimeWindowList and TimeZone are sent only when the request
	// carried them (v3's field and fota's extension).
	CampaignTimeWindowList []schedule.Window `json:"campaignTimeWindowList,omitempty"`
	TimeZone               string            `json:"timeZone,omitempty"`
	Status                 string            `json:"status"`
}

// campaignSoftware renders a stored campaign. distributionType is "HTTP"
// for every campaign this API schedules.
func campaignSoftware(c fota.Campaign) CampaignSoftware {
	t := c.Timing
	return CampaignSoftware{
		ID: c.ID, AccountName: c.Account, CampaignName: c.Name, SoftwareName: c.Target.SoftwareName,
		DistributionType: c.Protocol.String(),
		Make:             c.Make, Model: c.Model,
		SoftwareFrom: c.Target.SoftwareFrom, SoftwareTo: c.Target.SoftwareTo,
		StartDate: t.StartDate, EndDate: t.EndDate,
		DownloadAfterDate: t.DownloadAfterDate, DownloadTimeWindowList: t.DownloadTimeWindowList,
		InstallAfterDate: t.InstallAfterDate, InstallTimeWindowList: t.InstallTimeWindowList,
		CampaignTimeWindowList: t.CampaignTimeWindowList, TimeZone: t.TimeZone,
		Status: WireCampaignStatus(c.Status),
	}
}

// WireCampaignStatus is how a campaign status goes on the /v2 wire. The SDK's
// CampaignStatusEnum is what a ThingSpace client compares with, so the
// two fota statuses it lacks are written as enum members:
//
//   - CampaignQueued (ThingSpace's state prose) is written
//     CampaignRequestQueued, the enum's spelling of the same state;
//   - CampaignInProgress (fota's own token: no ThingSpace source names
//     one; the v2 lifecycle page says the campaign "stays in 'In
//     Progress'") is written CampaignScheduled, the status ThingSpace
//     shows from the start date until the end, so a client waiting for
//     CampaignEnded or comparing with CampaignScheduled behaves as it
//     would against ThingSpace.
//
// Every other status is its own spelling. The campaignStatus query reads
// every spelling (CampaignQueued, CampaignRequestQueued,
// CampaignInProgress), and CampaignScheduled there lists in-progress
// campaigns too, so a filter finds what the list shows.
func WireCampaignStatus(s campaign.Status) string {
	switch s {
	case campaign.HTTPQueued:
		return "CampaignRequestQueued"
	case campaign.HTTPInProgress:
		return campaign.HTTPScheduled.String()
	}
	return s.String()
}

// TextWindow is an hour window with string hours (DownloadTimeWindow),
// the shape of POST /campaigns/software/{acc}: the SDK's model for that
// call has strings there and throws on numbers.
type TextWindow struct {
	StartTime string `json:"startTime"`
	EndTime   string `json:"endTime"`
}

func textWindows(ws []schedule.Window) []TextWindow {
	if len(ws) == 0 {
		return nil
	}
	out := make([]TextWindow, len(ws))
	for i, w := range ws {
		out[i] = TextWindow{StartTime: strconv.Itoa(w.StartTime), EndTime: strconv.Itoa(w.EndTime)}
	}
	return out
}

// ScheduledSoftware answers POST /campaigns/software/{acc} and POST
// /campaigns/files/{acc} (UploadAndScheduleFileResponse): the campaign
// with string hours and its device list; for a file, its name and
// version too.
type ScheduledSoftware struct {
	ID                     string        `json:"id"`
	AccountName            string        `json:"accountName"`
	CampaignName           string        `json:"campaignName,omitempty"`
	SoftwareName           string        `json:"softwareName"`
	SoftwareFrom           string        `json:"softwareFrom"`
	SoftwareTo             string        `json:"softwareTo"`
	FileName               string        `json:"fileName,omitempty"`
	FileVersion            string        `json:"fileVersion,omitempty"`
	DistributionType       string        `json:"distributionType"`
	Make                   string        `json:"make"`
	Model                  string        `json:"model"`
	StartDate              schedule.Date `json:"startDate"`
	EndDate                schedule.Date `json:"endDate"`
	DownloadAfterDate      schedule.Date `json:"downloadAfterDate,omitzero"`
	DownloadTimeWindowList []TextWindow  `json:"downloadTimeWindowList,omitempty"`
	InstallAfterDate       schedule.Date `json:"installAfterDate,omitzero"`
	InstallTimeWindowList  []TextWindow  `json:"installTimeWindowList,omitempty"`
	DeviceList             []string      `json:"deviceList"`
	Status                 string        `json:"status"`
}

func scheduledSoftware(c fota.Campaign, devices []string) ScheduledSoftware {
	v := campaignSoftware(c)
	return ScheduledSoftware{
		ID: v.ID, AccountName: v.AccountName, CampaignName: v.CampaignName, SoftwareName: v.SoftwareName,
		SoftwareFrom: v.SoftwareFrom, SoftwareTo: v.SoftwareTo, DistributionType: v.DistributionType,
		Make: v.Make, Model: v.Model, StartDate: v.StartDate, EndDate: v.EndDate,
		DownloadAfterDate: v.DownloadAfterDate, DownloadTimeWindowList: textWindows(v.DownloadTimeWindowList),
		InstallAfterDate: v.InstallAfterDate, InstallTimeWindowList: textWindows(v.InstallTimeWindowList),
		DeviceList: devices, Status: v.Status,
	}
}

// CampaignHistory is one page of an account's campaigns
// (V2CampaignHistory).
type CampaignHistory struct {
	HasMoreData        bool               `json:"hasMoreData"`
	LastSeenCampaignID string             `json:"lastSeenCampaignId,omitempty"`
	CampaignList       []CampaignSoftware `json:"campaignList"`
}

// DeviceChange is the add/remove devices body (V2AddOrRemoveDeviceRequest):
// "Type" with a capital T on the wire. encoding/json matches keys without
// regard to case, so v1's lower-case "type" is read too.
type DeviceChange struct {
	Type       string   `json:"Type"` // "append" or "remove"
	DeviceList []string `json:"deviceList"`
}

// DeviceChangeResult answers add/remove devices
// (V2AddOrRemoveDeviceResult). The change is applied synchronously, so
// requestId only names it: the campaign id and the revision the change
// produced.
type DeviceChangeResult struct {
	AccountName string `json:"accountName"`
	CampaignID  string `json:"campaignId"`
	RequestID   string `json:"requestId"`
}

// Success is ThingSpace's FotaV1SuccessResult and FotaV2SuccessResult.
type Success struct {
	Success bool `json:"success"`
}

// LoggingRequest is the body that enables (or disables) logging for a
// list of devices (DeviceLoggingRequest).
type LoggingRequest struct {
	DeviceIDs []string `json:"deviceIds"`
}

// CheckInHistoryItem is one check-in as the history lists it. The SDK's
// model has clientType as a string (a number makes it throw), so the
// client type goes out as its documented name ("RovaClient", "Uknown"
// as ThingSpace spells it), or its decimal number when the list names
// none.
type CheckInHistoryItem struct {
	DeviceID      string    `json:"deviceId"`
	ClientType    string    `json:"clientType"`
	Result        string    `json:"result"`
	FailureType   string    `json:"failureType"`
	TimeCompleted time.Time `json:"timeCompleted"`
}

func checkInHistoryItem(c verboselog.CheckIn) (CheckInHistoryItem, error) {
	ct, err := c.ClientType.MarshalText()
	return CheckInHistoryItem{DeviceID: c.DeviceID, ClientType: string(ct), Result: c.Result,
		FailureType: c.FailureType, TimeCompleted: c.TimeCompleted}, err
}

// CheckInRequest is a device's check-in (this server's device protocol).
// clientType, result and failureType are what the check-in history
// records (CheckInHistoryItem); clientType is a number or a documented
// name.
type CheckInRequest struct {
	DeviceID    string                `json:"deviceId"`
	ClientType  verboselog.ClientType `json:"clientType"`
	Result      string                `json:"result"`
	FailureType string                `json:"failureType"`
}

// ReportRequest is a device's report on its update: outcome is one of
// "downloadFailed", "downloaded", "installFailed", "installed",
// "unknownError", "other".
type ReportRequest struct {
	DeviceID   string       `json:"deviceId"`
	CampaignID string       `json:"campaignId"`
	Outcome    fota.Outcome `json:"outcome"`
}

// ReportResponse is the device's state after its report: fota's
// fine-grained state, and the status and reason the device page shows.
type ReportResponse struct {
	DeviceID     string       `json:"deviceId"`
	CampaignID   string       `json:"campaignId"`
	State        device.State `json:"state"`
	Status       string       `json:"status"`
	ResultReason string       `json:"resultReason,omitempty"`
}
