package omadm

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"
	"strconv"

	"github.com/fotakit/fota/device"
)

// GenericAlert is the alert code of the Generic Alert that reports a FUMO
// outcome (Microsoft TechNet cc182291).
const GenericAlert = 1226

// The alert types, one per Exec'd node.
const (
	TypeDownload          = "org.openmobilealliance.dm.firmwareupdate.download"
	TypeUpdate            = "org.openmobilealliance.dm.firmwareupdate.update"
	TypeDownloadAndUpdate = "org.openmobilealliance.dm.firmwareupdate.downloadandupdate"
)

// Alert is a Generic Alert reporting the outcome of an Exec (FUMO's Exec and Generic Alert rules).
type Alert struct {
	Code       int    // GenericAlert
	Type       string // TypeDownload, TypeUpdate or TypeDownloadAndUpdate
	Source     string // the FUMO node URI
	Correlator string // the server's correlator from the Exec, echoed back
	Data       string // the result code, e.g. "200"
}

// ParseAlert builds an Alert from the text of its SyncML elements (the
// alert code as sent, the item's Meta/Type, Source/LocURI, the
// Correlator and the item's Data) and validates it.
func ParseAlert(code, alertType, source, correlator, data string) (Alert, error) {
	if code != "1226" {
		return Alert{}, &AlertError{Field: "Code", Value: code}
	}
	a := Alert{Code: GenericAlert, Type: alertType, Source: source, Correlator: correlator, Data: data}
	if err := a.Validate(); err != nil {
		return Alert{}, err
	}
	return a, nil
}

// Validate checks the alert: code 1226, one of the three types, a
// non-empty Source, a result code in Data. The Correlator may be empty (a
// server that sent none gets none back); matching it is the host's. The
// first failing field is reported as an *AlertError.
func (a Alert) Validate() error {
	switch {
	case a.Code != GenericAlert:
		return &AlertError{Field: "Code", Value: strconv.Itoa(a.Code)}
	case a.Type != TypeDownload && a.Type != TypeUpdate && a.Type != TypeDownloadAndUpdate:
		return &AlertError{Field: "Type", Value: a.Type}
	case a.Source == "":
		return &AlertError{Field: "Source", Value: a.Source}
	}
	if _, err := ParseResultCode(a.Data); err != nil {
		return &AlertError{Field: "Data", Value: a.Data, Err: err}
	}
	return nil
}

// Result is the alert's result code, after validating the whole alert.
func (a Alert) Result() (ResultCode, error) {
	if err := a.Validate(); err != nil {
		return 0, err
	}
	c, _ := ParseResultCode(a.Data)
	return c, nil
}

// Outcome says what a Generic Alert means for the device in its campaign:
// the device.Event to apply and whether the operation is over. A
// successful download-only alert is not final (the server must still Exec
// Update) and has no event; a successful update or download-and-update is
// device.EventSucceeded; a failure is final with the event of the table
// in the package doc (the device "MUST NOT retry the operation … without
// further server intervention"). An invalid alert is an *AlertError.
func Outcome(a Alert) (device.Event, bool, error) {
	c, err := a.Result()
	if err != nil {
		return 0, false, err
	}
	if c.Successful() && a.Type == TypeDownload {
		return 0, false, nil
	}
	return c.Event(), true, nil
}

// ExecAccepted reports whether the status a client returned for an Exec
// on Download, Update or DownloadAndUpdate means it was accepted for later
// processing: the client "MUST send a status 202 (asynchronous)". The
// outcome then comes in a Generic Alert. Any other status, 200 included,
// is not an acceptance: the operation cannot have finished synchronously.
func ExecAccepted(status int) bool { return status == 202 }

// ErrInvalidAlert is matched by errors reporting a Generic Alert that is
// not a valid FUMO outcome.
var ErrInvalidAlert = errors.New("invalid FUMO alert")

// AlertError names the alert field and the value that is wrong. For a bad
// Data it wraps the *ResultCodeError, so errors.Is also matches
// ErrUnknownResultCode.
type AlertError struct {
	Field string // "Code", "Type", "Source", "Data"
	Value string
	Err   error
}

func (e *AlertError) Error() string {
	return fmt.Sprintf("fota: omadm: alert %s: invalid value %q", e.Field, e.Value)
}

// Is reports whether target is ErrInvalidAlert.
func (e *AlertError) Is(target error) bool {
	return target == ErrInvalidAlert || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *AlertError) FieldValue() (field, value string) { return e.Field, e.Value }

// Unwrap returns the cause, if any.
func (e *AlertError) Unwrap() error { return e.Err }
