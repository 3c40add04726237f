// Package lwm2m is the LwM2M Firmware Update object (/5) state machine,
// its result codes, and a pure server-side observer of it, for the push
// family of fota.
//
// # Sources
//
// "The object" is the Firmware Update object of the OMA LwM2M registry
// (github.com/OpenMobileAlliance/lwm2m-registry, 5.xml, versions 1.0, 1.1
// and 1.2): its resource table, its Update Result table (with the state
// each result leaves) and its transitions, read with Figure 29 of the
// LwM2M 1.0.2 technical specification. Issues are cited by repository and
// number (OMA_LwM2M_for_Developers, Leshan, Zephyr, Anjay, nrf-sdk).
// "Cumulocity's LwM2M firmware-update flow" is SoftwareAG/c8y-docs,
// content/protocol-integration/lwm2m-bundle/firmware-update.md.
//
// # How the pieces fit
//
//   - state.go: State (resource /5/0/3: Idle 0, Downloading 1,
//     Downloaded 2, Updating 3) and Result (resource /5/0/5: 0..11 with
//     the registry's meanings), parsed from the numeric resource values.
//   - machine.go: the object's transitions T1..T10, declared once as
//     fsm.Events (Events) and compiled into Table; Step is the device's
//     view of one transition.
//   - tracker.go: the server's view. A Tracker holds what the server knows
//     of one device (the last observation, which commands the device
//     acknowledged). Observe takes one Read or Notify of /5/0/3 and /5/0/5
//     and returns an Outcome: in progress, succeeded, failed with the
//     device.Event the push-family device-in-campaign lifecycle should
//     apply (device.PushTable), or settled earlier. Sent records an
//     acknowledged command and Next says which command comes next.
//
// A host keeps one Tracker per device in a push campaign. It asks Next,
// sends the command over CoAP, and on 2.04 Changed calls Sent; it also
// Reads /5/0 and Observes /5/0/3 and /5/0/5 (Cumulocity's steps 2 and 3,
// re-initiated whenever the device registers, Leshan #848) and feeds every
// answer to Observe. When an Outcome carries an Event the host moves the
// device's campaign status with it (device.Next(device.FamilyPush, ...)).
// Nothing here does I/O, reads a clock or keeps state: timeouts and Read
// polling (needed because Observe is best effort, OMA #464) are the
// host's, driven by its own deadlines.
//
// # The machine and the sources' disagreements
//
//   - Result 8 from Updating (OMA #393; v1.0 "the state returns at
//     Downloaded", v1.1 "either Downloaded or Idle", Figure 29 both; Anjay
//     goes to Downloaded, Zephyr to Idle): two events,
//     updateFailedImageKept (T9, to Downloaded, Result 8) and
//     updateFailedImageLost (T10, to Idle, Result 5 or 8).
//   - Reset by an empty /5/0/1 or '\0' in /5/0/0 (OMA #219: Figure 29
//     draws it only from Downloaded, the object text resets the machine):
//     allowed from Idle, Downloading and Downloaded, refused in Updating.
//     Downloading because Zephyr cancels a download that way (PR #45864)
//     and Anjay accepts it there; Idle (a self-loop clearing the Result)
//     because Cumulocity resets before every update, in whatever state the
//     device is; Updating refuses it because Anjay answers 4.05 there.
//   - Cancel (v1.1, /5/0/10) only from Downloading and Downloaded: "once
//     updating has started the client MUST respond with Method Not
//     Allowed".
//   - Defer (T7) is a self-loop Downloaded --defer--> Downloaded with
//     Result 11. lifecycle.Compile accepts self-loops and
//     lifecycle.LooplabNext counts looplab's NoTransitionError as success,
//     so table and oracle agree (tested). The user's later acceptance is
//     its own event, acceptDeferred (Downloaded to Updating, without a new
//     Execute).
//   - A non-empty URI write outside Idle (Zephyr accepts it silently,
//     Anjay answers 4.00, Anjay's docs say such operations "SHOULD be
//     rejected") is refused: writePackage is only from Idle. Further
//     blocks of a push are not transitions.
//   - An immediately refused URI (Anjay: Result 9 and 4.00 without
//     entering Downloading; OMA #136 asks whether (Idle, 7) right away is
//     legal) needs no event: to the server it is T1 then T3 with the
//     Downloading notification lost. The device did receive the URI, so
//     the host calls Sent(CommandWritePackage) for a write answered 4.00
//     too; the (Idle, 9) that follows is then accepted as this attempt's
//     failure. Without that call the Tracker, still at (Idle, Initial),
//     refuses it.
//   - Result values 10 and 11 are v1.1; ParseResult accepts 0..11 for every
//     object version, since a v1.0 client simply never sends them.
//   - Resource 14 (v1.2, update without Execute) is not modelled: the
//     Tracker expects Updating only after an acknowledged Execute, so a
//     host must leave it false.
//
// # The observer
//
// An observation is a (State, Result) pair. The pairs the machine can
// hold are (Idle, Initial) and those some transition produces: Idle with
// 0..10, Downloading with 0, Downloaded with 0, 8 or 11, Updating with 0.
// Each event carries the results it leaves (Event.Results, from §1.2's
// "State afterwards" column). An observation is reachable from the last
// one when a path of transitions leads there (a path of length zero is a
// repeated notification) using only:
//
//   - transitions the device makes on its own: downloaded, downloadFailed,
//     acceptDeferred (only from Result 11), updated, updateFailedImageKept,
//     updateFailedImageLost;
//   - cancel, which only another server can have sent (Next never asks
//     for it);
//   - at most one update or defer, and only after an acknowledged Execute.
//
// The server's own writes (reset, writePackage) are not searched: Sent
// applies them when the device acknowledges them (T1's state "changes when
// the client receives a Package or a Package URI", OMA #163), so a stale
// notification arriving after the acknowledgement is refused rather than
// taken for a step back. So lost intermediate notifications are tolerated
// (Downloading, then Updating, with Downloaded missed) while jumps the
// machine cannot make are a *JumpError and leave the Tracker unchanged.
// Refused on purpose:
//
//   - Nordic's ordering (sdk-nrf PR #8834) can show (Downloading, 7) for a
//     moment; no transition produces it, so it is refused, and the
//     (Idle, 7) that follows is accepted.
//   - A device that loses its state in a reboot (Zephyr's "TODO: should be
//     restored from the permanent storage") reports (Idle, Initial) after
//     Updating. That is not a result, and it is refused: the host decides
//     (read again, or fail the device as it does for a silent one).
//
// The host's part: it passes a device's notifications to Observe in the
// order the device sent them and drops stale ones. CoAP notifications
// carry the Observe option's sequence number (RFC 7641 §3.4): a
// notification is newer than the last one accepted when its number is
// greater in 24-bit serial number arithmetic, or when it arrives more than
// 128 seconds after it; any other is dropped, as examples/lwm2m's server
// does (examples/lwm2m/server/observation.go). A Read's answer is always
// fresh: it is the device's value when it answered. A stale failure
// result, or a stale (Downloaded, Initial), delivered late could otherwise
// be taken for this attempt's.
//
// Verdicts. An observation decides the outcome once; later ones are
// Settled until a reset starts a new attempt.
//
//   - Succeeded: (Idle, Success) after this server's Execute took effect.
//     A (Idle, Success) left over from an earlier update is in progress
//     (Next asks for a reset).
//   - Failed: Idle with Result 2..10, or (Downloaded, 8), after this
//     attempt's package write (so stale results from before the reset
//     never count).
//   - Deferred (Downloaded, 11) is in progress: the device updates when its
//     user accepts or the Maximum Defer Period ends.
//
// Result to device-in-campaign event (Result.Event). The rule: a failure
// of the device or of its package is device.EventUpdateFailed ("Firmware
// update to device failed."); a failure of the server's request, which a
// retry with a corrected request may fix, is device.EventInternalError
// ("Internal System Error. Please retry upgrade."). No LwM2M result means a
// module mismatch.
//
//	Result                     Event
//	1  Success                 EventSucceeded
//	2  NotEnoughFlash          EventUpdateFailed
//	3  OutOfRAM                EventUpdateFailed
//	4  ConnectionLost          EventUpdateFailed   (the device's link)
//	5  IntegrityCheckFailure   EventUpdateFailed
//	6  UnsupportedPackageType  EventUpdateFailed
//	7  InvalidURI              EventInternalError  (the server wrote the URI)
//	8  UpdateFailed            EventUpdateFailed
//	9  UnsupportedProtocol     EventInternalError  (the server "MUST NOT include a URI … unsupported by the client")
//	10 Cancelled               EventInternalError  (another server cancelled; fota never does)
//	0, 11                      none (not final)
//
// Next follows Cumulocity's flow (Cumulocity's LwM2M firmware-update flow): reset, then (with the device
// seen Idle) write the package, then on (Downloaded, Initial) execute the
// update, then wait for the result, then done. While the device is
// Updating a reset would be refused, so Next waits. Resuming after the
// device was offline (step 7) is the host calling Next again with the
// stored Tracker.
//
// "Seen Idle" is an observation of (Idle, Initial) after the reset's
// acknowledgement: until one comes, Next says CommandWait (a host that
// hears nothing Reads /5/0). Notifications travel apart from the reset's
// 2.04, so one the device sent before the reset can arrive after it: a
// (Downloaded, Initial) left over from an earlier download of another
// image, say. Were the package written at once, the Tracker would be at
// (Downloading, Initial) when it arrives, from where it is reachable, and
// Next would ask to execute an image this attempt never wrote. The device
// cannot come back to (Idle, Initial) from another state on its own, so
// the observation the write waits for shows the reset done, and,
// notifications arriving in order (the host's part above), every later one
// was sent after it. Before it, any other observation is refused as
// unreachable from the (Idle, Initial) the reset left. A host that Reads
// instead of waiting for the notification the reset causes should do so
// when a notification sent before the reset can no longer arrive (RFC 7252
// §4.8.2: EXCHANGE_LIFETIME, 247 s by default); fota's Manager Reads after
// its Push.ObserveTimeout.
//
// Unlike Cumulocity, which resets unconditionally, Next skips the reset
// when the only thing the server knows is an observation of (Idle,
// Initial), the value an Observe or Read of a device at rest returns. The
// reset (Write "" to /5/0/1) returns the machine to (Idle, Initial) and
// clears the Update Result; from (Idle, Initial) it is a self-loop that
// changes nothing, and no transition but a reset leads into (Idle,
// Initial), so the observation shows a device either fresh or already
// reset. Skipping it weakens nothing the reset guards: a failure still
// counts only after this attempt's package write (Failed needs written),
// and a stale notification is refused before the write and judged after
// it exactly as it is after a reset, since an observed (Idle, Initial)
// leaves the same last observation as Sent(Reset) followed by the
// observation of (Idle, Initial) it waits for, and in both cases every
// later notification was sent after that observation. What no reset can
// prevent either way is another server writing between this server's look
// (or reset) and its own write.
//
// # Errors
//
// *RangeError (ErrOutOfRange) names /5/0/3 or /5/0/5 and the value;
// *NameError (ErrUnknownName) a state or result name that is not one;
// *JumpError (ErrUnreachable) the last and the refused observation; an
// illegal event or refused command is a *lifecycle.TransitionError
// (lifecycle.ErrInvalidTransition). A failed call changes nothing.
//
// # Diagram
//
// Drawn by lifecycle.Diagram from Events (a test keeps it in step):
//
//	stateDiagram-v2
//	    [*] --> Idle
//	    Downloaded --> Updating: acceptDeferred
//	    Downloaded --> Idle: cancel
//	    Downloaded --> Downloaded: defer
//	    Downloaded --> Idle: reset
//	    Downloaded --> Updating: update
//	    Downloading --> Idle: cancel
//	    Downloading --> Idle: downloadFailed
//	    Downloading --> Downloaded: downloaded
//	    Downloading --> Idle: reset
//	    Idle --> Idle: reset
//	    Idle --> Downloading: writePackage
//	    Updating --> Downloaded: updateFailedImageKept
//	    Updating --> Idle: updateFailedImageLost
//	    Updating --> Idle: updated
package lwm2m
