package schedule

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// ParseHTTPRequest decodes a request body (see UnmarshalJSON). Unlike
// json.Unmarshal, which reports broken JSON syntax itself as a
// *json.SyntaxError before any UnmarshalJSON runs, it returns a
// *FieldError (field "request", ErrBadJSON) for that too.
func ParseHTTPRequest(b []byte) (HTTPRequest, error) {
	var r HTTPRequest
	err := r.UnmarshalJSON(b)
	return r, err
}

// UnmarshalJSON reads a request in ThingSpace's shape: dates as
// "YYYY-MM-DD" strings (absent, null or "" = zero), window lists as arrays
// of windows whose hours may be numbers or strings, timeZone as a string.
// Unknown fields (softwareName, deviceList, ...) are ignored. Only shapes
// are checked here; NewHTTP checks ranges and the rules. Every error is a
// *FieldError naming the field, e.g. "installTimeWindowList[2].endTime"
// (ErrBadJSON for a wrong shape, ErrBadDate, ErrBadWindow). On error r is
// unchanged. null is a no-op.
func (r *HTTPRequest) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	var raw struct {
		StartDate              json.RawMessage `json:"startDate"`
		EndDate                json.RawMessage `json:"endDate"`
		CampaignTimeWindowList json.RawMessage `json:"campaignTimeWindowList"`
		DownloadAfterDate      json.RawMessage `json:"downloadAfterDate"`
		DownloadTimeWindowList json.RawMessage `json:"downloadTimeWindowList"`
		InstallAfterDate       json.RawMessage `json:"installAfterDate"`
		InstallTimeWindowList  json.RawMessage `json:"installTimeWindowList"`
		TimeZone               json.RawMessage `json:"timeZone"`
	}
	if len(b) == 0 || b[0] != '{' {
		return fieldErr("request", string(b), ErrBadJSON, "a request must be a JSON object")
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fieldErr("request", string(b), ErrBadJSON, err.Error())
	}
	var v HTTPRequest
	var err error
	dates := []struct {
		field string
		raw   json.RawMessage
		dst   *Date
	}{
		{"startDate", raw.StartDate, &v.StartDate},
		{"endDate", raw.EndDate, &v.EndDate},
		{"downloadAfterDate", raw.DownloadAfterDate, &v.DownloadAfterDate},
		{"installAfterDate", raw.InstallAfterDate, &v.InstallAfterDate},
	}
	for _, d := range dates {
		if *d.dst, err = decodeDate(d.field, d.raw); err != nil {
			return err
		}
	}
	lists := []struct {
		field string
		raw   json.RawMessage
		dst   *[]Window
	}{
		{"campaignTimeWindowList", raw.CampaignTimeWindowList, &v.CampaignTimeWindowList},
		{"downloadTimeWindowList", raw.DownloadTimeWindowList, &v.DownloadTimeWindowList},
		{"installTimeWindowList", raw.InstallTimeWindowList, &v.InstallTimeWindowList},
	}
	for _, l := range lists {
		if *l.dst, err = decodeWindows(l.field, l.raw); err != nil {
			return err
		}
	}
	if v.TimeZone, err = decodeString("timeZone", raw.TimeZone); err != nil {
		return err
	}
	*r = v
	return nil
}

// decodeString reads an optional JSON string (absent or null = "").
func decodeString(field string, raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if raw[0] != '"' {
		return "", fieldErr(field, string(raw), ErrBadJSON, "want a string")
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fieldErr(field, string(raw), ErrBadJSON, err.Error())
	}
	return s, nil
}

// decodeDate reads an optional "YYYY-MM-DD" (absent, null or "" = zero).
func decodeDate(field string, raw json.RawMessage) (Date, error) {
	s, err := decodeString(field, raw)
	if err != nil || s == "" {
		return Date{}, err
	}
	return ParseDate(field, s)
}

// decodeWindows reads an optional window list; empty reads as nil, since
// both mean "all hours".
func decodeWindows(field string, raw json.RawMessage) ([]Window, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if raw[0] != '[' {
		return nil, fieldErr(field, string(raw), ErrBadJSON, "want an array of windows")
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fieldErr(field, string(raw), ErrBadJSON, err.Error())
	}
	var ws []Window
	for i, it := range items {
		w, err := decodeWindow(field+"["+strconv.Itoa(i)+"]", it)
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}
