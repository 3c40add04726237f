package campaign

import (
	"errors"
	"fmt"
	"time"
)

// Guards decide whether a user operation is allowed now. They are pure
// functions of the status and of instants the caller computed from the
// schedule: start is the instant the campaign starts, end the instant it
// ends (exclusive: the first instant after the inclusive end date). A guard
// that passes changes nothing; the caller then applies the event with Next.

// The guard sentinels, matched with errors.Is on a *GuardError.
var (
	// ErrStarted: the operation is only allowed before the start (cancel).
	ErrStarted = errors.New("campaign has started")
	// ErrNotStarted: the operation is only allowed after the start (abort).
	ErrNotStarted = errors.New("campaign has not started")
	// ErrEnded: the operation is only allowed before the end (abort).
	ErrEnded = errors.New("campaign has ended")
	// ErrDevicesFrozen: devices may be added or removed only while the
	// campaign is RequestPending or Queued.
	ErrDevicesFrozen = errors.New("campaign devices can no longer change")
)

// GuardError reports an operation refused by a guard: the operation, the
// status it was tried in, and for time guards the instant it was tried at
// and the bound it crossed (the start or the end). errors.Is matches its
// sentinel.
type GuardError struct {
	Op     string    // "cancel", "abort", "change devices"
	Status Status    // the campaign's status
	Now    time.Time // when it was tried; zero for ErrDevicesFrozen
	Bound  time.Time // the start (ErrStarted, ErrNotStarted) or end (ErrEnded); zero for ErrDevicesFrozen
	err    error
}

func (e *GuardError) Error() string {
	if e.err == ErrDevicesFrozen { // a status guard: no instants involved
		return fmt.Sprintf("fota: campaign %s refused in status %s: %v", e.Op, e.Status, e.err)
	}
	bound := "start"
	if e.err == ErrEnded {
		bound = "end"
	}
	return fmt.Sprintf("fota: campaign %s refused in status %s: %v (now %s, %s %s)",
		e.Op, e.Status, e.err, e.Now.Format(time.RFC3339Nano), bound, e.Bound.Format(time.RFC3339Nano))
}

// Is reports whether target is this error's sentinel.
func (e *GuardError) Is(target error) bool { return target == e.err }

// Unwrap returns the sentinel.
func (e *GuardError) Unwrap() error { return e.err }

// CanCancel reports whether the campaign may be cancelled at now: its
// status must allow Cancel (else a *lifecycle.TransitionError) and now must
// be before start (else a *GuardError matching ErrStarted). "Can be
// canceled before the start date" (v2 cancel page).
func CanCancel(s Status, now, start time.Time) error {
	if _, err := Next(s, Cancel); err != nil {
		return err
	}
	if !now.Before(start) {
		return &GuardError{Op: "cancel", Status: s, Now: now, Bound: start, err: ErrStarted}
	}
	return nil
}

// CanAbort reports whether the campaign may be aborted at now: its status
// must allow Abort, which only the HTTP family has (else a
// *lifecycle.TransitionError), and start <= now < end (else a *GuardError
// matching ErrNotStarted or ErrEnded). "After the start date, but before the
// end date, the software upgrade can be aborted" (v2 cancel page).
func CanAbort(s Status, now, start, end time.Time) error {
	if _, err := Next(s, Abort); err != nil {
		return err
	}
	if now.Before(start) {
		return &GuardError{Op: "abort", Status: s, Now: now, Bound: start, err: ErrNotStarted}
	}
	if !now.Before(end) {
		return &GuardError{Op: "abort", Status: s, Now: now, Bound: end, err: ErrEnded}
	}
	return nil
}

// CanChangeDevices reports whether devices may be added to or removed from
// a campaign in status s: only in RequestPending or Queued, of either
// family (else a *GuardError matching ErrDevicesFrozen).
func CanChangeDevices(s Status) error {
	switch s {
	case PushRequestPending, PushQueued, HTTPRequestPending, HTTPQueued:
		return nil
	}
	return &GuardError{Op: "change devices", Status: s, err: ErrDevicesFrozen}
}

// Delete decides what ThingSpace's single DELETE call means for the
// campaign at now: Cancel before start, Abort from start on (HTTP only).
// It returns the event to apply with Next, or the error CanCancel or
// CanAbort gives; push campaigns cannot be deleted after their start.
func Delete(s Status, now, start, end time.Time) (Event, error) {
	if now.Before(start) {
		if err := CanCancel(s, now, start); err != nil {
			return 0, err
		}
		return Cancel, nil
	}
	if err := CanAbort(s, now, start, end); err != nil {
		return 0, err
	}
	return Abort, nil
}
