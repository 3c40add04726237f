package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// Error is ThingSpace's error body (FotaV1ResultError, FotaV2ResultError),
// sent with every status other than 200.
type Error struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// The errorCode values. ThingSpace documents the body but not its codes
// (not even the pilot limit's), so these are this server's.
const (
	CodeBadRequest        = "BadRequest"        // malformed JSON, a missing or malformed field
	CodeNotFound          = "NotFound"          // unknown route, campaign or device, or another account's
	CodeMethodNotAllowed  = "MethodNotAllowed"  // a known path with another method (Allow lists the right ones)
	CodeTooLarge          = "TooLarge"          // body over Options.MaxBodyBytes
	CodeUnauthorized      = "Unauthorized"      // no valid bearer token, or a device call without its valid signature
	CodeForbidden         = "Forbidden"         // a valid token of another account than the path's
	CodeUnsupported       = "Unsupported"       // an operation the server is not given the means for (no callback dispatcher, listing inventory or file catalog)
	CodeInternal          = "InternalError"     // anything unexpected; the details are logged only
	CodeUnavailable       = "Unavailable"       // the request was cancelled or timed out
	CodePilotRequired     = "PilotRequired"     // the pilot gate stands and the campaign is too large
	CodeInvalidTransition = "InvalidTransition" // not allowed in the campaign's, device's or session's state
	CodeDuplicateReport   = "DuplicateReport"   // the device already reported this outcome
	CodeWrongFamily       = "WrongFamily"       // not an HTTP-family campaign or device
	CodeDevicesFrozen     = "DevicesFrozen"     // devices change only while RequestPending or Queued
	CodeTooLate           = "TooLate"           // allowed only before a start or end that has passed
	CodeTooEarly          = "TooEarly"          // allowed only after a start still ahead
	CodeBadDate           = "BadDate"           // not YYYY-MM-DD or not a calendar day
	CodeMissingDate       = "MissingDate"       // startDate or endDate absent
	CodeStartPassed       = "StartPassed"       // startDate before today (UTC)
	CodeEndBeforeStart    = "EndBeforeStart"    // endDate before startDate
	CodeDateOutside       = "DateOutside"       // an after-date outside [startDate, endDate]
	CodeBadWindow         = "BadWindow"         // a time window out of range
	CodeBadTimeZone       = "BadTimeZone"       // timeZone not an IANA zone
	CodeStartFixed        = "StartFixed"        // the start date cannot move after the start
	CodeEndTooSoon        = "EndTooSoon"        // a new end earlier than 24 h from now
	CodeWindowRemoved     = "WindowRemoved"     // a window removed after the start
	CodeFixedAfterStart   = "FixedAfterStart"   // an after-date or time zone changed after the start
	CodeLoggingLimit      = "LoggingLimit"      // more than 20 devices of the account would log
	CodeNotHTTP           = "NotHTTP"           // verbose logging on a device that is not HTTP
	CodeNotReady          = "NotReady"          // logs fetched before 24 h; the message has the ready time
	CodeNeverEnabled      = "NeverEnabled"      // logs fetched for a device whose logging never was on
	CodeUploadRefused     = "UploadRefused"     // a log bundle the device's session does not accept
	CodeInvalidIMEI       = "InvalidIMEI"       // a device id that is not a valid IMEI
)

// httpError is an error the handler itself decides (routing, limits,
// credentials).
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

var (
	errUnauthorized = &httpError{status: http.StatusUnauthorized, code: CodeUnauthorized, msg: "missing or refused credentials"}
	errForbidden    = &httpError{status: http.StatusForbidden, code: CodeForbidden, msg: "the token is not for this account"}
	errInternal     = &httpError{status: http.StatusInternalServerError, code: CodeInternal, msg: "internal error"}
)

// mapping is one row of the error table: errors matching target get
// status and code. Rows are tried in order, so the specific come before
// the general (a SessionError also matches ErrInvalidTransition; every
// fota.RequestError matches ErrBadRequest).
type mapping struct {
	target error
	status int
	code   string
}

var mappings = []mapping{
	// Server faults that surface through the same types as bad input:
	// never the client's doing, so 500 without detail.
	{schedule.ErrBadPolicy, http.StatusInternalServerError, CodeInternal},
	{verboselog.ErrPolicy, http.StatusInternalServerError, CodeInternal},
	{pilot.ErrInvalidPolicy, http.StatusInternalServerError, CodeInternal},
	{pilot.ErrInvalidGate, http.StatusInternalServerError, CodeInternal},
	{pilot.ErrInvalidOutcome, http.StatusInternalServerError, CodeInternal},
	{pilot.ErrInvalidCount, http.StatusInternalServerError, CodeInternal},
	{fota.ErrReadOnly, http.StatusInternalServerError, CodeInternal},

	{fota.ErrNotFound, http.StatusNotFound, CodeNotFound}, // also ErrNotInCampaign
	{fota.ErrPilotRequired, http.StatusBadRequest, CodePilotRequired},
	{fota.ErrDuplicateReport, http.StatusBadRequest, CodeDuplicateReport},
	{fota.ErrWrongFamily, http.StatusBadRequest, CodeWrongFamily},

	{campaign.ErrDevicesFrozen, http.StatusBadRequest, CodeDevicesFrozen},
	{campaign.ErrStarted, http.StatusBadRequest, CodeTooLate},
	{campaign.ErrEnded, http.StatusBadRequest, CodeTooLate},
	{campaign.ErrNotStarted, http.StatusBadRequest, CodeTooEarly},
	{campaign.ErrUnknownStatus, http.StatusBadRequest, CodeBadRequest},

	{schedule.ErrBadJSON, http.StatusBadRequest, CodeBadRequest},
	{schedule.ErrBadDate, http.StatusBadRequest, CodeBadDate},
	{schedule.ErrMissingDate, http.StatusBadRequest, CodeMissingDate},
	{schedule.ErrStartPassed, http.StatusBadRequest, CodeStartPassed},
	{schedule.ErrEndBeforeStart, http.StatusBadRequest, CodeEndBeforeStart},
	{schedule.ErrDateOutside, http.StatusBadRequest, CodeDateOutside},
	{schedule.ErrBadWindow, http.StatusBadRequest, CodeBadWindow},
	{schedule.ErrBadZone, http.StatusBadRequest, CodeBadTimeZone},
	{schedule.ErrStartFixed, http.StatusBadRequest, CodeStartFixed},
	{schedule.ErrEndTooSoon, http.StatusBadRequest, CodeEndTooSoon},
	{schedule.ErrWindowRemoved, http.StatusBadRequest, CodeWindowRemoved},
	{schedule.ErrFixedAfterStart, http.StatusBadRequest, CodeFixedAfterStart},
	{schedule.ErrEnded, http.StatusBadRequest, CodeTooLate},

	{verboselog.ErrLimit, http.StatusBadRequest, CodeLoggingLimit},
	{verboselog.ErrNotHTTP, http.StatusBadRequest, CodeNotHTTP},
	{verboselog.ErrNotReady, http.StatusBadRequest, CodeNotReady},
	{verboselog.ErrNeverEnabled, http.StatusBadRequest, CodeNeverEnabled},
	{verboselog.ErrUploadRefused, http.StatusBadRequest, CodeUploadRefused},
	{verboselog.ErrDeviceID, http.StatusBadRequest, CodeBadRequest},
	{verboselog.ErrLogType, http.StatusBadRequest, CodeBadRequest},
	{verboselog.ErrClientType, http.StatusBadRequest, CodeBadRequest},
	{verboselog.ErrState, http.StatusBadRequest, CodeBadRequest},
	{verboselog.ErrTime, http.StatusBadRequest, CodeBadRequest},
	{verboselog.ErrCount, http.StatusBadRequest, CodeBadRequest},
	{verboselog.ErrJSON, http.StatusBadRequest, CodeBadRequest},

	{device.ErrInvalidIMEI, http.StatusBadRequest, CodeInvalidIMEI},
	{device.ErrUnknownProtocol, http.StatusBadRequest, CodeBadRequest},

	{fota.ErrInvalidTransition, http.StatusBadRequest, CodeInvalidTransition},
	{fota.ErrBadRequest, http.StatusBadRequest, CodeBadRequest},

	{context.Canceled, http.StatusServiceUnavailable, CodeUnavailable},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, CodeUnavailable},
}

// Classify maps an error to its HTTP status and body: 400 for bad input
// and refused operations (ThingSpace's errors are all 400), 404 for what
// does not exist or belongs to another account, 401, 403, 405, 413 and
// 503 for the transport's own failures, and 500, without the error's
// text, for anything else. Under the ThingSpace prefixes the status sent
// is ThingSpaceStatus of this one.
func Classify(err error) (int, Error) {
	var he *httpError
	if errors.As(err, &he) {
		return he.status, Error{ErrorCode: he.code, ErrorMessage: he.msg}
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge, Error{ErrorCode: CodeTooLarge,
			ErrorMessage: "body larger than " + strconv.FormatInt(tooLarge.Limit, 10) + " bytes"}
	}
	for _, m := range mappings {
		if errors.Is(err, m.target) {
			if m.status == http.StatusInternalServerError {
				break
			}
			return m.status, Error{ErrorCode: m.code, ErrorMessage: err.Error()}
		}
	}
	return http.StatusInternalServerError, Error{ErrorCode: CodeInternal, ErrorMessage: "internal error"}
}

// ThingSpaceStatus is the status sent on a ThingSpace route for an error
// that Classify gives status: the SDK reads only a 400 as its error type
// (FotaV1ResultError, FotaV2ResultError) and hands any other non-2xx to
// its caller unparsed, so what the client did wrong (404 not found, 405
// wrong method, 413 too large) goes out as 400 with its errorCode. 401 and
// 403 stay (credentials are the gateway's business, and a client must
// not retry them as bad requests); so do 500 and 503 (a fault of the
// server or a request that ran out of time: retrying may succeed).
func ThingSpaceStatus(status int) int {
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge:
		return http.StatusBadRequest
	}
	return status
}

// jsonError turns encoding/json's errors into a fota.RequestError naming
// the field, so they classify as bad requests. Errors the fota types'
// own decoders return (they name their field already) pass through, and
// anything else a decoder says is still bad input.
func jsonError(err error) error {
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &fota.RequestError{Field: "body", Value: "offset " + strconv.FormatInt(se.Offset, 10), Reason: "malformed JSON: " + se.Error()}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "body"
		}
		return &fota.RequestError{Field: field, Value: te.Value, Reason: "want " + te.Type.String()}
	}
	if status, _ := Classify(err); status == http.StatusBadRequest {
		return err
	}
	return &fota.RequestError{Field: "body", Value: "", Reason: err.Error()}
}
