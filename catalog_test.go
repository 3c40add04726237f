package fota_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
)

// entry spells a catalog line in the order the spec's tables read.
func entry(family, kind, status, detail string) fota.CatalogEntry {
	return fota.CatalogEntry{Family: family, Kind: kind, Status: status, Detail: detail}
}

func TestCatalogHasNoDuplicates(t *testing.T) {
	seen := map[fota.CatalogEntry]int{}
	for i, e := range fota.Catalog() {
		if j, dup := seen[e]; dup {
			t.Errorf("entry %d duplicates entry %d: %+v", i, j, e)
		}
		seen[e] = i
	}
}

func TestCatalogSize(t *testing.T) {
	got, want := len(fota.Catalog()), len(campaign.Statuses)+len(device.Catalog())
	if got != want {
		t.Errorf("len(Catalog()) = %d, want %d campaign statuses + device lines", got, want)
	}
}

// Every campaign status is listed with its exact wire spelling and no
// detail: campaign statuses have no sentence on the wire.
func TestCatalogHoldsEveryCampaignStatus(t *testing.T) {
	cat := fota.Catalog()
	for _, s := range campaign.Statuses {
		want := fota.CatalogEntry{Family: s.Family().String(), Kind: "campaign", Status: s.String()}
		if !slices.Contains(cat, want) {
			t.Errorf("campaign status %s: %+v missing", s.Name(), want)
		}
	}
	// The same, quoted from the sources so that a change of spelling in
	// package campaign cannot pass unnoticed.
	quoted := []struct{ family, status string }{
		{"PUSH", "RequestPending"}, {"PUSH", "RequestFailed"}, {"PUSH", "Queued"},
		{"PUSH", "InProgress"}, {"PUSH", "Finished"}, {"PUSH", "UpgradeFailed"},
		{"PUSH", "Cancelled"},
		{"HTTP", "CampaignRequestPending"}, {"HTTP", "CampaignRequestFailed"},
		{"HTTP", "CampaignQueued"}, {"HTTP", "CampaignScheduled"},
		{"HTTP", "CampaignInProgress"}, {"HTTP", "CampaignEnded"},
		{"HTTP", "CampaignCancelled"}, {"HTTP", "CampaignAborted"},
		{"HTTP", "CampaignFailed"},
	}
	for _, q := range quoted {
		want := fota.CatalogEntry{Family: q.family, Kind: "campaign", Status: q.status}
		if !slices.Contains(cat, want) {
			t.Errorf("%s campaign status %q missing", q.family, q.status)
		}
	}
}

func TestCatalogHoldsEveryDeviceLine(t *testing.T) {
	cat := fota.Catalog()
	for _, d := range device.Catalog() {
		want := fota.CatalogEntry{Family: d.Family.String(), Kind: d.Kind, Status: d.Status, Detail: d.Detail}
		if !slices.Contains(cat, want) {
			t.Errorf("device catalog line %+v missing", want)
		}
	}
}

// Lines of the two device tables of ThingSpace's About Campaigns page, spelled exactly
// as there, typos included. The HTTP table's "UpgradedFailed for
// UpgradePending" is catalogued as UpgradeFailed (fota's status table, package doc).
func TestCatalogQuotesTheSpec(t *testing.T) {
	cat := fota.Catalog()
	tests := []struct {
		spec string // the line as the spec prints it
		want fota.CatalogEntry
	}{
		{"Device Accepted Device cleared all check so it can be added to the scheduled list.",
			entry("PUSH", "device", "Device Accepted", "Device cleared all check so it can be added to the scheduled list.")},
		{"Accepted Device cleared all checks so it can be added to the scheduled list.",
			entry("HTTP", "device", "Accepted", "Device cleared all checks so it can be added to the scheduled list.")},
		{"Device Rejected Current device firmeware version does not meet firmware prerequisites.",
			entry("PUSH", "device", "Device Rejected", "Current device firmeware version does not meet firmware prerequisites.")},
		{"DeviceRejected Device make/model does not meet softwware prerequisites.",
			entry("HTTP", "device", "DeviceRejected", "Device make/model does not meet softwware prerequisites.")},
		{"UpgradedFailed for UpgradePending Uknown device error.",
			entry("HTTP", "device", "UpgradeFailed", "Uknown device error.")},
		{"UpgradedFailed for UpgradePending RovaClientDownloadNotInstalledYet",
			entry("HTTP", "device", "UpgradeFailed", "RovaClientDownloadNotInstalledYet")},
		{"LicenseRemoveFailed License removal not allowed for devices that have ever upgraded firmware.",
			entry("PUSH", "license", "LicenseRemoveFailed", "License removal not allowed for devices that have ever upgraded firmware.")},
		{"Upgrade Failed Internal System Error. Please retry upgrade.",
			entry("PUSH", "device", "Upgrade Failed", "Internal System Error. Please retry upgrade.")},
		{"CampaignCancelled Campaign canceled by user.",
			entry("HTTP", "device", "CampaignCancelled", "Campaign canceled by user.")},
		{"UpgradeSuccess Download and install succeeded.",
			entry("HTTP", "device", "UpgradeSuccess", "Download and install succeeded.")},
	}
	for _, tt := range tests {
		if !slices.Contains(cat, tt.want) {
			t.Errorf("spec line %q: %+v missing", tt.spec, tt.want)
		}
	}
}

func TestCatalogJSON(t *testing.T) {
	cat := fota.Catalog()
	b, err := json.Marshal(cat)
	if err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	if err := json.Unmarshal(b, &objs); err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(cat) {
		t.Fatalf("%d objects, want %d", len(objs), len(cat))
	}
	wantKeys := []string{"detail", "family", "kind", "status"}
	for i, o := range objs {
		keys := slices.Sorted(maps.Keys(o))
		if !slices.Equal(keys, wantKeys) {
			t.Fatalf("object %d has fields %v, want %v", i, keys, wantKeys)
		}
		for _, k := range wantKeys {
			if _, ok := o[k].(string); !ok {
				t.Errorf("object %d: %s is %T, want a string", i, k, o[k])
			}
		}
	}
	var back []fota.CatalogEntry
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cat) {
		t.Error("catalog does not survive a JSON round trip")
	}
}

func TestCatalogReturnsAFreshSlice(t *testing.T) {
	a := fota.Catalog()
	a[0].Status = "changed"
	if b := fota.Catalog(); b[0].Status == "changed" {
		t.Error("a caller's change to the catalog reached the next call")
	}
}

// ExampleCatalog lists the HTTP failure reasons, as a tool reading the
// catalog would.
func ExampleCatalog() {
	for _, e := range fota.Catalog() {
		if e.Family == "HTTP" && e.Kind == "device" && e.Status == "UpgradeFailed" {
			fmt.Println(e.Detail)
		}
	}
	// Output:
	// RovaClientDidNotReportStatus
	// RovaClientDownloadFailed
	// RovaClientDownloadNotInstalledYet
	// RovaClientDownloadedInstallFailed
	// Uknown device error.
	// Other.
}
