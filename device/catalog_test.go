package device

import (
	"strings"
	"testing"
)

// The two device tables of ThingSpace's About Campaigns page, line by line,
// verbatim ("Device Status Device Detail Status").
var specTables = []struct {
	f    Family
	line string
}{
	// Status and Error Messages for OMA-DM ro LWM2M Devices using the /v1 Resource Pat
	{FamilyPush, "Device Accepted Device cleared all check so it can be added to the scheduled list."},
	{FamilyPush, "Device Rejected Device not found."},
	{FamilyPush, "Device Rejected Invalid Device IMEI."},
	{FamilyPush, "Device Rejected Device not eligible for service."},
	{FamilyPush, "Device Rejected Unknown client device type."},
	{FamilyPush, "LicenseRemoveFailed License removal not allowed for devices that have ever upgraded firmware."},
	{FamilyPush, "LicenseRemoveFailed Internal error."},
	{FamilyPush, "Device Rejected Device scheduled for firmware-upgrade previously, it needs to be completed before another upgrade is schedule."},
	{FamilyPush, "Device Rejected Device make/model do not meet firmware prerequisites."},
	{FamilyPush, "Device Rejected Current device firmeware version does not meet firmware prerequisites."},
	{FamilyPush, "Upgrade Failed Device is not in an active state or is not connected."},
	{FamilyPush, "Upgrade Failed Current device module does not meet firmware prerequisites."},
	{FamilyPush, "Upgrade Failed Firmware update to device failed."},
	{FamilyPush, "Upgrade Failed Internal System Error. Please retry upgrade."},
	{FamilyPush, "Upgrade Success The firmware upgrade was successful."},
	// Status and Error Messages for HTTP Devices using the /v2 Resource Path
	{FamilyHTTP, "Accepted Device cleared all checks so it can be added to the scheduled list."},
	{FamilyHTTP, "DeviceRejected Device not found."},
	{FamilyHTTP, "DeviceRejected Device scheduled for firmware upgrade previously, needs to be completed before another upgrade is scheduled."},
	{FamilyHTTP, "DeviceRejected Device not eligible for service (not FOTA capable)"},
	{FamilyHTTP, "DeviceRejected Invalid device IMEI."},
	{FamilyHTTP, "DeviceRejected Current device software version does not meet software prerequisites."},
	{FamilyHTTP, "DeviceRejected Device make/model does not meet softwware prerequisites."},
	{FamilyHTTP, "DeviceRejected Device is not in active state or is not connected."},
	{FamilyHTTP, "DeviceRejected Internal Error."},
	{FamilyHTTP, "UpgradedFailed for UpgradePending RovaClientDidNotReportStatus"},
	{FamilyHTTP, "UpgradedFailed for UpgradePending RovaClientDownloadFailed"},
	{FamilyHTTP, "UpgradedFailed for UpgradePending RovaClientDownloadNotInstalledYet"},
	{FamilyHTTP, "UpgradedFailed for UpgradePending RovaClientDownloadedInstallFailed"},
	{FamilyHTTP, "UpgradedFailed for UpgradePending Uknown device error."},
	{FamilyHTTP, "UpgradedFailed for UpgradePending Other."},
	{FamilyHTTP, "CampaignCancelled Campaign canceled by user."},
	{FamilyHTTP, "UpgradeSuccess Download and install succeeded."},
}

// The HTTP table's failure status, which the catalog spells UpgradeFailed.
const specHTTPFailed = "UpgradedFailed for UpgradePending "

// matches reports whether catalog entry e is the spec table line.
func matches(e Entry, f Family, line string) bool {
	if e.Family != f {
		return false
	}
	if e.Status+" "+e.Detail == line {
		return true
	}
	return f == FamilyHTTP && e.Status == "UpgradeFailed" && specHTTPFailed+e.Detail == line
}

func TestCatalogHoldsSpecTables(t *testing.T) {
	cat := Catalog()
	last := -1
	for _, q := range specTables {
		at := -1
		for i, e := range cat {
			if matches(e, q.f, q.line) {
				at = i
				break
			}
		}
		if at < 0 {
			t.Errorf("%s: catalog lacks %q", q.f, q.line)
			continue
		}
		if at < last {
			t.Errorf("%s: %q is out of the table's order", q.f, q.line)
		}
		last = at
		wantKind := KindDevice
		if strings.HasPrefix(q.line, "LicenseRemoveFailed ") {
			wantKind = KindLicense
		}
		if cat[at].Kind != wantKind {
			t.Errorf("%q has kind %q, want %q", q.line, cat[at].Kind, wantKind)
		}
	}
}

// The entries the tables leave out.
func TestCatalogExtras(t *testing.T) {
	cat := Catalog()
	for _, want := range []Entry{
		{FamilyPush, KindDevice, "Upgrade Pending", ""},
		{FamilyHTTP, KindDevice, "UpgradePending", ""},
		{FamilyPush, KindDevice, "CampaignCancelled", ""},
		{FamilyHTTP, KindDevice, "CampaignAborted", "Campaign aborted by user."},
		{FamilyPush, KindLicense, "LicenseAssignSuccess", ""},
		{FamilyPush, KindLicense, "LicenseRemoveSuccess", ""},
		{FamilyHTTP, KindLicense, "LicenseAssignSuccess", ""},
		{FamilyHTTP, KindLicense, "LicenseRemoveSuccess", ""},
		{FamilyHTTP, KindLicense, "LicenseRemoveFailed", "License removal not allowed for devices that have ever upgraded firmware."},
		{FamilyHTTP, KindLicense, "LicenseRemoveFailed", "Internal error."},
	} {
		found := false
		for _, e := range cat {
			found = found || e == want
		}
		if !found {
			t.Errorf("catalog lacks %+v", want)
		}
	}
	if n := len(cat); n != len(specTables)+10 {
		t.Errorf("catalog has %d entries, want the %d table lines and 10 more", n, len(specTables))
	}
}

// The catalog agrees with the typed constants: every entry parses back,
// every (status, reason) a family reports is listed, nothing twice.
func TestCatalogConsistent(t *testing.T) {
	cat := Catalog()
	seen := map[Entry]bool{}
	for _, e := range cat {
		if seen[e] {
			t.Errorf("%+v listed twice", e)
		}
		seen[e] = true
		switch e.Kind {
		case KindDevice:
			s, err := ParseStatus(e.Family, e.Status)
			if err != nil {
				t.Errorf("%+v: %v", e, err)
				continue
			}
			if e.Detail == "" {
				continue
			}
			r, err := ParseReason(e.Family, e.Detail)
			if err != nil || r.Status(e.Family) != s {
				t.Errorf("%+v: reason %s (%v) is reported under %s", e, r, err, r.Status(e.Family))
			}
		case KindLicense:
			var ls LicenseStatus
			if err := ls.UnmarshalText([]byte(e.Status)); err != nil {
				t.Errorf("%+v: %v", e, err)
			}
			if e.Detail != "" {
				r, err := ParseReason(e.Family, e.Detail)
				if err != nil || ls != LicenseRemoveFailed || r.Status(e.Family) != 0 {
					t.Errorf("%+v: licence detail %s, %v", e, r, err)
				}
			}
		default:
			t.Errorf("%+v: unknown kind", e)
		}
	}
	for _, f := range Families {
		for _, r := range Reasons {
			if r.Status(f) == 0 {
				continue
			}
			if e := (Entry{f, KindDevice, r.Status(f).Wire(f), r.Text(f)}); !seen[e] {
				t.Errorf("catalog lacks %+v", e)
			}
		}
		for _, s := range Statuses {
			found := s.Wire(f) == ""
			for e := range seen {
				found = found || (e.Family == f && e.Status == s.Wire(f))
			}
			if !found {
				t.Errorf("%s: no catalog entry for %s", f, s)
			}
		}
	}
	cat[0].Detail = "changed"
	if Catalog()[0].Detail == "changed" {
		t.Error("Catalog shares its slice with callers")
	}
}
