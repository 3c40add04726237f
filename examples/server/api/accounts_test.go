package api_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/api"
)

// The account's devices from the inventory, a page at a time: /v2 GET
// /devices/{acc} (V2AccountDeviceList, optionally of one distribution
// type) and /v1 GET /devices/{acc}/index/{startIndex}
// (DeviceListQueryResult, lastSeenDeviceId a number), each device with
// whether it holds a licence (assigned through the API or reported by
// the inventory).
func TestAccountDevices(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: api.Options{PageSize: 10}})
	f.ok("POST", v2+"/licenses/acme/assign", `{"deviceList":`+list(f.ids[0], f.push[0])+`}`, nil)
	info, _, _ := f.inv.Lookup(context.Background(), f.ids[1])
	info.Licensed = true
	f.inv.Put(info)
	all := slices.Sorted(slices.Values(slices.Concat(f.ids, f.push, []string{f.lwm2m})))
	licensed := map[string]bool{f.ids[0]: true, f.ids[1]: true, f.push[0]: true}

	var seen []string
	for after, pages := "0", 0; ; pages++ {
		var page api.V2AccountDeviceList
		f.ok("GET", v2+"/devices/acme?lastSeenDeviceId="+after, "", &page)
		if page.AccountName != "acme" || page.MaxPageSize != 10 || len(page.DeviceList) > 10 {
			t.Fatalf("page %d: %+v", pages, page)
		}
		for _, d := range page.DeviceList {
			info, _, _ := f.inv.Lookup(context.Background(), d.DeviceID)
			want := api.V2AccountDevice{DeviceID: d.DeviceID, Model: info.Model, Make: "Acme", FOTAEligible: true,
				AppFOTAEligible: info.Protocol == device.HTTP, LicenseAssigned: licensed[d.DeviceID], DistributionType: info.Protocol.String(),
				SoftwareList: []api.V2SoftwareInfo{{Version: "1.0"}}}
			if fmt.Sprint(d) != fmt.Sprint(want) {
				t.Errorf("device %+v, want %+v", d, want)
			}
			seen = append(seen, d.DeviceID)
		}
		if !page.HasMoreData {
			break
		}
		after = page.LastSeenDeviceID
	}
	if !slices.Equal(seen, all) {
		t.Fatalf("/v2 pages list %v, want %v", seen, all)
	}

	var lwm2m api.V2AccountDeviceList
	f.ok("GET", v2+"/devices/acme?distributionType=LWM2M", "", &lwm2m)
	var ids []string
	for _, d := range lwm2m.DeviceList {
		ids = append(ids, d.DeviceID)
	}
	if want := slices.Sorted(slices.Values([]string{f.lwm2m, f.push[0], f.push[2]})); !slices.Equal(ids, want) || lwm2m.HasMoreData {
		t.Fatalf("LWM2M devices %v (more %v), want %v", ids, lwm2m.HasMoreData, want)
	}
	f.fails("GET", v2+"/devices/acme?distributionType=SMS", "", 400, api.CodeBadRequest)

	seen = nil
	for index := "0"; ; {
		code, raw := f.do("GET", v1+"/devices/acme/index/"+index, "")
		var page api.DeviceListQueryResult
		f.ok("GET", v1+"/devices/acme/index/"+index, "", &page)
		for _, d := range page.DeviceList {
			if d.Firmware != "1.0" || !d.FOTAEligible || d.LicenseAssigned != licensed[d.DeviceID] {
				t.Errorf("/v1 device %+v", d)
			}
			seen = append(seen, d.DeviceID)
		}
		if !page.HasMoreData {
			break
		}
		last := seen[len(seen)-1]
		if code != 200 || !strings.Contains(string(raw), `"lastSeenDeviceId":`+last+`,`) { // a number, as the SDK's model has it
			t.Fatalf("/v1 page after %s: %s", index, raw)
		}
		index = last
	}
	if !slices.Equal(seen, all) {
		t.Fatalf("/v1 pages list %v, want %v", seen, all)
	}

	var other api.V2AccountDeviceList
	f.ok("GET", v2+"/devices/other", "", &other)
	if len(other.DeviceList) != len(f.others) || other.DeviceList[0].DeviceID != f.others[0] || other.DeviceList[0].LicenseAssigned {
		t.Fatalf("other's devices: %+v", other)
	}
}

// lookupOnly is an inventory that cannot list.
type lookupOnly struct{ fota.Inventory }

// Without a DeviceLister the device routes say so in the SDK's shape.
func TestAccountDevicesNeedALister(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	g := newFixture(t, fixtureConfig{opts: api.Options{Inventory: lookupOnly{f.inv}}})
	g.fails("GET", v2+"/devices/acme", "", 400, api.CodeUnsupported)
	g.fails("GET", v1+"/devices/acme/index/0", "", 400, api.CodeUnsupported)
}

// Licence status: /v2 GET /licenses/{acc} (V2LicenseSummary, paged by
// lastSeenDeviceId) and /v1 GET /licenses/{acc}/index/{startIndex}
// (AccountLicenseInfo, paged by index), with the subscription's total and
// the count assigned.
func TestLicenseStatus(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: api.Options{PageSize: 2}})
	lic := slices.Clone(f.ids[3:8])
	f.ok("POST", v2+"/licenses/acme/assign", `{"deviceList":`+list(lic...)+`}`, nil)
	f.ok("POST", v2+"/licenses/acme/remove", `{"deviceList":`+list(lic[2])+`}`, nil)
	lic = slices.Delete(lic, 2, 3)

	var seen []string
	for after := ""; ; {
		var s api.V2LicenseSummary
		f.ok("GET", v2+"/licenses/acme?lastSeenDeviceId="+after, "", &s)
		if s.AccountName != "acme" || s.TotalLicense != 100 || s.AssignedLicenses != 4 || s.MaxPageSize != 2 || len(s.DeviceList) > 2 {
			t.Fatalf("/v2 page: %+v", s)
		}
		for _, d := range s.DeviceList {
			if d.AssignmentTime != "2026-03-01T22:00:00.000Z" {
				t.Errorf("assignment time %+v", d)
			}
			seen = append(seen, d.DeviceID)
		}
		if !s.HasMoreData {
			break
		}
		after = s.LastSeenDeviceID
	}
	if !slices.Equal(seen, lic) {
		t.Fatalf("/v2 pages list %v, want %v", seen, lic)
	}

	for _, tc := range []struct {
		index    string
		devices  []string
		more     bool
		lastSeen uint64
	}{
		{"0", lic[:2], true, 2},
		{"2", lic[2:], false, 4},
		{"1", lic[1:3], true, 3},
		{"4", nil, false, 4},
		{"9", nil, false, 9},
	} {
		var info api.AccountLicenseInfo
		f.ok("GET", v1+"/licenses/acme/index/"+tc.index, "", &info)
		var ids []string
		for _, d := range info.DeviceList {
			ids = append(ids, d.DeviceID)
		}
		if !slices.Equal(ids, tc.devices) || info.HasMoreData != tc.more || info.LastSeenDeviceID != tc.lastSeen ||
			info.TotalLicenses != 100 || info.AssignedLicenses != 4 {
			t.Errorf("/v1 index %s: %+v", tc.index, info)
		}
	}
	f.fails("GET", v1+"/licenses/acme/index/x", "", 400, api.CodeBadRequest)
	var other api.V2LicenseSummary
	f.ok("GET", v2+"/licenses/other", "", &other)
	if other.AssignedLicenses != 0 || len(other.DeviceList) != 0 || other.TotalLicense != 0 {
		t.Fatalf("other's licences: %+v", other)
	}
}
