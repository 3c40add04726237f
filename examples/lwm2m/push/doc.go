// Package push carries a fota Manager's push commands to LwM2M devices over
// examples/lwm2m's server, and reports back to the Manager every answer,
// observation and registration: the host side of fota's push API (the
// repository's push.go: Outbox, Confirm, Observation, Connected, Due).
//
// # How the pieces fit
//
//   - runner.go: Runner. Serve takes due commands from Manager.Outbox, never
//     more than it has free workers (so no lease waits in a queue), and
//     sleeps until the next one falls due on the Manager's clock, waking on
//     Manager.Due, on a registration, or after Config.Poll. Each command is
//     carried out over CoAP and confirmed with its Receipt; the
//     PushResult.Next that Confirm returns, already leased, follows at once
//     in the same worker. HandleObservation and HandleRegistration are the
//     server's hooks: they report Observation and Connected, and carry out
//     the command that follows.
//   - known.go: Known, the server's Config.Known over the Manager's
//     inventory: an endpoint "urn:imei:<IMEI>" is ours when the inventory
//     knows that IMEI as an LwM2M device.
//   - Record and Stats say what a Runner did (Config.OnCommand hands each
//     Record over); CheckExchanges checks the records of one or more
//     Runners sharing a store for the lease discipline: each lease handed
//     out once, and never two exchanges with one device under way at once.
//   - errors.go: ArgError and ErrBadConfig for a Config New refuses.
//
// # Commands over CoAP
//
//	observe       Observe /5/0/5 and /5/0/3 (their first answers are the current value, an observation)
//	read          Read /5/0 (resource by resource for clients that refuse it); the pair is an observation
//	reset         Write "" to /5/0/1
//	writePackage  Write Command.PackageURI to /5/0/1
//	execute       Execute /5/0/2
//
// The Receipt is the CoAP code as a number (2.04 is 204). A device this
// replica cannot reach (no registration here or in the shared Directory,
// no /5/0 announced) or that does not answer within the server's
// AnswerTimeout did not answer: Delivered false, and the Manager tries
// again at the next 04:00 UTC.
//
// # Order of what a device says
//
// The Manager judges each observation against what it knows of the
// device's Object 5 machine, so the order in which a device's answers reach
// it matters. The Runner keeps one order per device: a command's Receipt is
// confirmed before anything the device notified while the command was
// under way (the Runner holds the device from the send to the
// confirmation, and observations and registrations wait for it), and those
// notifications are reported before the next command of a chain goes out
// (server.Flush). Three orders the Manager would otherwise take badly:
//
//   - The Observe's first answers (the current value) held back: the
//     Manager waits for them to decide whether the device needs a reset
//     before the package write (none when it is at rest in (Idle,
//     Initial)), and goes on without them only after its ObserveTimeout.
//   - The observation a Read returns reported before the Read's
//     confirmation: the observation makes the Execute due, the Read's
//     confirmation then plans the next look at ObserveTimeout, and the
//     Execute waits that long.
//   - The (Idle, Initial) a reset makes the device notify reported before
//     the reset's confirmation: the Manager writes the package only after
//     an observation of (Idle, Initial) that follows the reset's
//     acknowledgement (so that a notification sent before the reset is
//     never taken for the device's answer to the write), and would wait
//     for a Read after ObserveTimeout.
//
// A Register or an Update is reported only when no command of this Runner
// to the device is under way: Connected on a device whose command is leased
// re-observes it only after that lease's confirmation and the
// ObserveTimeout that follows it.
//
// # Choices
//
//   - Every Register and every Update is reported as Connected, as fota's
//     push API asks ("a registration or update: push now, re-observe"): an
//     Update may come from a new address (NAT rebinding; lwm2m-node-lib
//     sends each request from a new port), where the old observations no
//     longer deliver, and a device that answered nothing may be back.
//     De-registrations and expiries are not reported: the Manager learns
//     that a device is gone from the commands it does not answer.
//   - A command the Runner cannot send at all (a write without a package
//     URI, a URI the server refuses) is not confirmed: a wrong answer would
//     count against the device, while its lease running out hands it out
//     again once the host is fixed. Stats counts them. A command of another
//     protocol (an OMA-DM device in a mixed /v1 campaign) goes to
//     Config.Other, or without it is confirmed as not delivered: the
//     Manager's outbox serves every protocol, and this host cannot reach
//     that device (it then waits until it connects, and fails at the
//     campaign's end).
//   - A command the device refuses (4.xx to a reset, a package write or an
//     Execute) is followed, within its lease, by a Read of /5/0 whose
//     observation reaches the Manager before the refusal is confirmed: the
//     device is not where the Manager thought (it updated while its
//     notifications went to a replica that stopped, say), and the Manager
//     would otherwise hand the same command out again at once. A device
//     that refuses a command kind is not sent it again within
//     Config.RefusalPause.
//   - Stopping (the end of Serve's context) abandons the commands under
//     way unconfirmed, as a crash would: their leases run out and the
//     outbox hands them out again, to another replica or to this one
//     restarted. An exchange the stop cut short is no unanswered attempt of
//     the device.
package push
