package schedule

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"
	"strings"
)

// The sentinels matched (errors.Is) by every *FieldError this package
// returns. Each names one rule; the *FieldError says which field broke it
// and with what value.
var (
	// ErrBadDate: a date that is not "YYYY-MM-DD" (strictly) or not a
	// real calendar day.
	ErrBadDate = errors.New("bad date")
	// ErrMissingDate: a required date (startDate, endDate) is absent.
	ErrMissingDate = errors.New("missing date")
	// ErrStartPassed: the start date is before today (UTC).
	ErrStartPassed = errors.New("start date has passed")
	// ErrEndBeforeStart: the end date is before the start date.
	ErrEndBeforeStart = errors.New("end date before start date")
	// ErrDateOutside: downloadAfterDate or installAfterDate lies outside
	// [startDate, endDate].
	ErrDateOutside = errors.New("date outside the campaign")
	// ErrBadWindow: startTime outside 0..23, endTime outside 1..24,
	// startTime >= endTime, or an hour that is missing or not an integer.
	ErrBadWindow = errors.New("bad time window")
	// ErrBadZone: a time zone that is not a loadable IANA name.
	ErrBadZone = errors.New("unknown time zone")
	// ErrBadJSON: JSON of the wrong shape (not an object, a date that is
	// not a string, a list that is not an array) or not JSON at all.
	ErrBadJSON = errors.New("malformed JSON")
	// ErrBadPolicy: a Policy value out of range (negative durations or
	// counts, RetryHour outside 0..23).
	ErrBadPolicy = errors.New("bad schedule policy")
	// ErrStartFixed: a date change tried to move the start date of a
	// campaign that has already started.
	ErrStartFixed = errors.New("start date cannot change after the start")
	// ErrEndTooSoon: after the start, the new end must not close the
	// campaign earlier than now + Policy.ChangeFloor (24 h).
	ErrEndTooSoon = errors.New("end date too soon")
	// ErrWindowRemoved: after the start, a /v2 change dropped a window.
	ErrWindowRemoved = errors.New("time window removed after the start")
	// ErrFixedAfterStart: after the start, a change touched a field that
	// is frozen (after-dates and the time zone; for /v3 everything but the
	// end date).
	ErrFixedAfterStart = errors.New("field cannot change after the start")
	// ErrEnded: a date change on a campaign whose end has passed.
	ErrEnded = errors.New("campaign has ended")
)

// FieldError names the request field and the value that broke a rule.
// Err is one of the sentinels above; Reason adds a human detail.
type FieldError struct {
	Field  string // e.g. "endDate", "downloadTimeWindowList[1].startTime"
	Value  string // the offending value as received (or as rendered)
	Err    error  // the sentinel: ErrBadDate, ErrBadWindow, ...
	Reason string // optional detail, e.g. "startTime must be in 0..23"
}

// Error reads "schedule: <field> <value>: <sentinel>[: <reason>]", with
// the value quoted and cut at 80 bytes.
func (e *FieldError) Error() string {
	v := e.Value
	if len(v) > 80 { // fuzzed megabyte values must not flood logs
		v = v[:80] + "..."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "schedule: %s %q: %v", e.Field, v, e.Err)
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns the sentinel, so errors.Is(err, ErrBadDate) works.
func (e *FieldError) Unwrap() error { return e.Err }

// Is reports whether target is the bad-request sentinel every package's
// input errors match (fota.ErrBadRequest): every FieldError but a bad
// policy, which is the host's configuration, not a request.
func (e *FieldError) Is(target error) bool {
	return target == reqerr.ErrBadRequest && e.Err != ErrBadPolicy
}

// FieldValue names the field and the value that were refused.
func (e *FieldError) FieldValue() (field, value string) { return e.Field, e.Value }

func fieldErr(field, value string, err error, reason string) *FieldError {
	return &FieldError{Field: field, Value: value, Err: err, Reason: reason}
}
