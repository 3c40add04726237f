package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/examples/server/api"
	"github.com/fotakit/fota/pilot"
)

// A whole campaign through the API: schedule, check-ins, reports, the
// device page, the end. "For campaigns using the /v2 ... API" the devices
// check in; the campaign "appears before the campaign start date" as
// Queued and is Scheduled once the start date has begun.
func TestWholeCampaign(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	devs := f.ids[:5]
	var c api.CampaignSoftware
	f.ok("POST", v2+"/campaigns/software/acme",
		campaignBody(tomorrow, "2026-03-08", devs, `"downloadTimeWindowList":[{"startTime":2,"endTime":4}]`), &c)
	want := api.CampaignSoftware{
		ID: "c1", AccountName: "acme", CampaignName: "lamp 2.0", SoftwareName: "lamp-fw", DistributionType: "HTTP",
		Make: "Acme", Model: "Lamp", SoftwareFrom: "1.0", SoftwareTo: "2.0",
		StartDate: c.StartDate, EndDate: c.EndDate, DownloadTimeWindowList: c.DownloadTimeWindowList,
		Status: "CampaignRequestQueued",
	}
	if fmt.Sprint(c) != fmt.Sprint(want) || c.StartDate.String() != tomorrow || c.EndDate.String() != "2026-03-08" ||
		len(c.DownloadTimeWindowList) != 1 || c.DownloadTimeWindowList[0].StartTime != 2 {
		t.Fatalf("scheduled %+v", c)
	}
	// The exact wire fields of CampaignSoftware.
	_, raw := f.do("GET", v2+"/campaigns/acme/c1", "")
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "accountName", "campaignName", "softwareName", "distributionType", "make", "model",
		"softwareFrom", "softwareTo", "startDate", "endDate", "downloadTimeWindowList", "status"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("GET campaign lacks %q: %s", k, raw)
		}
	}
	if string(fields["status"]) != `"CampaignRequestQueued"` || string(fields["startDate"]) != `"2026-03-02"` {
		t.Errorf("GET campaign: %s", raw)
	}

	// Before the start: nothing to do, come back at the window's opening.
	var in fota.Instruction
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+devs[0]+`","clientType":6}`, &in)
	if in.Action != fota.ActionNone || !in.RetryAt.Equal(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)) || in.CampaignID != "c1" {
		t.Fatalf("check-in before the start: %+v", in)
	}

	f.clk.Set(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
	f.tick()
	f.ok("GET", v2+"/campaigns/acme/c1", "", &c)
	if c.Status != "CampaignScheduled" {
		t.Fatalf("at the start: %s", c.Status)
	}
	for i, d := range devs {
		f.ok("POST", dev+"/checkin", `{"deviceId":"`+d+`"}`, &in)
		if in.Action != fota.ActionDownload || in.SoftwareTo != "2.0" || in.SoftwareName != "lamp-fw" ||
			!in.Until.Equal(time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)) {
			t.Fatalf("check-in in the window: %+v", in)
		}
		var rep api.ReportResponse
		f.ok("POST", dev+"/report", `{"deviceId":"`+d+`","campaignId":"c1","outcome":"downloaded"}`, &rep)
		if rep.Status != "UpgradePending" {
			t.Fatalf("after downloaded: %+v", rep)
		}
		f.ok("POST", dev+"/checkin", `{"deviceId":"`+d+`"}`, &in)
		if in.Action != fota.ActionInstall {
			t.Fatalf("check-in after download: %+v", in)
		}
		f.ok("POST", dev+"/report", `{"deviceId":"`+d+`","campaignId":"c1","outcome":"installed"}`, &rep)
		if rep.Status != "UpgradeSuccess" || rep.State.String() != "Succeeded" {
			t.Fatalf("after installed: %+v", rep)
		}
		f.ok("GET", v2+"/campaigns/acme/c1", "", &c)
		if i == 0 {
			// In progress inside fota; on the wire still CampaignScheduled
			// (WireCampaignStatus), and listed under that status.
			var hist api.CampaignHistory
			f.ok("GET", v2+"/reports/acme/campaigns?campaignStatus=CampaignScheduled", "", &hist)
			if c.Status != "CampaignScheduled" || len(hist.CampaignList) != 1 || hist.CampaignList[0].Status != "CampaignScheduled" {
				t.Fatalf("after the first download: %s, history %+v", c.Status, hist)
			}
			f.ok("GET", v2+"/reports/acme/campaigns?campaignStatus=CampaignInProgress", "", &hist)
			if len(hist.CampaignList) != 1 {
				t.Fatalf("fota's own CampaignInProgress filter: %+v", hist)
			}
		}
	}
	// "it ends ... as soon as every accepted device succeeded"
	if c.Status != "CampaignEnded" {
		t.Fatalf("after every device upgraded: %s", c.Status)
	}
	var page fota.DevicePage
	f.ok("GET", v2+"/reports/acme/campaigns/c1/devices", "", &page)
	if page.TotalDevice != 5 || page.HasMoreData || len(page.DeviceList) != 5 || page.MaxPageSize != fota.MaxPageSize {
		t.Fatalf("device page: %+v", page)
	}
	for _, d := range page.DeviceList {
		if d.Status != "UpgradeSuccess" || d.ResultReason == "" {
			t.Fatalf("device %+v", d)
		}
	}
	var hist api.CampaignHistory
	f.ok("GET", v2+"/reports/acme/campaigns?campaignStatus=CampaignEnded", "", &hist)
	if len(hist.CampaignList) != 1 || hist.CampaignList[0].ID != "c1" || hist.HasMoreData {
		t.Fatalf("history of ended campaigns: %+v", hist)
	}
	f.ok("GET", v2+"/reports/acme/campaigns?campaignStatus=CampaignRequestQueued&lastSeenCampaignId=0", "", &hist)
	if len(hist.CampaignList) != 0 {
		t.Fatalf("history of queued campaigns: %+v", hist)
	}
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+devs[0]+`"}`, &in)
	if in.Action != fota.ActionNone {
		t.Fatalf("check-in after the end: %+v", in)
	}
	// A report after the end repeats an outcome already applied.
	f.fails("POST", dev+"/report", `{"deviceId":"`+devs[0]+`","campaignId":"c1","outcome":"installed"}`, 400, api.CodeDuplicateReport)
}

// "Can be canceled before the start date. After the start date, but
// before the end date, the software upgrade can be aborted, but not
// canceled" (v2 cancel page): one DELETE does both.
func TestDeleteCancelsThenAborts(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	var future, now api.CampaignSoftware
	f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[:2], ""), &future)
	f.ok("POST", v2+"/campaigns/acme", campaignBody(today, "2026-03-05", f.ids[2:4], ""), &now)
	if future.Status != "CampaignRequestQueued" || now.Status != "CampaignScheduled" {
		t.Fatalf("scheduled %s and %s", future.Status, now.Status)
	}
	var ok api.Success
	f.ok("DELETE", v2+"/campaigns/acme/"+future.ID, "", &ok)
	f.ok("DELETE", v2+"/campaigns/acme/"+now.ID, "", &ok)
	if !ok.Success {
		t.Fatal("success false")
	}
	for id, want := range map[string][2]string{future.ID: {"CampaignCancelled", "CampaignCancelled"}, now.ID: {"CampaignAborted", "CampaignAborted"}} {
		var c api.CampaignSoftware
		f.ok("GET", v2+"/campaigns/acme/"+id, "", &c)
		var page fota.DevicePage
		f.ok("GET", v2+"/reports/acme/campaigns/"+id+"/devices", "", &page)
		if c.Status != want[0] || page.DeviceList[0].Status != want[1] {
			t.Errorf("%s: campaign %s, device %+v; want %v", id, c.Status, page.DeviceList[0], want)
		}
	}
	// A second DELETE finds nothing to stop.
	f.fails("DELETE", v2+"/campaigns/acme/"+future.ID, "", 400, api.CodeInvalidTransition)
	f.fails("DELETE", v2+"/campaigns/acme/"+now.ID, "", 400, api.CodeInvalidTransition)
}

// "Device-status reports return at most 1,000 devices per response. Page
// with lastSeenDeviceId (use 0 first) while hasMoreData is true."
func TestDevicePaging(t *testing.T) {
	for _, tc := range []struct {
		name     string
		devices  int
		pageSize int
	}{
		{"ThingSpace pages of 1000", 2345, 0},
		{"pages of 7", 30, 7},
		{"exactly one page", 7, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fixtureConfig{devices: tc.devices, opts: api.Options{PageSize: tc.pageSize},
				pilot: pilot.Policy{MinDevices: 1, MaxDevices: 5000, SuccessRatio: 0.5}})
			f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids, ""), nil)
			size := tc.pageSize
			if size == 0 {
				size = fota.MaxPageSize
			}
			var seen []string
			last := "0"
			for pages := 1; ; pages++ {
				var page fota.DevicePage
				f.ok("GET", v2+"/reports/acme/campaigns/c1/devices?lastSeenDeviceId="+last, "", &page)
				if page.TotalDevice != tc.devices || page.MaxPageSize != size || len(page.DeviceList) > size {
					t.Fatalf("page %d: total %d, max %d, %d devices", pages, page.TotalDevice, page.MaxPageSize, len(page.DeviceList))
				}
				for _, d := range page.DeviceList {
					seen = append(seen, d.DeviceID)
				}
				if !page.HasMoreData {
					break
				}
				if len(page.DeviceList) != size || page.LastSeenDeviceID != seen[len(seen)-1] {
					t.Fatalf("page %d: %d devices, last seen %q", pages, len(page.DeviceList), page.LastSeenDeviceID)
				}
				last = page.LastSeenDeviceID
			}
			want := slices.Clone(f.ids)
			slices.Sort(want)
			if !slices.Equal(seen, want) {
				t.Fatalf("paged %d devices, want each of %d once in id order", len(seen), len(want))
			}
		})
	}
}

// Campaign history pages by lastSeenCampaignId the same way.
func TestCampaignHistoryPaging(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: api.Options{PageSize: 2}})
	for i := range 5 {
		f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[i:i+1], ""), nil)
	}
	f.ok("POST", v2+"/campaigns/other", campaignBody(tomorrow, "2026-03-05", f.others[:1], ""), nil)
	var ids []string
	last := ""
	for {
		var h api.CampaignHistory
		f.ok("GET", v2+"/reports/acme/campaigns?lastSeenCampaignId="+last, "", &h)
		for _, c := range h.CampaignList {
			if c.AccountName != "acme" {
				t.Fatalf("another account's campaign listed: %+v", c)
			}
			ids = append(ids, c.ID)
		}
		if !h.HasMoreData {
			break
		}
		last = h.LastSeenCampaignID
	}
	if !slices.Equal(ids, []string{"c1", "c2", "c3", "c4", "c5"}) {
		t.Fatalf("history %v", ids)
	}
}

// Add and remove devices ("Type": "append" | "remove"), and the date
// change, before the start.
func TestChangeDevicesAndDates(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[:2], ""), nil)
	var res api.DeviceChangeResult
	f.ok("PUT", v2+"/campaigns/acme/c1", `{"Type":"append","deviceList":`+list(f.ids[2], f.ids[3])+`}`, &res)
	if res.AccountName != "acme" || res.CampaignID != "c1" || res.RequestID == "" {
		t.Fatalf("append: %+v", res)
	}
	first := res.RequestID
	// v1's lower-case "type" is read too.
	f.ok("PUT", v2+"/campaigns/acme/c1", `{"type":"remove","deviceList":`+list(f.ids[0])+`}`, &res)
	if res.RequestID == first {
		t.Fatalf("two changes share requestId %q", first)
	}
	var page fota.DevicePage
	f.ok("GET", v2+"/reports/acme/campaigns/c1/devices", "", &page)
	if page.TotalDevice != 3 || page.DeviceList[0].DeviceID == f.ids[0] {
		t.Fatalf("after append and remove: %+v", page)
	}
	var c api.CampaignSoftware
	f.ok("PUT", v2+"/campaigns/acme/c1/dates",
		`{"startDate":"2026-03-03","endDate":"2026-03-09","installTimeWindowList":[{"startTime":"1","endTime":"5"}]}`, &c)
	if c.StartDate.String() != "2026-03-03" || c.EndDate.String() != "2026-03-09" || len(c.InstallTimeWindowList) != 1 ||
		c.InstallTimeWindowList[0].EndTime != 5 || c.Status != "CampaignRequestQueued" {
		t.Fatalf("after the date change: %+v", c)
	}
}

// A campaign belongs to the account in its record; every other account
// gets NotFound (400 for the SDK) on every campaign route, and nothing
// changes.
func TestCampaignsAreScopedToTheirAccount(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[:2], ""), nil)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/campaigns/other/c1", ""},
		{"PUT", "/campaigns/other/c1", `{"Type":"remove","deviceList":` + list(f.ids[0]) + `}`},
		{"PUT", "/campaigns/other/c1/dates", `{"startDate":"2026-03-03","endDate":"2026-03-09"}`},
		{"DELETE", "/campaigns/other/c1", ""},
		{"GET", "/reports/other/campaigns/c1/devices", ""},
	} {
		g := *f
		g.tok = tokens["acme"] // acme's token, other's path: refused before anything is read
		g.fails(r.method, v2+r.path, r.body, http.StatusForbidden, api.CodeForbidden)
		f.fails(r.method, v2+r.path, r.body, http.StatusBadRequest, api.CodeNotFound)
	}
	var c api.CampaignSoftware
	f.ok("GET", v2+"/campaigns/acme/c1", "", &c)
	var page fota.DevicePage
	f.ok("GET", v2+"/reports/acme/campaigns/c1/devices", "", &page)
	if c.Status != "CampaignRequestQueued" || c.StartDate.String() != tomorrow || page.TotalDevice != 2 {
		t.Fatalf("another account changed the campaign: %+v, %d devices", c, page.TotalDevice)
	}
	var h api.CampaignHistory
	f.ok("GET", v2+"/reports/other/campaigns", "", &h)
	if len(h.CampaignList) != 0 {
		t.Fatalf("other account lists %+v", h.CampaignList)
	}
	// A device the inventory records for another account is answered as
	// one that does not exist, so device ids do not leak either: rejected
	// "Device not found." in a schedule or an append, not found in logging
	// and history calls.
	const stranger = "490154203237518" // a valid IMEI no inventory knows
	// c2
	f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", []string{f.others[0], stranger}, ""), nil)
	f.ok("PUT", v2+"/campaigns/acme/c1", `{"Type":"append","deviceList":`+list(f.others[1], stranger)+`}`, nil)
	for _, c := range []string{"c1", "c2"} {
		var page fota.DevicePage
		f.ok("GET", v2+"/reports/acme/campaigns/"+c+"/devices", "", &page)
		for _, d := range page.DeviceList {
			if (d.DeviceID == stranger || strings.HasPrefix(d.DeviceID, "3500000090")) && (d.Status != "DeviceRejected" || d.ResultReason != "Device not found.") {
				t.Errorf("%s: %+v", c, d)
			}
		}
	}
	for _, id := range []string{f.others[0], stranger} {
		f.fails("PUT", v2+"/logging/acme/devices/"+id, "", 400, api.CodeNotFound)
		f.fails("GET", v2+"/logging/acme/devices/"+id+"/checkInHistory", "", 400, api.CodeNotFound)
		var h []api.DeviceSoftwareUpgrade
		f.ok("GET", v2+"/reports/acme/devices/"+id, "", &h)
		for _, u := range h { // acme's campaigns that rejected it, nothing of its own account's
			if u.AccountName != "acme" || u.Status != "DeviceRejected" || u.Reason != "Device not found." {
				t.Errorf("history of %s: %+v", id, h)
			}
		}
	}
}
