// Package omadm is the OMA-DM FUMO (urn:oma:mo:oma-fumo:1.0) firmware
// update state machine, its result codes, and what a FUMO Generic Alert
// means for a device in a push campaign.
//
// # Sources
//
// "FUMO" is OMA Firmware Update Management Object 1.0
// (OMA-TS-DM-FUMO-V1_0), read through a transcription of it
// (github.com/MarcoRosso/OMA-DM.Documents): its State values, its state
// diagram (figure 10.2), its Exec and Generic Alert rules and its result
// codes; with the constants of a FUMO client
// (github.com/OBIGOGIT/KGM_FOTA_DMClient) and Microsoft's "OTA Firmware
// Update Result Codes" (learn.microsoft.com/en-us/previous-versions/bb737591).
//
// # How the pieces fit
//
//   - state.go: State, the x/State node (10 Idle/Start … 100 Update
//     Successful / No Data), with the spec's labels and descriptions.
//   - machine.go: the transitions of FUMO's state diagram, declared once as
//     fsm.Events (Events) and compiled into Table; Step is the device's
//     view. Event names say who causes the transition: "server…" for the
//     diagram's solid arrows (Exec on DL, UP or DLU, or Replace),
//     "client…" for its dashed ones.
//   - result.go: ResultCode, the §2.4 table with the vendor ranges, and
//     the device-in-campaign event each code means.
//   - alert.go: Alert, the Generic Alert (1226) that reports an outcome;
//     ParseAlert and Validate check it, Outcome turns it into the
//     device.Event the push-family lifecycle (device.PushTable) applies,
//     and ExecAccepted reads the status of the Exec that started it.
//
// A host Execs Download, Update or DownloadAndUpdate; ExecAccepted(status)
// says whether the client took it (202). Later the client sends a Generic
// Alert; the host parses it with ParseAlert and calls Outcome. A final
// outcome carries the event that moves the device's campaign status
// (device.Next(device.FamilyPush, device.StateNotified, event)). A
// successful download alone is not final: the host Execs Update next.
// Nothing here keeps state, does I/O or reads a clock.
//
// # Choices where the sources are silent or disagree
//
// States:
//   - x/State is an Int in the MO; State is a uint8 because
//     lifecycle.Compile indexes its table by state value, and 10..100 fit.
//   - The spec's "terminating states" (20, 70, 80, 90, 100) are not
//     terminal in the table: the client cleans up and returns to Idle.
//     State.Terminating reports the spec's set.
//   - DLU passes 40 → 50 → 60 with no server Exec: clientReadyToUpdate
//     then clientStartUpdate ("without further server intervention").
//     serverExecUpdate and clientStartUpdate both go 50 → 60; the table
//     does not know which Exec (DL or DLU) started the download, so it
//     allows both. The host knows what it sent.
//   - The dashed 50 → 10 arrow is labelled only "Replace" in the diagram;
//     it is clientReplace, the client dropping its package.
//   - "Clean up" has two arrows from 90 (to 100, and back to Idle), so it
//     is two events: clientCleanUp (70 → 80, 90 → 100, the package
//     deleted) and clientBackToIdle (20, 80, 90, 100 → 10). There is no
//     70 → 10; the diagram goes through 80.
//   - KGM sets 100 (result "200") or 80 (result "410") straight after a
//     reboot from 60. That is no extra transition: the client passed
//     through 90 or 70 while it was down.
//
// Result codes:
//   - Sources disagree on 412 and 500: the FUMO transcription omits 412
//     and labels 500 "Firmware Update Failed"; KGM
//     (DL_GENERIC_SERVER_UNAVAILABLE, DL_GENERIC_SERVER_ERROR) and
//     Microsoft's "OTA Firmware Update Result Codes" give 412 "Alternate
//     Download Server Unavailable" and 500 "Alternate Download Server
//     Error". fota follows KGM and Microsoft (two sources, and 410 is
//     already "Firmware Update Failed").
//   - Valid codes are the named ones and the vendor ranges 250–299,
//     450–499, 550–599. Other codes, 201–249 included (the transcription
//     says "2xx … successful" but its table has only 200 and 250–299), are
//     a *ResultCodeError. On the wire a code is exactly three ASCII digits.
//
// Outcome (code to device-in-campaign event, ResultCode.Event). The rule
// is the one package lwm2m uses: a failure of the device or of its
// package is device.EventUpdateFailed ("Firmware update to device
// failed."); a failure of the server's request or of the download server
// it named, which a corrected retry may fix, is device.EventInternalError
// ("Internal System Error. Please retry upgrade."); a package built for
// another device is device.EventModuleMismatch ("Current device module
// does not meet firmware prerequisites.").
//
//	Code      Meaning                                     Event
//	200       Successful                                  EventSucceeded (none, not final, for a download alert)
//	250–299   Successful – Vendor Specified               EventSucceeded (likewise)
//	400       Management Client Error                     EventUpdateFailed
//	401       User Cancelled                              EventUpdateFailed   (the device's user refused)
//	402       Corrupted Firmware Update Package           EventUpdateFailed
//	403       Package – Device Mismatch                   EventModuleMismatch
//	404       Failed Package Validation                   EventUpdateFailed
//	405       Package Not Acceptable                      EventUpdateFailed
//	406       Alternate Download Authentication Failure   EventInternalError  (the server's download credentials)
//	407       Alternate Download Request Time-Out         EventInternalError  (the download server)
//	408       Not Implemented                             EventUpdateFailed   (the client lacks it)
//	409       Undefined Error                             EventUpdateFailed   (reported by the device)
//	410       Firmware Update Failed                      EventUpdateFailed
//	411       Malformed or Bad URL                        EventInternalError  (the server gave the URL)
//	412       Alternate Download Server Unavailable       EventInternalError
//	450–499   Client Error – Vendor Specified             EventUpdateFailed
//	500       Alternate Download Server Error             EventInternalError
//	501       Download fails: device out of memory        EventUpdateFailed
//	502       Update fails: device out of memory          EventUpdateFailed
//	503       Download fails: network issues              EventUpdateFailed   (the device's link, as LwM2M's ConnectionLost)
//	550–599   Alternate Download Server Error – Vendor    EventInternalError
//
// Every failure is final, for every alert type: after the alert the device
// "MUST NOT retry the operation … without further server intervention".
//
// Alerts: the code must be 1226 and the type one of the three
// org.openmobilealliance.dm.firmwareupdate types, spelt exactly. Source
// must be non-empty; the sources do not say which node it names, so it is
// not checked against the type. The Correlator may be empty; comparing it
// with the one the server sent is the host's job. The severity in Mark
// ("errors SHOULD report a severity other than Informational") is not
// modelled: it is advice to clients, and the result code decides.
//
// Exec: only 202 means accepted for later processing. A 200 on an Exec
// of a FUMO operation is not an acceptance: a firmware update cannot have
// finished by the time the Exec is answered.
//
// # Errors
//
// *StateError (ErrUnknownState) names x/State or "state" and the value;
// *ResultCodeError (ErrUnknownResultCode) the Data and the value;
// *AlertError (ErrInvalidAlert) the alert field and the value, wrapping
// the *ResultCodeError for a bad Data. An illegal event is a
// *lifecycle.TransitionError (lifecycle.ErrInvalidTransition). A failed
// call changes nothing.
//
// # Diagram
//
// Drawn by lifecycle.Diagram from Events (a test keeps it in step):
//
//	stateDiagram-v2
//	    [*] --> Idle
//	    DownloadComplete --> ReadyToUpdate: clientReadyToUpdate
//	    DownloadFailed --> Idle: clientBackToIdle
//	    DownloadProgressing --> DownloadComplete: clientDownloadComplete
//	    DownloadProgressing --> DownloadFailed: clientDownloadFailed
//	    Idle --> DownloadProgressing: serverExecDownload
//	    Idle --> DownloadProgressing: serverExecDownloadAndUpdate
//	    Idle --> ReadyToUpdate: serverReplacePkgData
//	    ReadyToUpdate --> Idle: clientReplace
//	    ReadyToUpdate --> UpdateProgressing: clientStartUpdate
//	    ReadyToUpdate --> UpdateProgressing: serverExecUpdate
//	    UpdateFailedHaveData --> UpdateFailedNoData: clientCleanUp
//	    UpdateFailedNoData --> Idle: clientBackToIdle
//	    UpdateProgressing --> UpdateFailedHaveData: clientUpdateFailed
//	    UpdateProgressing --> UpdateSuccessfulHaveData: clientUpdateSucceeded
//	    UpdateSuccessfulHaveData --> Idle: clientBackToIdle
//	    UpdateSuccessfulHaveData --> UpdateSuccessfulNoData: clientCleanUp
//	    UpdateSuccessfulNoData --> Idle: clientBackToIdle
package omadm
