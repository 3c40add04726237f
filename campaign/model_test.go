package campaign

// An independent model of both campaign lifecycles, written from
// about-campaigns.txt in wire spellings, without looking at
// the fsm.Events declarations: tests compare the tables with it.

type modelKey struct{ from, event string }

var pushModel = map[modelKey]string{
	{"RequestPending", "accept"}: "Queued",
	{"RequestPending", "reject"}: "RequestFailed",
	{"RequestPending", "cancel"}: "Cancelled",
	{"Queued", "start"}:          "InProgress",
	{"Queued", "fail"}:           "UpgradeFailed",
	{"Queued", "cancel"}:         "Cancelled",
	{"Queued", "removeLast"}:     "Cancelled",
	{"InProgress", "end"}:        "Finished",
}

var httpModel = map[modelKey]string{
	{"CampaignRequestPending", "accept"}:         "CampaignQueued",
	{"CampaignRequestPending", "acceptOnDemand"}: "CampaignScheduled",
	{"CampaignRequestPending", "reject"}:         "CampaignRequestFailed",
	{"CampaignRequestPending", "fail"}:           "CampaignFailed",
	{"CampaignQueued", "start"}:                  "CampaignScheduled",
	{"CampaignQueued", "cancel"}:                 "CampaignCancelled",
	{"CampaignQueued", "fail"}:                   "CampaignFailed",
	{"CampaignScheduled", "begin"}:               "CampaignInProgress",
	{"CampaignScheduled", "abort"}:               "CampaignAborted",
	{"CampaignScheduled", "end"}:                 "CampaignEnded",
	{"CampaignInProgress", "abort"}:              "CampaignAborted",
	{"CampaignInProgress", "end"}:                "CampaignEnded",
}

// The wire spellings of each family, as the sources list them (plus fota's
// two own tokens, Cancelled and CampaignInProgress).
var (
	pushWire = []string{"RequestPending", "RequestFailed", "Queued", "InProgress", "Finished", "UpgradeFailed", "Cancelled"}
	httpWire = []string{"CampaignRequestPending", "CampaignRequestFailed", "CampaignQueued", "CampaignScheduled",
		"CampaignInProgress", "CampaignEnded", "CampaignCancelled", "CampaignAborted", "CampaignFailed"}
	eventWire = []string{"accept", "acceptOnDemand", "reject", "start", "begin", "fail", "cancel", "removeLast", "end", "abort"}
)

// modelNext is the model's answer for a status and an event, both by name.
func modelNext(status, event string) (string, bool) {
	if to, ok := pushModel[modelKey{status, event}]; ok {
		return to, true
	}
	to, ok := httpModel[modelKey{status, event}]
	return to, ok
}

// modelTerminal: nothing leaves the status in the model.
func modelTerminal(status string) bool {
	for _, e := range eventWire {
		if _, ok := modelNext(status, e); ok {
			return false
		}
	}
	return true
}
