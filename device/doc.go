// Package device holds what fota knows about one device in one campaign:
// the protocols and families, the device status set with its per-family
// wire spellings, the reason catalog, the device lifecycles, licences, IMEI
// validation and eligibility checks.
//
// # How the pieces fit
//
// The files read in this order:
//
//   - protocol.go: a Protocol (LWM2M, OMA-DM, HTTP) belongs to a Family
//     (push or HTTP); the family picks the lifecycle and the spellings.
//   - status.go: one Status set (Accepted, Rejected, Pending, Success,
//     Failed, Cancelled, Aborted), spelled per family by Wire (fota's status table, package doc).
//   - reason.go: family-neutral Reasons; Text gives each family's exact
//     sentence from ThingSpace's About Campaigns page, typos included.
//   - catalog.go: Catalog lists every (family, status, detail) as data.
//   - lifecycle.go: the device-in-campaign lifecycles, declared once as
//     fsm.Events (HTTPEvents, PushEvents) and compiled at init into
//     HTTPTable and PushTable. A State fixes the Status and Reason a
//     device is reported with.
//   - license.go: the licence lifecycle (LicenseEvents, LicenseTable) and
//     its outcomes.
//   - imei.go: ValidIMEI and ParseIMEI.
//   - eligibility.go: Check runs the ordered Checks table over inventory
//     Facts and campaign Prerequisites.
//
// A host (the Manager) adds a device to a campaign with Check: the
// verdict's Status is the device's first status, and the device starts in
// StateAccepted or StateRejected (keeping the rejection's Reason itself,
// since StateRejected stands for every rejection). From then on every
// report, decision or deadline is an Event, and Next gives the new state;
// State.Status and State.Reason say how to report it. Nothing here keeps
// state, reads a clock or does I/O; a transition is one table load and
// allocates nothing.
//
// # Choices where the sources are silent or disagree
//
// Statuses:
//   - The push family's "Upgrade Pending" is not in the sources; it is
//     fota's. The push family has no abort, so Aborted.Wire(FamilyPush)
//     is "".
//   - The HTTP table spells the failure status "UpgradedFailed for
//     UpgradePending". fota writes "UpgradeFailed" (fota's status table, package doc) and
//     ParseStatus and UnmarshalText also accept "UpgradedFailed".
//   - MarshalText writes the neutral name (what a store keeps);
//     UnmarshalText accepts it or either family's spelling, which never
//     name two different statuses.
//
// Reasons:
//   - "Campaign aborted by user." is not in about-campaigns.txt's table; it
//     comes from the v2 lifecycle page (thingspace.verizon.com/documentation/apis/software-management/getting-started/campaign-lifecycle-flow-for-v2.html).
//   - A cancelled push device is reported as CampaignCancelled with no
//     detail: ReasonCancelledByUser has no push sentence but is reported
//     under Cancelled in both families.
//   - The same fact may be a rejection in one family and a failure in the
//     other: ReasonNotActive is DeviceRejected for HTTP (checked at
//     scheduling) and Upgrade Failed for push (after the retry plan).
//   - ReasonInternalRejected ("Internal Error.", HTTP), ReasonInternalRetry
//     (push) and ReasonLicenseInternal ("Internal error.") are never
//     produced here: the host reports them when its own systems fail.
//   - The SDK example reason "DownloadInstallSucceeded" is not accepted;
//     the catalog's sentence is "Download and install succeeded.".
//   - Reason.MarshalText writes the neutral name and ReasonNone as "".
//
// Catalog: it holds every line of both spec tables in their order (push
// first), plus Upgrade Pending/UpgradePending, push CampaignCancelled and
// HTTP CampaignAborted, and the licence outcomes for both families.
// Licences apply to both families although only the push table lists
// LicenseRemoveFailed; the HTTP entries reuse its sentences.
//
// Lifecycles (diagrams below):
//   - HTTP: "installed" and "installFailed" are accepted from Downloading
//     and Downloaded, because a device with no install window installs
//     right after the download without a second check-in.
//   - HTTP campaign end: a device that never reported or was still
//     downloading fails with RovaClientDidNotReportStatus; one that had
//     downloaded fails with RovaClientDownloadNotInstalledYet.
//   - Cancel is before the start date, so only an Accepted device can be
//     cancelled. Abort (HTTP) is after the start: every device not yet in
//     a terminal state is aborted; upgraded devices stay upgraded.
//   - Push: the device's own machine (LwM2M Object 5, OMA-DM FUMO) runs
//     below Notified and ends in one report. A device never reached, by
//     the end of the retry plan ("unreachable") or of the campaign, fails
//     as not active or not connected. "internalError" may come before the
//     push (the server could not send it).
//   - DuplicateOf recognises a repeated report (an event that is refused
//     in s but leads to s), so a host can acknowledge it; it is derived
//     from the tables.
//   - State.Terminal holds when no event of either family leaves the
//     state; it is derived from the tables too.
//
// Licences: assigning a licence to a licensed device succeeds and changes
// nothing (ThingSpace assigns to lists of devices; a device already
// licensed is not an error there). Removing a licence from a device that
// has ever upgraded firmware is an outcome (LicenseRemoveFailed with
// ReasonLicenseEverUpgraded, nil error), not bad input; removing from an
// unlicensed device is an invalid transition.
//
// IMEI: exactly 15 ASCII digits, the last the Luhn check digit of the
// first 14. Nothing is trimmed; 16-digit IMEISVs are not IMEIs.
//
// Eligibility, in the order of Checks (fota's status table, package doc):
//  1. device exists;
//  2. IMEI valid;
//  3. eligible for service: FOTA capable, licensed where the campaign
//     requires licences, and, for an HTTP campaign, an HTTP device (a
//     campaign whose protocol is not a protocol has no eligible device);
//  4. known client type, push only: the device's protocol equals the
//     campaign's (so an HTTP device in an LwM2M campaign reports "Unknown
//     client device type.");
//  5. make and model;
//  6. current firmware/software equals SoftwareFrom;
//  7. not in another active campaign;
//  8. active and connected, HTTP only: a push device that is off is
//     accepted and fails later through the retry plan.
//
// Empty Make, Model or SoftwareFrom mean any. Comparisons are exact and
// case-sensitive; the sources say nothing about normalising them.
//
// # Errors
//
// Bad input gets a typed error naming the field and the value, matched
// with errors.Is against a sentinel: *ProtocolError (ErrUnknownProtocol,
// also for an unknown Family), *StatusError (ErrUnknownStatus, device and
// licence statuses), *ReasonError (ErrUnknownReason), *StateError
// (ErrUnknownState, device and licence states), *EventError
// (ErrUnknownEvent), *IMEIError (ErrInvalidIMEI). An illegal event is a
// *lifecycle.TransitionError matching lifecycle.ErrInvalidTransition.
// A failed parse or transition leaves its receiver or state unchanged.
//
// # Diagrams
//
// Drawn by lifecycle.Diagram from the declarations (a test keeps them in
// step). HTTP:
//
//	stateDiagram-v2
//	    [*] --> Accepted
//	    Accepted --> Aborted: abort
//	    Accepted --> NoReport: campaignEnd
//	    Accepted --> Cancelled: cancel
//	    Accepted --> Downloading: download
//	    Downloaded --> Aborted: abort
//	    Downloaded --> NotInstalled: campaignEnd
//	    Downloaded --> Installing: install
//	    Downloaded --> InstallFailed: installFailed
//	    Downloaded --> Succeeded: installed
//	    Downloaded --> Other: other
//	    Downloaded --> UnknownError: unknownError
//	    Downloading --> Aborted: abort
//	    Downloading --> NoReport: campaignEnd
//	    Downloading --> DownloadFailed: downloadFailed
//	    Downloading --> Downloaded: downloaded
//	    Downloading --> InstallFailed: installFailed
//	    Downloading --> Succeeded: installed
//	    Downloading --> Other: other
//	    Downloading --> UnknownError: unknownError
//	    Installing --> Aborted: abort
//	    Installing --> NotInstalled: campaignEnd
//	    Installing --> InstallFailed: installFailed
//	    Installing --> Succeeded: installed
//	    Installing --> Other: other
//	    Installing --> UnknownError: unknownError
//
// Push:
//
//	stateDiagram-v2
//	    [*] --> Accepted
//	    Accepted --> Unreachable: campaignEnd
//	    Accepted --> Cancelled: cancel
//	    Accepted --> InternalError: internalError
//	    Accepted --> Notified: notify
//	    Accepted --> Unreachable: unreachable
//	    Notified --> Unreachable: campaignEnd
//	    Notified --> InternalError: internalError
//	    Notified --> ModuleMismatch: moduleMismatch
//	    Notified --> Succeeded: succeeded
//	    Notified --> Unreachable: unreachable
//	    Notified --> UpdateFailed: updateFailed
//
// Licence:
//
//	stateDiagram-v2
//	    [*] --> Unlicensed
//	    Licensed --> Licensed: assign
//	    Licensed --> Unlicensed: remove
//	    Unlicensed --> Licensed: assign
package device
