package omadm

import (
	"fmt"

	"github.com/looplab/fsm"

	"github.com/fotakit/fota/lifecycle"
)

// Event is a FUMO transition (FUMO's state diagram). Names starting "server" are the
// diagram's solid arrows, caused by the DM server (Exec on Download,
// Update or DownloadAndUpdate, or a Replace); names starting "client" are
// its dashed arrows, which the client takes on its own.
type Event uint8

// The events. The zero value is no event.
const (
	EventServerExecDownload          Event = iota + 1 // 10 → 30: Exec x/Download
	EventServerExecDownloadAndUpdate                  // 10 → 30: Exec x/DownloadAndUpdate
	EventServerReplacePkgData                         // 10 → 50: Replace x/Update/PkgData
	EventServerExecUpdate                             // 50 → 60: Exec x/Update
	EventClientDownloadFailed                         // 30 → 20: download fails
	EventClientDownloadComplete                       // 30 → 40: download complete
	EventClientReadyToUpdate                          // 40 → 50: "Download Complete for DL, DLU issued earlier"
	EventClientStartUpdate                            // 50 → 60: DLU continues "without further server intervention"
	EventClientReplace                                // 50 → 10: the diagram's dashed "Replace"
	EventClientUpdateFailed                           // 60 → 70: update fails
	EventClientUpdateSucceeded                        // 60 → 90: update succeeds
	EventClientCleanUp                                // 70 → 80, 90 → 100: the package is deleted
	EventClientBackToIdle                             // 20, 80, 90, 100 → 10

	numEvents
)

// EventList lists every event.
var EventList = func() []Event {
	es := make([]Event, 0, numEvents-1)
	for e := EventServerExecDownload; e < numEvents; e++ {
		es = append(es, e)
	}
	return es
}()

var eventNames = [numEvents]string{
	EventServerExecDownload:          "serverExecDownload",
	EventServerExecDownloadAndUpdate: "serverExecDownloadAndUpdate",
	EventServerReplacePkgData:        "serverReplacePkgData",
	EventServerExecUpdate:            "serverExecUpdate",
	EventClientDownloadFailed:        "clientDownloadFailed",
	EventClientDownloadComplete:      "clientDownloadComplete",
	EventClientReadyToUpdate:         "clientReadyToUpdate",
	EventClientStartUpdate:           "clientStartUpdate",
	EventClientReplace:               "clientReplace",
	EventClientUpdateFailed:          "clientUpdateFailed",
	EventClientUpdateSucceeded:       "clientUpdateSucceeded",
	EventClientCleanUp:               "clientCleanUp",
	EventClientBackToIdle:            "clientBackToIdle",
}

func (e Event) valid() bool { return e >= EventServerExecDownload && e < numEvents }

// String is the event's name in Events ("serverExecUpdate").
func (e Event) String() string {
	if !e.valid() {
		return fmt.Sprintf("Event(%d)", uint8(e))
	}
	return eventNames[e]
}

// ServerInitiated reports whether the DM server causes the event (a solid
// arrow of the spec's diagram).
func (e Event) ServerInitiated() bool {
	return e >= EventServerExecDownload && e <= EventServerExecUpdate
}

// Events declares the FUMO state machine once (FUMO's state diagram, from the
// diagram 10.2.jpeg of the FUMO transcription).
var Events = fsm.Events{
	{Name: "serverExecDownload", Src: []string{"Idle"}, Dst: "DownloadProgressing"},
	{Name: "serverExecDownloadAndUpdate", Src: []string{"Idle"}, Dst: "DownloadProgressing"},
	{Name: "serverReplacePkgData", Src: []string{"Idle"}, Dst: "ReadyToUpdate"},
	{Name: "clientDownloadFailed", Src: []string{"DownloadProgressing"}, Dst: "DownloadFailed"},
	{Name: "clientDownloadComplete", Src: []string{"DownloadProgressing"}, Dst: "DownloadComplete"},
	{Name: "clientReadyToUpdate", Src: []string{"DownloadComplete"}, Dst: "ReadyToUpdate"},
	{Name: "serverExecUpdate", Src: []string{"ReadyToUpdate"}, Dst: "UpdateProgressing"},
	{Name: "clientStartUpdate", Src: []string{"ReadyToUpdate"}, Dst: "UpdateProgressing"},
	{Name: "clientReplace", Src: []string{"ReadyToUpdate"}, Dst: "Idle"},
	{Name: "clientUpdateFailed", Src: []string{"UpdateProgressing"}, Dst: "UpdateFailedHaveData"},
	{Name: "clientUpdateSucceeded", Src: []string{"UpdateProgressing"}, Dst: "UpdateSuccessfulHaveData"},
	{Name: "clientCleanUp", Src: []string{"UpdateFailedHaveData"}, Dst: "UpdateFailedNoData"},
	{Name: "clientCleanUp", Src: []string{"UpdateSuccessfulHaveData"}, Dst: "UpdateSuccessfulNoData"},
	{Name: "clientBackToIdle", Src: []string{"DownloadFailed", "UpdateFailedNoData", "UpdateSuccessfulHaveData", "UpdateSuccessfulNoData"}, Dst: "Idle"},
}

// Table is Events compiled at init.
var Table = lifecycle.MustCompile("OMA-DM FUMO", Events, States, State.String, EventList, Event.String)

// Step is the device's view: the state event e leads to from state s. An
// illegal event is a *lifecycle.TransitionError (matching
// lifecycle.ErrInvalidTransition) and s is returned unchanged. It
// allocates nothing on success.
func Step(s State, e Event) (State, error) { return Table.Next(s, e) }
