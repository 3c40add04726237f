package api

import (
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// CampaignSoftware is a campaign as ThingSpace's /v2 returns it (the
// schedule, get, change-dates and history calls): the request's fields,
// the campaign id and its status in the wire spelling.
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
	StartDate              schedule.Date     `json:"startDate,omitzero"`
	EndDate                schedule.Date     `json:"endDate,omitzero"`
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
// for every campaign this API schedules; a push campaign another API
// created shows its protocol.
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
		Status: c.Status.String(),
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

// Success is ThingSpace's FotaV2SuccessResult.
type Success struct {
	Success bool `json:"success"`
}

// LoggingRequest is the body that enables (or disables) logging for a
// list of devices (DeviceLoggingRequest).
type LoggingRequest struct {
	DeviceIDs []string `json:"deviceIds"`
}

// LicenseRequest is the licence assign/remove body (V2LicenseIMEI).
type LicenseRequest struct {
	DeviceList []string `json:"deviceList"`
}

// LicenseResult is one device's licence outcome, with the wire status
// (LicenseAssignSuccess, LicenseRemoveSuccess, LicenseRemoveFailed) and,
// for a failure, the reason sentence.
type LicenseResult struct {
	DeviceID     string `json:"deviceId"`
	Status       string `json:"status"`
	ResultReason string `json:"resultReason,omitempty"`
}

// LicenseResults answers a licence assignment or removal
// (V2LicensesAssignedRemovedResult, without the account's licence counts,
// which fota does not keep).
type LicenseResults struct {
	AccountName string          `json:"accountName"`
	DeviceList  []LicenseResult `json:"deviceList"`
}

// CheckInRequest is a device's check-in (this server's device protocol).
// clientType, result and failureType are what the check-in history
// records (CheckInHistoryItem).
type CheckInRequest struct {
	DeviceID    string                `json:"deviceId"`
	ClientType  verboselog.ClientType `json:"clientType"`
	Result      string                `json:"result"`
	FailureType string                `json:"failureType"`
}

// CheckInResponse tells a device what to do now: "download" or "install"
// the campaign's software before until, or "none" and come back at
// retryAt (absent when nothing is planned).
type CheckInResponse struct {
	Action string `json:"action"` // fota.Action's name; fota.Action has no UnmarshalText

	CampaignID   string    `json:"campaignId,omitempty"`
	SoftwareName string    `json:"softwareName,omitempty"`
	SoftwareTo   string    `json:"softwareTo,omitempty"`
	Until        time.Time `json:"until,omitzero"`
	RetryAt      time.Time `json:"retryAt,omitzero"`
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
