package device

import (
	"fmt"

	"github.com/looplab/fsm"

	"github.com/fotakit/fota/lifecycle"
)

// License is whether a device holds a FOTA licence. Licences apply to
// devices of both families; an account that needs them (an MRC
// subscription) cannot schedule unlicensed devices (see Prerequisites).
type License uint8

// The licence states. The zero value is no state.
const (
	Unlicensed License = iota + 1
	Licensed
)

// Licenses lists every licence state.
var Licenses = []License{Unlicensed, Licensed}

// LicenseEvent is something done to a device's licence.
type LicenseEvent uint8

// The licence events. The zero value is no event.
const (
	LicenseAssign LicenseEvent = iota + 1 // "assign"
	LicenseRemove                         // "remove"
)

// LicenseEventList lists every licence event.
var LicenseEventList = []LicenseEvent{LicenseAssign, LicenseRemove}

// String is the licence state's name in LicenseEvents.
func (l License) String() string {
	switch l {
	case Unlicensed:
		return "Unlicensed"
	case Licensed:
		return "Licensed"
	}
	return fmt.Sprintf("License(%d)", uint8(l))
}

// MarshalText writes the licence state's name; the zero License is an
// error.
func (l License) MarshalText() ([]byte, error) {
	if l != Unlicensed && l != Licensed {
		return nil, &StateError{Field: "license", Value: l.String()}
	}
	return []byte(l.String()), nil
}

// UnmarshalText accepts "Unlicensed" or "Licensed". On error l is
// unchanged.
func (l *License) UnmarshalText(b []byte) error {
	switch string(b) {
	case "Unlicensed":
		*l = Unlicensed
	case "Licensed":
		*l = Licensed
	default:
		return &StateError{Field: "license", Value: string(b)}
	}
	return nil
}

// String is the licence event's name in LicenseEvents.
func (e LicenseEvent) String() string {
	switch e {
	case LicenseAssign:
		return "assign"
	case LicenseRemove:
		return "remove"
	}
	return fmt.Sprintf("LicenseEvent(%d)", uint8(e))
}

// LicenseEvents declares the licence lifecycle. Assigning a licence to a
// licensed device is allowed and changes nothing: ThingSpace assigns to
// lists of devices, and a device already holding a licence is not an
// error there. Removing from an unlicensed device is refused. Removal
// from a device that has ever upgraded its firmware is refused too, but
// as an outcome (RemoveLicense), not a transition.
var LicenseEvents = fsm.Events{
	{Name: "assign", Src: []string{"Unlicensed", "Licensed"}, Dst: "Licensed"},
	{Name: "remove", Src: []string{"Licensed"}, Dst: "Unlicensed"},
}

// LicenseTable is the compiled licence lifecycle.
var LicenseTable = lifecycle.MustCompile("license", LicenseEvents, Licenses, License.String, LicenseEventList, LicenseEvent.String)

// LicenseStatus is the outcome of a licence operation as ThingSpace
// reports it.
type LicenseStatus uint8

// The licence statuses. The zero value is no status.
const (
	LicenseAssignSuccess LicenseStatus = iota + 1
	LicenseRemoveSuccess
	LicenseRemoveFailed
)

// LicenseStatuses lists every licence status.
var LicenseStatuses = []LicenseStatus{LicenseAssignSuccess, LicenseRemoveSuccess, LicenseRemoveFailed}

// String is the wire spelling: "LicenseAssignSuccess",
// "LicenseRemoveSuccess" or "LicenseRemoveFailed" (the same in both
// families).
func (s LicenseStatus) String() string {
	switch s {
	case LicenseAssignSuccess:
		return "LicenseAssignSuccess"
	case LicenseRemoveSuccess:
		return "LicenseRemoveSuccess"
	case LicenseRemoveFailed:
		return "LicenseRemoveFailed"
	}
	return fmt.Sprintf("LicenseStatus(%d)", uint8(s))
}

// MarshalText writes the wire spelling; the zero LicenseStatus is an
// error.
func (s LicenseStatus) MarshalText() ([]byte, error) {
	if s < LicenseAssignSuccess || s > LicenseRemoveFailed {
		return nil, &StatusError{Field: "licenseStatus", Value: s.String()}
	}
	return []byte(s.String()), nil
}

// UnmarshalText accepts the wire spelling. On error s is unchanged.
func (s *LicenseStatus) UnmarshalText(b []byte) error {
	for _, t := range LicenseStatuses {
		if t.String() == string(b) {
			*s = t
			return nil
		}
	}
	return &StatusError{Field: "licenseStatus", Value: string(b)}
}

// LicenseOutcome is what a licence operation reports: the status and,
// for LicenseRemoveFailed, the reason.
type LicenseOutcome struct {
	Status LicenseStatus
	Reason Reason
}

// AssignLicense assigns a licence to a device in state l. Assigning to a
// licensed device succeeds and leaves it licensed (see LicenseEvents). An
// invalid l is a *lifecycle.TransitionError and l is returned unchanged.
func AssignLicense(l License) (License, LicenseOutcome, error) {
	n, err := LicenseTable.Next(l, LicenseAssign)
	if err != nil {
		return l, LicenseOutcome{}, err
	}
	return n, LicenseOutcome{Status: LicenseAssignSuccess}, nil
}

// RemoveLicense removes the licence of a device in state l. A device that
// has ever upgraded firmware keeps its licence: the result is Licensed
// with LicenseRemoveFailed and ReasonLicenseEverUpgraded, and a nil error,
// since that is an outcome ThingSpace reports, not bad input. Removing
// from an unlicensed device is a *lifecycle.TransitionError (matching
// lifecycle.ErrInvalidTransition) and l is returned unchanged.
// ReasonLicenseInternal is never produced here: it is for the host to
// report when its own store fails.
func RemoveLicense(l License, everUpgraded bool) (License, LicenseOutcome, error) {
	n, err := LicenseTable.Next(l, LicenseRemove)
	if err != nil {
		return l, LicenseOutcome{}, err
	}
	if everUpgraded {
		return l, LicenseOutcome{Status: LicenseRemoveFailed, Reason: ReasonLicenseEverUpgraded}, nil
	}
	return n, LicenseOutcome{Status: LicenseRemoveSuccess}, nil
}
