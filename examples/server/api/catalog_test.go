package api_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/api"
)

// GET /software/{acc} lists every package once per distribution type
// (SoftwarePackage), optionally of one type; /v1 GET /firmware/{acc}
// lists the packages for push devices (Firmware). Another account sees
// none of them.
func TestCatalogListings(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	var sw []api.SoftwarePackage
	f.ok("GET", v2+"/software/acme", "", &sw)
	want := []api.SoftwarePackage{
		{SoftwareName: "lamp-fw", LaunchDate: "2026-02-01", ReleaseNote: "brighter", Model: "Lamp", Make: "Acme", DistributionType: "HTTP", DevicePlatformID: "IoT"},
		{SoftwareName: "meter-fw", LaunchDate: "2026-02-02", Model: "Meter", Make: "Acme", DistributionType: "LWM2M", DevicePlatformID: "IoT"},
		{SoftwareName: "meter-fw", LaunchDate: "2026-02-02", Model: "Meter", Make: "Acme", DistributionType: "OMA-DM", DevicePlatformID: "IoT"},
	}
	if !slices.Equal(sw, want) {
		t.Fatalf("software:\n got %+v\nwant %+v", sw, want)
	}
	var omadm []api.SoftwarePackage
	f.ok("GET", v2+"/software/acme?distributionType=OMD-DM", "", &omadm) // the SDK's spelling
	if !slices.Equal(omadm, want[2:]) {
		t.Fatalf("OMA-DM software: %+v", omadm)
	}
	if msg := f.fails("GET", v2+"/software/acme?distributionType=SMS", "", 400, api.CodeBadRequest); !strings.Contains(msg, "distributionType") {
		t.Errorf("bad distributionType: %q", msg)
	}
	var fw []api.Firmware
	f.ok("GET", v1+"/firmware/acme", "", &fw)
	if len(fw) != 1 || fw[0] != (api.Firmware{FirmwareName: "meter-fw", ParticipantName: "acme", LaunchDate: "2026-02-02T00:00:00.000Z",
		Model: "Meter", Make: "Acme", FromVersion: "1.0", ToVersion: "2.0"}) {
		t.Fatalf("firmware: %+v", fw)
	}
	var otherSW []api.SoftwarePackage
	var otherFW []api.Firmware
	f.ok("GET", v2+"/software/other", "", &otherSW)
	f.ok("GET", v1+"/firmware/other", "", &otherFW)
	if len(otherSW) != 0 || len(otherFW) != 0 {
		t.Fatalf("another account sees %+v %+v", otherSW, otherFW)
	}
}

// A schedule request naming a catalog package takes make, model and
// versions from it (the SDK's requests carry no make or model): a device
// of another model is rejected for it, a request that contradicts the
// package is refused naming the field, and a device's check-in is told
// the package's URL, size and hash.
func TestCatalogDrivesSchedulesAndCheckIns(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	bulb := "356938035643809"
	f.inv.Put(fota.DeviceInfo{DeviceID: bulb, Account: "acme", Protocol: device.HTTP, Make: "Acme", Model: "Bulb",
		Software: "1.0", FOTACapable: true, ActiveConnected: true})
	body := `{"softwareName":"lamp-fw","softwareFrom":"1.0","softwareTo":"2.0","distributionType":"HTTP",` +
		`"startDate":"` + today + `","endDate":"2026-03-05","deviceList":` + list(f.ids[0], bulb) + `}`
	var c api.CampaignSoftware
	f.ok("POST", v2+"/campaigns/acme", body, &c)
	if c.Make != "Acme" || c.Model != "Lamp" {
		t.Fatalf("make and model not from the package: %+v", c)
	}
	var page fota.DevicePage
	f.ok("GET", v2+"/reports/acme/campaigns/"+c.ID+"/devices", "", &page)
	if len(page.DeviceList) != 2 || page.DeviceList[0].DeviceID != f.ids[0] || page.DeviceList[0].Status != "Accepted" ||
		page.DeviceList[1].Status != "DeviceRejected" || page.DeviceList[1].ResultReason != device.ReasonMakeModel.Text(device.FamilyHTTP) {
		t.Fatalf("devices: %+v", page.DeviceList)
	}
	var in fota.Instruction
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+f.ids[0]+`"}`, &in)
	if in.Action != fota.ActionDownload || in.PackageURL != lampURL || in.PackageSize != lampSize || in.PackageSHA256 != lampSHA256 {
		t.Fatalf("check-in: %+v", in)
	}
	_, raw := f.do("POST", dev+"/checkin", `{"deviceId":"`+f.ids[0]+`"}`)
	for _, want := range []string{`"downloadUrl":"` + lampURL + `"`, `"size":1048576`, `"sha256":"` + lampSHA256 + `"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("check-in answer lacks %s: %s", want, raw)
		}
	}
	contradicts := strings.Replace(body, `"distributionType":"HTTP"`, `"distributionType":"HTTP","model":"Bulb"`, 1)
	if msg := f.fails("POST", v2+"/campaigns/acme", contradicts, 400, api.CodeBadRequest); !strings.Contains(msg, "model") || !strings.Contains(msg, "Bulb") {
		t.Errorf("contradicting request: %q", msg)
	}
}

// A catalog file: one JSON object from account to packages; a package
// without launchDate is launched the day the file is read; every refusal
// names the entry and the field.
func TestParsePackages(t *testing.T) {
	loaded := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := api.ParsePackages(strings.NewReader(`{"acme": [
		{"softwareName": "lamp-fw", "make": "Acme", "model": "Lamp", "softwareFrom": "1.0", "softwareTo": "2.0",
		 "distributionTypes": ["HTTP"], "downloadUrl": "https://downloads.example.com/l.bin", "size": 10,
		 "sha256": "`+lampSHA256+`"},
		{"softwareName": "meter-fw", "softwareTo": "2.0", "distributionTypes": ["OMD-DM", "LWM2M", "LWM2M"], "launchDate": "2026-01-31",
		 "releaseNote": "fixes", "devicePlatformId": "Meters"}]}`), loaded)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.List(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "lamp-fw" || got[0].URL != "https://downloads.example.com/l.bin" || got[0].Size != 10 ||
		got[0].LaunchDate.String() != "2026-03-01" || got[0].DevicePlatformID != "IoT" ||
		!slices.Equal(got[1].Protocols, []device.Protocol{device.LWM2M, device.OMADM}) || got[1].LaunchDate.String() != "2026-01-31" ||
		got[1].DevicePlatformID != "Meters" {
		t.Fatalf("parsed %+v", got)
	}
	if p, ok, err := c.Package(t.Context(), "acme", "lamp-fw"); err != nil || !ok || p.Make != "Acme" || p.SHA256 != lampSHA256 {
		t.Fatalf("Package: %+v %v %v", p, ok, err)
	}
	for _, tc := range []struct{ name, file, want string }{
		{"not an object", `[]`, "catalog"},
		{"unknown field", `{"acme":[{"softwareName":"a","softwareTo":"2","distributionTypes":["HTTP"],"sofwareFrom":"1"}]}`, `acme[0]: json: unknown field "sofwareFrom"`},
		{"no softwareTo", `{"acme":[{"softwareName":"a","distributionTypes":["HTTP"]}]}`, "acme[0].softwareTo"},
		{"no distribution type", `{"acme":[{"softwareName":"a","softwareTo":"2"}]}`, "acme[0].distributionTypes"},
		{"unknown distribution type", `{"acme":[{"softwareName":"a","softwareTo":"2","distributionTypes":["SMS"]}]}`, "acme[0]"},
		{"bad hash", `{"acme":[{"softwareName":"a","softwareTo":"2","distributionTypes":["HTTP"],"sha256":"abc"}]}`, "acme[0].sha256"},
		{"relative URL", `{"acme":[{"softwareName":"a","softwareTo":"2","distributionTypes":["HTTP"],"downloadUrl":"/l.bin"}]}`, "acme[0].downloadUrl"},
		{"negative size", `{"acme":[{"softwareName":"a","softwareTo":"2","distributionTypes":["HTTP"],"size":-1}]}`, "acme[0].size"},
		{"bad date", `{"acme":[{"softwareName":"a","softwareTo":"2","distributionTypes":["HTTP"],"launchDate":"March"}]}`, "acme[0]"},
		{"listed twice", `{"acme":[{"softwareName":"a","softwareTo":"2","distributionTypes":["HTTP"]},{"softwareName":"a","softwareTo":"3","distributionTypes":["HTTP"]}]}`, "acme[1]: package \"a\" listed twice"},
		{"long name", `{"acme":[{"softwareName":"` + strings.Repeat("a", 300) + `","softwareTo":"2","distributionTypes":["HTTP"]}]}`, "acme[0].softwareName"},
	} {
		_, err := api.ParsePackages(strings.NewReader(tc.file), loaded)
		var ce *api.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a ConfigError with %q", tc.name, err, tc.want)
		}
	}
}
