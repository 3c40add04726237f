package campaign

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"
)

// Event is something that happens to a campaign. Which events a status
// allows is the family's table (lifecycle.go). The zero value is no event.
type Event uint8

// The events of both campaign lifecycles.
const (
	Accept         Event = iota + 1 // parameter checks passed
	AcceptOnDemand                  // HTTP: checks passed for an on-demand campaign, which bypasses Queued
	Reject                          // parameter checks failed
	Start                           // the start time is reached
	Begin                           // HTTP: the first device starts its update
	Fail                            // the server could not schedule or run the campaign
	Cancel                          // the user cancels before the start
	RemoveLast                      // push: the last device is removed from a queued campaign
	End                             // the end date is reached (HTTP: or every device upgraded)
	Abort                           // HTTP: the user stops the campaign between start and end
)

// Events lists every event.
var Events = []Event{Accept, AcceptOnDemand, Reject, Start, Begin, Fail, Cancel, RemoveLast, End, Abort}

var eventNames = [...]string{
	Accept:         "accept",
	AcceptOnDemand: "acceptOnDemand",
	Reject:         "reject",
	Start:          "start",
	Begin:          "begin",
	Fail:           "fail",
	Cancel:         "cancel",
	RemoveLast:     "removeLast",
	End:            "end",
	Abort:          "abort",
}

// String is the event's name in the fsm.Events declarations, lowerCamel:
// "accept", "acceptOnDemand", "removeLast". Values that are not an event
// print as "Event(n)".
func (e Event) String() string {
	if e != 0 && int(e) < len(eventNames) {
		return eventNames[e]
	}
	return fmt.Sprintf("Event(%d)", uint8(e))
}

// ErrUnknownEvent is matched by errors parsing or writing a value that is
// not a campaign event.
var ErrUnknownEvent = errors.New("unknown campaign event")

// EventError names the field and the value that is not a campaign event.
type EventError struct {
	Field string // e.g. "event"
	Value string // the offending text, or Event(n) when writing
}

func (e *EventError) Error() string {
	return fmt.Sprintf("fota: %s: unknown campaign event %q", e.Field, e.Value)
}

// Is reports whether target is ErrUnknownEvent.
func (e *EventError) Is(target error) bool {
	return target == ErrUnknownEvent || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *EventError) FieldValue() (field, value string) { return e.Field, e.Value }

// ParseEvent parses an event name as String writes it (case-sensitive).
func ParseEvent(s string) (Event, error) {
	for _, e := range Events {
		if eventNames[e] == s {
			return e, nil
		}
	}
	return 0, &EventError{Field: "event", Value: s}
}

// MarshalText writes the event's name; the zero value is an error.
func (e Event) MarshalText() ([]byte, error) {
	if e == 0 || int(e) >= len(eventNames) {
		return nil, &EventError{Field: "event", Value: e.String()}
	}
	return []byte(eventNames[e]), nil
}

// UnmarshalText parses as ParseEvent does; on error *e is unchanged.
func (e *Event) UnmarshalText(b []byte) error {
	v, err := ParseEvent(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}
