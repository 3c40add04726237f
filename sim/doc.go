// Package sim is fota's deterministic fleet simulator: a pilot campaign
// and then the rollout to a whole fleet, driven through the public
// fota.Manager API on simulated time, so that a week-long campaign over a
// large fleet runs in seconds and the same seed always gives the same
// report.
//
// # How it runs
//
// Run builds a fleet of Scenario.Devices HTTP devices (IMEIs minted with
// device.IMEIOf) in a fota.MemoryInventory, and a Manager over
// fota.NewMemoryStore() with a deterministic Config.NewID ("sim-1",
// "sim-2") and a Clock of its own. It schedules the pilot (the first
// Scenario.Pilot devices, 20 by default: ThingSpace refuses a campaign of
// more than 20 devices for a software target until a pilot has passed)
// and runs it until the campaign ends; then it schedules the rollout of
// every other device, which the Manager refuses with fota.ErrPilotRequired
// if the pilot did not lift the gate. A refusal is reported
// (CampaignReport.Refused and Err), not returned as an error.
//
// Time jumps from event to event. A Queue holds the device events
// (check-ins and reports) and the Manager's deadlines: the simulator asks
// Manager.Tick when a campaign is scheduled and at every tick event, and
// queues a tick at the deadline it returns. Among the calls the simulator
// makes, only Schedule adds deadlines, so nothing falls due unseen. Each
// campaign runs until the Observer reports it in a terminal status;
// device events still queued then (a next check-in, a download under way)
// are dropped and counted (Totals.Dropped).
//
// # What is modelled
//
//   - Regular check-ins every Behaviour.CheckInEvery (daily by default), at
//     the device's own random hour plus a jitter drawn anew each time.
//   - Instruction.RetryAt: a device told to come back does so (plus
//     Behaviour.RetryJitter) when that is earlier than its next regular
//     check-in.
//   - Download and install, each taking a random time; a download may
//     fail, an install may fail, and either step may end in an unknown
//     error. After a successful download the device checks in at once to
//     ask about the install, and is told to install or when the install
//     window opens.
//   - Devices that stay offline for the whole simulation: they end as
//     RovaClientDidNotReportStatus.
//   - Campaign dates, windows, after-dates and an optional time zone
//     (Shape), relative to the day each campaign is scheduled.
//
// # What is not
//
//   - Check-ins of a device once it has finished in its campaign, and of
//     the rollout's devices while the pilot runs: they change nothing in
//     a campaign (only a device's check-in history), so the simulator
//     spends no events on them.
//   - Abort on a failure threshold (not a ThingSpace feature), cancels,
//     date changes, licences, verbose logging, push (LwM2M, OMA-DM)
//     campaigns, and any device that is not eligible.
//   - Network latency and server load: the Manager answers at once.
//
// # Determinism
//
// All randomness comes from one math/rand/v2 PCG seeded with
// Scenario.Seed, drawn in event order; durations are drawn in whole
// seconds. Events at the same instant are handled in the order they were
// queued. Nothing reads the wall clock or iterates a map in an order that
// matters, so the same Scenario gives a deeply equal Report and
// byte-identical JSON and table output (TestDeterminism); the Report
// holds no wall time or memory figures (examples/simulate prints those to
// standard error). A zero probability draws nothing.
//
// Check-in history: the Manager keeps every device's check-ins; the
// simulator sets verboselog.Policy.HistoryMax to Scenario.HistoryMax (8 by
// default) so that a million devices' history stays bounded.
//
// # Speed
//
// Target: a million devices, a 20-device pilot and then a 7-day rollout
// (go run ./examples/simulate -devices 1000000), in seconds on a 2-core
// machine. Measured on this project's shared 2-core machines (load 3..8,
// so wall times vary twofold; ratios are steadier):
//
//   - Every device costs about 5.8 events (3.8 check-ins, 2 reports).
//   - BenchmarkSimulate: the bare event loop (queue, clock, draws) costs
//     about 250..350 ns per event; the same loop calling the Manager costs
//     about 3.4..4.1 µs per event, 11..14 times more. Peak live heap is
//     about 1.9..2.4 KB per device, of which the bare loop holds 230..600 B.
//   - One million devices: 5.8 million events in 34..42 s of CPU time
//     (100,000..140,000 events/s), peak heap about 2 KB per device. CPU
//     profile: Manager.CheckIn 28%, Report 15%, Schedule (one transaction
//     of a million devices) 14%, the garbage collector 19%, the campaign's
//     end and the final device pages 7%; the simulator itself (queue,
//     fleet, loop) about 10%. The target is not met: the Manager's
//     in-memory store, not the simulator, sets the pace (see the report
//     of the change that added this package).
//
// The queue is a calendar queue (see Queue): a binary heap of a million
// events spent a cache miss per level, about 10% of a run.
//
// # Reusing the clock and the queue
//
// A test harness that drives a Manager itself can use the two pieces on
// their own: pass a *Clock as fota.Config.Clock (it never sleeps, unlike
// github.com/benbjohnson/clock's Mock, which sleeps a millisecond of real
// time per Add or Set), keep its own events in a Queue[T], and loop:
//
//	at, ev, ok := q.Pop()
//	clock.Set(at)
//	// call the Manager for ev; Push what follows (never before at)
//
// Queue orders equal instants by push order, which is what keeps such a
// loop deterministic.
package sim
