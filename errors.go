package fota

import (
	"errors"
	"fmt"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/lifecycle"
	"github.com/fotakit/fota/pilot"
)

// Sentinel errors; every error the Manager returns for bad input or a
// refused operation matches one of these (or a sentinel of the pure
// packages) with errors.Is, and carries its facts in a typed error for
// errors.As.
var (
	// ErrNotFound: no campaign, device or member with that id.
	ErrNotFound = errors.New("not found")
	// ErrNotInCampaign: the device is not a member of the campaign.
	ErrNotInCampaign = errors.New("device not in campaign")
	// ErrDuplicateReport: the device already reported this outcome.
	ErrDuplicateReport = errors.New("duplicate report")
	// ErrBadRequest: a request field is missing or malformed.
	ErrBadRequest = errors.New("bad request")
	// ErrWrongFamily: the operation does not apply to the campaign's or
	// device's protocol family.
	ErrWrongFamily = errors.New("wrong protocol family")
	// ErrInvalidTransition: the event is not allowed in the current state
	// (any lifecycle).
	ErrInvalidTransition = lifecycle.ErrInvalidTransition
	// ErrPilotRequired: the software target's pilot gate stands and the
	// campaign would exceed its device limit.
	ErrPilotRequired = pilot.ErrPilotRequired
)

// NotFoundError names what was not found.
type NotFoundError struct {
	Kind     string // "campaign", "device", ...
	ID       string
	Campaign string // set when a device was looked up in a campaign
}

func (e *NotFoundError) Error() string {
	if e.Campaign != "" {
		return fmt.Sprintf("fota: %s %q not in campaign %q", e.Kind, e.ID, e.Campaign)
	}
	return fmt.Sprintf("fota: %s %q not found", e.Kind, e.ID)
}

// Is matches ErrNotFound, and ErrNotInCampaign for a device looked up in a
// campaign.
func (e *NotFoundError) Is(target error) bool {
	return target == ErrNotFound || (target == ErrNotInCampaign && e.Campaign != "")
}

// RequestError names the request field and the value that was refused.
type RequestError struct {
	Field  string
	Value  string
	Reason string
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("fota: %s %q: %s", e.Field, e.Value, e.Reason)
}

// Is matches ErrBadRequest.
func (e *RequestError) Is(target error) bool { return target == ErrBadRequest }

// ReportError describes a device report that repeats one already applied.
type ReportError struct {
	Campaign string
	Device   string
	Outcome  Outcome
	State    device.State // the state the device is already in
}

func (e *ReportError) Error() string {
	return fmt.Sprintf("fota: device %q in campaign %q: duplicate report %q (already %s)", e.Device, e.Campaign, e.Outcome, e.State)
}

// Is matches ErrDuplicateReport.
func (e *ReportError) Is(target error) bool { return target == ErrDuplicateReport }

// FamilyError names the operation and the protocol it does not apply to.
type FamilyError struct {
	Op       string
	ID       string
	Protocol device.Protocol
}

func (e *FamilyError) Error() string {
	return fmt.Sprintf("fota: %s: %q uses %s", e.Op, e.ID, e.Protocol)
}

// Is matches ErrWrongFamily.
func (e *FamilyError) Is(target error) bool { return target == ErrWrongFamily }
