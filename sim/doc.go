// Package sim is fota's deterministic fleet simulator and rollout
// planner: a fleet of devices, a pilot campaign and the rollout to the
// HTTP devices (ThingSpace /v2), a push rollout to the LwM2M and OMA-DM
// devices (/v1), and the operator's actions, driven through the public
// fota.Manager API on simulated time, so that a week-long campaign over a
// large fleet runs in seconds and the same seed always gives the same
// report. Before the run it forecasts what the campaigns' dates and
// windows can reach.
//
// examples/simulate is its command line; examples/simulate/scenarios
// holds scenario files that each run.
//
// # Pieces, in reading order
//
//   - format.go: Duration, At and DateSpec (how a scenario file writes
//     durations, instants and dates) and ReadScenario.
//   - scenario.go: Scenario, Group, Campaign, Timing, Action; defaults,
//     Validate, and the errors.
//   - forecast.go: Scenario.Forecast.
//   - run.go: Run and the HTTP devices; all of its calls into the Manager
//     are the few call* functions at its top (push.go's beside them).
//   - push.go: the push transport and the LwM2M and OMA-DM devices.
//   - fleet.go: the devices' ids and the computed inventory.
//   - report.go: Report and its table.
//   - clock.go, queue.go: the simulated Clock and the event Queue.
//
// # A scenario file
//
// A scenario is the JSON of Scenario. ReadScenario reads it on top of a
// base (examples/simulate uses DefaultScenario(100000)): what the file
// leaves out keeps the base's value. A field the format does not know is
// refused with its full name ("fleet[0].chekInEvery": unknown field), as
// is a value of the wrong type; keys are matched exactly. Durations are Go
// duration strings everywhere ("24h", "90m", "1h30m"), never numbers.
// An example (the comments are this page's; JSON has none):
//
//	{
//	  "seed": 1,
//	  "start": "2026-01-05T00:00:00Z",
//	  "fleet": [                      // groups, in order; device ids are minted in this order
//	    {"name": "meters", "count": 6000},                                  // DefaultGroup's behaviour
//	    {"name": "basement", "count": 800, "online": "offline", "offlineFor": "72h"},
//	    {"name": "kiosks", "count": 200, "checkInEvery": "24h", "checkInJitter": "10m", "followRetry": false},
//	    {"name": "legacy", "count": 100, "software": "0.9"},                // rejected by a 1.0 -> 2.0 request
//	    {"name": "lamps", "count": 500, "protocol": "LWM2M", "notificationLoss": 0.05, "installFailCode": 8}
//	  ],
//	  "pilot": {                      // a ThingSpace /v2 CampaignSoftwareUpgrade, deviceList filled in
//	    "softwareName": "sensor-fw", "softwareFrom": "1.0", "softwareTo": "2.0",
//	    "make": "Acme", "model": "Sensor",
//	    "startDate": "+0h", "endDate": "+24h",
//	    "downloadTimeWindowList": [{"startTime": 0, "endTime": 6}],
//	    "devices": 20, "groups": ["meters"]
//	  },
//	  "rollout": {
//	    "softwareName": "sensor-fw", "softwareFrom": "1.0", "softwareTo": "2.0",
//	    "startDate": "+48h", "endDate": "2026-01-16", "timeZone": "Europe/Paris",
//	    "installTimeWindowList": [{"startTime": 2, "endTime": 5}],
//	    "scheduleAt": "pilotEnd"
//	  },
//	  "upgrade": {                    // a ThingSpace /v1 FirmwareUpgradeRequest, deviceList filled in
//	    "firmwareName": "sensor-fw", "firmwareFrom": "1.0", "firmwareTo": "2.0",
//	    "startDate": "+24h", "endDate": "+144h", "groups": ["lamps"]
//	  },
//	  "actions": [
//	    {"at": "1h", "do": "enableLogging", "group": "meters", "count": 5},
//	    {"at": "pilotEnd+1h", "do": "addDevices", "campaign": "rollout", "group": "kiosks"},
//	    {"at": "pilotEnd+2h", "do": "changeDates", "campaign": "rollout",
//	     "dates": {"startDate": "+48h", "endDate": "+240h", "timeZone": "Europe/Paris",
//	               "installTimeWindowList": [{"startTime": 2, "endTime": 5}]}},
//	    {"at": "pilotEnd+96h", "do": "abort", "campaign": "rollout"}
//	  ],
//	  "sampleEvery": "1h",
//	  "historyMax": 8
//	}
//
// Fleet groups (Group): name, count, make, model, software (what the
// inventory says), protocol ("HTTP", "LWM2M", "OMA-DM"), checkInEvery and
// checkInJitter (regular check-ins; an OMA-DM device's sessions),
// retryJitter and followRetry (coming back at Instruction.RetryAt),
// online ("always", "offline" with offlineFor, "never"), neverOnline,
// download and install ({"min", "max"} durations), downloadFail,
// installFail, unknownError (HTTP); for push groups also
// notificationLoss, downloadFailCode and installFailCode (an LwM2M
// Update Result that its Object 5 machine reaches on that failure, or a
// FUMO 4xx/5xx code; validated against packages device/lwm2m and
// device/omadm). Each group starts from DefaultGroup.
//
// Campaigns (Campaign): the pilot and the rollout, ThingSpace /v2
// requests (campaignName, softwareName, softwareFrom, softwareTo,
// distributionType "HTTP", make, model, startDate, endDate,
// campaignTimeWindowList, downloadAfterDate, downloadTimeWindowList,
// installAfterDate, installTimeWindowList, and fota's timeZone), whose
// deviceList the simulator fills: "devices" of its "groups" (HTTP groups;
// none named: every HTTP group), in fleet order; and "scheduleAt", when
// the operator sends it. A campaign's timing is exactly what the file
// writes, as in a ThingSpace request: an absent window list is all hours,
// an absent endDate of an on-demand campaign a week. Dates are
// "YYYY-MM-DD", "+48h" (whole days after the day the campaign is sent) or
// "start+48h" (after the scenario's start day); see DateSpec. Instants are
// "36h" after the start, "pilotEnd" or "pilotEnd+12h"; see At.
//
// The upgrade (Upgrade): the push rollout, a ThingSpace /v1 request
// (campaignName, firmwareName, firmwareTo, startDate, endDate, and fota's
// prerequisites make, model, firmwareFrom), whose deviceList the
// simulator fills with "devices" of its "groups" (LWM2M and OMA-DM groups;
// none named: every push group); "scheduleAt" (default the start). It has
// no pilot: the pilot gate is the HTTP family's. Its dates are exactly
// what the file writes; endDate is required, as in a /v1 request. A
// campaign whose groups hold no device is not sent, so one scenario may
// run HTTP campaigns, a push rollout, or both side by side.
//
// Actions (Action): "cancel", "abort", "changeDates" (with the full new
// "dates", ThingSpace's rule), "addDevices" and "enableLogging" (a group's
// first "count" devices that have not been in a campaign), and
// "liftGate" (the operator lifts the pilot gate of the pilot's or the
// rollout's software, Manager.LiftGate). Actions at one instant happen in
// the file's order, after a campaign sent then. A refused action (say, an
// abort or a date change of the upgrade: push campaigns have neither) is
// reported and changes nothing.
//
// # How it runs
//
// Run builds the fleet (IMEIs minted with device.AppendIMEI) and a Manager
// over fota.NewMemoryStore() with an inventory computed from each
// device's IMEI and group (nothing stored per device), a deterministic
// Config.NewID ("sim-1", "sim-2") and a Clock of its own.
// It sends the pilot's request at its scheduleAt, the rollout's at its own
// (by default when the pilot ends: the gate judges a pilot when it ends),
// and carries out the actions; it runs until every campaign has ended and
// every action is done. The Manager may refuse a request: the pilot gate
// (fota.ErrPilotRequired), a start date that has passed; a refusal is
// reported (CampaignReport.Refused and Reason, Report.Refused) with why:
// for a rollout the gate stopped, what the pilot did ("pilot: 3 of 20
// succeeded, 15% < 50%", "no pilot: a campaign of 280 devices ..."), not
// returned as an error.
//
// Time jumps from event to event. A Queue holds the device events
// (check-ins and reports; the ends of push devices' downloads and
// updates, their registrations and sessions), the operator's events, the
// Manager's deadlines and the push transport's Outbox calls: the
// simulator asks Manager.Tick after every operator event and at every
// tick event, and queues a tick at the deadline it returns. Device calls
// add no deadline, so nothing falls due unseen. A device event whose
// campaign has ended (a next check-in, a download under way) is dropped
// and counted (Totals.Dropped). Every Scenario.SampleEvery and every
// midnight the report samples each running campaign's counts.
//
// # Push devices
//
// The simulator drives the push family as a host's LwM2M and OMA-DM
// servers would (push.go). It calls Manager.Outbox when commands are due:
// at the time the last Outbox call returned, and when Manager.Due says an
// operation planned one. (After a device's answer it may wait until the
// earliest such an answer can plan, LeaseTTL or ObserveTimeout later or
// the next 04:00 UTC retry, so that one call serves many answers; no
// command is handed out late.) It hands each command to its device, which
// answers by its protocol's machine (Object 5 by lwm2m.Step, FUMO by
// omadm.Step): observe and read 2.05 with the current /5/0/3 and /5/0/5,
// reset 2.04 (4.05 while Updating), package write 2.04 (4.00 outside
// Idle), execute 2.04 (4.05 outside Downloaded); the FUMO Exec of
// DownloadAndUpdate 202. It confirms each command (Manager.Confirm) and
// carries out at once the command the Manager hands back
// (PushResult.Next). A device that is offline (before Scenario.Start +
// offlineFor) or never online answers nothing (Receipt.Delivered false):
// the Manager retries an LwM2M device at 04:00 UTC for three days and
// then gives up; a device that comes back registers (LwM2M) or opens a
// session (OMA-DM), Manager.Connected, and is pushed at once.
//
// A download and an update take their drawn durations and may fail, with
// the group's result codes: an LwM2M device notifies each change of /5/0/3
// and /5/0/5 (Downloading, Downloaded, Updating, then Idle with Update
// Result 1, or the failure), reported with Manager.Observation, except
// that a change a command made at once (Downloading on the package write,
// Updating on the Execute, (Idle, Initial) on a reset) rides the
// command's Confirm (Receipt.Value), as the 2.05 content of an observe
// or a read does; an OMA-DM
// device's DownloadAndUpdate goes on by itself and ends in a Generic
// Alert (200 or the failure code), Manager.Alert. Each notification and
// alert is lost with the group's notificationLoss: the Manager reads /5/0
// of an LwM2M device it has not heard from for ObserveTimeout, and an
// OMA-DM device sends its alert again in its next session (its next
// regular slot). An observation or alert after the campaign's end is
// refused and counted as late.
//
// # The forecast
//
// Scenario.Forecast follows the simulator's device model without drawing
// anything (see Forecast): per campaign, the share of its devices expected
// to end through their own report before the end (Reachable: the devices
// the windows can reach at all given the check-in pattern), the share
// expected in UpgradeSuccess, when 50, 90 and 99 % of the reachable devices
// finish, the campaign days on which no device is expected to finish, and
// what the pilot gate is expected to do. Run puts it in the Report, and the
// table prints each campaign's forecast reach beside what it reached
// (CampaignReport.Reached). examples/simulate's TestForecastAgrees holds
// the two within two percentage points on wide windows, on a 2-hour window
// with daily check-ins at stable times, and across a clock change.
//
// # The report as JSON
//
// examples/simulate -json prints Report as JSON; its shape is stable
// (fields are added, never renamed or removed; examples/simulate's golden
// test holds it byte for byte):
//
//	seed, devices, offline (never online), start, end
//	statuses        the 7 HTTP device statuses: the order of an HTTP campaign's samples' counts
//	forecast        {devices, reachable, campaigns: [{name, family, devices, scheduledAt, request,
//	                 rejected, neverOnline, reachable, success, finish50, finish90, finish99,
//	                 quietDays, gate, refused, error}]}
//	campaigns       [{name, family, id, devices, scheduledAt, request (the dates and windows sent),
//	                 statuses, refused, reason, status, startsAt, endsAt, endedAt,
//	                 timeline: [{at, status}], days: [{at, status, counts: [{status, count}]}],
//	                 samples: [{at, counts: [numbers]}], counts, tally: [{status, reason, count}],
//	                 reached}]
//	actions         [{at, do, campaign, group, devices, request, result, refused}]
//	pilotGate       "Standing" or "Lifted"
//	refused         why a campaign was refused (the rollout's first), or absent
//	totals          {events, checkIns, reports, ticks, managerCalls, lateReports, dropped, changes,
//	                 and with push devices outboxes, commands, undelivered, observations, alerts,
//	                 lost, connects}
//
// Times are RFC 3339 in UTC; dates "YYYY-MM-DD"; a request is ThingSpace's
// timing JSON (startDate, endDate, the window lists, timeZone). The
// upgrade, a push campaign, has "family": "PUSH" and its own "statuses",
// the 6 /v1 device statuses ("Device Accepted", "Device Rejected",
// "Upgrade Pending", "Upgrade Success", "Upgrade Failed",
// "CampaignCancelled") in the order of its samples' counts; its status
// (the /v1 "Finished" once it ended), counts and tally are in /v1
// spelling, and its request holds its two dates.
//
// # What is modelled
//
//   - Regular check-ins every checkInEvery, at the device's own random
//     hour plus a jitter drawn anew each time; a group offline for a
//     while, or never online; a share of devices never online.
//   - Instruction.RetryAt: a device told to come back does so (plus
//     retryJitter) when that is earlier than its next regular check-in,
//     unless its group does not follow RetryAt.
//   - Download and install, each taking a random time; a download may
//     fail, an install may fail, and either step may end in an unknown
//     error. After a successful download the device checks in at once to
//     ask about the install, and is told to install or when the install
//     window opens.
//   - Devices the request's make, model or softwareFrom reject.
//   - Campaign dates (absolute or relative), windows, after-dates and a
//     time zone; the operator's cancel, abort, date change, added devices
//     and verbose logging.
//   - Push devices online, offline for a while, or never online;
//     download and update failures with their LwM2M Update Results and
//     FUMO codes; lost notifications and alerts (see Push devices).
//
// # What is not
//
//   - Check-ins of a device that is in no running campaign: they change
//     nothing in a campaign (only a device's check-in history), so the
//     simulator spends no events on them. Likewise a push device's
//     periodic registration updates while it has nothing to answer.
//   - A push device that goes offline in the middle of its update, a CoAP
//     exchange that times out on an online device, lost command answers
//     (lease expiry), and several server replicas: package fota's tests
//     cover those.
//   - Licences, log uploads, and network latency and server load: the
//     Manager answers at once.
//
// # Choices where the sources are silent
//
//   - Pilot sizes: a pilot of 1..4 or 21+ devices is refused up front
//     (pilot.devices, -pilot): ThingSpace's gate never counts it, so such
//     a run could only end in a refused rollout. 0 means no pilot.
//   - Reached: a device that ended through its own report, success or
//     failure; devices that ended because the campaign did
//     (RovaClientDidNotReportStatus, RovaClientDownloadNotInstalledYet;
//     push: "Device is not in an active state or is not connected.") or
//     were rejected were not reached.
//   - An LwM2M update failure with Update Result 8 leaves the device in
//     Downloaded (the image kept), with 5 in Idle; a download failure
//     leaves it in Idle. An OMA-DM device reports a failed download in
//     its Generic Alert and does not go on to the update.
//   - A push device answers a command the moment it gets it: its
//     download starts with the package write (LwM2M) or the Exec
//     (OMA-DM).
//   - The forecast foresees no operator action, and sends a rollout that
//     waits for the pilot at the pilot's end date (earlier only when it
//     expects every pilot device to succeed). A day "adds nothing" when no
//     path of the forecast finishes on it.
//
// # Determinism
//
// An HTTP device's check-ins and reports draw from their own dice: a
// SplitMix64 stream seeded from Scenario.Seed and the event (device,
// instant, kind, the device's campaign generation), so that what a device
// draws depends on neither the events before it nor the goroutine that
// runs it. Everything else (the fleet's make-up, the push transport)
// draws from one math/rand/v2 PCG seeded with Scenario.Seed, in event
// order. Durations are drawn in whole seconds. Events at the same instant
// are handled in the order they were queued. Nothing reads the wall clock
// or iterates a map in an order that matters, so the same Scenario gives
// a deeply equal Report and byte-identical JSON and table output
// (TestDeterminism), whatever Scenario.Workers is (TestWorkersAgree); the
// Report holds no wall time or memory figures (examples/simulate prints
// those to standard error). A zero probability draws nothing.
//
// # Cores
//
// The HTTP devices' events of one instant (a batch: about 65 on average
// in a million-device rollout, thousands at the top of an hour; 58 % of
// the events are in batches of 128 or more) do not depend on one
// another: each moves its own device, and its dice are its own. With
// Scenario.Workers above one (simulate -workers), a batch of at least 128
// events is split by the store's 64 lock shards
// (fota.MemoryStore.Partition), and the workers claim its shards one at
// a time, each running a shard's events in order with its own Manager
// over the run's store and clock (the replicas of one server): no two
// take the same lock, and one that is done early claims more rather than
// wait for the others. What each event did (the event it queues, its
// Step, the changes its Manager told) is kept and replayed in event order
// once the batch is done (a batch that is not shared out is told as it
// runs, in the same order, with nothing kept), and the batch's campaign
// changes after it, sorted by campaign and status (which device's
// operation starts or ends a campaign is a race between the workers; what
// it changes at that instant is not). A failing event fails the run with
// the first error in event order, the one a single worker stops at, once
// what the events before it did is told, as a single worker tells it
// (TestWorkersFirstError). Everything else (ticks, the operator, push
// devices, Schedule) runs on the loop's goroutine, in order. A helper
// spins a while between batches before it sleeps (waking it would cost
// about what a batch saves), so the process uses more CPU time than one
// worker would. On this project's 2-core machines two workers make a
// million-device run 10 to 17 % shorter than one, for 9 to 15 % more
// CPU time (BenchmarkFleet, fota-workers against fota). Scenario.Workers
// defaults to one, so that a run starts no goroutine of its own; the
// command examples/simulate runs one per core, at most two. (Before the
// workers claimed shards, each had a fixed half of the batch and the
// loop's waited for the helper's: two workers saved about a tenth of the
// wall time on this kind of machine, and nothing on some.)
//
// Check-in history: the Manager keeps every device's check-ins; the
// simulator sets verboselog.Policy.HistoryMax to Scenario.HistoryMax (8 by
// default) so that a million devices' history stays bounded.
//
// # Speed
//
// The Manager and its store set the pace; the loop keeps out of their
// way. Per device the simulator keeps a 32-byte record that holds the
// device's id (its IMEI, handed to the Manager as a string over the
// record's bytes: no string header, pointer or map entry per device, and
// one cache line for both) and about one queued event of 24 bytes; the
// inventory is computed from the id and the device's group. Time in the
// loop is one int64 (Unix microseconds, the Manager's resolution), the
// Clock one atomic integer, and the Queue a calendar queue whose buckets
// are chains of blocks from one pool, gathered and sorted by radix when
// their turn comes. On a million devices an event mostly waits for memory (the
// device's slot in the store's id table, its row, its member record and
// its check-in history, each a cache miss that the next one depends on),
// so the loop reads ahead: before it runs the next 32 events it hands
// their devices to fota.MemoryStore.Prefetch, which makes those loads
// stage by stage across the 32 devices so that their misses overlap (the
// push transport does the same for each 32 commands of an Outbox page).
// Each worker reads ahead its own share the same way, 32 events at a time.
//
// Measured on this project's shared 2-core machines, of two kinds: the
// figures of BenchmarkFleet and of the command come from one run each at
// commit 5902928 on an Intel Xeon machine, with those of one run at
// commit 2e17910 on an AMD EPYC machine beside them; the rest come from
// the AMD run. Wall times vary from run to run (on the AMD machine the
// same build of the command took from 2.4 to 3.2 s within the hour), so
// CPU time per device (the process's, the collector's included)
// is given beside them, every ratio is between figures of that one run,
// and changes are also given in instructions, which valgrind
// --tool=callgrind counts the same in every run. Two things about these
// machines shape the figures. Their cache is large: with the loop reading
// ahead, a device costs about the same from 100,000 devices to a million,
// and the time goes mostly to instructions (without the read-ahead a
// million-device run took 1.3 to 1.4 times as long on the machine of
// commit d772582, 1.6 on that of commit afe30e7). And a first write to a
// page of fresh memory is slow (256 MiB written page by page took 0.75 to
// 1.2 s on the machine of commit afe30e7), so the store backs the arrays
// that grow with a fleet (its columns, id table and check-in history
// chunks) and the simulator its fleet with one
// madvise(MADV_POPULATE_WRITE) each (fota/internal/prefault). Counted by
// callgrind, a 50,000-device run of the command (with its profile, one
// worker) takes 1,633 M instructions for HTTP and 1,549 M for LwM2M at
// commit 6d9c230 (commit f37cf5a: 1,636 M and 1,556 M; commit 8ab337e:
// 1,669 M and 1,605 M; commit 8f66650: 1,732 M and 1,685 M): a device
// transaction now stages a member packed as the store keeps it, the
// fleet's ids are minted with the check digit computed in two words, and
// a member row carries the stripe of the counts its changes go to.
//
//	go test ./sim -run '^$' -bench 'BenchmarkFleet$|BenchmarkPushRollout$|BenchmarkScheduleHeap$' -benchtime 1x
//	go run ./examples/simulate -devices 1000000 >/dev/null   # wall time and peak heap on standard error
//
// The figures:
//
//   - BenchmarkFleet (one op: a 7-day HTTP campaign over the fleet, from
//     its schedule to its end, 5.8 events a device; B/device is the
//     peak heap during the op, at the default GOGC=100; an untimed run
//     comes first, so that the first op measured does not pay alone for
//     the process's first touches). Recorded run (commit 5902928, on a
//     machine of the Intel Xeon kind): fota/100000 4.3 µs CPU, 358 B a
//     device; fota/1000000 4.7 µs CPU, 4.6 µs wall, 277 B;
//     fota-workers/1000000 (two workers) 5.7 µs CPU, 4.2 µs wall, 280 B;
//     looplab-per-device/100000 25 µs CPU, 4,052 B;
//     looplab-per-device/1000000 63 µs CPU, 51 µs wall, 3,954 B. At a
//     million devices the looplab-per-device design takes 11.0x fota's
//     wall time, 13.6x its CPU time and 14.3x its memory; against
//     fota-workers, 12.1x the wall time, 11.2x the CPU time and 14.1x the
//     memory (bars: 10x each, met by both). Over the day's six runs:
//     fota 7.6x to 11.2x the wall time and 9.9x to 13.8x the CPU time
//     (both bars in three runs), fota-workers 8.7x to 12.7x the wall time
//     and 8.4x to 11.7x the CPU time (both in five runs; the other missed
//     both, in a slow patch of the shared machine); the memory 13.5x to
//     14.3x. On the AMD EPYC kind
//     (commit 2e17910), which runs fota about 1.4 times as fast and the
//     baseline 1.6 to 2.3 times as fast, no one design met both in one run:
//     one worker met the CPU bar in six runs of eight (10.1x to 12.5x)
//     and the wall bar in none (7.1x to 9.8x: the baseline's collector
//     runs on the second core), two workers the wall bar in three runs of
//     five (10.0x to 10.6x) and the CPU bar in none (7.7x to 9.9x); the
//     baseline's own CPU time there moved from 35 to 40 µs a device to 27
//     to 29 µs within the day. The ratio moves with the machine more than
//     with the code. fota's time per device at a million over at 100,000:
//     1.09 wall, 1.09 CPU (1.07 to 1.23 wall over the day's nine runs; 1.03
//     and 1.02 on the AMD kind; bar: 1.25).
//   - go run ./examples/simulate -devices 1000000 (the default scenario: a
//     pilot of 20, then a 7-day rollout; two workers): 3.9 to 4.1 s wall
//     in three turns, peak heap 261 B a device, and 4.6 s with -workers 1
//     (bars: 5 s and 300 B, met; the goal of 2 s is not). On the AMD kind
//     at commit 2e17910: 2.63 to 2.73 s wall, 3.4 to 3.5 s of user time;
//     with -workers 1 3.03 to 3.05 s. With -protocol lwm2m: 4.43 to 4.47 s
//     here, 3.05 to 3.16 s there, 288 B a device. The command ships
//     default.pgo, the CPU profile of a million-device HTTP run and of an
//     LwM2M one (its pgo.sh writes it), so that go build and go run
//     inline its hot calls: about 7 % fewer instructions. It runs the
//     collector at GOGC=10: the heap is mostly pointer-free columns, so
//     collecting often costs no measurable time and the peak stays near
//     the live heap.
//   - BenchmarkPushRollout (100,000 devices, the same fleet as HTTP, LwM2M
//     and OMA-DM devices, after an untimed rollout; the ratios are the
//     medians of five rounds that run the three in turn): LwM2M takes
//     0.91x the HTTP rollout's CPU time a device and 0.88x its wall time
//     (bar: at most 1, met; 0.89x to 0.94x wall and 0.91x to 0.95x CPU in
//     the day's nine other runs, five of them after the staged-member
//     change), OMA-DM 0.61x; on the Intel machine at commit 5902928,
//     0.89x in both and 0.62x. An LwM2M device at rest makes 5 Manager
//     calls: 3 confirmations, each with the value that came with the
//     answer (the observe's content, Downloading after the package write,
//     Updating after the Execute), and 2 notifications (Downloaded, the
//     result); an HTTP device makes 5.8 and an OMA-DM device 2. An LwM2M
//     call runs more code than a check-in (the tracker, the plan, the
//     lease, the due index): in cachegrind's model an LwM2M rollout misses
//     the instruction cache about twice as often, and it takes 5 % fewer
//     instructions a device.
//   - BenchmarkScheduleHeap: after scheduling 100,000 devices the store
//     holds 86 B a device for an HTTP campaign, 139 B for a push campaign:
//     the push bookkeeping adds 53 B a device (bar: at most 64; met).
//
// Where the time goes (go run ./examples/simulate -devices 1000000
// -workers 1 -cpuprofile): the Manager's check-ins about 30 %, reports
// 16 % and Schedule 11 %; reading ahead 17 % (21 % on the Intel machine:
// most of it the store's staged loads, waiting for memory); the
// simulator's loop and queue about 10 %; the collector about 3 %, beside
// it on the other core. Where the memory goes (live heap at its
// peak, on the rollout's first night, about 250 B a device): the store's
// check-in history about 100 B (8 check-ins of 12 bytes kept per device),
// device rows 32 B, members 24 B and id table 16 B; the simulator's queue
// about 40 B and device records 32 B. A run allocates about 390 B a
// device in all, most of it live: the end of a campaign, its announcement
// after a schedule and the final tally read no page of members.
//
// # Reusing the clock and the queue
//
// A test harness that drives a Manager itself can use the two pieces on
// their own: pass a *Clock as fota.Config.Clock (it never sleeps, unlike
// github.com/benbjohnson/clock's Mock, which sleeps a millisecond of real
// time per Add or Set), keep its own events in a Queue[T], and loop:
//
//	at, ev, ok := q.Pop() // at: Unix microseconds
//	clock.Set(sim.Time(at))
//	// call the Manager for ev; Push what follows (never before at)
//
// Queue orders equal instants by push order, which is what keeps such a
// loop deterministic.
package sim
