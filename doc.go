// Package fota runs firmware-over-the-air (FOTA) campaigns as explicit
// state machines, modelled on Verizon ThingSpace's Software Management
// Services: campaigns of the HTTP family (/v2: devices check in) and of the
// push family (/v1: OMA-DM and LwM2M), every campaign and device status in
// its exact wire spelling, eligibility checks, licences, campaign timing,
// pilot campaigns, verbose logging and check-in history.
//
// fota holds the rules; the host server brings transport (HTTP check-ins,
// CoAP, OMA-DM) and, if it wants, its own persistence.
//
// # How the packages fit
//
// The pure packages decide; they have no goroutines, no I/O and no clock:
//
//   - lifecycle compiles each lifecycle, declared once as looplab/fsm
//     Events, into an allocation-free table; diagrams and property-test
//     oracles come from the same declaration (docs/lifecycles.md).
//   - campaign: the push and HTTP campaign lifecycles and their guards
//     (cancel before the start, abort after it, devices frozen once
//     scheduled).
//   - device: device statuses and reasons with both families' wire
//     spellings, the device-in-campaign lifecycles, licences, IMEI
//     validation and the ordered eligibility checks.
//   - schedule: dates, hour windows (with an optional IANA time zone),
//     on-demand and future starts, the LwM2M retry plan, date changes.
//   - pilot: the gate that keeps campaigns to 20 devices until a pilot
//     succeeds.
//   - verboselog: logging sessions, log bundles, check-in history.
//
// The Manager in this package is the one place where they meet a Store
// (persistence), an Inventory (what the host knows of its devices), a
// Clock and an Observer (ThingSpace's callbacks). Every Manager operation
// reads the clock once and runs as one Store transaction: it either
// happens entirely or not at all, and its status changes reach the
// Observer only after it committed.
//
// # Usage
//
// Build a Manager, schedule a campaign, answer check-ins and reports, and
// call Tick whenever the deadline it returned has passed:
//
//	m, err := fota.New(fota.Config{Inventory: inv, Observer: callbacks})
//	info, err := m.Schedule(ctx, "acme", fota.CampaignRequest{...})
//	in, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: imei})
//	// in.Action: ActionDownload, ActionInstall or ActionNone (+ RetryAt)
//	state, err := m.Report(ctx, info.ID, imei, fota.OutcomeInstalled)
//	next, err := m.Tick(ctx) // sleep until next, then Tick again
//
// Tests and simulations pass a mock clock (github.com/benbjohnson/clock's
// Mock satisfies Clock) and a deterministic Config.NewID.
//
// # Choices where ThingSpace is silent
//
//   - A malformed request (missing field, bad dates or windows, duplicate
//     device) and a pilot-gate refusal return an error and create nothing.
//     A well-formed request whose every device is rejected creates a
//     campaign in CampaignRequestFailed, so the rejections can be read.
//   - A start date of today makes a campaign on-demand (HTTP: straight to
//     CampaignScheduled; it may omit endDate and then runs 7 days).
//   - An HTTP device is Accepted until its first check-in inside the
//     download window, UpgradePending while downloading and installing,
//     and finishes in UpgradeSuccess or UpgradeFailed with its reason. A
//     device with no install window installs without a second check-in.
//   - The campaign becomes CampaignInProgress at the first download; it
//     ends at its end date or as soon as every accepted device succeeded.
//   - Operations bring a campaign up to date with the clock before acting,
//     so a start or end that fell due since the last Tick is applied
//     first; Tick exists so that nothing waits for traffic.
//   - Licences assigned through the Manager live in the Store; an
//     Inventory may also report a licence it manages itself.
//   - Check-in history is bounded per device by verboselog.Policy's
//     HistoryMax and filtered by its HistoryRetention when read.
//
// # Stores
//
// MemoryStore is the default. Other stores prove themselves with the
// conformance suite in package storetest; the Store documentation states
// the isolation a SQL store needs when several replicas share it.
package fota
