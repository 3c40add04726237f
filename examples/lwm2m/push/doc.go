// Package push drives LwM2M firmware updates through an LwM2M server: a
// Planner decides which command each device needs (fota's push API:
// Outbox, Confirm, Observation, Connected) and a Runner carries the
// commands out over examples/lwm2m/server, reporting back every answer,
// observation and registration.
//
// # How the pieces fit
//
//   - planner.go: the Planner interface and its values (Command, Receipt,
//     Result), mirroring the Manager's push API in fota's API notes, so
//     that the Manager can take the Plan's place without the host changing.
//   - plan.go: Plan, an in-memory Planner for one campaign, built on
//     device/lwm2m's Tracker and device's push lifecycle. It is this
//     example's stand-in until the Manager's outbox lands.
//   - runner.go: Runner, the host loop: Outbox, execute, Confirm; and the
//     server's OnObservation and OnRegistration hooks.
//
// # The flow, per device (Cumulocity's, as device/lwm2m's Tracker follows it)
//
// Observe /5/0/3 and /5/0/5 (again after every Register) -> Reset (write ""
// to /5/0/1) -> WritePackage (the device is then "Upgrade Pending") ->
// observations while it downloads -> Execute on (Downloaded, Initial) ->
// observations until (Idle, Success) or a failure result. A device waiting
// on itself and silent for Policy.ReadAfter is Read (/5/0): notifications
// are best effort (OMA LwM2M issue #464), and the Read recovers a lost
// outcome. An unanswered command is handed out again after RetryAfter, up
// to MaxAttempts in a row, then the device is Unreachable ("Device is not
// in an active state or is not connected.").
//
// # Choices
//
//   - An observation that arrives while a command to the same device is in
//     flight and that the Tracker cannot place yet (a client may notify
//     (Downloading) before its 2.04 to the URI write reaches the server) is
//     kept and replayed after that command's Confirm, instead of being lost.
//   - A command the device refuses (4.05 to an Execute, say) is followed by
//     a Read after RetryAfter, so the next command is chosen on fresh facts.
//   - Only Register events count as Connected: an Update keeps the
//     registration and its observations.
package push
