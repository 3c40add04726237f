package device

// Entry is one line of the status catalog: a status a host can see for a
// device in one family, with the detail sentence that goes with it.
type Entry struct {
	Family Family
	Kind   string // "device" (campaign status) or "license" (licence outcome)
	Status string // the wire status, e.g. "Device Rejected", "UpgradeFailed"
	Detail string // the wire sentence, "" if none
}

// Kinds of Entry.
const (
	KindDevice  = "device"
	KindLicense = "license"
)

// Catalog returns every status/detail pair fota reports, as data other
// tools can iterate and serialise. It holds every line of the two device
// tables of ThingSpace's About Campaigns page in the tables' order (push first,
// then HTTP), each followed by what the tables leave out:
//
//   - Upgrade Pending / UpgradePending, with no detail;
//   - push CampaignCancelled with no detail (fota's status table, package doc), HTTP
//     CampaignAborted "Campaign aborted by user." (the v2 lifecycle page);
//   - the licence outcomes LicenseAssignSuccess and LicenseRemoveSuccess
//     (no detail) for both families, and for HTTP the LicenseRemoveFailed
//     lines the push table has: licences apply to both families.
//
// The HTTP table spells its failure lines "UpgradedFailed for
// UpgradePending"; the catalog says "UpgradeFailed" (fota's status table, package doc), and
// ParseStatus accepts "UpgradedFailed" too. Each call returns a fresh
// slice the caller may keep or change.
func Catalog() []Entry {
	var out []Entry
	dev := func(f Family, s Status, r Reason) {
		out = append(out, Entry{Family: f, Kind: KindDevice, Status: s.Wire(f), Detail: r.Text(f)})
	}
	lic := func(f Family, s LicenseStatus, r Reason) {
		out = append(out, Entry{Family: f, Kind: KindLicense, Status: s.String(), Detail: r.Text(f)})
	}

	p := FamilyPush // the /v1 table, in its order
	dev(p, Accepted, ReasonCleared)
	dev(p, Rejected, ReasonNotFound)
	dev(p, Rejected, ReasonInvalidIMEI)
	dev(p, Rejected, ReasonNotEligible)
	dev(p, Rejected, ReasonUnknownClientType)
	lic(p, LicenseRemoveFailed, ReasonLicenseEverUpgraded)
	lic(p, LicenseRemoveFailed, ReasonLicenseInternal)
	dev(p, Rejected, ReasonInOtherCampaign)
	dev(p, Rejected, ReasonMakeModel)
	dev(p, Rejected, ReasonSoftwareVersion)
	dev(p, Failed, ReasonNotActive)
	dev(p, Failed, ReasonModuleMismatch)
	dev(p, Failed, ReasonUpdateFailed)
	dev(p, Failed, ReasonInternalRetry)
	dev(p, Success, ReasonUpgraded)
	// Beyond the /v1 table.
	dev(p, Pending, ReasonNone)
	dev(p, Cancelled, ReasonCancelledByUser) // no push sentence: detail ""
	lic(p, LicenseAssignSuccess, ReasonNone)
	lic(p, LicenseRemoveSuccess, ReasonNone)

	h := FamilyHTTP // the /v2 table, in its order
	dev(h, Accepted, ReasonCleared)
	dev(h, Rejected, ReasonNotFound)
	dev(h, Rejected, ReasonInOtherCampaign)
	dev(h, Rejected, ReasonNotEligible)
	dev(h, Rejected, ReasonInvalidIMEI)
	dev(h, Rejected, ReasonSoftwareVersion)
	dev(h, Rejected, ReasonMakeModel)
	dev(h, Rejected, ReasonNotActive)
	dev(h, Rejected, ReasonInternalRejected)
	dev(h, Failed, ReasonDidNotReport)
	dev(h, Failed, ReasonDownloadFailed)
	dev(h, Failed, ReasonNotInstalledYet)
	dev(h, Failed, ReasonInstallFailed)
	dev(h, Failed, ReasonUnknownError)
	dev(h, Failed, ReasonOther)
	dev(h, Cancelled, ReasonCancelledByUser)
	dev(h, Success, ReasonUpgraded)
	// Beyond the /v2 table.
	dev(h, Pending, ReasonNone)
	dev(h, Aborted, ReasonAbortedByUser)
	lic(h, LicenseAssignSuccess, ReasonNone)
	lic(h, LicenseRemoveSuccess, ReasonNone)
	lic(h, LicenseRemoveFailed, ReasonLicenseEverUpgraded)
	lic(h, LicenseRemoveFailed, ReasonLicenseInternal)
	return out
}
