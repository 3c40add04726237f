package device

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"

	"github.com/looplab/fsm"

	"github.com/fotakit/fota/lifecycle"
)

// State is where one device is in one campaign. Both families share the
// type; each family's table uses the states that apply to it. A state
// determines the device's Status and, except for StateRejected, its
// Reason.
type State uint8

// The states. The zero value is no state.
const (
	StateAccepted State = iota + 1 // passed the checks, waiting for the campaign
	StateRejected                  // failed a check (terminal; the caller keeps the reason)

	StateDownloading // HTTP: told at check-in to download
	StateDownloaded  // HTTP: reported the download complete
	StateInstalling  // HTTP: told at check-in to install
	StateNotified    // push: update pushed, waiting for the result

	StateSucceeded // the update is installed

	StateDownloadFailed // HTTP: RovaClientDownloadFailed
	StateInstallFailed  // HTTP: RovaClientDownloadedInstallFailed
	StateUnknownError   // HTTP: "Uknown device error."
	StateOther          // HTTP: "Other."
	StateNoReport       // HTTP: campaign ended before the device reported
	StateNotInstalled   // HTTP: campaign ended after download, before install

	StateUnreachable    // push: not active or not connected after the retry plan
	StateModuleMismatch // push: the device's module does not match
	StateUpdateFailed   // push: the device reported a failed update
	StateInternalError  // push: the server failed; the user may retry

	StateCancelled // the campaign was cancelled before the device started
	StateAborted   // HTTP: the campaign was aborted while the device was under way

	numStates
)

// States lists every state.
var States = func() []State {
	ss := make([]State, 0, numStates-1)
	for s := StateAccepted; s < numStates; s++ {
		ss = append(ss, s)
	}
	return ss
}()

// stateInfo is a state's name in the fsm.Events declarations and what it
// is reported as.
type stateInfo struct {
	name   string
	status Status
	reason Reason
}

var stateInfos = [numStates]stateInfo{
	StateAccepted:       {"Accepted", Accepted, ReasonCleared},
	StateRejected:       {"Rejected", Rejected, ReasonNone},
	StateDownloading:    {"Downloading", Pending, ReasonNone},
	StateDownloaded:     {"Downloaded", Pending, ReasonNone},
	StateInstalling:     {"Installing", Pending, ReasonNone},
	StateNotified:       {"Notified", Pending, ReasonNone},
	StateSucceeded:      {"Succeeded", Success, ReasonUpgraded},
	StateDownloadFailed: {"DownloadFailed", Failed, ReasonDownloadFailed},
	StateInstallFailed:  {"InstallFailed", Failed, ReasonInstallFailed},
	StateUnknownError:   {"UnknownError", Failed, ReasonUnknownError},
	StateOther:          {"Other", Failed, ReasonOther},
	StateNoReport:       {"NoReport", Failed, ReasonDidNotReport},
	StateNotInstalled:   {"NotInstalled", Failed, ReasonNotInstalledYet},
	StateUnreachable:    {"Unreachable", Failed, ReasonNotActive},
	StateModuleMismatch: {"ModuleMismatch", Failed, ReasonModuleMismatch},
	StateUpdateFailed:   {"UpdateFailed", Failed, ReasonUpdateFailed},
	StateInternalError:  {"InternalError", Failed, ReasonInternalRetry},
	StateCancelled:      {"Cancelled", Cancelled, ReasonCancelledByUser},
	StateAborted:        {"Aborted", Aborted, ReasonAbortedByUser},
}

func (s State) valid() bool { return s >= StateAccepted && s < numStates }

// String is the state's name in HTTPEvents and PushEvents ("Downloading").
func (s State) String() string {
	if !s.valid() {
		return fmt.Sprintf("State(%d)", uint8(s))
	}
	return stateInfos[s].name
}

// Status is the status a device in this state is reported with.
func (s State) Status() Status {
	if !s.valid() {
		return 0
	}
	return stateInfos[s].status
}

// Reason is the reason a device in this state is reported with: ReasonNone
// for pending states and for StateRejected, whose reason (from Check) the
// caller stores itself.
func (s State) Reason() Reason {
	if !s.valid() {
		return ReasonNone
	}
	return stateInfos[s].reason
}

// Terminal reports whether no event of either family leaves the state.
// It is derived from the tables, not listed by hand.
func (s State) Terminal() bool { return s >= 64 || terminalStates>>s&1 != 0 }

// terminalStates has bit s set when no event of either family leaves
// state s, read from the tables once: Terminal is asked several times a
// device operation. (States from 64 on are no state, terminal for the
// tables too.)
var terminalStates = func() (set uint64) {
	for s := range State(64) {
		if HTTPTable.Terminal(s) && PushTable.Terminal(s) {
			set |= 1 << s
		}
	}
	return set
}()

// ErrUnknownState is matched by errors parsing a device or licence state
// name that is not one.
var ErrUnknownState = errors.New("unknown state")

// StateError names the field and the value that is not a state.
type StateError struct {
	Field string // "state", "license"
	Value string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("fota: %s: unknown state %q", e.Field, e.Value)
}

// Is reports whether target is ErrUnknownState.
func (e *StateError) Is(target error) bool {
	return target == ErrUnknownState || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *StateError) FieldValue() (field, value string) { return e.Field, e.Value }

// MarshalText writes the state's name; the zero State is an error.
func (s State) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, &StateError{Field: "state", Value: s.String()}
	}
	return []byte(s.String()), nil
}

// UnmarshalText accepts a state's name. On error s is unchanged.
func (s *State) UnmarshalText(b []byte) error {
	for t := StateAccepted; t < numStates; t++ {
		if stateInfos[t].name == string(b) {
			*s = t
			return nil
		}
	}
	return &StateError{Field: "state", Value: string(b)}
}

// Event is something that happens to a device in a campaign: a report from
// the device, a decision of the server, or the campaign's end.
type Event uint8

// The events. The zero value is no event.
const (
	EventDownload       Event = iota + 1 // HTTP: the server told the device at check-in to download
	EventDownloaded                      // HTTP: the device reported the download complete
	EventDownloadFailed                  // HTTP: the device reported a failed download
	EventInstall                         // HTTP: the server told the device at check-in to install
	EventInstalled                       // HTTP: the device reported the install complete
	EventInstallFailed                   // HTTP: the device reported a failed install
	EventUnknownError                    // HTTP: the device reported an unknown error
	EventOther                           // HTTP: the device reported another failure
	EventNotify                          // push: the server pushed the update
	EventSucceeded                       // push: the device reported success
	EventUnreachable                     // push: the retry plan ran out without an answer
	EventModuleMismatch                  // push: the device's module does not match
	EventUpdateFailed                    // push: the device reported a failed update
	EventInternalError                   // push: the server failed
	EventCampaignEnd                     // the campaign's end date passed
	EventCancel                          // the user cancelled the campaign before its start
	EventAbort                           // HTTP: the user aborted the campaign after its start

	numEvents
)

// Events lists every device event.
var Events = func() []Event {
	es := make([]Event, 0, numEvents-1)
	for e := EventDownload; e < numEvents; e++ {
		es = append(es, e)
	}
	return es
}()

var eventNames = [numEvents]string{
	EventDownload:       "download",
	EventDownloaded:     "downloaded",
	EventDownloadFailed: "downloadFailed",
	EventInstall:        "install",
	EventInstalled:      "installed",
	EventInstallFailed:  "installFailed",
	EventUnknownError:   "unknownError",
	EventOther:          "other",
	EventNotify:         "notify",
	EventSucceeded:      "succeeded",
	EventUnreachable:    "unreachable",
	EventModuleMismatch: "moduleMismatch",
	EventUpdateFailed:   "updateFailed",
	EventInternalError:  "internalError",
	EventCampaignEnd:    "campaignEnd",
	EventCancel:         "cancel",
	EventAbort:          "abort",
}

func (e Event) valid() bool { return e >= EventDownload && e < numEvents }

// String is the event's name in HTTPEvents and PushEvents ("downloaded").
func (e Event) String() string {
	if !e.valid() {
		return fmt.Sprintf("Event(%d)", uint8(e))
	}
	return eventNames[e]
}

// ErrUnknownEvent is matched by errors parsing an event name that is not
// one.
var ErrUnknownEvent = errors.New("unknown event")

// EventError names the field and the value that is not an event.
type EventError struct {
	Field string
	Value string
}

func (e *EventError) Error() string {
	return fmt.Sprintf("fota: %s: unknown event %q", e.Field, e.Value)
}

// Is reports whether target is ErrUnknownEvent.
func (e *EventError) Is(target error) bool {
	return target == ErrUnknownEvent || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *EventError) FieldValue() (field, value string) { return e.Field, e.Value }

// MarshalText writes the event's name; the zero Event is an error.
func (e Event) MarshalText() ([]byte, error) {
	if !e.valid() {
		return nil, &EventError{Field: "event", Value: e.String()}
	}
	return []byte(e.String()), nil
}

// UnmarshalText accepts an event's name. On error e is unchanged.
func (e *Event) UnmarshalText(b []byte) error {
	for t := EventDownload; t < numEvents; t++ {
		if eventNames[t] == string(b) {
			*e = t
			return nil
		}
	}
	return &EventError{Field: "event", Value: string(b)}
}

// HTTPEvents declares the lifecycle of an HTTP device in a campaign. The
// device checks in; the server answers with what to do (download,
// install), and the device reports back. A device with no install window
// installs straight after the download, so "installed" and
// "installFailed" are accepted from Downloading and Downloaded too.
var HTTPEvents = fsm.Events{
	{Name: "download", Src: []string{"Accepted"}, Dst: "Downloading"},
	{Name: "downloaded", Src: []string{"Downloading"}, Dst: "Downloaded"},
	{Name: "downloadFailed", Src: []string{"Downloading"}, Dst: "DownloadFailed"},
	{Name: "install", Src: []string{"Downloaded"}, Dst: "Installing"},
	{Name: "installed", Src: []string{"Downloading", "Downloaded", "Installing"}, Dst: "Succeeded"},
	{Name: "installFailed", Src: []string{"Downloading", "Downloaded", "Installing"}, Dst: "InstallFailed"},
	{Name: "unknownError", Src: []string{"Downloading", "Downloaded", "Installing"}, Dst: "UnknownError"},
	{Name: "other", Src: []string{"Downloading", "Downloaded", "Installing"}, Dst: "Other"},
	// RovaClientDidNotReportStatus vs RovaClientDownloadNotInstalledYet.
	{Name: "campaignEnd", Src: []string{"Accepted", "Downloading"}, Dst: "NoReport"},
	{Name: "campaignEnd", Src: []string{"Downloaded", "Installing"}, Dst: "NotInstalled"},
	// Cancel is before the start date, so no device has started yet.
	{Name: "cancel", Src: []string{"Accepted"}, Dst: "Cancelled"},
	// Abort is after the start; devices already upgraded stay upgraded.
	{Name: "abort", Src: []string{"Accepted", "Downloading", "Downloaded", "Installing"}, Dst: "Aborted"},
}

// PushEvents declares the lifecycle of an LwM2M or OMA-DM device in a
// campaign. The server pushes the update; the device's own state machine
// (Object 5 or FUMO) runs below Notified and ends in one report. A device
// that never answers fails as Unreachable once the retry plan (package
// schedule) or the campaign runs out; push campaigns have no abort.
var PushEvents = fsm.Events{
	{Name: "notify", Src: []string{"Accepted"}, Dst: "Notified"},
	{Name: "unreachable", Src: []string{"Accepted", "Notified"}, Dst: "Unreachable"},
	{Name: "succeeded", Src: []string{"Notified"}, Dst: "Succeeded"},
	{Name: "updateFailed", Src: []string{"Notified"}, Dst: "UpdateFailed"},
	{Name: "moduleMismatch", Src: []string{"Notified"}, Dst: "ModuleMismatch"},
	{Name: "internalError", Src: []string{"Accepted", "Notified"}, Dst: "InternalError"},
	{Name: "cancel", Src: []string{"Accepted"}, Dst: "Cancelled"},
	{Name: "campaignEnd", Src: []string{"Accepted", "Notified"}, Dst: "Unreachable"},
}

// The compiled device lifecycles, built once at package init.
var (
	HTTPTable = lifecycle.MustCompile("device (HTTP)", HTTPEvents, States, State.String, Events, Event.String)
	PushTable = lifecycle.MustCompile("device (push)", PushEvents, States, State.String, Events, Event.String)
)

// Table returns family f's compiled device lifecycle, or nil for an
// unknown family.
func Table(f Family) *lifecycle.Table[State, Event] {
	switch f {
	case FamilyHTTP:
		return HTTPTable
	case FamilyPush:
		return PushTable
	}
	return nil
}

// Next returns the state event e leads to from state s in family f's
// lifecycle. An illegal event is a *lifecycle.TransitionError (matching
// lifecycle.ErrInvalidTransition), an unknown family a *ProtocolError;
// either way s is returned unchanged. It allocates nothing on success.
func Next(f Family, s State, e Event) (State, error) {
	t := Table(f)
	if t == nil {
		return s, &ProtocolError{Field: "family", Value: f.String()}
	}
	return t.Next(s, e)
}

// leadsTo[f][e] has bit s set when some transition of event e in family f
// ends in state s. Derived from the tables at init.
var leadsTo = func() (m [FamilyHTTP + 1][numEvents]uint32) {
	for _, f := range Families {
		t := Table(f)
		for _, src := range States {
			for _, e := range Events {
				if dst, ok := t.Lookup(src, e); ok {
					m[f][e] |= 1 << dst
				}
			}
		}
	}
	return m
}()

// DuplicateOf reports whether event e, refused in state s, is a repeat:
// e is not allowed in s, but s is a state e leads to. A host uses it to
// acknowledge a device that reports "installed" twice instead of treating
// the second report as an error.
func DuplicateOf(f Family, s State, e Event) bool {
	t := Table(f)
	if t == nil || !s.valid() || !e.valid() || t.Can(s, e) {
		return false
	}
	return leadsTo[f][e]&(1<<s) != 0
}
