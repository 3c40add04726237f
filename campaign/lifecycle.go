package campaign

import (
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/lifecycle"
	"github.com/looplab/fsm"
)

// PushEvents declares the push-family campaign lifecycle (OMA-DM and
// LWM2M, /v1), as ThingSpace's /v1 lifecycle page describes it. State names are Status.Name values.
var PushEvents = fsm.Events{
	{Name: "accept", Src: []string{"RequestPending"}, Dst: "Queued"},
	{Name: "reject", Src: []string{"RequestPending"}, Dst: "RequestFailed"},
	{Name: "start", Src: []string{"Queued"}, Dst: "InProgress"},
	{Name: "fail", Src: []string{"Queued"}, Dst: "UpgradeFailed"},
	{Name: "cancel", Src: []string{"RequestPending", "Queued"}, Dst: "Cancelled"},
	{Name: "removeLast", Src: []string{"Queued"}, Dst: "Cancelled"},
	{Name: "end", Src: []string{"InProgress"}, Dst: "Finished"},
}

// HTTPEvents declares the HTTP-family campaign lifecycle (/v2), exactly as
// ThingSpace's /v2 lifecycle page describes it: cancel only from Queued.
var HTTPEvents = fsm.Events{
	{Name: "accept", Src: []string{"RequestPending"}, Dst: "Queued"},
	{Name: "acceptOnDemand", Src: []string{"RequestPending"}, Dst: "Scheduled"},
	{Name: "reject", Src: []string{"RequestPending"}, Dst: "RequestFailed"},
	{Name: "start", Src: []string{"Queued"}, Dst: "Scheduled"},
	{Name: "cancel", Src: []string{"Queued"}, Dst: "Cancelled"},
	{Name: "begin", Src: []string{"Scheduled"}, Dst: "InProgress"},
	{Name: "abort", Src: []string{"Scheduled", "InProgress"}, Dst: "Aborted"},
	{Name: "end", Src: []string{"Scheduled", "InProgress"}, Dst: "Ended"},
	{Name: "fail", Src: []string{"RequestPending", "Queued"}, Dst: "Failed"},
}

// The compiled tables. Each knows only its own family's statuses; every
// event is listed in both, so an event foreign to a family (abort in push)
// is refused like any other illegal event.
var (
	PushTable = lifecycle.MustCompile("campaign (push)", PushEvents,
		familyStatuses(device.FamilyPush), Status.Name, Events, Event.String)
	HTTPTable = lifecycle.MustCompile("campaign (HTTP)", HTTPEvents,
		familyStatuses(device.FamilyHTTP), Status.Name, Events, Event.String)
)

// ErrInvalidTransition is lifecycle.ErrInvalidTransition, re-exported so
// callers of this package need not import lifecycle to match it.
var ErrInvalidTransition = lifecycle.ErrInvalidTransition

func familyStatuses(f device.Family) []Status {
	var out []Status
	for _, s := range Statuses {
		if s.Family() == f {
			out = append(out, s)
		}
	}
	return out
}

// Table is family f's compiled campaign lifecycle, or nil for an unknown
// family.
func Table(f device.Family) *lifecycle.Table[Status, Event] {
	switch f {
	case device.FamilyPush:
		return PushTable
	case device.FamilyHTTP:
		return HTTPTable
	}
	return nil
}

// Next is the status event e leads to from status s, in s's family. An
// illegal event, or a value of s that is not a status, returns s unchanged
// and a *lifecycle.TransitionError matching ErrInvalidTransition. It
// allocates nothing on success.
func Next(s Status, e Event) (Status, error) {
	t := Table(s.Family())
	if t == nil {
		return s, &lifecycle.TransitionError{Lifecycle: "campaign", State: s.String(), Event: e.String()}
	}
	return t.Next(s, e)
}

// Can reports whether event e is allowed in status s.
func Can(s Status, e Event) bool {
	t := Table(s.Family())
	return t != nil && t.Can(s, e)
}

// Diagram draws family f's campaign lifecycle as a Mermaid state diagram,
// from the same declaration as the table. An unknown family is a
// *device.ProtocolError matching device.ErrUnknownProtocol.
func Diagram(f device.Family) (string, error) {
	switch f {
	case device.FamilyPush:
		return lifecycle.Diagram(PushEvents, PushRequestPending.Name())
	case device.FamilyHTTP:
		return lifecycle.Diagram(HTTPEvents, HTTPRequestPending.Name())
	}
	return "", &device.ProtocolError{Field: "family", Value: f.String()}
}
