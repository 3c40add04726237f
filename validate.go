package fota

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fotakit/fota/internal/decimal"
	"github.com/fotakit/fota/schedule"
)

// Input limits. The Manager refuses, as a bad request and before anything
// commits, text that no store could hold or no answer could carry, so that
// every store accepts what the Manager writes and every answer can be
// encoded.
const (
	// MaxIDBytes bounds ids: device ids, campaign ids.
	MaxIDBytes = 128
	// MaxNameBytes bounds names: accounts, campaign and software names,
	// versions, makes, models.
	MaxNameBytes = 256
	// MaxURLBytes bounds a package's download URL (LwM2M's Package URI
	// resource holds at most 255 bytes; HTTP devices may take longer ones).
	MaxURLBytes = 2048
	// MinYear and MaxYear bound every date of a request: two centuries is
	// more than any campaign needs, and every instant derived from them
	// (an end, a retry time) stays encodable in JSON, RFC 3339 and
	// PostgreSQL.
	MinYear = 2000
	MaxYear = 2199
)

const (
	maxID   = MaxIDBytes
	maxName = MaxNameBytes
)

// timeLayout is how errors print instants.
const timeLayout = time.RFC3339

func itoa(n int) string { return strconv.Itoa(n) }

// text is one field to check.
type text struct {
	field, value string
	max          int
}

// checkText refuses text longer than max bytes, invalid UTF-8 and NUL
// (PostgreSQL's text type holds neither).
func checkText(field, value string, max int) error {
	if len(value) <= max && plainASCII(value) {
		return nil // the common case, decided in one pass
	}
	switch {
	case len(value) > max:
		return &RequestError{Field: field, Value: value, Reason: "longer than " + itoa(max) + " bytes"}
	case !utf8.ValidString(value):
		return &RequestError{Field: field, Value: strings.ToValidUTF8(value, "\uFFFD"), Reason: "not valid UTF-8"}
	case strings.IndexByte(value, 0) >= 0:
		return &RequestError{Field: field, Value: strings.ReplaceAll(value, "\x00", `\0`), Reason: "holds a NUL byte"}
	}
	return nil
}

// plainASCII reports whether s is ASCII without NUL. It reads eight bytes
// at a time (every device call checks its id), the last eight overlapping
// the word before: a word holds a byte that is NUL or not ASCII when one
// of its bytes, less one, borrows or has its high bit set.
func plainASCII(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	if len(s) < 8 {
		for i := 0; i < len(s); i++ {
			if b := s[i]; b == 0 || b >= 0x80 {
				return false
			}
		}
		return true
	}
	for i := 0; i+8 < len(s); i += 8 {
		if x := decimal.Load8(s[i:]); (x|(x-ones))&highs != 0 {
			return false
		}
	}
	x := decimal.Load8(s[len(s)-8:])
	return (x|(x-ones))&highs == 0
}

func checkTexts(ts ...text) error {
	for _, t := range ts {
		if err := checkText(t.field, t.value, t.max); err != nil {
			return err
		}
	}
	return nil
}

// checkDeviceID requires a non-empty, well-formed device id.
func checkDeviceID(field, id string) error {
	if id == "" {
		return &RequestError{Field: field, Value: "", Reason: "empty device id"}
	}
	return checkText(field, id, maxID)
}

// checkAccount requires a non-empty, well-formed account name.
func checkAccount(account string) error {
	if account == "" {
		return &RequestError{Field: "accountName", Value: "", Reason: "required"}
	}
	return checkText("accountName", account, maxName)
}

// checkTiming bounds a request's dates to MinYear..MaxYear, requires the
// install after-date not to precede the download after-date, and checks
// the time zone's name as text. The schedule package checks the rest.
func checkTiming(r schedule.HTTPRequest) error {
	for _, d := range []struct {
		field string
		date  schedule.Date
	}{
		{"startDate", r.StartDate}, {"endDate", r.EndDate},
		{"downloadAfterDate", r.DownloadAfterDate}, {"installAfterDate", r.InstallAfterDate},
	} {
		if !d.date.IsZero() && (d.date.Year < MinYear || d.date.Year > MaxYear) {
			return &RequestError{Field: d.field, Value: d.date.String(), Reason: "outside " + itoa(MinYear) + ".." + itoa(MaxYear), Err: schedule.ErrBadDate}
		}
	}
	if !r.DownloadAfterDate.IsZero() && !r.InstallAfterDate.IsZero() && r.InstallAfterDate.Before(r.DownloadAfterDate) {
		return &RequestError{Field: "installAfterDate", Value: r.InstallAfterDate.String(),
			Reason: "before downloadAfterDate " + r.DownloadAfterDate.String(), Err: schedule.ErrDateOutside}
	}
	return checkText("timeZone", r.TimeZone, maxName)
}
