package lwm2m

import (
	"fmt"

	"github.com/looplab/fsm"

	"github.com/fotakit/fota/lifecycle"
)

// Event is a transition of the Firmware Update state machine (the object's transitions,
// T1..T10), seen from the device.
type Event uint8

// The events. The zero value is no event.
const (
	EventWritePackage          Event = iota + 1 // T1: Write /5/0/0 (first block) or a non-empty /5/0/1
	EventDownloaded                             // T2: last block written, or pull download finished and verified
	EventDownloadFailed                         // T3: download or verification error (Result 2–7, 9)
	EventReset                                  // T4: Write "" to /5/0/1 or '\0' to /5/0/0
	EventCancel                                 // T5: Execute /5/0/10 Cancel (v1.1)
	EventUpdate                                 // T6: Execute /5/0/2 Update
	EventDefer                                  // T7: Execute Update, the user defers (v1.1)
	EventAcceptDeferred                         // T7: the user accepts a deferred update
	EventUpdated                                // T8: update succeeded (Result 1)
	EventUpdateFailedImageKept                  // T9: update failed, image still usable (Result 8)
	EventUpdateFailedImageLost                  // T10: update failed, image unusable (Result 5 or 8)

	numEvents
)

// EventList lists every event.
var EventList = func() []Event {
	es := make([]Event, 0, numEvents-1)
	for e := EventWritePackage; e < numEvents; e++ {
		es = append(es, e)
	}
	return es
}()

// eventInfo is an event's name, the Update Result values the device holds
// after it (the object's Update Result table and transitions), and who causes it.
type eventInfo struct {
	name    string
	results []Result
	by      initiator
}

// initiator says who causes an event, which the Tracker needs to decide
// what may have happened between two observations.
type initiator uint8

const (
	byDevice  initiator = iota // the device, on its own (or another server's Cancel)
	byServer                   // a write this server sends and sees acknowledged (Tracker.Sent)
	byExecute                  // the device's answer to this server's Execute /5/0/2
)

var eventInfos = [numEvents]eventInfo{
	EventWritePackage:          {"writePackage", []Result{Initial}, byServer},
	EventDownloaded:            {"downloaded", []Result{Initial}, byDevice},
	EventDownloadFailed:        {"downloadFailed", []Result{NotEnoughFlash, OutOfRAM, ConnectionLost, IntegrityCheckFailure, UnsupportedPackageType, InvalidURI, UnsupportedProtocol}, byDevice},
	EventReset:                 {"reset", []Result{Initial}, byServer},
	EventCancel:                {"cancel", []Result{Cancelled}, byDevice},
	EventUpdate:                {"update", []Result{Initial}, byExecute},
	EventDefer:                 {"defer", []Result{Deferred}, byExecute},
	EventAcceptDeferred:        {"acceptDeferred", []Result{Initial}, byDevice},
	EventUpdated:               {"updated", []Result{Success}, byDevice},
	EventUpdateFailedImageKept: {"updateFailedImageKept", []Result{UpdateFailed}, byDevice},
	EventUpdateFailedImageLost: {"updateFailedImageLost", []Result{IntegrityCheckFailure, UpdateFailed}, byDevice},
}

func (e Event) valid() bool { return e >= EventWritePackage && e < numEvents }

// String is the event's name in Events ("updateFailedImageKept").
func (e Event) String() string {
	if !e.valid() {
		return fmt.Sprintf("Event(%d)", uint8(e))
	}
	return eventInfos[e].name
}

// Results lists the Update Result values a device may hold right after the
// event (a fresh slice; nil for no event).
func (e Event) Results() []Result {
	if !e.valid() {
		return nil
	}
	return append([]Result(nil), eventInfos[e].results...)
}

// Events declares the Firmware Update state machine once (the object's transitions, with
// the choices recorded in the package doc).
var Events = fsm.Events{
	{Name: "writePackage", Src: []string{"Idle"}, Dst: "Downloading"},
	{Name: "downloaded", Src: []string{"Downloading"}, Dst: "Downloaded"},
	{Name: "downloadFailed", Src: []string{"Downloading"}, Dst: "Idle"},
	// OMA #219: Figure 29 draws the reset only from Downloaded; the object
	// text resets "the Firmware Update State Machine" from anywhere. Idle
	// and Downloading accept it too (Cumulocity resets before every update;
	// Zephyr PR #45864 cancels a download this way); Updating refuses it
	// (Anjay answers 4.05).
	{Name: "reset", Src: []string{"Idle", "Downloading", "Downloaded"}, Dst: "Idle"},
	{Name: "cancel", Src: []string{"Downloading", "Downloaded"}, Dst: "Idle"},
	{Name: "update", Src: []string{"Downloaded"}, Dst: "Updating"},
	{Name: "defer", Src: []string{"Downloaded"}, Dst: "Downloaded"},
	{Name: "acceptDeferred", Src: []string{"Downloaded"}, Dst: "Updating"},
	{Name: "updated", Src: []string{"Updating"}, Dst: "Idle"},
	// OMA #393: Result 8 may leave the image usable or not; two events.
	{Name: "updateFailedImageKept", Src: []string{"Updating"}, Dst: "Downloaded"},
	{Name: "updateFailedImageLost", Src: []string{"Updating"}, Dst: "Idle"},
}

// Table is Events compiled at init.
var Table = lifecycle.MustCompile("LwM2M firmware update", Events, States, State.String, EventList, Event.String)

// Step is the device's view: the state event e leads to from state s. An
// illegal event is a *lifecycle.TransitionError (matching
// lifecycle.ErrInvalidTransition) and s is returned unchanged. It
// allocates nothing on success.
func Step(s State, e Event) (State, error) { return Table.Next(s, e) }
