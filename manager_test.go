package fota_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

func newClock() *clock.Mock {
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC))
	return clk
}

func mustErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want one matching %v", err, target)
	}
}

// "If pilot campaigns are not successful, developers have the option to
// enable and fetch logs for up to 20 devices."
func TestVerboseLogging(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m, ids := fleet(t, 22, fota.NewMemoryStore(), clk)
	on, err := m.EnableLogging(ctx, "acme", ids[:20])
	if err != nil || len(on) != 20 {
		t.Fatalf("enable 20: %v, %d on", err, len(on))
	}
	if want := clk.Now().Add(7 * 24 * time.Hour); !on[0].ExpiryDate.Equal(want) {
		t.Fatalf("expiry %v, want %v", on[0].ExpiryDate, want)
	}
	_, err = m.EnableLogging(ctx, "acme", ids[20:22])
	var limit *verboselog.LimitError
	if !errors.As(err, &limit) || limit.Limit != 20 {
		t.Fatalf("21st device: %v", err)
	}
	if list, _ := m.LoggingDevices(ctx, "acme"); len(list) != 20 {
		t.Fatalf("a refused enable changed the list: %d on", len(list))
	}
	if _, err := m.EnableLogging(ctx, "acme", []string{"490154203237518"}); !errors.Is(err, fota.ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}

	// "When the device checks in after that setting is enabled, the device
	// starts collecting logs."
	dev := ids[0]
	log := verboselog.Bundle{DeviceID: dev, LogTime: clk.Now(), LogType: "SoftwareUpdate", EventLog: "download started"}
	mustErr(t, m.UploadLog(ctx, log), verboselog.ErrUploadRefused)
	if _, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: dev, ClientType: verboselog.ClientRovaClient}); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	log.LogTime = clk.Now()
	if err := m.UploadLog(ctx, log); err != nil {
		t.Fatal(err)
	}
	// "After at least 24 hours, the developer can call the Verbose Logging
	// API again to fetch the logs."
	_, err = m.FetchLogs(ctx, "acme", dev)
	var notReady *verboselog.NotReadyError
	if !errors.As(err, &notReady) || !notReady.ReadyAt.Equal(time.Date(2026, 9, 2, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("early fetch: %v", err)
	}
	clk.Set(notReady.ReadyAt)
	got, err := m.FetchLogs(ctx, "acme", dev)
	if err != nil || len(got) != 1 || got[0].EventLog != "download started" {
		t.Fatalf("fetch at 24 h: %v %+v", err, got)
	}
	// "Logging turns off automatically after seven days."
	clk.Set(time.Date(2026, 9, 8, 9, 0, 0, 0, time.UTC).Add(-time.Nanosecond))
	if _, err := m.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := m.LoggingDevices(ctx, "acme"); len(list) != 20 {
		t.Fatalf("1 ns before seven days: %d on", len(list))
	}
	clk.Add(time.Nanosecond)
	next, err := m.Tick(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := m.LoggingDevices(ctx, "acme"); len(list) != 0 {
		t.Fatalf("at seven days: %d on", len(list))
	}
	// "After 30 days, the logs are purged from ThingSpace."
	purge := time.Date(2026, 10, 1, 10, 0, 0, 0, time.UTC)
	if !next.Equal(purge) {
		t.Fatalf("next deadline %v, want the purge at %v", next, purge)
	}
	clk.Set(purge)
	if next, err = m.Tick(ctx); err != nil || !next.IsZero() {
		t.Fatalf("after the purge: next %v, %v", next, err)
	}
	if got, err := m.FetchLogs(ctx, "acme", dev); err != nil || len(got) != 0 {
		t.Fatalf("purged logs served: %v %+v", err, got)
	}
	// Check-in history is kept "independent of enabled or disabled logging".
	h, err := m.CheckInHistory(ctx, "acme", dev, time.Time{}, 10)
	if err != nil || len(h) != 1 || h[0].ClientType != verboselog.ClientRovaClient {
		t.Fatalf("history: %v %+v", err, h)
	}
}

func TestLoggingOnlyForHTTPDevices(t *testing.T) {
	inv := fota.NewMemoryInventory(fota.DeviceInfo{DeviceID: testIMEI(1), Protocol: device.LWM2M})
	m, err := fota.New(fota.Config{Inventory: inv, Clock: newClock()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.EnableLogging(context.Background(), "acme", []string{testIMEI(1)})
	mustErr(t, err, verboselog.ErrNotHTTP)
}

func TestLicences(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := fota.NewMemoryStore()
	inv := fota.NewMemoryInventory()
	for i := range 2 {
		inv.Put(fota.DeviceInfo{DeviceID: testIMEI(i), Protocol: device.HTTP, Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	m, err := fota.New(fota.Config{Store: store, Inventory: inv, Clock: clk, LicenseRequired: true})
	if err != nil {
		t.Fatal(err)
	}
	// "Accounts with only an MRC subscription must assign licenses before
	// scheduling."
	req := onDemand(clk, []string{testIMEI(0)})
	info, err := m.Schedule(ctx, "acme", req)
	if err != nil || info.Status != campaign.HTTPRequestFailed {
		t.Fatalf("unlicensed device: %v %s", err, info.Status)
	}
	res, err := m.AssignLicenses(ctx, "acme", []string{testIMEI(0), testIMEI(1)})
	if err != nil || res[0].Status != device.LicenseAssignSuccess {
		t.Fatalf("assign: %v %+v", err, res)
	}
	info, err = m.Schedule(ctx, "acme", req)
	if err != nil || info.Status != campaign.HTTPScheduled {
		t.Fatalf("licensed device: %v %s", err, info.Status)
	}
	if _, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: testIMEI(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Report(ctx, info.ID, testIMEI(0), fota.OutcomeInstalled); err != nil {
		t.Fatal(err)
	}
	// "License removal not allowed for devices that have ever upgraded firmware."
	res, err = m.RemoveLicenses(ctx, "acme", []string{testIMEI(0), testIMEI(1)})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != device.LicenseRemoveFailed || res[0].Reason.Text(device.FamilyPush) != "License removal not allowed for devices that have ever upgraded firmware." {
		t.Fatalf("upgraded device: %+v", res[0])
	}
	if res[1].Status != device.LicenseRemoveSuccess {
		t.Fatalf("never upgraded: %+v", res[1])
	}
	// Removing a licence the device does not hold is refused, and the whole
	// call changes nothing.
	_, err = m.RemoveLicenses(ctx, "acme", []string{testIMEI(0), testIMEI(1)})
	mustErr(t, err, fota.ErrInvalidTransition)
}

func TestDevicePaging(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m, ids := fleet(t, 5, fota.NewMemoryStore(), clk)
	info, err := m.Schedule(ctx, "acme", onDemand(clk, ids))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	last := "0" // ThingSpace's first cursor
	for pages := 0; ; pages++ {
		page, err := m.Devices(ctx, "acme", info.ID, last, 2)
		if err != nil || page.TotalDevice != 5 || page.MaxPageSize != fota.MaxPageSize {
			t.Fatalf("page: %v %+v", err, page)
		}
		for _, d := range page.DeviceList {
			if seen[d.DeviceID] || d.Status != "Accepted" {
				t.Fatalf("device %s twice or %q", d.DeviceID, d.Status)
			}
			seen[d.DeviceID] = true
		}
		if !page.HasMoreData {
			if pages != 2 {
				t.Fatalf("%d pages for 5 devices by 2", pages+1)
			}
			break
		}
		last = page.LastSeenDeviceID
	}
	if len(seen) != 5 {
		t.Fatalf("paging saw %d of 5 devices", len(seen))
	}
	list, err := m.Campaigns(ctx, "acme", campaign.HTTPScheduled, "", 0)
	if err != nil || len(list.CampaignList) != 1 || list.HasMoreData {
		t.Fatalf("campaigns: %v %+v", err, list)
	}
	if list, _ := m.Campaigns(ctx, "acme", campaign.HTTPEnded, "", 0); len(list.CampaignList) != 0 {
		t.Fatalf("status filter: %+v", list)
	}
}

// "After the start date: the end date can move to no earlier than +24 hours
// from now; windows can be added but not removed."
func TestChangeDates(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m, ids := fleet(t, 2, fota.NewMemoryStore(), clk)
	today := schedule.DateOf(clk.Now())
	timing := schedule.HTTPRequest{StartDate: today.AddDays(1), EndDate: today.AddDays(3),
		DownloadTimeWindowList: []schedule.Window{{StartTime: 1, EndTime: 3}}}
	req := onDemand(clk, ids)
	req.Timing = timing
	info, err := m.Schedule(ctx, "acme", req)
	if err != nil {
		t.Fatal(err)
	}
	// Before the start anything may change: move the start a day later.
	timing.StartDate, timing.EndDate = today.AddDays(2), today.AddDays(4)
	if info, err = m.ChangeDates(ctx, "acme", info.ID, timing); err != nil || !info.StartsAt.Equal(today.AddDays(2).Start()) {
		t.Fatalf("change before start: %v %v", err, info.StartsAt)
	}
	clk.Set(today.AddDays(3).Start().Add(12 * time.Hour))
	tooSoon := timing
	tooSoon.EndDate = today.AddDays(3)
	_, err = m.ChangeDates(ctx, "acme", info.ID, tooSoon)
	mustErr(t, err, schedule.ErrEndTooSoon)
	removed := timing
	removed.DownloadTimeWindowList = nil
	_, err = m.ChangeDates(ctx, "acme", info.ID, removed)
	mustErr(t, err, schedule.ErrWindowRemoved)
	added := timing
	added.EndDate = today.AddDays(9)
	added.DownloadTimeWindowList = append(added.DownloadTimeWindowList, schedule.Window{StartTime: 20, EndTime: 22})
	if info, err = m.ChangeDates(ctx, "acme", info.ID, added); err != nil || !info.EndsAt.Equal(today.AddDays(10).Start()) {
		t.Fatalf("change after start: %v %v", err, info.EndsAt)
	}
	// Devices are frozen once the campaign started.
	_, err = m.AddDevices(ctx, "acme", info.ID, []string{testIMEI(5)})
	mustErr(t, err, campaign.ErrDevicesFrozen)
}

func TestAddAndRemoveDevices(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	inv := fota.NewMemoryInventory()
	var ids []string
	for i := range 25 {
		ids = append(ids, testIMEI(i))
		inv.Put(fota.DeviceInfo{DeviceID: testIMEI(i), Protocol: device.HTTP, Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	m, err := fota.New(fota.Config{Inventory: inv, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	req := onDemand(clk, ids[:18])
	req.Timing.StartDate = req.Timing.StartDate.AddDays(1)
	req.Timing.EndDate = req.Timing.StartDate.AddDays(2)
	info, err := m.Schedule(ctx, "acme", req)
	if err != nil {
		t.Fatal(err)
	}
	// The pilot gate still stands: 18 + 3 would exceed 20.
	_, err = m.AddDevices(ctx, "acme", info.ID, ids[18:21])
	var limit *pilot.LimitError
	if !errors.As(err, &limit) || limit.Requested != 21 {
		t.Fatalf("add beyond the pilot limit: %v", err)
	}
	if info, err = m.AddDevices(ctx, "acme", info.ID, ids[18:20]); err != nil || info.Counts.Accepted() != 20 {
		t.Fatalf("add 2: %v %d", err, info.Counts.Accepted())
	}
	_, err = m.AddDevices(ctx, "acme", info.ID, ids[19:20])
	mustErr(t, err, fota.ErrBadRequest)
	if info, err = m.RemoveDevices(ctx, "acme", info.ID, ids[:5]); err != nil || info.Counts.Accepted() != 15 {
		t.Fatalf("remove 5: %v %d", err, info.Counts.Accepted())
	}
	_, err = m.RemoveDevices(ctx, "acme", info.ID, ids[:1])
	mustErr(t, err, fota.ErrNotInCampaign)
	// A removed device is free for another campaign.
	other := onDemand(clk, ids[:1])
	if o, err := m.Schedule(ctx, "acme", other); err != nil || o.Counts.Accepted() != 1 {
		t.Fatalf("removed device in a new campaign: %v", err)
	}
}

func TestUnknownCampaign(t *testing.T) {
	ctx := context.Background()
	m, _ := fleet(t, 1, fota.NewMemoryStore(), newClock())
	for name, call := range map[string]func() error{
		"campaign": func() error { _, err := m.Campaign(ctx, "acme", "nope"); return err },
		"devices":  func() error { _, err := m.Devices(ctx, "acme", "nope", "", 0); return err },
		"add":      func() error { _, err := m.AddDevices(ctx, "acme", "nope", []string{testIMEI(0)}); return err },
		"remove":   func() error { _, err := m.RemoveDevices(ctx, "acme", "nope", []string{testIMEI(0)}); return err },
		"change":   func() error { _, err := m.ChangeDates(ctx, "acme", "nope", schedule.HTTPRequest{}); return err },
		"cancel":   func() error { _, err := m.Cancel(ctx, "acme", "nope"); return err },
		"abort":    func() error { _, err := m.Abort(ctx, "acme", "nope"); return err },
		"delete":   func() error { _, err := m.Delete(ctx, "acme", "nope"); return err },
		"report":   func() error { _, err := m.Report(ctx, "nope", testIMEI(0), fota.OutcomeInstalled); return err },
	} {
		if err := call(); !errors.Is(err, fota.ErrNotFound) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestBadRequests(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m, ids := fleet(t, 2, fota.NewMemoryStore(), clk)
	good := onDemand(clk, ids)
	for name, tc := range map[string]struct {
		edit  func(r *fota.CampaignRequest)
		field string
	}{
		"no software":       {func(r *fota.CampaignRequest) { r.SoftwareName = "" }, "softwareName"},
		"push distribution": {func(r *fota.CampaignRequest) { r.DistributionType = "OMA" }, "distributionType"},
		"no devices":        {func(r *fota.CampaignRequest) { r.DeviceList = nil }, "deviceList"},
		"twice":             {func(r *fota.CampaignRequest) { r.DeviceList = []string{ids[0], ids[0]} }, "deviceList"},
	} {
		r := good
		r.DeviceList = append([]string(nil), good.DeviceList...)
		tc.edit(&r)
		_, err := m.Schedule(ctx, "acme", r)
		var re *fota.RequestError
		if !errors.As(err, &re) || re.Field != tc.field || !errors.Is(err, fota.ErrBadRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := good
	bad.Timing.StartDate = schedule.DateOf(clk.Now()).AddDays(-1)
	_, err := m.Schedule(ctx, "acme", bad)
	mustErr(t, err, schedule.ErrStartPassed)
	var r fota.CampaignRequest
	err = r.UnmarshalJSON([]byte(`{"softwareName": 7}`))
	var re *fota.RequestError
	if !errors.As(err, &re) || re.Field != "softwareName" {
		t.Fatalf("malformed JSON: %v", err)
	}
	// Nothing was created by any of them.
	if list, _ := m.Campaigns(ctx, "acme", 0, "", 0); len(list.CampaignList) != 0 {
		t.Fatalf("bad requests created %d campaigns", len(list.CampaignList))
	}
}

func TestCampaignRequestJSON(t *testing.T) {
	body := `{"campaignName":"lamp","softwareName":"fw","softwareFrom":"1.0","softwareTo":"2.0","distributionType":"HTTP",
		"startDate":"2026-09-02","endDate":"2026-09-08","downloadTimeWindowList":[{"startTime":"20","endTime":24}],
		"deviceList":["356938035643809"]}`
	var r fota.CampaignRequest
	if err := r.UnmarshalJSON([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if r.Timing.StartDate.String() != "2026-09-02" || r.Timing.DownloadTimeWindowList[0] != (schedule.Window{StartTime: 20, EndTime: 24}) || r.DeviceList[0] != "356938035643809" {
		t.Fatalf("decoded %+v", r)
	}
	out, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back fota.CampaignRequest
	if err := back.UnmarshalJSON(out); err != nil {
		t.Fatal(err)
	}
	if back.Timing.EndDate != r.Timing.EndDate || back.SoftwareTo != "2.0" || back.CampaignName != "lamp" {
		t.Fatalf("round trip: %s -> %+v", out, back)
	}
}

// A device the inventory places in another account is "Device not found."
// in this one, for campaigns and for logging alike.
func TestAnotherAccountsDevice(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	inv := fota.NewMemoryInventory(fota.DeviceInfo{DeviceID: testIMEI(1), Account: "other", Protocol: device.HTTP,
		Software: "1.0", FOTACapable: true, ActiveConnected: true})
	m, err := fota.New(fota.Config{Inventory: inv, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	info, err := m.Schedule(ctx, "acme", onDemand(clk, []string{testIMEI(1)}))
	if err != nil || info.Status != campaign.HTTPRequestFailed {
		t.Fatalf("schedule: %v %s", err, info.Status)
	}
	page, err := m.Devices(ctx, "acme", info.ID, "", 0)
	if err != nil || page.DeviceList[0].ResultReason != "Device not found." {
		t.Fatalf("devices: %v %+v", err, page)
	}
	_, err = m.EnableLogging(ctx, "acme", []string{testIMEI(1)})
	mustErr(t, err, fota.ErrNotFound)
	if _, err := m.EnableLogging(ctx, "other", []string{testIMEI(1)}); err != nil {
		t.Fatalf("its own account: %v", err)
	}
}

// A query never shows a stale status: a start or end that fell due since
// the last Tick is applied first.
func TestQueriesSettleDueChanges(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m, ids := fleet(t, 2, fota.NewMemoryStore(), clk)
	req := onDemand(clk, ids)
	req.Timing.StartDate = req.Timing.StartDate.AddDays(1)
	req.Timing.EndDate = req.Timing.StartDate.AddDays(1)
	info, err := m.Schedule(ctx, "acme", req)
	if err != nil || info.Status != campaign.HTTPQueued {
		t.Fatalf("schedule: %v %s", err, info.Status)
	}
	clk.Set(info.StartsAt)
	if got, _ := m.Campaign(ctx, "acme", info.ID); got.Status != campaign.HTTPScheduled {
		t.Fatalf("at the start, without Tick: %s", got.Status)
	}
	clk.Set(info.EndsAt)
	page, err := m.Devices(ctx, "acme", info.ID, "", 0)
	if err != nil || page.DeviceList[0].Status != "UpgradeFailed" || page.DeviceList[0].ResultReason != "RovaClientDidNotReportStatus" {
		t.Fatalf("at the end, without Tick: %v %+v", err, page.DeviceList)
	}
	list, err := m.Campaigns(ctx, "acme", campaign.HTTPEnded, "0", 0)
	if err != nil || len(list.CampaignList) != 1 {
		t.Fatalf("ended campaigns: %v %+v", err, list)
	}
}

func TestUnknownDevicesLeaveNoTrace(t *testing.T) {
	ctx := context.Background()
	m, _ := fleet(t, 1, fota.NewMemoryStore(), newClock())
	stranger := "490154203237518"
	_, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: stranger})
	mustErr(t, err, fota.ErrNotFound)
	if h, _ := m.CheckInHistory(ctx, "acme", stranger, time.Time{}, 10); len(h) != 0 {
		t.Fatalf("an unknown device's check-in was recorded: %+v", h)
	}
	_, err = m.AssignLicenses(ctx, "acme", []string{stranger})
	mustErr(t, err, fota.ErrNotFound)
}

func TestActionText(t *testing.T) {
	for _, a := range []fota.Action{fota.ActionNone, fota.ActionDownload, fota.ActionInstall} {
		b, err := a.MarshalText()
		var back fota.Action
		if err != nil || back.UnmarshalText(b) != nil || back != a {
			t.Fatalf("%v: %s %v -> %v", a, b, err, back)
		}
	}
	var a fota.Action
	if err := a.UnmarshalText([]byte("reboot")); !errors.Is(err, fota.ErrBadRequest) {
		t.Fatalf("unknown action: %v", err)
	}
	if _, err := fota.Action(9).MarshalText(); !errors.Is(err, fota.ErrBadRequest) {
		t.Fatalf("Action(9): %v", err)
	}
}

// MemoryInventory lists an account's devices in id order, a page at a
// time.
func TestMemoryInventoryList(t *testing.T) {
	inv := fota.NewMemoryInventory(
		fota.DeviceInfo{DeviceID: "3", Account: "a"}, fota.DeviceInfo{DeviceID: "1", Account: "a"},
		fota.DeviceInfo{DeviceID: "2", Account: "b"}, fota.DeviceInfo{DeviceID: "4", Account: "a"})
	page, more := inv.List("a", "", 2)
	if len(page) != 2 || page[0].DeviceID != "1" || page[1].DeviceID != "3" || !more {
		t.Fatalf("first page %+v, more %v", page, more)
	}
	page, more = inv.List("a", "3", 2)
	if len(page) != 1 || page[0].DeviceID != "4" || more {
		t.Fatalf("second page %+v, more %v", page, more)
	}
}
