package storetest

import (
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
	"pgregory.net/rapid"
)

// base is the instant the suite's times are drawn around.
var base = time.Date(2025, time.March, 1, 12, 0, 0, 0, time.UTC)

// farFuture is later than every time the suite writes.
var farFuture = base.AddDate(50, 0, 0)

// zones the suite writes times in: a store keeps the instant, not the
// zone, so times are compared with Equal.
var zones = []*time.Location{
	time.UTC,
	time.FixedZone("UTC+0530", 5*3600+1800),
	time.FixedZone("UTC-08", -8*3600),
}

// Ids mix cases, digits and punctuation so that a store ordering by a
// locale-aware collation instead of by bytes (Go's string order) fails.
var (
	accounts    = []string{"acct-A", "acct-b", "Acct_c"}
	campaignIDs = []string{"C-1", "c-2", "c_3", "C2"}
	deviceIDs   = []string{"D-01", "d-02", "d_03", "D10", "d-1"}
	targets     = []pilot.Target{
		{Account: "acct-A", SoftwareName: "tracker-fw", SoftwareFrom: "1.0", SoftwareTo: "1.1"},
		{Account: "acct-A", SoftwareName: "tracker-fw", SoftwareFrom: "1.1", SoftwareTo: "1.2"},
		{Account: "acct-b", SoftwareName: "tracker-fw", SoftwareFrom: "1.0", SoftwareTo: "1.1"},
	}
	deadlineKinds = []fota.DeadlineKind{fota.DeadlineCampaignStart, fota.DeadlineCampaignEnd, fota.DeadlineLoggingExpiry,
		fota.DeadlineLogPurge, fota.DeadlineCampaignSweep, fota.DeadlinePushGiveUp}
	deadlineKeys = []string{"C-1", "c-2", "D-01", "d-1"}
)

// genTime draws an instant within about a day of base, to the
// microsecond (the precision the suite demands), in one of zones.
func genTime(t *rapid.T, label string) time.Time {
	us := rapid.Int64Range(-86_400_000_000, 86_400_000_000).Draw(t, label)
	z := rapid.SampledFrom(zones).Draw(t, label+"Zone")
	return base.Add(time.Duration(us) * time.Microsecond).In(z)
}

// genMaybeTime draws a time or the zero time.
func genMaybeTime(t *rapid.T, label string) time.Time {
	if rapid.Bool().Draw(t, label+"Zero") {
		return time.Time{}
	}
	return genTime(t, label)
}

// genText draws printable UTF-8 text without NUL (which PostgreSQL's text
// type refuses).
func genText(t *rapid.T, label string) string {
	return rapid.StringMatching(`[a-zA-Z0-9 ._/é-]{0,12}`).Draw(t, label)
}

func genTarget(t *rapid.T) pilot.Target { return rapid.SampledFrom(targets).Draw(t, "target") }

func genWindows(t *rapid.T, label string) []schedule.Window {
	n := rapid.IntRange(0, 2).Draw(t, label)
	var ws []schedule.Window
	for range n {
		start := rapid.IntRange(0, 22).Draw(t, label+"Start")
		ws = append(ws, schedule.Window{StartTime: start, EndTime: rapid.IntRange(start+1, 24).Draw(t, label+"End")})
	}
	return ws
}

func genDate(t *rapid.T, label string) schedule.Date {
	if rapid.Bool().Draw(t, label+"Zero") {
		return schedule.Date{}
	}
	d := base.AddDate(0, 0, rapid.IntRange(-30, 60).Draw(t, label))
	return schedule.Date{Year: d.Year(), Month: d.Month(), Day: d.Day()}
}

func genCampaign(t *rapid.T, id string) fota.Campaign {
	return fota.Campaign{
		ID:       id,
		Seq:      rapid.Uint64Range(0, 1<<40).Draw(t, "seq"),
		Account:  rapid.SampledFrom(accounts).Draw(t, "account"),
		Name:     genText(t, "name"),
		Family:   rapid.SampledFrom(device.Families).Draw(t, "family"),
		Protocol: rapid.SampledFrom(append([]device.Protocol{0}, device.Protocols...)).Draw(t, "protocol"),
		Status:   rapid.SampledFrom(campaign.Statuses).Draw(t, "status"),
		Target:   genTarget(t),
		Make:     genText(t, "make"),
		Model:    genText(t, "model"),
		Package:  genPackage(t),
		Timing: schedule.HTTPRequest{
			StartDate:              genDate(t, "startDate"),
			EndDate:                genDate(t, "endDate"),
			CampaignTimeWindowList: genWindows(t, "campaignWindows"),
			DownloadAfterDate:      genDate(t, "downloadAfter"),
			DownloadTimeWindowList: genWindows(t, "downloadWindows"),
			InstallAfterDate:       genDate(t, "installAfter"),
			InstallTimeWindowList:  genWindows(t, "installWindows"),
			TimeZone:               rapid.SampledFrom([]string{"", "Europe/Paris", "America/New_York"}).Draw(t, "timeZone"),
		},
		StartsAt:  genMaybeTime(t, "startsAt"),
		EndsAt:    genMaybeTime(t, "endsAt"),
		OnDemand:  rapid.Bool().Draw(t, "onDemand"),
		Pilot:     rapid.Bool().Draw(t, "pilot"),
		Cursor:    rapid.SampledFrom(append([]string{""}, deviceIDs...)).Draw(t, "cursor"),
		Swept:     rapid.Bool().Draw(t, "swept"),
		Revision:  rapid.Uint64Range(0, 1<<40).Draw(t, "revision"),
		CreatedAt: genTime(t, "createdAt"),
		UpdatedAt: genTime(t, "updatedAt"),
	}
}

func genMember(t *rapid.T, campaignID, deviceID string) fota.Member {
	return fota.Member{
		CampaignID: campaignID,
		DeviceID:   deviceID,
		State:      rapid.SampledFrom(device.States).Draw(t, "state"),
		Reason:     rapid.SampledFrom(device.Reasons).Draw(t, "reason"),
		UpdatedAt:  genTime(t, "memberUpdatedAt"),
		Push:       genPush(t),
	}
}

// genPush draws a push member's bookkeeping, zero half the time (as an
// HTTP member's is).
func genPush(t *rapid.T) fota.Push {
	if rapid.Bool().Draw(t, "http") {
		return fota.Push{}
	}
	return fota.Push{
		Protocol:  rapid.SampledFrom([]device.Protocol{device.LWM2M, device.OMADM}).Draw(t, "pushProtocol"),
		Attempt:   rapid.Uint8Range(0, 4).Draw(t, "attempt"),
		Observing: rapid.Bool().Draw(t, "observing"),
		Spent:     rapid.Bool().Draw(t, "spent"),
		Leased:    rapid.Bool().Draw(t, "leased"),
		Machine:   rapid.Uint16().Draw(t, "machine"),
		Result:    rapid.Uint16Range(0, 600).Draw(t, "result"),
		DueAt:     genMaybeTime(t, "dueAt"),
		Lease:     rapid.Uint64Range(0, 1<<40).Draw(t, "lease"),
	}
}

func genPackage(t *rapid.T) fota.Package {
	if rapid.Bool().Draw(t, "noPackage") {
		return fota.Package{}
	}
	return fota.Package{
		Name: genText(t, "packageName"), Make: genText(t, "packageMake"), Model: genText(t, "packageModel"),
		From: genText(t, "packageFrom"), To: genText(t, "packageTo"), URL: "https://fw.example/" + genText(t, "packageURL"),
		Size: rapid.Int64Range(0, 1<<40).Draw(t, "packageSize"), SHA256: rapid.StringMatching(`[0-9a-f]{0,64}`).Draw(t, "packageHash"),
	}
}

func genDevice(t *rapid.T, id string) fota.DeviceRecord {
	return fota.DeviceRecord{
		DeviceID:     id,
		Account:      rapid.SampledFrom(accounts).Draw(t, "account"),
		License:      rapid.SampledFrom(append([]device.License{0}, device.Licenses...)).Draw(t, "license"),
		LicensedAt:   genMaybeTime(t, "licensedAt"),
		EverUpgraded: rapid.Bool().Draw(t, "everUpgraded"),
		LastCampaign: rapid.SampledFrom(append([]string{""}, campaignIDs...)).Draw(t, "lastCampaign"),
	}
}

func genCheckIn(t *rapid.T, deviceID string, at time.Time) verboselog.CheckIn {
	return verboselog.CheckIn{
		DeviceID:      deviceID,
		ClientType:    rapid.SampledFrom(verboselog.ClientTypes).Draw(t, "clientType"),
		Result:        genText(t, "result"),
		FailureType:   genText(t, "failureType"),
		TimeCompleted: at,
	}
}

func genDeadline(t *rapid.T) fota.Deadline {
	return fota.Deadline{
		Kind: rapid.SampledFrom(deadlineKinds).Draw(t, "kind"),
		Key:  rapid.SampledFrom(deadlineKeys).Draw(t, "key"),
		// A narrow range, so that ties on At are common.
		At: base.Add(time.Duration(rapid.IntRange(0, 5).Draw(t, "at")) * time.Minute).In(rapid.SampledFrom(zones).Draw(t, "atZone")),
	}
}

func genGate(t *rapid.T) pilot.Gate {
	g := pilot.Gate{Target: genTarget(t), Pilots: rapid.IntRange(0, 5).Draw(t, "pilots")}
	if rapid.Bool().Draw(t, "lifted") {
		g.State = pilot.Lifted
		g.LiftedAt = genTime(t, "liftedAt")
	}
	return g
}

func genSession(t *rapid.T, deviceID string) fota.LogSession {
	return fota.LogSession{
		Account: rapid.SampledFrom(accounts).Draw(t, "account"),
		Session: verboselog.Session{
			DeviceID:     deviceID,
			State:        rapid.SampledFrom(verboselog.States).Draw(t, "sessionState"),
			EnabledAt:    genMaybeTime(t, "enabledAt"),
			CollectingAt: genMaybeTime(t, "collectingAt"),
			EndedAt:      genMaybeTime(t, "endedAt"),
		},
	}
}

func genBundle(t *rapid.T, deviceID string, uploadedAt time.Time) verboselog.Bundle {
	return verboselog.Bundle{
		DeviceID:            deviceID,
		LogTime:             genTime(t, "logTime"),
		LogType:             rapid.SampledFrom(verboselog.LogTypes).Draw(t, "logType"),
		EventLog:            genText(t, "eventLog"),
		BinaryLogFileBase64: rapid.StringMatching(`[A-Za-z0-9+/]{0,16}`).Draw(t, "file"),
		BinaryLogFilename:   genText(t, "filename"),
		UploadedAt:          uploadedAt,
	}
}
