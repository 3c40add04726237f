package campaign

import "github.com/fotakit/fota/device"

// Entry is one campaign status in the catalog: its family, its exact wire
// spelling and what it means, from the ThingSpace sources.
type Entry struct {
	Family      device.Family
	Status      string
	Description string
}

// descriptions are one line each, from thingspace-api.md §4.1 (HTTP) and
// §4.4 (push) and the lifecycle flows of about-campaigns.txt.
var descriptions = [...]string{
	PushRequestPending: "The campaign request was sent; parameter checks have not finished yet.",
	PushRequestFailed:  "Parameter checks failed (from RequestPending).",
	PushQueued:         "Parameter checks passed; the campaign waits in the queue while the system collects requests.",
	PushInProgress:     "The campaign has started; the OMA-DM or LWM2M server is executing the software updates.",
	PushFinished:       "The campaign end date has been reached.",
	PushUpgradeFailed:  "A queued upgrade that did not run: the OMA-DM or LWM2M server could not schedule it.",
	PushCancelled:      "Cancelled by the user before the start date, or every device was removed from the queued campaign (fota's spelling: the v1 enum has no cancelled status).",

	HTTPRequestPending: "The campaign request is accepted but is not scheduled yet.",
	HTTPRequestFailed:  "A parameter check failed (licences, FOTA capability, prerequisites or timing).",
	HTTPQueued:         "Passed eligibility and parameter validation; waits for the start date (the campaignStatus query enum spells it CampaignRequestQueued).",
	HTTPScheduled:      "Appears before the campaign start date: a future campaign whose start date has begun, or an on-demand campaign, which bypasses Queued.",
	HTTPInProgress:     "Devices are being updated (fota's token: the sources say \"In Progress\" in prose only).",
	HTTPEnded:          "The campaign end date has passed, or every device was upgraded.",
	HTTPCancelled:      "Cancelled by the user before the start date.",
	HTTPAborted:        "Aborted by the user after the start date, before the end date; devices already upgraded stay upgraded.",
	HTTPFailed:         "The scheduling API call has failed.",
}

// Catalog lists every campaign status of both families, in the order of
// Statuses, with its wire spelling and a one-line description. It returns
// a new slice on every call, so callers may keep or change it.
func Catalog() []Entry {
	out := make([]Entry, 0, len(Statuses))
	for _, s := range Statuses {
		out = append(out, Entry{Family: s.Family(), Status: s.String(), Description: descriptions[s]})
	}
	return out
}
