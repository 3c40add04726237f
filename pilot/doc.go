// Package pilot holds the pilot-campaign gate: per software target, until a
// small pilot campaign has succeeded, no campaign for that target may be
// large.
//
// The rule, as ThingSpace states it (pilot-campaigns page; thingspace-api.md
// §5.6; about-campaigns, "Pilot campaigns for HTTP FOTA devices"):
//
//	"The pilot campaign limit is in place until at least 5 devices and no
//	more than 20 devices have had at least a 50% success rate. Users can
//	run as many up to 20 device pilot campaigns as necessary; once the 50%
//	success rate has been achieved, the 20 device limit is lifted."
//
// # How the pieces fit
//
// A Target (account, software name, software from, software to) has one Gate, a plain
// value the host stores; the zero Gate for a target is Standing. A Policy
// holds the three numbers (DefaultPolicy: 5, 20, 0.5). When a campaign is
// requested the host asks Gate.Admit, which refuses more than
// Policy.MaxDevices devices with a *LimitError (errors.Is ErrPilotRequired)
// while the gate stands. When a campaign for the target finishes, the host
// tells the gate its Outcome with Gate.Learn and stores the gate it gets
// back; Learn reports whether this outcome lifted the gate. Gates is an
// in-memory map of gates for hosts without a store.
//
// The gate's lifecycle is declared once, in Events, and compiled into Table:
//
//	stateDiagram-v2
//	    [*] --> Standing
//	    Standing --> Lifted: OperatorLifted
//	    Standing --> Lifted: PilotPassed
//
// Learn decides first whether an outcome is a PilotPassed event and only
// then consults Table, so the table holds the real transitions: a passed
// pilot, and an operator's decision (Gate.Lift) for a pilot that ran
// elsewhere. A failed
// pilot changes no state and is not declared as an event (looplab treats a
// self-transition as "no transition"); Lifted has no way out, which is how
// "a lifted gate stays lifted" is enforced by the table itself.
//
// # What counts as a pilot
//
// A finished campaign counts as a pilot (Policy.Counts) exactly when all of
// these hold:
//
//   - the gate stood when the outcome was learnt;
//   - the campaign ended normally (EndedNormally, ThingSpace's
//     CampaignEnded). A cancelled (CampaignCancelled), aborted
//     (CampaignAborted) or failed (CampaignFailed, CampaignRequestFailed)
//     campaign does not count, however its devices fared: the source says
//     "run", and these campaigns did not run to their end;
//   - its size is MinDevices..MaxDevices (5..20), where the size is the
//     number of devices accepted into the campaign. Devices rejected at
//     scheduling (DeviceRejected) and devices removed before it ran are not
//     part of its size: they were never offered the software, so they can
//     neither succeed nor fail it. So a request for 6 devices with 2
//     rejected is a 4-device campaign and no pilot.
//
// A counted pilot passes (Policy.Passed), and lifts the gate, when the
// devices in UpgradeSuccess are at least SuccessRatio of its size. Every
// device of the size that is not in UpgradeSuccess (failed, still pending
// at the end date) counts against it. Exactly 50% passes ("at least a 50%
// success rate"): 3 of 6 and 10 of 20 pass, 2 of 5 does not, 3 of 5 does.
// The share is one correctly rounded float64 division compared with the
// ratio, so any ratio written as a fraction (0.5, 0.3, 0.56) is met exactly
// at that fraction; multiplying (succeeded >= ratio*devices) would round
// twice and refuse, say, 14 of 25 against 0.56.
//
// Gate.Pilots counts every counted pilot, passed or not, up to and including
// the one that lifted the gate. Any number of pilots may run, one after
// another or side by side; the gate is lifted by the first passing outcome
// that is learnt, and LiftedAt records the now of that Learn.
//
// # Choices where the sources are silent
//
//   - The key. ThingSpace says "that firmware/software" and runs a gate
//     for each customer's account; the gate is per (account, software
//     name, software from, software to). So a pilot of 1.0->2.0 does not
//     lift the gate of 1.1->2.0, nor another package's that shares the
//     versions, nor another account's. Make and model are not part of the
//     key: the software package decides which devices it fits, so a pilot
//     that names no make lifts the gate for a request that names one, and
//     the reverse. Fields are compared exactly; the host normalises
//     spellings.
//   - Which campaigns are gated. The sources name HTTP devices (/v2) and
//     "/v2 or /v3" campaigns; the package does not know protocols, and the
//     host asks the gate only for the campaigns it gates.
//   - The limit applies to each campaign's size, not to the devices of all
//     the target's campaigns together: "as many up to 20 device pilot
//     campaigns as necessary" may run side by side. Admit is given the size
//     the campaign would have after the request (requested devices, before
//     eligibility checks), so adding devices to a campaign is asked as its
//     new total.
//   - No campaign larger than MaxDevices can be a pilot: while the gate
//     stands it cannot be admitted, and after the gate is lifted there is
//     nothing left to lift. An outcome of more than MaxDevices devices
//     learnt by a standing gate (say, one admitted under an older, larger
//     policy) does not count. The policy given to Learn is the one that
//     judges; a campaign of fewer than MinDevices may be admitted (it is
//     under the limit) but never counts: the rule limits size only.
//   - Reading the sentence. "at least 5 devices and no more than 20 devices
//     have had at least a 50% success rate" is read, as the issue does, as
//     a pilot of 5..20 devices of which at least half succeeded (so 3 of 5
//     lifts), not as "at least 5 devices succeeded".
//   - Ending's zero value is not an ending, so an Outcome whose Ending was
//     never set is an error rather than silently counting.
//   - No error code for the refusal is given by ThingSpace; ErrPilotRequired
//     with *LimitError{Target, Limit, Requested} is this package's own.
//   - Outcomes learnt after the gate is lifted are validated but change
//     nothing, and Pilots stops counting.
//
// All functions are pure: no clock (Learn takes now), no I/O, no goroutines.
// Every failed operation returns a typed error naming the field and value
// (errors.Is with ErrPilotRequired, ErrInvalidPolicy, ErrInvalidCount,
// ErrInvalidOutcome, ErrInvalidGate) and changes nothing.
package pilot
