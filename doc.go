// Package fota runs firmware-over-the-air (FOTA) campaigns as explicit
// state machines, modelled on Verizon ThingSpace's Software Management
// Services: campaigns of the HTTP family (/v2: devices check in) and of the
// push family (/v1: LwM2M and OMA-DM devices are pushed to), every campaign
// and device status in its exact wire spelling, eligibility checks,
// licences, campaign timing, pilot campaigns, verbose logging and check-in
// history.
//
// fota holds the rules; the host server brings transport (HTTP check-ins,
// CoAP for LwM2M, OMA-DM sessions) and, if it wants, its own persistence.
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
//     validation and the ordered eligibility checks; device/lwm2m and
//     device/omadm: the device-side LwM2M Object 5 and OMA-DM FUMO
//     machines, their result codes, and the server's view of them.
//   - schedule: dates, hour windows (with an optional IANA time zone),
//     on-demand and future starts, the LwM2M retry plan, date changes.
//   - pilot: the gate that keeps campaigns to 20 devices until a pilot
//     succeeds, per account and software.
//   - verboselog: logging sessions, log bundles, check-in history.
//
// The Manager in this package is the one place where they meet a Store
// (persistence), an Inventory (what the host knows of its devices), a
// PackageCatalog (its software, optional), a Clock and an Observer
// (ThingSpace's callbacks).
//
// # Usage
//
// Build a Manager, schedule campaigns, answer devices, and run the Tick
// loop:
//
//	m, err := fota.New(fota.Config{Inventory: inv, Observer: callbacks})
//	go m.Run(ctx) // applies starts, ends and sweeps as they fall due
//
//	// HTTP (/v2): devices check in and report.
//	info, err := m.Schedule(ctx, "acme", fota.CampaignRequest{...})
//	in, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: imei})
//	// in.Action: ActionDownload, ActionInstall or ActionNone (+ RetryAt)
//	state, err := m.Report(ctx, info.ID, imei, fota.OutcomeInstalled)
//
//	// Push (/v1): the Manager hands out commands, the host's transport
//	// carries them and reports what the devices said.
//	info, err = m.ScheduleUpgrade(ctx, "acme", fota.UpgradeRequest{...})
//	cmds, next, err := m.Outbox(ctx, 100) // leased to this caller
//	res, err := m.Confirm(ctx, cmds[0], fota.Receipt{Delivered: true, Status: 204})
//	// An Observe's or a Read's 2.05 carries /5/0/3 and /5/0/5, and the
//	// notification a write or an Execute sets off may come with its 2.04:
//	// one call for both.
//	res, err = m.Confirm(ctx, observe, fota.Receipt{Delivered: true, Status: 205, Value: &obs})
//	res, err = m.Observation(ctx, imei, lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Success})
//	res, err = m.Alert(ctx, imei, alert) // OMA-DM Generic Alert
//	res, err = m.Connected(ctx, imei)    // a registration or session: push now
//
// Tests and simulations pass a mock clock (github.com/benbjohnson/clock's
// Mock satisfies Clock and Sleeper) and a deterministic Config.NewID.
//
// # Accounts
//
// Every call on a campaign names its account, and another account's
// campaign does not exist for it (ErrNotFound, as for a missing one).
// Calls a device makes (CheckIn, Report, UploadLog, and the push calls
// Confirm, Observation, Alert, Connected) name the device: the host
// authenticates the device, and a device's member record ties it to its
// campaign's account. A device the inventory records for another account
// is "Device not found." in a schedule and not found in licence, logging
// and history calls.
//
// # Transactions
//
// Every operation reads the clock once. A campaign or account operation
// is one Store Update; a device's operation is one device transaction
// (Store.UpdateDevice), which writes that device's records only and never
// a campaign. Either happens entirely or not at all, and its changes reach
// the Observer only after it committed. Campaign-wide work follows its own
// rules:
//
//   - A campaign's start and end fall due at instants; until Tick (or the
//     next operation on the campaign) writes them, every answer and every
//     decision uses the status the campaign has at now. A device operation
//     that finds its campaign's start due has the start written first, in
//     a transaction of its own, then runs; one that finds the end due is
//     answered as ended, and the end is Tick's.
//   - An HTTP campaign's first download (Scheduled to In Progress) and its
//     early end once every accepted device succeeded are written right
//     after the device operation that made them due, in a transaction of
//     their own; should that fail, Tick, queries and the next device
//     operation write them again.
//   - An end, cancel, abort, removal of the last device or push failure
//     writes the campaign's final status in one transaction that also moves
//     its first 1,000 devices; the rest are swept by Tick in batches of
//     1,000, each one transaction. Until the sweep reaches a device, it is
//     reported as the sweep will leave it.
//   - Tick commits in batches (TickError says how many committed before
//     one failed; a failed batch changes nothing).
//   - Schedule of more than 1,000 devices tells the observer how each was
//     admitted after its commit, reading the campaign back page by page.
//
// # Push delivery
//
// The Manager never sends anything. It decides which device must be sent
// which command now (LwM2M: observe, reset unless the device is at rest,
// write the package URI, execute, read; OMA-DM: the FUMO Exec of DownloadAndUpdate) and hands
// these out as values (Outbox, and PushResult.Next for a command due at
// once after a device's answer). Each hand-out is leased to its caller
// for Push.LeaseTTL (5 minutes): with several replicas over one store a
// command is held by one replica at a time (the store's DueMembers skips
// rows another transaction holds), and returns to the outbox when its
// lease expires unconfirmed, so a crashed replica loses no device and no
// device is pushed twice within a lease. An LwM2M command the device does
// not answer is tried again at the next 04:00 UTC, for up to 3 days
// (schedule.Policy); a device that answered none fails "Device is not in
// an active state or is not connected." a day after the last retry. An
// OMA-DM device that is off is notified when it next connects
// (Connected; Reachable for an LwM2M registration Update, which keeps the
// observations). The device's status moves through the push device
// lifecycle from its protocol machine's outcome; the protocol's own result
// (LwM2M Update Result, FUMO code) stays beside ThingSpace's reason.
//
// Notifications travel apart from the acknowledgements of commands, so the
// host passes a device's LwM2M notifications in the order the device sent
// them and drops stale ones, by the Observe option's sequence number (RFC
// 7641 §3.4: serial number arithmetic, and any notification more than 128
// seconds after the last is newer), as examples/lwm2m/server/observation.go
// does; a Read's answer is always fresh. With that order the Manager, after
// a reset, writes the package only once an observation shows the device at
// (Idle, Initial) (it Reads /5/0 after Push.ObserveTimeout when none
// comes), so a notification sent before the reset and delivered after it
// never makes an Execute due.
//
// What the host keeps to itself: which replica a device can be reached
// through (an LwM2M registration is held by the server it registered with;
// Outbox hands a command to whichever replica asks, so replicas share
// their registrations or forward), and which transport carries which
// protocol (a host with separate LwM2M and OMA-DM transports routes
// Command.Protocol). Lease deadlines come from each replica's clock, so
// replicas' clocks must agree well within Push.LeaseTTL.
//
// # Errors
//
// Every refusal names what was refused, in a typed error matched with
// errors.Is against one sentinel and read with errors.As. A refusal caused
// by the request's content is a *RequestError naming the field and the
// value, whichever package found it (it wraps that package's error, so
// errors.Is(err, schedule.ErrBadWindow) holds as well). The example server
// (examples/server) answers them so:
//
//	sentinel              when                                                   example server
//	ErrBadRequest         a field missing, malformed, too long, out of range     400
//	ErrNotFound           no such campaign, device or member, or another         404
//	                      account's (ErrNotInCampaign: not in that campaign)
//	ErrInvalidTransition  the lifecycle refuses the event in the current state   400
//	                      (cancel after the start, a report that cannot follow,
//	                      an observation the device machine cannot reach)
//	ErrDuplicateReport    a report, observation, alert or confirmation repeats   400
//	                      one already applied; nothing changed
//	ErrPilotRequired      the software's pilot gate stands and the campaign      400
//	                      would exceed its device limit
//	ErrWrongFamily        an HTTP call on a push campaign or the reverse         400
//	ErrLeaseLost          a confirmation of a push command whose lease expired   400
//	                      or was never handed out
//	anything else         the store or the inventory failed                      500
//
// Package errors with sentinels of their own (campaign.ErrDevicesFrozen,
// schedule.ErrStartPassed, verboselog.ErrNotReady, ...) are refusals of the
// rules the example server also answers with 400.
//
// # Input limits
//
// Before anything commits, the Manager refuses as a bad request: text
// longer than MaxIDBytes (ids) or MaxNameBytes (names, versions, makes,
// models), invalid UTF-8 or a NUL byte; dates outside MinYear..MaxYear; an
// installAfterDate before the downloadAfterDate. So every store accepts
// what the Manager writes, and every answer can be encoded.
//
// # JSON
//
// Requests decode strictly: an unknown field is refused with its name
// (UnmarshalLenient relaxes that). Campaign, CampaignInfo, Change,
// Instruction, Command, DeviceStatus and UpgradeRecord marshal with
// ThingSpace's field names where ThingSpace has them, and read back as
// they were written.
//
// # Observers
//
// The Manager calls Observer.Observe synchronously, after the commit, in
// the goroutine of the operation, in the order the changes happened; a
// slow observer slows that operation. AsyncObserver delivers from its own
// goroutine through a bounded buffer and counts what it dropped;
// WireOnly passes on only changes of the wire status (what a ThingSpace
// callback carries: HTTP Downloading, Downloaded and Installing are all
// UpgradePending, and Change.WireChanged says so).
//
// # Choices where ThingSpace is silent
//
//   - A malformed request (missing field, bad dates or windows, duplicate
//     device) and a pilot-gate refusal return an error and create nothing.
//     A well-formed request whose every device is rejected creates a
//     campaign in CampaignRequestFailed (RequestFailed), so the rejections
//     can be read.
//   - A start date of today makes a campaign on-demand (HTTP: straight to
//     CampaignScheduled; it may omit endDate and then runs 7 days; push:
//     it starts after Schedule.PreValidation, 2 h).
//   - An HTTP device is Accepted until its first check-in inside the
//     download window, UpgradePending while downloading and installing,
//     and finishes in UpgradeSuccess or UpgradeFailed with its reason. A
//     device with no install window installs without a second check-in.
//   - The HTTP campaign becomes CampaignInProgress at the first download;
//     it ends at its end date or as soon as every accepted device
//     succeeded. A push campaign is Finished at its end date.
//   - A push device pushed but silent at the campaign's end fails "Device
//     is not in an active state or is not connected.": the server lost
//     contact before the outcome. A push campaign cannot be cancelled or
//     changed once started; FailUpgrade records that the host's push
//     server cannot run a Queued one (UpgradeFailed, its devices "Internal
//     System Error. Please retry upgrade.").
//   - Licences assigned through the Manager live in the Store; an
//     Inventory may also report a licence it manages itself.
//   - Check-in history is bounded per device by verboselog.Policy's
//     HistoryMax and filtered by its HistoryRetention when read; a device's
//     upgrade history covers UpgradeHistoryPeriod (six months).
//
// # Stores
//
// MemoryStore is the default. Other stores prove themselves with the
// conformance suite in package storetest; the Store documentation states
// the isolation a SQL store needs when several replicas share it, and the
// nested module sqlstore implements it on PostgreSQL.
package fota
