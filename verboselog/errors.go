package verboselog

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"
	"time"

	"github.com/fotakit/fota/device"
)

// Sentinels, matched with errors.Is. Each is carried by one of the typed
// errors below, which hold the facts (errors.As).
var (
	// ErrLimit: enabling would put more than Policy.MaxEnabled devices of
	// the account in logging at once (*LimitError).
	ErrLimit = errors.New("verbose logging limit reached")
	// ErrNotHTTP: verbose logging exists only for HTTP-family devices
	// (*NotHTTPError).
	ErrNotHTTP = errors.New("verbose logging needs an HTTP device")
	// ErrNotReady: logs were fetched before Policy.FetchDelay had passed
	// since logging was enabled (*NotReadyError).
	ErrNotReady = errors.New("logs not ready")
	// ErrNeverEnabled: logs were fetched for a device whose logging was
	// never enabled (*FieldError).
	ErrNeverEnabled = errors.New("logging never enabled")
	// ErrUploadRefused: a device uploaded a log bundle its session does not
	// accept (*UploadError).
	ErrUploadRefused = errors.New("log upload refused")
	// ErrDeviceID: a device id is empty or names another device
	// (*FieldError).
	ErrDeviceID = errors.New("bad device id")
	// ErrLogType: a log bundle's logType is not in ThingSpace's list
	// (*FieldError).
	ErrLogType = errors.New("unknown log type")
	// ErrClientType: a check-in's clientType is not a client type
	// (*FieldError).
	ErrClientType = errors.New("unknown client type")
	// ErrState: text that is not a logging-session state (*FieldError).
	ErrState = errors.New("unknown logging session state")
	// ErrTime: a time that is zero where one is required, or earlier than a
	// time already recorded (*FieldError).
	ErrTime = errors.New("bad time")
	// ErrCount: a count or limit outside its range (*FieldError).
	ErrCount = errors.New("bad count")
	// ErrPolicy: a Policy value outside its range (*FieldError).
	ErrPolicy = errors.New("bad verbose logging policy")
	// ErrJSON: malformed JSON for a bundle or check-in (*FieldError).
	ErrJSON = errors.New("malformed JSON")
)

// FieldError names the field and the value that were refused, and why.
// It matches its Err sentinel with errors.Is.
type FieldError struct {
	Field  string // wire or Go name, e.g. "deviceId", "logType", "Policy.Duration"
	Value  string // the refused value, as text
	Reason string // a short why, for people
	Err    error  // the sentinel: ErrDeviceID, ErrLogType, ...
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("fota: verbose logging: %s %q: %s", e.Field, e.Value, e.Reason)
}

// Is reports whether target is the error's sentinel, or the bad-request
// sentinel every package's input errors match (fota.ErrBadRequest) for
// all but a bad policy, which is the host's configuration.
func (e *FieldError) Is(target error) bool {
	return target == e.Err || (target == reqerr.ErrBadRequest && e.Err != ErrPolicy)
}

// FieldValue names the field and the value that were refused.
func (e *FieldError) FieldValue() (field, value string) { return e.Field, e.Value }

// LimitError reports that Device could not be enabled because Limit devices
// of the account already have logging on.
type LimitError struct {
	Limit  int    // Policy.MaxEnabled
	Device string // the device refused
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("fota: verbose logging: device %q: %d devices already have logging enabled (the limit)", e.Device, e.Limit)
}

// Is reports whether target is ErrLimit.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// NotHTTPError reports that Device uses Protocol, which is not in the HTTP
// family, so it cannot have verbose logging.
type NotHTTPError struct {
	Device   string
	Protocol device.Protocol
}

func (e *NotHTTPError) Error() string {
	return fmt.Sprintf("fota: verbose logging: device %q uses %s; verbose logging is for HTTP devices only", e.Device, e.Protocol)
}

// Is reports whether target is ErrNotHTTP.
func (e *NotHTTPError) Is(target error) bool { return target == ErrNotHTTP }

// NotReadyError reports that Device's logs cannot be fetched before ReadyAt.
type NotReadyError struct {
	Device  string
	ReadyAt time.Time // enabling time + Policy.FetchDelay
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("fota: verbose logging: logs of device %q can be fetched from %s", e.Device, e.ReadyAt.UTC().Format(time.RFC3339Nano))
}

// Is reports whether target is ErrNotReady.
func (e *NotReadyError) Is(target error) bool { return target == ErrNotReady }

// UploadError reports a log bundle that Device's session, in State, does
// not accept.
type UploadError struct {
	Device  string
	State   State
	LogTime time.Time
	Reason  string
}

func (e *UploadError) Error() string {
	return fmt.Sprintf("fota: verbose logging: device %q (logging %s): upload of log from %s refused: %s",
		e.Device, e.State, e.LogTime.UTC().Format(time.RFC3339Nano), e.Reason)
}

// Is reports whether target is ErrUploadRefused.
func (e *UploadError) Is(target error) bool { return target == ErrUploadRefused }

// SessionError is an illegal session event for Device. It wraps the
// lifecycle's *lifecycle.TransitionError, so it matches
// lifecycle.ErrInvalidTransition and errors.As finds both types.
type SessionError struct {
	Device string
	Err    error // a *lifecycle.TransitionError
}

func (e *SessionError) Error() string {
	return fmt.Sprintf("fota: verbose logging: device %q: %v", e.Device, e.Err)
}

// Unwrap returns the transition error.
func (e *SessionError) Unwrap() error { return e.Err }
