package fota

import (
	"errors"
	"fmt"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/internal/reqerr"
	"github.com/fotakit/fota/lifecycle"
	"github.com/fotakit/fota/pilot"
)

// Sentinel errors. Every error the Manager returns for bad input or a
// refused operation matches one of these with errors.Is, and carries its
// facts in a typed error for errors.As; the package doc has the table of
// when each happens and the HTTP status the example server answers with.
var (
	// ErrBadRequest: a request field is missing, malformed or out of
	// range. Every package's input errors match it (schedule.FieldError,
	// device.IMEIError, lwm2m.RangeError, ...), and the Manager returns
	// them as a *RequestError naming the field and the value, wrapping the
	// package's error.
	ErrBadRequest = reqerr.ErrBadRequest
	// ErrNotFound: no campaign, device or member with that id, or one of
	// another account.
	ErrNotFound = errors.New("not found")
	// ErrNotInCampaign: the device is not a member of the campaign.
	ErrNotInCampaign = errors.New("device not in campaign")
	// ErrDuplicateReport: the device already reported this outcome (or
	// observation, alert, confirmation); nothing changed.
	ErrDuplicateReport = errors.New("duplicate report")
	// ErrWrongFamily: the operation does not apply to the campaign's or
	// device's protocol family.
	ErrWrongFamily = errors.New("wrong protocol family")
	// ErrLeaseLost: a confirmation of a push command whose lease expired,
	// that was handed out again since, or that was never handed out.
	ErrLeaseLost = errors.New("command lease lost")
	// ErrInvalidTransition: the event is not allowed in the current state
	// (any lifecycle).
	ErrInvalidTransition = lifecycle.ErrInvalidTransition
	// ErrPilotRequired: the software's pilot gate stands and the campaign
	// would exceed its device limit.
	ErrPilotRequired = pilot.ErrPilotRequired
)

// NotFoundError names what was not found.
type NotFoundError struct {
	Kind     string // "campaign", "device", ...
	ID       string
	Campaign string // set when a device was looked up in a campaign
}

// anyPushCampaign in NotFoundError.Campaign: the device is in no push
// campaign at all.
const anyPushCampaign = "*"

func (e *NotFoundError) Error() string {
	switch e.Campaign {
	case "":
		return fmt.Sprintf("fota: %s %q not found", e.Kind, e.ID)
	case anyPushCampaign:
		return fmt.Sprintf("fota: %s %q is in no push campaign", e.Kind, e.ID)
	}
	return fmt.Sprintf("fota: %s %q not in campaign %q", e.Kind, e.ID, e.Campaign)
}

// Is matches ErrNotFound, and ErrNotInCampaign for a device looked up in a
// campaign.
func (e *NotFoundError) Is(target error) bool {
	return target == ErrNotFound || (target == ErrNotInCampaign && e.Campaign != "")
}

// RequestError names the request field and the value that was refused,
// and wraps the error of the package that found it, if another.
type RequestError struct {
	Field  string
	Value  string
	Reason string
	Err    error // the underlying error (schedule.ErrBadWindow, ...), or nil
}

func (e *RequestError) Error() string {
	if e.Reason == "" && e.Err != nil {
		return e.Err.Error() // a package's error, which names field and value itself
	}
	v := e.Value
	if len(v) > 80 { // a megabyte of bad input must not flood logs
		v = v[:80] + "..."
	}
	return fmt.Sprintf("fota: %s %q: %s", e.Field, v, e.Reason)
}

// Is matches ErrBadRequest.
func (e *RequestError) Is(target error) bool { return target == ErrBadRequest }

// Unwrap returns the underlying error.
func (e *RequestError) Unwrap() error { return e.Err }

// ReportError describes a device report that repeats one already applied:
// an HTTP outcome, an LwM2M observation, a FUMO alert or a confirmation.
type ReportError struct {
	Campaign string
	Device   string
	Report   string       // what was repeated, e.g. "installed", "observation (Idle, Success)"
	State    device.State // the state the device is already in
}

func (e *ReportError) Error() string {
	return fmt.Sprintf("fota: device %q in campaign %q: duplicate report %q (already %s)", e.Device, e.Campaign, e.Report, e.State)
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

// LeaseError refuses the confirmation of a push command that the device
// no longer waits for.
type LeaseError struct {
	Campaign string
	Device   string
	Lease    uint64 // the lease confirmed
	Current  uint64 // the device's last hand-out
	Expired  bool   // the lease is the last hand-out, but its time ran out
}

func (e *LeaseError) Error() string {
	switch {
	case e.Expired:
		return fmt.Sprintf("fota: device %q in campaign %q: lease %d expired", e.Device, e.Campaign, e.Lease)
	case e.Lease > e.Current || e.Lease == 0:
		return fmt.Sprintf("fota: device %q in campaign %q: lease %d was never handed out (last %d)", e.Device, e.Campaign, e.Lease, e.Current)
	}
	return fmt.Sprintf("fota: device %q in campaign %q: lease %d was handed out again since (now %d)", e.Device, e.Campaign, e.Lease, e.Current)
}

// Is matches ErrLeaseLost.
func (e *LeaseError) Is(target error) bool { return target == ErrLeaseLost }

// fieldValuer is what every package's bad-input error has: the field and
// the value it refused.
type fieldValuer interface {
	FieldValue() (field, value string)
}

// asRequestError returns a pure package's bad-input error as a
// *RequestError wrapping it, so that errors.As finds the field and the
// value whichever package refused the request; any other error is
// returned as it is.
func asRequestError(err error) error {
	var re *RequestError
	if err == nil || errors.As(err, &re) || !errors.Is(err, ErrBadRequest) {
		return err
	}
	field, value := "request", ""
	var fv fieldValuer
	if errors.As(err, &fv) {
		field, value = fv.FieldValue()
	}
	return &RequestError{Field: field, Value: value, Err: err}
}
