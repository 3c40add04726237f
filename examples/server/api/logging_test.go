package api_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/examples/server/api"
	"github.com/fotakit/fota/verboselog"
)

// The verbose-logging flow through the API: "enable logging with the
// Verbose Logging API ... When the device checks in after that setting is
// enabled, the device starts collecting logs. The device periodically
// uploads those logs ... After at least 24 hours, the developer can call
// the Verbose Logging API again to fetch the logs ... or can view the
// check-in history".
func TestLoggingFlow(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	a, b, c := f.ids[0], f.ids[1], f.ids[2]
	var on []fota.LoggingStatus
	f.ok("PUT", v2+"/logging/acme/devices", `{"deviceIds":`+list(a, b)+`}`, &on)
	if len(on) != 2 || on[0].DeviceID != a || !on[0].ExpiryDate.Equal(start.Add(7*24*time.Hour)) {
		t.Fatalf("enabled %+v", on)
	}
	var one fota.LoggingStatus
	f.ok("PUT", v2+"/logging/acme/devices/"+c, "", &one)
	if one.DeviceID != c {
		t.Fatalf("enabled one: %+v", one)
	}
	f.ok("GET", v2+"/logging/acme/devices", "", &on)
	if len(on) != 3 {
		t.Fatalf("listed %+v", on)
	}
	f.ok("GET", v2+"/logging/other/devices", "", &on)
	if len(on) != 0 {
		t.Fatalf("other account lists %+v", on)
	}

	f.ok("POST", dev+"/checkin", `{"deviceId":"`+a+`","clientType":6,"result":"ok","failureType":""}`, nil)
	f.clk.Add(time.Hour)
	var ok api.Success
	f.ok("POST", dev+"/logs", `{"deviceId":"`+a+`","logTime":"2026-03-01T22:30:00Z","logType":"SoftwareUpdate",`+
		`"eventLog":"download started","binaryLogFileBase64":"AAEC","binaryLogFilename":"a.bin","uploadedAt":"2030-01-01T00:00:00Z"}`, &ok)
	if !ok.Success {
		t.Fatal("upload: success false")
	}
	msg := f.fails("GET", v2+"/logging/acme/devices/"+a+"/logs", "", 400, api.CodeNotReady)
	if !strings.Contains(msg, "2026-03-02T22:00:00Z") {
		t.Fatalf("not-ready message lacks the ready time: %q", msg)
	}
	f.clk.Set(time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC))
	var logs []verboselog.Bundle
	f.ok("GET", v2+"/logging/acme/devices/"+a+"/logs", "", &logs)
	if len(logs) != 1 || logs[0].EventLog != "download started" || logs[0].BinaryLogFilename != "a.bin" ||
		!logs[0].UploadedAt.Equal(start.Add(time.Hour)) {
		t.Fatalf("logs %+v", logs)
	}
	// Device b never uploaded: an empty list, not null.
	_, raw := f.do("GET", v2+"/logging/acme/devices/"+b+"/logs", "")
	if strings.TrimSpace(string(raw)) != "[]" {
		t.Fatalf("no logs: %s", raw)
	}

	// "Check-in history is independent of enabled or disabled logging."
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+f.ids[9]+`","clientType":1}`, nil)
	var hist []api.CheckInHistoryItem
	f.ok("GET", v2+"/logging/acme/devices/"+f.ids[9]+"/checkInHistory", "", &hist)
	if len(hist) != 1 || hist[0].ClientType != "Device" {
		t.Fatalf("history of a device without logging: %+v", hist)
	}
	f.ok("GET", v2+"/logging/acme/devices/"+a+"/checkInHistory", "", &hist)
	if len(hist) != 1 || hist[0].ClientType != "RovaClient" || hist[0].Result != "ok" || !hist[0].TimeCompleted.Equal(start) {
		t.Fatalf("history %+v", hist)
	}
	_, raw = f.do("GET", v2+"/logging/acme/devices/"+f.ids[20]+"/checkInHistory", "")
	if strings.TrimSpace(string(raw)) != "[]" {
		t.Fatalf("no history: %s", raw)
	}

	// Disabling: the SDK's query parameter, the documentation's body, and
	// one device by path.
	f.ok("DELETE", v2+"/logging/acme/devices?deviceIds="+a, "", &ok)
	f.ok("GET", v2+"/logging/acme/devices", "", &on)
	if len(on) != 2 {
		t.Fatalf("after the query disable: %+v", on)
	}
	f.ok("DELETE", v2+"/logging/acme/devices", `{"deviceIds":`+list(b)+`}`, &ok)
	f.ok("DELETE", v2+"/logging/acme/devices/"+c, "", &ok)
	_, raw = f.do("GET", v2+"/logging/acme/devices", "")
	if strings.TrimSpace(string(raw)) != "[]" {
		t.Fatalf("after disabling all: %s", raw)
	}
	// Uploaded logs stay fetchable after logging is off.
	f.ok("GET", v2+"/logging/acme/devices/"+a+"/logs", "", &logs)
	if len(logs) != 1 {
		t.Fatalf("logs after disable: %+v", logs)
	}
	// Query lists may repeat the parameter or separate ids by commas.
	f.ok("PUT", v2+"/logging/acme/devices", `{"deviceIds":`+list(a, b, c)+`}`, nil)
	f.ok("DELETE", v2+"/logging/acme/devices?deviceIds="+a+","+b+"&deviceIds="+c, "", &ok)
	f.ok("GET", v2+"/logging/acme/devices", "", &on)
	if len(on) != 0 {
		t.Fatalf("after the comma disable: %+v", on)
	}
}

// Licences: "LicenseAssignSuccess", "LicenseRemoveSuccess", and
// "LicenseRemoveFailed" with "License removal not allowed for devices
// that have ever upgraded firmware.", answered per device with the
// account's licence counts (V2LicensesAssignedRemovedResult), in /v2 and
// /v1 shape.
func TestLicenses(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	a, b, c := f.ids[0], f.ids[1], f.ids[2]
	const stranger = "490154203237518" // a valid IMEI no inventory knows
	var res api.LicenseResults
	f.ok("POST", v2+"/licenses/acme/assign", `{"deviceList":`+list(a, b, stranger, f.others[0])+`}`, &res)
	want := []api.DeviceResult{
		{DeviceID: a, Status: "LicenseAssignSuccess"},
		{DeviceID: b, Status: "LicenseAssignSuccess"},
		{DeviceID: stranger, Status: "Failure", ResultReason: "Device does not exist."},
		{DeviceID: f.others[0], Status: "Failure", ResultReason: "Device does not exist."}, // another account's
	}
	if res.AccountName != "acme" || res.LicTotalCount != 100 || res.LicUsedCount != 2 || !slices.Equal(res.DeviceList, want) {
		t.Fatalf("assign: %+v", res)
	}
	// Assigning again changes nothing and still succeeds.
	f.ok("POST", v2+"/licenses/acme/assign", `{"deviceList":`+list(a)+`}`, &res)
	if res.LicUsedCount != 2 || res.DeviceList[0].Status != "LicenseAssignSuccess" {
		t.Fatalf("assign again: %+v", res)
	}
	// Device a upgrades.
	f.ok("POST", v2+"/campaigns/acme", campaignBody(today, "2026-03-05", []string{a}, ""), nil)
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+a+`"}`, nil)
	f.ok("POST", dev+"/report", `{"deviceId":"`+a+`","campaignId":"c1","outcome":"installed"}`, nil)

	f.ok("POST", v2+"/licenses/acme/remove", `{"deviceList":`+list(a, b, c)+`}`, &res)
	want = []api.DeviceResult{
		{DeviceID: a, Status: "LicenseRemoveFailed", ResultReason: "License removal not allowed for devices that have ever upgraded firmware."},
		{DeviceID: b, Status: "LicenseRemoveSuccess"},
		{DeviceID: c, Status: "LicenseRemoveFailed", ResultReason: "No license attached to device"},
	}
	if res.LicUsedCount != 1 || !slices.Equal(res.DeviceList, want) {
		t.Fatalf("remove: %+v", res)
	}
	// /v1: licCount and a capital-R Reason.
	var v1res api.LicenseResultsV1
	f.ok("POST", v1+"/licenses/acme/assign", `{"deviceList":`+list(c)+`}`, &v1res)
	if v1res.LicCount != 100 || v1res.LicUsedCount != 2 || len(v1res.DeviceList) != 1 || v1res.DeviceList[0].Status != "LicenseAssignSuccess" {
		t.Fatalf("v1 assign: %+v", v1res)
	}
	_, raw := f.do("POST", v1+"/licenses/acme/remove", `{"deviceList":`+list(a)+`}`)
	if !strings.Contains(string(raw), `"Reason":"License removal not allowed`) || !strings.Contains(string(raw), `"licCount":100`) {
		t.Fatalf("v1 remove: %s", raw)
	}
	// The subscription reports the same count.
	var sub api.SubscriptionV2
	f.ok("GET", v2+"/subscriptions/acme", "", &sub)
	if sub.LicenseCount != 100 || sub.LicenseUsedCount != 2 || sub.PurchaseType != "TS-HFOTA-EVNT,TS-HFOTA-MRC" ||
		sub.UpdateTime != "2026-03-01 22:00:00.000 +0000 UTC" {
		t.Fatalf("v2 subscription: %+v", sub)
	}
	var sub1 api.SubscriptionV1
	f.ok("GET", v1+"/subscriptions/acme", "", &sub1)
	if sub1.UpdateTime != "2026-03-01T22:00:00.000Z" || sub1.AccountName != "acme" {
		t.Fatalf("v1 subscription: %+v", sub1)
	}
	f.fails("GET", v2+"/subscriptions/other", "", 400, api.CodeNotFound)
	// A malformed list is still refused whole.
	f.fails("POST", v2+"/licenses/acme/assign", `{"deviceList":`+list(b, b)+`}`, 400, api.CodeBadRequest)
}
