// Package campaign holds the campaign lifecycles of fota: the campaign
// statuses of both protocol families with their exact ThingSpace
// spellings, the events that move a campaign between them, the guards that
// decide whether a user's cancel, abort or device change is allowed now,
// and the catalog of statuses as data.
//
// The package is pure: no goroutines, no I/O, no clock. Every
// time-dependent function takes now and the instants (start, end) that the
// caller computed from the schedule. The Manager decides with this package
// first and applies effects afterwards.
//
// # Pieces, in reading order
//
//   - status.go: Status, one uint8 whose values are distinct per family,
//     so String is the wire spelling and Family is known from the value.
//   - event.go: Event, the things that happen to a campaign.
//   - lifecycle.go: PushEvents and HTTPEvents, each family's transitions
//     declared once as fsm.Events; PushTable and HTTPTable compiled from
//     them at init; Next, which picks the table by the status's family.
//   - guard.go: CanCancel, CanAbort, CanChangeDevices and Delete.
//   - catalog.go: Catalog, every status with its spelling and meaning.
//
// # How the two lifecycles differ
//
// Push campaigns (OMA-DM and LWM2M, ThingSpace /v1) are started by the
// server: RequestPending → Queued → InProgress → Finished. A queued
// campaign that the server cannot run becomes UpgradeFailed. The user may
// cancel before the start, or empty a queued campaign (RemoveLast), which
// also cancels it. Push campaigns have no abort: once started they run to
// their end date.
//
//	stateDiagram-v2
//	    [*] --> RequestPending
//	    InProgress --> Finished: end
//	    Queued --> Cancelled: cancel
//	    Queued --> UpgradeFailed: fail
//	    Queued --> Cancelled: removeLast
//	    Queued --> InProgress: start
//	    RequestPending --> Queued: accept
//	    RequestPending --> Cancelled: cancel
//	    RequestPending --> RequestFailed: reject
//
// HTTP campaigns (/v2) wait for devices to check in: CampaignRequestPending
// → CampaignQueued → CampaignScheduled (the start date has begun) →
// CampaignInProgress (the first device starts its update) → CampaignEnded
// (the end date passed, or every device was upgraded). An on-demand
// campaign skips Queued (AcceptOnDemand). Between start and end the user
// may abort; devices already upgraded stay upgraded.
//
//	stateDiagram-v2
//	    [*] --> RequestPending
//	    InProgress --> Aborted: abort
//	    InProgress --> Ended: end
//	    Queued --> Cancelled: cancel
//	    Queued --> Failed: fail
//	    Queued --> Scheduled: start
//	    RequestPending --> Queued: accept
//	    RequestPending --> Scheduled: acceptOnDemand
//	    RequestPending --> Failed: fail
//	    RequestPending --> RequestFailed: reject
//	    Scheduled --> Aborted: abort
//	    Scheduled --> InProgress: begin
//	    Scheduled --> Ended: end
//
// Both diagrams are drawn by Diagram from the declarations; a test fails if
// this comment drifts from them.
//
// # Choices where the sources are silent or disagree
//
//   - Status values: push 1..7, HTTP 8..16, zero is no status. State names
//     in the fsm declarations (Status.Name) drop the "Campaign" prefix and
//     repeat across families ("Queued"); each family has its own table, so
//     they are unique where it matters, and the table's name ("campaign
//     (push)", "campaign (HTTP)") tells errors apart.
//   - CampaignQueued versus CampaignRequestQueued: the state prose says
//     CampaignQueued, the campaignStatus query enum and the SDK say
//     CampaignRequestQueued, and which one the server returns is
//     unverified. fota writes CampaignQueued and reads both.
//   - CampaignInProgress is fota's token. No source names one; the v2
//     lifecycle says only, in prose, that the campaign "stays in 'In
//     Progress'". It is needed to tell a campaign whose devices are updating
//     from one that is merely scheduled.
//   - "Cancelled" (push) is fota's spelling too: the v1 upgrade-status enum
//     (RequestPending, Queued, RequestFailed, InProgress, Finished,
//     UpgradeFailed) has no cancelled status, yet the v1 flow lets the user
//     cancel or empty a queued campaign.
//   - HTTP cancel is allowed from CampaignQueued only, as ThingSpace's v2 cancel page and
//     the v2 flow ("The user can choose to cancel the campaign in "Queued"
//     status") say, although the v2 cancel page speaks only of time ("can
//     be canceled before the start date") and the push table also allows
//     cancel from RequestPending. fota's Manager decides a request within
//     the scheduling call, so an HTTP campaign is never left waiting in
//     CampaignRequestPending for a user to cancel.
//   - "RequestFailed ... may bypass Pending" (v2): every campaign starts in
//     InitialStatus and Reject takes it to RequestFailed; a host that checks
//     parameters within the scheduling call applies Reject before anyone
//     can observe the Pending status, which is what the bypass means.
//   - CampaignScheduled: the state list says it "appears before the
//     campaign start date", the flow says a future campaign reaches it
//     "once the start date has begun". fota follows the flow (Queued
//     --start--> Scheduled at the start); an on-demand campaign reaches it
//     at acceptance, when its start is now.
//   - Cancel and abort are one DELETE call on ThingSpace: cancel before the
//     start, abort after it (an inference from the v2 cancel page and state
//     prose). Delete makes that decision; before the start only Cancel is
//     considered, so a Scheduled campaign whose start is still ahead can be
//     neither cancelled (not in the sources) nor aborted (not started).
//   - Push has no abort. v3 (LWM2M) abort is uncertain: the v3 cancel page
//     says a started campaign "cannot be canceled. The campaign will
//     continue through the scheduled end date", contradicting the shared
//     state text. The push table has no Abort, so CanAbort and Delete
//     refuse a started push campaign with a TransitionError.
//   - v3's CampaignPreScheduled is not modelled: its source text is
//     incomplete and v3 is served by the push family here.
//   - Guards take instants, not dates: start is the start instant and end is
//     exclusive (the first instant after the inclusive end date), so cancel
//     is allowed while now < start and abort while start <= now < end.
//   - Devices may change only in RequestPending or Queued, of either
//     family (v2 add/remove page; v1: "not allowed once the upgrade has
//     started").
package campaign
