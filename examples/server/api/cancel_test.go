package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota/examples/server/api"
)

// sdk sends one request as Verizon's SDK sends it for acme: its whole
// header set (Authorization and VZ-M2M-Token, its user agent, Accept,
// and the operation's Content-Type, "" for none), and checks the answer
// against the OpenAPI document (f.send).
func (f *fixture) sdk(method, path, contentType string, body io.Reader) (int, []byte) {
	f.t.Helper()
	req := newRequest(method, path, "")
	if body != nil {
		req = newRequest(method, path, "x")
		req.Body = io.NopCloser(body)
		req.ContentLength = -1
	}
	req.Header.Del("Content-Type")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+tokens["acme"])
	req.Header.Set("VZ-M2M-Token", "session-of-acme")
	return f.send(req)
}

// sdkOK is sdk for a call that must answer 200; it decodes the answer
// into out (if not nil).
func (f *fixture) sdkOK(method, path, contentType, body string, out any) []byte {
	f.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	code, b := f.sdk(method, path, contentType, r)
	if code != http.StatusOK {
		f.t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			f.t.Fatalf("%s %s: answer %s: %v", method, path, b, err)
		}
	}
	return b
}

// licensed is the account's devices holding a licence, as GET
// /licenses/{acc} lists them.
func (f *fixture) licensed(acc string) []string {
	f.t.Helper()
	var out []string
	for after := ""; ; {
		var s api.V2LicenseSummary
		f.ok("GET", v2+"/licenses/"+acc+"?lastSeenDeviceId="+after, "", &s)
		for _, d := range s.DeviceList {
			out = append(out, d.DeviceID)
		}
		if !s.HasMoreData {
			return out
		}
		after = s.LastSeenDeviceID
	}
}

// The /v2 cancel list as the SDK calls it (POST and DELETE with its */*
// JSON bodies, GET with and without startIndex): type "append" adds, no
// type replaces, DELETE empties; a GET pages through it in device-id
// order, with the whole list's count and its last change.
func TestLicenseCancelListV2(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: api.Options{PageSize: 2}})
	ids := slices.Clone(f.ids[:5])
	f.ok("POST", v2+"/licenses/acme/assign", `{"deviceList":`+list(ids...)+`}`, nil)

	var page api.CancelList
	f.sdkOK("GET", v2+"/licenses/acme/cancel", "", "", &page)
	if page.Count != 0 || page.HasMoreData || page.UpdateTime != "" || page.DeviceList == nil || len(page.DeviceList) != 0 {
		t.Fatalf("a list never written: %+v", page)
	}

	var res api.CancelListResult
	f.sdkOK("POST", v2+"/licenses/acme/cancel", "*/*", `{"deviceList":`+list(ids[3], ids[1])+`}`, &res)
	if res.Count != 2 || !slices.Equal(res.DeviceList, []string{ids[3], ids[1]}) {
		t.Fatalf("replace: %+v", res)
	}
	f.clk.Add(time.Minute)
	f.sdkOK("POST", v2+"/licenses/acme/cancel", "*/*", `{"type":"append","count":3,"deviceList":`+list(ids[0], ids[4], ids[2])+`}`, &res)
	if res.Count != 3 || !slices.Equal(res.DeviceList, []string{ids[0], ids[4], ids[2]}) {
		t.Fatalf("append: %+v", res)
	}

	var seen []string
	for index := 0; ; index += 2 { // the page size, as the SDK pages by 1000
		f.sdkOK("GET", fmt.Sprintf("%s/licenses/acme/cancel?startIndex=%d", v2, index), "", "", &page)
		if page.Count != 5 || page.UpdateTime != "2026-03-01 22:01:00.000 +0000 UTC" || len(page.DeviceList) > 2 {
			t.Fatalf("page at %d: %+v", index, page)
		}
		seen = append(seen, page.DeviceList...)
		if !page.HasMoreData {
			break
		}
	}
	if !slices.Equal(seen, ids) { // the fixture's ids are in id order
		t.Fatalf("pages list %v, want %v", seen, ids)
	}
	f.sdkOK("GET", v2+"/licenses/acme/cancel?startIndex=9", "", "", &page)
	if page.Count != 5 || page.HasMoreData || len(page.DeviceList) != 0 {
		t.Fatalf("past the end: %+v", page)
	}

	// No type: the list is replaced, the others are off it.
	f.sdkOK("POST", v2+"/licenses/acme/cancel", "*/*", `{"count":1,"deviceList":`+list(ids[2])+`}`, &res)
	f.sdkOK("GET", v2+"/licenses/acme/cancel?startIndex=0", "", "", &page)
	if page.Count != 1 || !slices.Equal(page.DeviceList, ids[2:3]) {
		t.Fatalf("after a replace: %+v", page)
	}

	var ok api.Success
	f.clk.Add(time.Minute)
	f.sdkOK("DELETE", v2+"/licenses/acme/cancel", "", "", &ok)
	if !ok.Success {
		t.Fatalf("DELETE: %+v", ok)
	}
	f.sdkOK("GET", v2+"/licenses/acme/cancel", "", "", &page)
	if page.Count != 0 || len(page.DeviceList) != 0 || page.UpdateTime != "2026-03-01 22:02:00.000 +0000 UTC" {
		t.Fatalf("after DELETE: %+v", page)
	}
	f.sdkOK("DELETE", v2+"/licenses/acme/cancel", "", "", &ok) // an empty list: still emptied
	if got := f.licensed("acme"); !slices.Equal(got, ids) {
		t.Fatalf("the list released licences before the cycle's end: %v", got)
	}

	// The other account's list is its own.
	f.ok("GET", v2+"/licenses/other/cancel", "", &page)
	if page.Count != 0 || page.UpdateTime != "" {
		t.Fatalf("other's list: %+v", page)
	}
}

// The /v1 cancel list as the SDK calls it: POST with application/json,
// DELETE, GET by index.
func TestLicenseCancelListV1(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: api.Options{PageSize: 2}})
	ids := slices.Clone(f.ids[:3])
	f.ok("POST", v1+"/licenses/acme/assign", `{"deviceList":`+list(ids...)+`}`, nil)

	var page api.CancelListV1
	raw := f.sdkOK("GET", v1+"/licenses/acme/cancel/index/0", "", "", &page)
	if page.Count != 0 || page.HasMoreData || strings.Contains(string(raw), "updateTime") {
		t.Fatalf("a list never written: %s", raw)
	}
	var res api.CancelListResult
	f.sdkOK("POST", v1+"/licenses/acme/cancel", "application/json", `{"deviceList":`+list(ids[2])+`}`, &res)
	f.sdkOK("POST", v1+"/licenses/acme/cancel", "application/json", `{"type":"append","deviceList":`+list(ids[0], ids[1])+`}`, &res)
	if res.Count != 2 || !slices.Equal(res.DeviceList, ids[:2]) {
		t.Fatalf("append: %+v", res)
	}
	f.sdkOK("GET", v1+"/licenses/acme/cancel/index/0", "", "", &page)
	if page.Count != 3 || !page.HasMoreData || !slices.Equal(page.DeviceList, ids[:2]) || page.UpdateTime != "2026-03-01T22:00:00.000Z" {
		t.Fatalf("first page: %+v", page)
	}
	f.sdkOK("GET", v1+"/licenses/acme/cancel/index/2", "", "", &page)
	if page.Count != 3 || page.HasMoreData || !slices.Equal(page.DeviceList, ids[2:]) {
		t.Fatalf("second page: %+v", page)
	}
	var ok api.Success
	f.sdkOK("DELETE", v1+"/licenses/acme/cancel", "", "", &ok)
	f.sdkOK("GET", v1+"/licenses/acme/cancel/index/0", "", "", &page)
	if !ok.Success || page.Count != 0 || len(page.DeviceList) != 0 {
		t.Fatalf("after DELETE: %+v, %+v", ok, page)
	}
}

// Bad input is the SDK's 400 error body naming the field and the value,
// and changes nothing.
func TestLicenseCancelListBadInput(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: api.Options{MaxStringBytes: 256}})
	f.ok("POST", v2+"/licenses/acme/assign", `{"deviceList":`+list(f.ids[0], f.ids[1])+`}`, nil)
	f.ok("POST", v2+"/licenses/other/assign", `{"deviceList":`+list(f.others[0])+`}`, nil)
	f.ok("POST", v2+"/licenses/acme/cancel", `{"deviceList":`+list(f.ids[0])+`}`, nil)
	long := strings.Repeat("9", 129)
	for _, tc := range []struct {
		name, method, path, body string
		field, value             string
	}{
		{"v2 no device list", "POST", v2 + "/licenses/acme/cancel", `{"type":"append"}`, "deviceList", ""},
		{"v2 empty device list", "POST", v2 + "/licenses/acme/cancel", `{"deviceList":[]}`, "deviceList", ""},
		{"v1 empty device list", "POST", v1 + "/licenses/acme/cancel", `{"type":"append","deviceList":[]}`, "deviceList", ""},
		{"v2 unknown device", "POST", v2 + "/licenses/acme/cancel", `{"type":"append","deviceList":["490154203237518"]}`, "deviceList", "490154203237518"},
		{"v1 unknown device", "POST", v1 + "/licenses/acme/cancel", `{"deviceList":["490154203237518"]}`, "deviceList", "490154203237518"},
		{"another account's device", "POST", v2 + "/licenses/acme/cancel", `{"deviceList":` + list(f.others[0]) + `}`, "deviceList", f.others[0]},
		{"a device without a licence", "POST", v2 + "/licenses/acme/cancel", `{"deviceList":` + list(f.ids[1], f.ids[2]) + `}`, "deviceList", f.ids[2]},
		{"an over-long id", "POST", v2 + "/licenses/acme/cancel", `{"deviceList":["` + long + `"]}`, "deviceList", long[:20]},
		{"v1 over-long id", "POST", v1 + "/licenses/acme/cancel", `{"deviceList":["` + long + `"]}`, "deviceList", long[:20]},
		{"an empty id", "POST", v2 + "/licenses/acme/cancel", `{"deviceList":[""]}`, "deviceList", "empty device id"},
		{"a device twice", "POST", v2 + "/licenses/acme/cancel", `{"deviceList":` + list(f.ids[1], f.ids[1]) + `}`, "deviceList", f.ids[1]},
		{"v2 unknown type", "POST", v2 + "/licenses/acme/cancel", `{"type":"remove","deviceList":` + list(f.ids[1]) + `}`, "type", "remove"},
		{"v1 unknown type", "POST", v1 + "/licenses/acme/cancel", `{"type":"Append","deviceList":` + list(f.ids[1]) + `}`, "type", "Append"},
		{"a wrong count", "POST", v2 + "/licenses/acme/cancel", `{"count":2,"deviceList":` + list(f.ids[1]) + `}`, "count", "2"},
		{"count in v1", "POST", v1 + "/licenses/acme/cancel", `{"count":1,"deviceList":` + list(f.ids[1]) + `}`, "count", "unknown field"},
		{"a number as the list", "POST", v2 + "/licenses/acme/cancel", `{"deviceList":7}`, "deviceList", "number"},
		{"v2 startIndex not a number", "GET", v2 + "/licenses/acme/cancel?startIndex=x1", "", "startIndex", "x1"},
		{"v2 negative startIndex", "GET", v2 + "/licenses/acme/cancel?startIndex=-1000", "", "startIndex", "-1000"},
		{"v1 startIndex not a number", "GET", v1 + "/licenses/acme/cancel/index/first", "", "startIndex", "first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := *f
			g.t = t
			msg := g.fails(tc.method, tc.path, tc.body, http.StatusBadRequest, api.CodeBadRequest)
			if !strings.Contains(msg, tc.field) || !strings.Contains(msg, tc.value) {
				t.Errorf("message %q does not name %s and %q", msg, tc.field, tc.value)
			}
		})
	}
	var page api.CancelList
	f.ok("GET", v2+"/licenses/acme/cancel", "", &page)
	if page.Count != 1 || !slices.Equal(page.DeviceList, f.ids[:1]) {
		t.Fatalf("refused requests changed the list: %+v", page)
	}
	// Another account's list is not this token's.
	f.tok = tokens["acme"]
	f.fails("GET", v2+"/licenses/other/cancel", "", http.StatusForbidden, api.CodeForbidden)
	f.fails("POST", v1+"/licenses/other/cancel", `{"deviceList":`+list(f.others[0])+`}`, http.StatusForbidden, api.CodeForbidden)
}

// The billing cycle: a licence on the list is released when the clock
// reaches the first instant of the next month (UTC), at the account's
// next call; a device taken off the list before then (a replace, a
// DELETE, a removal of its licence) keeps its licence, or has none to
// release.
func TestLicenseCancelListReleasesAtCycleEnd(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	ids := slices.Clone(f.ids[:5])
	f.ok("POST", v2+"/licenses/acme/assign", `{"deviceList":`+list(ids...)+`}`, nil)

	f.ok("POST", v2+"/licenses/acme/cancel", `{"deviceList":`+list(ids[0], ids[1])+`}`, nil)
	f.ok("POST", v2+"/licenses/acme/cancel", `{"deviceList":`+list(ids[0])+`}`, nil) // ids[1] off the list again
	f.ok("POST", v1+"/licenses/acme/cancel", `{"type":"append","deviceList":`+list(ids[2], ids[4])+`}`, nil)
	f.ok("POST", v2+"/licenses/acme/remove", `{"deviceList":`+list(ids[4])+`}`, nil) // removed now: off the list

	var page api.CancelList
	f.ok("GET", v2+"/licenses/acme/cancel", "", &page)
	if !slices.Equal(page.DeviceList, []string{ids[0], ids[2]}) {
		t.Fatalf("listed: %+v", page)
	}

	// The last instant of the billing cycle: nothing released yet.
	f.clk.Set(time.Date(2026, 3, 31, 23, 59, 59, 999_000_000, time.UTC))
	if got, want := f.licensed("acme"), ids[:4]; !slices.Equal(got, want) {
		t.Fatalf("before the cycle's end: licensed %v, want %v", got, want)
	}
	if want := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC); !api.ReleaseTime(f.clk.Now()).Equal(want) {
		t.Fatalf("ReleaseTime = %v, want %v", api.ReleaseTime(f.clk.Now()), want)
	}

	// The cycle ends: the next call of the account sees the licences gone.
	f.clk.Set(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	if got, want := f.licensed("acme"), []string{ids[1], ids[3]}; !slices.Equal(got, want) {
		t.Fatalf("after the cycle's end: licensed %v, want %v", got, want)
	}
	f.ok("GET", v2+"/licenses/acme/cancel", "", &page)
	if page.Count != 0 || len(page.DeviceList) != 0 || page.UpdateTime != "2026-04-01 00:00:00.000 +0000 UTC" {
		t.Fatalf("the list after the release: %+v", page)
	}
	// Through the Manager itself, not only the API's view.
	lp, err := f.m.Licenses(context.Background(), "acme", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if lp.Assigned != 2 {
		t.Fatalf("the Manager has %d licences assigned, want 2: %+v", lp.Assigned, lp)
	}

	// A new cycle: listed, then the list deleted before the end.
	f.ok("POST", v1+"/licenses/acme/cancel", `{"deviceList":`+list(ids[1])+`}`, nil)
	f.ok("DELETE", v1+"/licenses/acme/cancel", "", nil)
	f.ok("POST", v2+"/licenses/acme/cancel", `{"deviceList":`+list(ids[3])+`}`, nil)
	f.clk.Set(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	var sub api.SubscriptionV2 // any call of the account applies the release first
	f.ok("GET", v2+"/subscriptions/acme", "", &sub)
	if sub.LicenseUsedCount != 1 {
		t.Fatalf("licences in use after May 1: %d, want 1 (ids[1]'s)", sub.LicenseUsedCount)
	}
	if got := f.licensed("acme"); !slices.Equal(got, ids[1:2]) {
		t.Fatalf("after the second cycle: licensed %v, want %v", got, ids[1:2])
	}
}

// ReleaseTime is the first instant of the next calendar month in UTC,
// across a year's end and from another zone.
func TestReleaseTime(t *testing.T) {
	for _, tc := range []struct{ at, want time.Time }{
		{time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 1, 31, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, // Feb 1 01:00 UTC
	} {
		if got := api.ReleaseTime(tc.at); !got.Equal(tc.want) {
			t.Errorf("ReleaseTime(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

// Concurrent appends, reads and deletes of one account's list neither
// race (go test -race) nor lose a device.
func TestLicenseCancelListConcurrent(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: quietOptions()})
	f.ok("POST", v2+"/licenses/acme/assign", `{"deviceList":`+list(f.ids...)+`}`, nil)
	var wg sync.WaitGroup
	errs := make(chan string, 3*len(f.ids))
	for i, id := range f.ids {
		wg.Go(func() {
			if code, b := f.do("POST", v2+"/licenses/acme/cancel", `{"type":"append","deviceList":`+list(id)+`}`); code != 200 {
				errs <- fmt.Sprintf("append %s: %d %s", id, code, b)
			}
			if code, b := f.do("GET", fmt.Sprintf("%s/licenses/acme/cancel/index/%d", v1, i), ""); code != 200 {
				errs <- fmt.Sprintf("GET: %d %s", code, b)
			}
			if code, b := f.do("DELETE", v2+"/licenses/other/cancel", ""); code != 200 {
				errs <- fmt.Sprintf("DELETE other's: %d %s", code, b)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	var page api.CancelList
	f.ok("GET", v2+"/licenses/acme/cancel", "", &page)
	if page.Count != len(f.ids) || !slices.Equal(page.DeviceList, f.ids) {
		t.Fatalf("after %d concurrent appends: %+v", len(f.ids), page)
	}
}
