package schedule

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Window is a ThingSpace time window (V2TimeWindow / V3TimeWindow): open
// while "current hour >= startTime" and "current hour < endTime", the hour
// being the wall-clock hour in the campaign's time zone (UTC by default).
// startTime is 0..23 and endTime 1..24, so a window never wraps midnight;
// an overnight window is two windows, e.g. {22,24} and {0,2}.
type Window struct {
	StartTime int `json:"startTime"`
	EndTime   int `json:"endTime"`
}

// String renders w as its JSON, e.g. {"startTime":2,"endTime":4}.
func (w Window) String() string {
	return `{"startTime":` + strconv.Itoa(w.StartTime) + `,"endTime":` + strconv.Itoa(w.EndTime) + `}`
}

// Validate checks "Start hour in range [0..23]", "End hour in range
// [1..24]" and startTime < endTime. field names w in the error, e.g.
// "downloadTimeWindowList[1]".
func (w Window) Validate(field string) error {
	if w.StartTime < 0 || w.StartTime > 23 {
		return fieldErr(field+".startTime", strconv.Itoa(w.StartTime), ErrBadWindow, "startTime must be in 0..23")
	}
	if w.EndTime < 1 || w.EndTime > 24 {
		return fieldErr(field+".endTime", strconv.Itoa(w.EndTime), ErrBadWindow, "endTime must be in 1..24")
	}
	if w.StartTime >= w.EndTime {
		return fieldErr(field, w.String(), ErrBadWindow, "startTime must be before endTime")
	}
	return nil
}

// hours is w as a 24-bit mask: bit h is set when hour h is open. w must be
// valid.
func (w Window) hours() uint32 {
	return (uint32(1)<<w.EndTime - 1) &^ (uint32(1)<<w.StartTime - 1)
}

// allHours is the mask of an empty list: no window means "all hours".
const allHours = 1<<24 - 1

// hourMask is the union of a list's windows; an empty list is all hours.
// The windows must be valid.
func hourMask(ws []Window) uint32 {
	if len(ws) == 0 {
		return allHours
	}
	var m uint32
	for _, w := range ws {
		m |= w.hours()
	}
	return m
}

// UnmarshalJSON reads {"startTime":2,"endTime":4}. Hours may be JSON
// integers or strings of digits ("20"), as the SDK's DownloadTimeWindow
// sends them. Both hours are required; ranges are checked by Validate (and
// NewHTTP), not here. null is a no-op, per encoding/json's convention. On
// error w is unchanged.
func (w *Window) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	v, err := decodeWindow("window", b)
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// decodeWindow parses one window object; field prefixes the hour names.
func decodeWindow(field string, b []byte) (Window, error) {
	var raw struct {
		StartTime json.RawMessage `json:"startTime"`
		EndTime   json.RawMessage `json:"endTime"`
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return Window{}, fieldErr(field, string(b), ErrBadJSON, "a window must be a JSON object")
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Window{}, fieldErr(field, string(b), ErrBadJSON, err.Error())
	}
	s, err := decodeHour(field+".startTime", raw.StartTime)
	if err != nil {
		return Window{}, err
	}
	e, err := decodeHour(field+".endTime", raw.EndTime)
	if err != nil {
		return Window{}, err
	}
	return Window{StartTime: s, EndTime: e}, nil
}

// decodeHour accepts an integer literal (20) or a string of one ("20").
// Fractions, exponents, blanks and out-of-int values are refused.
func decodeHour(field string, raw json.RawMessage) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, fieldErr(field, "", ErrBadWindow, "hour is required")
	}
	lit := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &lit); err != nil {
			return 0, fieldErr(field, string(raw), ErrBadJSON, err.Error())
		}
	}
	if !isInteger(lit) {
		return 0, fieldErr(field, lit, ErrBadWindow, "hour must be an integer")
	}
	n, err := strconv.Atoi(lit)
	if err != nil {
		return 0, fieldErr(field, lit, ErrBadWindow, "hour out of range")
	}
	return n, nil
}

// isInteger reports whether s is an optional '-' and ASCII digits (Atoi
// alone would also take a '+').
func isInteger(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
