package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/api"
	"github.com/fotakit/fota/examples/server/pushsim"
)

// upgradeBody is the SDK's FirmwareUpgradeRequest for devs: all its
// fields and nothing else (make and model come from the catalog).
func upgradeBody(acc, start, end string, devs ...string) string {
	return fmt.Sprintf(`{"accountName":%q,"firmwareName":"meter-fw","firmwareTo":"2.0","startDate":%q,"endDate":%q,"deviceList":%s}`,
		acc, start, end, list(devs...))
}

// /v1 upgrades through their life before the start: POST /upgrades (the
// account in the body, which must be the token's), GET, PUT append and
// remove, DELETE; make, model and the version from come from the
// catalog's package; an HTTP device is rejected; /v1 and /v2 each serve
// their own family only.
func TestUpgradesV1(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	f.tok = tokens["acme"] // POST /upgrades has no account in its path
	var u api.FirmwareUpgrade
	f.ok("POST", v1+"/upgrades", upgradeBody("acme", tomorrow, "2026-03-05", f.push[0], f.push[1], f.ids[0]), &u)
	if u.ID != "c1" || u.AccountName != "acme" || u.FirmwareName != "meter-fw" || u.FirmwareFrom != "1.0" || u.FirmwareTo != "2.0" ||
		u.Make != "Acme" || u.Model != "Meter" || u.StartDate.String() != tomorrow || u.EndDate.String() != "2026-03-05" || u.Status != "Queued" {
		t.Fatalf("scheduled: %+v", u)
	}
	if len(u.DeviceList) != 3 || u.DeviceList[0].Status != "Device Rejected" || u.DeviceList[0].ResultReason == "" ||
		u.DeviceList[1] != (api.DeviceResult{DeviceID: f.push[0], Status: "Device Accepted", ResultReason: "Device cleared all check so it can be added to the scheduled list."}) ||
		u.DeviceList[2].DeviceID != f.push[1] || u.DeviceList[2].Status != "Device Accepted" {
		t.Fatalf("devices: %+v", u.DeviceList)
	}

	// The account is the body's, and must be the token's.
	f.tok = tokens["other"]
	f.fails("POST", v1+"/upgrades", upgradeBody("acme", tomorrow, "2026-03-05", f.push[2]), http.StatusForbidden, api.CodeForbidden)
	f.tok = tokens["acme"]
	f.fails("POST", v1+"/upgrades", upgradeBody("other", tomorrow, "2026-03-05", f.push[2]), http.StatusForbidden, api.CodeForbidden)
	if msg := f.fails("POST", v1+"/upgrades", `{"firmwareName":"meter-fw","firmwareTo":"2.0","startDate":"`+tomorrow+`","endDate":"2026-03-05","deviceList":["`+f.push[2]+`"]}`,
		400, api.CodeBadRequest); !strings.Contains(msg, "accountName") {
		t.Errorf("no account: %q", msg)
	}
	req := newRequest("POST", v1+"/upgrades", upgradeBody("acme", tomorrow, "2026-03-05", f.push[2]))
	if code, body := f.send(req); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d %s", code, body)
	}
	f.tok = ""

	var got api.FirmwareUpgrade
	f.ok("GET", v1+"/upgrades/acme/upgrade/c1", "", &got)
	if fmt.Sprint(got) != fmt.Sprint(u) {
		t.Fatalf("GET:\n got %+v\nwant %+v", got, u)
	}
	f.fails("GET", v1+"/upgrades/other/upgrade/c1", "", 400, api.CodeNotFound)

	// Devices join and leave before the start.
	var ch api.FirmwareUpgradeChangeResult
	f.ok("PUT", v1+"/upgrades/acme/upgrade/c1", `{"type":"append","deviceList":`+list(f.push[2], f.others[0])+`}`, &ch)
	if ch.AccountName != "acme" || ch.ID != "c1" || len(ch.DeviceList) != 2 ||
		ch.DeviceList[0] != (api.DeviceResultV1{DeviceID: f.push[2], Status: "Device Accepted", Reason: "Device cleared all check so it can be added to the scheduled list."}) ||
		ch.DeviceList[1] != (api.DeviceResultV1{DeviceID: f.others[0], Status: "Device Rejected", Reason: "Device not found."}) { // another account's
		t.Fatalf("append: %+v", ch)
	}
	var removed api.FirmwareUpgradeChangeResult
	f.ok("PUT", v1+"/upgrades/acme/upgrade/c1", `{"type":"remove","deviceList":`+list(f.push[0])+`}`, &removed)
	if len(removed.DeviceList) != 1 || removed.DeviceList[0] != (api.DeviceResultV1{DeviceID: f.push[0], Status: "Device Removed"}) {
		t.Fatalf("remove: %+v", removed)
	}
	if msg := f.fails("PUT", v1+"/upgrades/acme/upgrade/c1", `{"type":"merge","deviceList":`+list(f.push[3])+`}`, 400, api.CodeBadRequest); !strings.Contains(msg, "type") {
		t.Errorf("merge: %q", msg)
	}
	f.ok("GET", v1+"/upgrades/acme/upgrade/c1", "", &got)
	var ids []string
	for _, d := range got.DeviceList {
		ids = append(ids, d.DeviceID)
	}
	if fmt.Sprint(ids) != fmt.Sprint([]string{f.ids[0], f.push[1], f.push[2], f.others[0]}) {
		t.Fatalf("devices after the changes: %v", got.DeviceList)
	}

	// Each resource path serves its own family.
	f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[1:2], ""), nil) // c2
	for _, c := range []struct{ method, path string }{
		{"GET", v1 + "/upgrades/acme/upgrade/c2"}, {"DELETE", v1 + "/upgrades/acme/upgrade/c2"},
		{"GET", v2 + "/campaigns/acme/c1"}, {"DELETE", v2 + "/campaigns/acme/c1"}, {"GET", v2 + "/reports/acme/campaigns/c1/devices"},
	} {
		if msg := f.fails(c.method, c.path, "", 400, api.CodeWrongFamily); !strings.Contains(msg, "see /api/fota/") {
			t.Errorf("%s %s: %q", c.method, c.path, msg)
		}
	}
	if msg := f.fails("PUT", v2+"/campaigns/acme/c1", `{"Type":"append","deviceList":`+list(f.push[3])+`}`, 400, api.CodeWrongFamily); !strings.Contains(msg, "/v1") {
		t.Errorf("v2 PUT of an upgrade: %q", msg)
	}
	var h api.CampaignHistory
	f.ok("GET", v2+"/reports/acme/campaigns", "", &h)
	if len(h.CampaignList) != 1 || h.CampaignList[0].ID != "c2" {
		t.Fatalf("the /v2 history lists %+v", h.CampaignList)
	}

	// Cancelled before its start.
	f.ok("DELETE", v1+"/upgrades/acme/upgrade/c1", "", nil)
	f.ok("GET", v1+"/upgrades/acme/upgrade/c1", "", &got)
	if got.Status != "Cancelled" || got.DeviceList[2].Status != "CampaignCancelled" {
		t.Fatalf("after DELETE: %+v", got)
	}
}

// GET /reports/{acc}/status/{upgradeStatus}/index/{startIndex} pages an
// account's upgrades in one status by their index: startIndex 0 first,
// then the last page's lastSeenUpgradeId.
func TestUpgradesByStatus(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: api.Options{PageSize: 2}})
	f.tok = tokens["acme"]
	for _, d := range f.push {
		f.ok("POST", v1+"/upgrades", upgradeBody("acme", tomorrow, "2026-03-05", d), nil) // c1 .. c4
	}
	f.tok = ""
	f.ok("DELETE", v1+"/upgrades/acme/upgrade/c2", "", nil)
	f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[:1], ""), nil) // c5: /v2, never listed

	page := func(status, index string) (ids []string, more bool, last uint64) {
		var res api.UpgradeListQueryResult
		f.ok("GET", v1+"/reports/acme/status/"+status+"/index/"+index, "", &res)
		for _, u := range res.ReportList {
			if u.Status != status || u.DeviceList != nil {
				t.Errorf("%s page lists %+v", status, u)
			}
			ids = append(ids, u.ID)
		}
		return ids, res.HasMoreFlag, res.LastSeenUpgradeID
	}
	ids, more, last := page("Queued", "0")
	if fmt.Sprint(ids) != "[c1 c3]" || !more || last != 3 {
		t.Fatalf("first page: %v %v %d", ids, more, last)
	}
	ids, more, last = page("Queued", "3")
	if fmt.Sprint(ids) != "[c4]" || more || last != 4 {
		t.Fatalf("second page: %v %v %d", ids, more, last)
	}
	if ids, more, _ := page("Queued", "4"); len(ids) != 0 || more {
		t.Fatalf("past the end: %v %v", ids, more)
	}
	if ids, _, _ := page("Cancelled", "0"); fmt.Sprint(ids) != "[c2]" {
		t.Fatalf("cancelled: %v", ids)
	}
	if ids, _, _ := page("Finished", "0"); len(ids) != 0 {
		t.Fatalf("finished: %v", ids)
	}
	_, raw := f.do("GET", v1+"/reports/acme/status/InProgress/index/0", "")
	if string(raw) != `{"hasMoreFlag":false,"reportList":[]}`+"\n" {
		t.Errorf("an empty page: %s", raw)
	}
	if msg := f.fails("GET", v1+"/reports/acme/status/CampaignEnded/index/0", "", 400, api.CodeBadRequest); !strings.Contains(msg, "upgradeStatus") {
		t.Errorf("a /v2 status: %q", msg)
	}
	if msg := f.fails("GET", v1+"/reports/acme/status/Queued/index/first", "", 400, api.CodeBadRequest); !strings.Contains(msg, "startIndex") {
		t.Errorf("a bad index: %q", msg)
	}
	var other api.UpgradeListQueryResult
	f.ok("GET", v1+"/reports/other/status/Queued/index/0", "", &other)
	if len(other.ReportList) != 0 {
		t.Errorf("another account sees %+v", other.ReportList)
	}
}

// A device's upgrade history (GET /reports/{acc}/devices/{deviceId}):
// /v2 lists its HTTP campaigns (DeviceSoftwareUpgrade), /v1 its push
// upgrades (DeviceUpgradeHistory, with upgradeStartTime once started).
func TestDeviceUpgradeHistory(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	d, meter := f.ids[0], f.push[0]
	f.ok("POST", v2+"/campaigns/acme", campaignBody(today, "2026-03-05", []string{d}, ""), nil) // c1
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+d+`"}`, nil)
	f.ok("POST", dev+"/report", `{"deviceId":"`+d+`","campaignId":"c1","outcome":"installed"}`, nil)
	f.tok = tokens["acme"]
	f.ok("POST", v1+"/upgrades", upgradeBody("acme", tomorrow, "2026-03-05", meter), nil) // c2
	f.tok = ""

	var h2 []api.DeviceSoftwareUpgrade
	f.ok("GET", v2+"/reports/acme/devices/"+d, "", &h2)
	if len(h2) != 1 || h2[0] != (api.DeviceSoftwareUpgrade{DeviceID: d, ID: "c1", AccountName: "acme", SoftwareName: "lamp-fw",
		StartDate: today, Status: "UpgradeSuccess", Reason: "Download and install succeeded."}) {
		t.Fatalf("/v2 history: %+v", h2)
	}
	var h1 []api.DeviceUpgradeHistory
	f.ok("GET", v1+"/reports/acme/devices/"+meter, "", &h1)
	if len(h1) != 1 || h1[0] != (api.DeviceUpgradeHistory{DeviceID: meter, ID: "c2", AccountName: "acme", FirmwareFrom: "1.0", FirmwareTo: "2.0",
		StartDate: tomorrow, Status: "Device Accepted", Reason: "Device cleared all check so it can be added to the scheduled list."}) {
		t.Fatalf("/v1 history: %+v", h1)
	}
	// Each path lists its own family.
	f.ok("GET", v1+"/reports/acme/devices/"+d, "", &h1)
	f.ok("GET", v2+"/reports/acme/devices/"+meter, "", &h2)
	_, raw := f.do("GET", v2+"/reports/acme/devices/"+meter, "")
	if len(h1) != 0 || len(h2) != 0 || string(raw) != "[]\n" {
		t.Fatalf("the other family's: %+v %+v %s", h1, h2, raw)
	}
	f.ok("GET", v2+"/reports/other/devices/"+d, "", &h2)
	if len(h2) != 0 {
		t.Fatalf("another account sees %+v", h2)
	}
}

// A /v1 upgrade of simulated LwM2M and OMA-DM devices, scheduled and read
// through the API on a mock clock (the in-process push transport of
// package pushsim, Step and Tick driven by hand): Queued, then
// InProgress at its start, each device "Device Accepted", then "Upgrade
// Pending", then "Upgrade Success", and Finished after its end date (a
// DELETE once it started is refused: a push upgrade has no abort); the
// reports, the device's history and the /v1 callbacks say the same.
func TestUpgradeRunsThroughPushTransport(t *testing.T) {
	f := newFixture(t, fixtureConfig{callbacks: true})
	var mu sync.Mutex
	var messages [][]byte
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		messages = append(messages, b)
		mu.Unlock()
	}))
	defer rc.Close()
	f.ok("POST", v1+"/callbacks/acme", `{"name":"Fota","url":"`+rc.URL+`"}`, nil)
	tr := pushsim.New(f.m, pushsim.Config{Clock: f.clk})
	for i, id := range f.push {
		if err := tr.Add(id, []device.Protocol{device.LWM2M, device.OMADM}[i%2]); err != nil {
			t.Fatal(err)
		}
	}
	f.tok = tokens["acme"]
	var u api.FirmwareUpgrade
	f.ok("POST", v1+"/upgrades", upgradeBody("acme", today, tomorrow, f.push...), &u) // on demand: starts 2 h later, 00:00
	f.tok = ""

	statuses := map[string][]string{} // the upgrade's and each device's, as they changed
	seen := func(key, st string) {
		if h := statuses[key]; len(h) == 0 || h[len(h)-1] != st {
			statuses[key] = append(h, st)
		}
	}
	triedDelete := false
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatalf("not finished: %v", statuses)
		}
		var got api.FirmwareUpgrade
		f.ok("GET", v1+"/upgrades/acme/upgrade/"+u.ID, "", &got)
		seen("upgrade", got.Status)
		for _, d := range got.DeviceList {
			seen(d.DeviceID, d.Status)
		}
		if got.Status == "InProgress" && !triedDelete { // started: it runs to its end
			triedDelete = true
			f.fails("DELETE", v1+"/upgrades/acme/upgrade/"+u.ID, "", 400, api.CodeInvalidTransition)
		}
		if got.Status == "Finished" {
			break
		}
		next, err := tr.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if tick, err := f.m.Tick(context.Background()); err != nil {
			t.Fatal(err)
		} else if next.IsZero() || (!tick.IsZero() && tick.Before(next)) {
			next = tick
		}
		f.clk.Set(next)
	}
	if fmt.Sprint(statuses["upgrade"]) != "[Queued InProgress Finished]" {
		t.Errorf("upgrade: %v", statuses["upgrade"])
	}
	for _, id := range f.push {
		if fmt.Sprint(statuses[id]) != "[Device Accepted Upgrade Pending Upgrade Success]" {
			t.Errorf("device %s: %v", id, statuses[id])
		}
	}
	var got api.FirmwareUpgrade
	f.ok("GET", v1+"/upgrades/acme/upgrade/"+u.ID, "", &got)
	for _, d := range got.DeviceList {
		if d.Status != "Upgrade Success" || d.ResultReason != "The firmware upgrade was successful." {
			t.Errorf("finished device %+v", d)
		}
	}
	var res api.UpgradeListQueryResult
	f.ok("GET", v1+"/reports/acme/status/Finished/index/0", "", &res)
	if len(res.ReportList) != 1 || res.ReportList[0].ID != u.ID || res.LastSeenUpgradeID != 1 {
		t.Errorf("finished upgrades: %+v", res)
	}
	var h []api.DeviceUpgradeHistory
	f.ok("GET", v1+"/reports/acme/devices/"+f.push[1], "", &h)
	if len(h) != 1 || h[0].Status != "Upgrade Success" || h[0].UpgradeStartTime != "2026-03-02T00:00:00Z" {
		t.Errorf("history: %+v", h)
	}
	if st := tr.Stats(); st.Errors != 0 || st.Unanswered != 0 || st.Alerts != 2 {
		t.Errorf("transport: %+v", st)
	}

	// The /v1 callbacks: each device's wire changes once, in the
	// document's CallbackMessage shape.
	d := f.opts().Callbacks
	waitFor(t, "the callbacks delivered", func() bool {
		s := d.Stats()
		return s.Queued == s.Delivered+s.DeadLetters+s.Discarded && s.Delivered > 0
	})
	c, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	mu.Lock()
	defer mu.Unlock()
	for _, b := range messages {
		var v any
		_ = json.Unmarshal(b, &v)
		if err := c.doc.Components.Schemas["CallbackMessage"].Value.VisitJSON(v); err != nil {
			t.Errorf("callback %s: %v", b, err)
		}
		var m struct {
			Type, Status string
			DeviceList   []api.DeviceResult
		}
		_ = json.Unmarshal(b, &m)
		counts[m.Type+" "+m.Status]++
		for _, dv := range m.DeviceList {
			counts[dv.Status]++
		}
	}
	want := map[string]int{"CampaignStatus RequestPending": 1, "CampaignStatus Queued": 1, "CampaignStatus InProgress": 1, "CampaignStatus Finished": 1,
		"DeviceStatus ": 12, "Device Accepted": 4, "Upgrade Pending": 4, "Upgrade Success": 4}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("callbacks %v, want %v", counts, want)
	}
}
