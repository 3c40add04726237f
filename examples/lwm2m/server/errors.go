package server

import (
	"errors"
	"strconv"
)

// ErrNotRegistered is matched by errors reporting an operation on a device
// that has no current registration.
var ErrNotRegistered = errors.New("device not registered")

// ErrBadRequest is matched by errors reporting an argument this server
// refuses (a package URI too long, a firmware name with a slash, ...).
var ErrBadRequest = errors.New("bad request")

// ErrRegistration is matched by errors reporting a Register, Update or
// De-register request this server refused.
var ErrRegistration = errors.New("registration refused")

// ErrNoFirmwareObject is matched by errors reporting a device that did not
// announce /5/0 when it registered.
var ErrNoFirmwareObject = errors.New("no firmware update object")

// ErrNotification is matched by errors reporting a notification or read
// answer this server refused (malformed, oversize, another object, stale).
var ErrNotification = errors.New("notification refused")

// DeviceError names the device an operation could not reach.
type DeviceError struct {
	DeviceID string
	kind     error
}

// Error names the device and what is wrong with it.
func (e *DeviceError) Error() string {
	return "lwm2m server: device " + strconv.Quote(e.DeviceID) + ": " + e.kind.Error()
}

// Is reports whether target is the error's kind (ErrNotRegistered or
// ErrNoFirmwareObject).
func (e *DeviceError) Is(target error) bool { return target == e.kind }

// ArgError names a refused argument or request field, its value, and why.
// Registration refusals carry the CoAP code the client was answered.
type ArgError struct {
	Field  string
	Value  string
	Reason string
	Code   string // the CoAP answer ("4.00"); "" for a refused call of this package's API
	kind   error
	cause  error
}

// Error writes the refusal with its field, value and reason.
func (e *ArgError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	s := "lwm2m server: " + e.Field + " " + strconv.Quote(v) + ": " + e.Reason
	if e.Code != "" {
		s += " (answered " + e.Code + ")"
	}
	return s
}

// Is reports whether target is the error's kind (ErrBadRequest,
// ErrRegistration or ErrNotification).
func (e *ArgError) Is(target error) bool { return target == e.kind }

// Unwrap gives the parser's error behind a refusal, if any
// (*linkformat.Error, *content.Error, *lwm2m.RangeError, ...).
func (e *ArgError) Unwrap() error { return e.cause }

func badRequest(field, value, reason string) *ArgError {
	return &ArgError{Field: field, Value: value, Reason: reason, kind: ErrBadRequest}
}
