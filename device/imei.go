package device

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fotakit/fota/internal/decimal"
	"github.com/fotakit/fota/internal/reqerr"
)

// ErrInvalidIMEI is matched by errors reporting a string that is not an
// IMEI.
var ErrInvalidIMEI = errors.New("invalid IMEI")

// IMEIError carries the value that is not an IMEI and why.
type IMEIError struct {
	Value string
	Why   string // e.g. "14 characters, want 15 digits"
}

func (e *IMEIError) Error() string {
	return fmt.Sprintf("fota: IMEI %q: %s", e.Value, e.Why)
}

// Is reports whether target is ErrInvalidIMEI.
func (e *IMEIError) Is(target error) bool {
	return target == ErrInvalidIMEI || target == reqerr.ErrBadRequest
}

// FieldValue names the field (deviceId) and the value that were refused.
func (e *IMEIError) FieldValue() (field, value string) { return "deviceId", e.Value }

const imeiLen = 15

// ValidIMEI reports whether s is an IMEI: exactly 15 ASCII digits whose
// last is the Luhn check digit of the first 14. Nothing is trimmed or
// normalised. It allocates nothing, so eligibility checks over a large
// fleet stay cheap.
func ValidIMEI(s string) bool {
	if len(s) != imeiLen {
		return false
	}
	// All fifteen digits at once (SWAR), in two words: s[0:8], and
	// s[8:15] read as s[7:15] shifted down a byte, its top byte made '0'.
	a, b := decimal.Load8(s[:8]), decimal.Load8(s[7:])>>8|'0'<<56
	if !decimal.Digits(a) || !decimal.Digits(b) {
		return false
	}
	return luhnSum(a, b)%10 == 0
}

// luhnSum is the Luhn sum of fifteen digits (a body and its check
// digit) held as text in two words: a the first eight, b the last seven
// with a '0' byte on top (s[8:15], s[8] lowest).
func luhnSum(a, b uint64) uint64 {
	const ones = 0x0101010101010101
	a, b = a-decimal.Zeros, b-decimal.Zeros // a digit per byte, s[0] lowest
	// Luhn: every second digit from the right of the body (s[13], s[11],
	// ..., s[1]: the odd positions) is doubled, 2d-9 when that is over 9
	// (d >= 5, the bytes where d+3 reaches 8); then all fifteen with the
	// check digit sum to a multiple of 10 (at most 135: no byte carries).
	const odd = 0xFF00FF00FF00FF00
	double := func(d uint64) uint64 { return d*2 - ((d+3*ones)>>3&ones)*9 }
	sum := a&^odd + double(a&odd) + b&^odd + double(b&odd)
	return sum * ones >> 56
}

// checkDigit is the Luhn check digit of a 14-digit body, read as
// ValidIMEI reads an IMEI (with a check digit of 0 in its place); ok is
// false when body is not 14 ASCII digits.
func checkDigit(body string) (c byte, ok bool) {
	if len(body) != imeiLen-1 {
		return 0, false
	}
	a, b := decimal.Load8(body[:8]), decimal.Load8(body[6:])>>16|decimal.Zeros&^(1<<48-1)
	if !decimal.Digits(a) || !decimal.Digits(b) {
		return 0, false
	}
	return byte('0' + (10-luhnSum(a, b)%10)%10), true
}

// ParseIMEI returns s if it is an IMEI (see ValidIMEI), or an *IMEIError
// matching ErrInvalidIMEI that says what is wrong.
func ParseIMEI(s string) (string, error) {
	if len(s) != imeiLen {
		return "", &IMEIError{Value: s, Why: fmt.Sprintf("%d characters, want %d digits", len(s), imeiLen)}
	}
	for i := 0; i < imeiLen; i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", &IMEIError{Value: s, Why: fmt.Sprintf("character %d is not a digit", i+1)}
		}
	}
	if want, _ := checkDigit(s[:imeiLen-1]); s[imeiLen-1] != want { // fourteen digits: checked above
		return "", &IMEIError{Value: s, Why: fmt.Sprintf("check digit %c, want %c", s[imeiLen-1], want)}
	}
	return s, nil
}

// IMEIOf completes a 14-digit body (TAC and serial number) with its Luhn
// check digit. Test harnesses and simulators use it to mint valid IMEIs;
// a body that is not 14 ASCII digits is an *IMEIError.
func IMEIOf(body string) (string, error) {
	c, ok := checkDigit(body)
	if !ok {
		return "", checkBody(body)
	}
	return body + string(c), nil
}

// AppendIMEI appends the IMEI of a 14-digit body to dst, as IMEIOf
// returns it, and returns the extended slice: a simulator minting a
// million ids into its own records allocates nothing for them (body does
// not escape; an *IMEIError keeps a copy). On error dst is returned as it
// was.
func AppendIMEI(dst []byte, body string) ([]byte, error) {
	c, ok := checkDigit(body)
	if !ok {
		return dst, checkBody(body)
	}
	return append(append(dst, body...), c), nil
}

// checkBody refuses a body that is not 14 ASCII digits, with an error
// that holds a copy of it (so that body itself does not escape).
func checkBody(body string) error {
	if len(body) != imeiLen-1 {
		return &IMEIError{Value: strings.Clone(body), Why: fmt.Sprintf("%d characters, want a 14-digit body", len(body))}
	}
	for i := 0; i < len(body); i++ {
		if body[i] < '0' || body[i] > '9' {
			return &IMEIError{Value: strings.Clone(body), Why: fmt.Sprintf("character %d is not a digit", i+1)}
		}
	}
	return nil
}
