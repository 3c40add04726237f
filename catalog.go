package fota

import (
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
)

// CatalogEntry is one line of fota's status catalog: a status a host can
// see in one protocol family, with the sentence ThingSpace sends with it.
// Its JSON form is the one other tools read, so the field names are fixed.
type CatalogEntry struct {
	// Family is "HTTP" or "PUSH" (device.Family's spelling).
	Family string `json:"family"`
	// Kind is "campaign" (a campaign status), "device" (a device's status
	// in a campaign) or "license" (a licence outcome).
	Kind string `json:"kind"`
	// Status is the exact wire spelling, e.g. "CampaignQueued",
	// "Device Rejected", "LicenseRemoveFailed".
	Status string `json:"status"`
	// Detail is the wire sentence that goes with the status, spelled as
	// ThingSpace spells it (typos included); empty where a status has none.
	Detail string `json:"detail"`
}

// kindCampaign is CatalogEntry.Kind for campaign statuses; the device and
// licence kinds are device.KindDevice and device.KindLicense.
const kindCampaign = "campaign"

// Catalog lists every status fota reports, as data: first every campaign
// status of both families (campaign.Statuses order, push first), then
// every device and licence line of device.Catalog, in its order (the
// spec's two tables, each followed by what they leave out).
//
// Campaign statuses carry no sentence on the wire, so their Detail is
// empty; the prose descriptions in campaign.Catalog are fota's, not
// ThingSpace's, and stay out of this table. Each call returns a fresh
// slice the caller may keep or change.
func Catalog() []CatalogEntry {
	camp := campaign.Catalog()
	dev := device.Catalog()
	out := make([]CatalogEntry, 0, len(camp)+len(dev))
	for _, e := range camp {
		out = append(out, CatalogEntry{Family: e.Family.String(), Kind: kindCampaign, Status: e.Status})
	}
	for _, e := range dev {
		out = append(out, CatalogEntry{Family: e.Family.String(), Kind: e.Kind, Status: e.Status, Detail: e.Detail})
	}
	return out
}
