package schedule

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestWindowJSON: "V2TimeWindow = {startTime: integer, endTime: integer}",
// and the SDK's DownloadTimeWindow sends strings ("20") (§3.2).
func TestWindowJSON(t *testing.T) {
	for _, c := range []struct {
		in    string
		want  Window
		err   error
		field string
	}{
		{`{"startTime":2,"endTime":4}`, Window{2, 4}, nil, ""},
		{`{"startTime":"20","endTime":"24"}`, Window{20, 24}, nil, ""},
		{`{"endTime":24,"startTime":"0","extra":true}`, Window{0, 24}, nil, ""},
		{`{"startTime":25,"endTime":4}`, Window{25, 4}, nil, ""}, // ranges are NewHTTP's
		{`{"startTime":2.5,"endTime":4}`, Window{}, ErrBadWindow, "window.startTime"},
		{`{"startTime":2,"endTime":"4h"}`, Window{}, ErrBadWindow, "window.endTime"},
		{`{"startTime":2,"endTime":1e1}`, Window{}, ErrBadWindow, "window.endTime"},
		{`{"startTime":"+2","endTime":4}`, Window{}, ErrBadWindow, "window.startTime"},
		{`{"startTime":99999999999999999999,"endTime":4}`, Window{}, ErrBadWindow, "window.startTime"},
		{`{"endTime":4}`, Window{}, ErrBadWindow, "window.startTime"},
		{`{"startTime":2,"endTime":null}`, Window{}, ErrBadWindow, "window.endTime"},
		{`{"startTime":true,"endTime":4}`, Window{}, ErrBadWindow, "window.startTime"},
		{`[2,4]`, Window{}, ErrBadJSON, "window"},
		{`"2-4"`, Window{}, ErrBadJSON, "window"},
	} {
		w := Window{7, 8}
		err := json.Unmarshal([]byte(c.in), &w)
		if c.err == nil {
			if err != nil || w != c.want {
				t.Errorf("%s: %v %v", c.in, w, err)
			}
			continue
		}
		var fe *FieldError
		if !errors.Is(err, c.err) || !errors.As(err, &fe) || fe.Field != c.field || w != (Window{7, 8}) {
			t.Errorf("%s: %v %v; want %v on %s, window unchanged", c.in, w, err, c.err, c.field)
		}
	}
	if b, _ := json.Marshal(Window{2, 4}); string(b) != `{"startTime":2,"endTime":4}` {
		t.Errorf("Marshal: %s", b)
	}
}

// TestRequestJSON reads a ThingSpace schedule request and names the field
// of each error.
func TestRequestJSON(t *testing.T) {
	body := `{
	  "campaignName": "FOTA_Verizon_Upgrade",
	  "softwareName": "FOTA_Verizon_Model-A_02To03_HF",
	  "distributionType": "HTTP",
	  "startDate": "2020-08-21",
	  "endDate": "2020-08-22",
	  "downloadAfterDate": "2020-08-21",
	  "downloadTimeWindowList": [{"startTime": 20, "endTime": 21}],
	  "installAfterDate": "2020-08-22",
	  "installTimeWindowList": [{"startTime": "22", "endTime": "23"}],
	  "deviceList": ["990003425730535"]
	}`
	var r HTTPRequest
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	want := HTTPRequest{
		StartDate: Date{2020, 8, 21}, EndDate: Date{2020, 8, 22},
		DownloadAfterDate: Date{2020, 8, 21}, DownloadTimeWindowList: []Window{{20, 21}},
		InstallAfterDate: Date{2020, 8, 22}, InstallTimeWindowList: []Window{{22, 23}},
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got %+v", r)
	}
	b, err := json.Marshal(r)
	if err != nil || string(b) != `{"startDate":"2020-08-21","endDate":"2020-08-22","downloadAfterDate":"2020-08-21","downloadTimeWindowList":[{"startTime":20,"endTime":21}],"installAfterDate":"2020-08-22","installTimeWindowList":[{"startTime":22,"endTime":23}]}` {
		t.Errorf("Marshal: %s %v", b, err)
	}
	// Zero dates are omitted; absent, null and "" read as zero.
	if b, _ := json.Marshal(HTTPRequest{StartDate: Date{2026, 3, 5}}); string(b) != `{"startDate":"2026-03-05"}` {
		t.Errorf("omitzero: %s", b)
	}
	r, err = ParseHTTPRequest([]byte(`{"startDate":"2026-03-05","endDate":null,"installAfterDate":"","timeZone":"Europe/Berlin"}`))
	if err != nil || !reflect.DeepEqual(r, HTTPRequest{StartDate: Date{2026, 3, 5}, TimeZone: "Europe/Berlin"}) {
		t.Errorf("absent dates: %+v %v", r, err)
	}

	for _, c := range []struct {
		in    string
		err   error
		field string
		value string
	}{
		{`{"startDate":"2020-8-21"}`, ErrBadDate, "startDate", "2020-8-21"},
		{`{"endDate":"2020-02-30"}`, ErrBadDate, "endDate", "2020-02-30"},
		{`{"downloadAfterDate":20200821}`, ErrBadJSON, "downloadAfterDate", "20200821"},
		{`{"installTimeWindowList":[{"startTime":1,"endTime":2},{"startTime":"x","endTime":3}]}`, ErrBadWindow, "installTimeWindowList[1].startTime", "x"},
		{`{"campaignTimeWindowList":{"startTime":1,"endTime":2}}`, ErrBadJSON, "campaignTimeWindowList", `{"startTime":1,"endTime":2}`},
		{`{"downloadTimeWindowList":[null]}`, ErrBadJSON, "downloadTimeWindowList[0]", "null"},
		{`{"timeZone":5}`, ErrBadJSON, "timeZone", "5"},
		{`{"startDate":"2020-08-21"`, ErrBadJSON, "request", `{"startDate":"2020-08-21"`},
		{`[]`, ErrBadJSON, "request", `[]`},
	} {
		r := want
		err := r.UnmarshalJSON([]byte(c.in))
		var fe *FieldError
		if !errors.Is(err, c.err) || !errors.As(err, &fe) || fe.Field != c.field || fe.Value != c.value || !reflect.DeepEqual(r, want) {
			t.Errorf("%s: %v; want %v on %s %q, request unchanged", c.in, err, c.err, c.field, c.value)
		}
	}
}

func FuzzWindowUnmarshalJSON(f *testing.F) {
	for _, s := range []string{`{"startTime":2,"endTime":4}`, `{"startTime":"20","endTime":"24"}`, `{"startTime":-1}`, `null`, `[1,2]`, `{"startTime":"0x1","endTime":1e2}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w := Window{7, 8}
		if err := w.UnmarshalJSON(b); err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || !(errors.Is(err, ErrBadJSON) || errors.Is(err, ErrBadWindow)) || !strings.HasPrefix(fe.Field, "window") || w != (Window{7, 8}) {
				t.Fatalf("%q: %v (window %v)", b, err, w)
			}
			_ = err.Error()
			return
		}
		out, err := json.Marshal(w)
		var back Window
		if err != nil || json.Unmarshal(out, &back) != nil || back != w {
			t.Fatalf("round trip of %v: %s %v", w, out, err)
		}
		if w.Validate("w") == nil && w.hours() == 0 {
			t.Fatalf("valid window %v has no hours", w)
		}
	})
}

func FuzzHTTPRequestJSON(f *testing.F) {
	for _, s := range []string{
		`{"startDate":"2026-03-05","endDate":"2026-03-12","campaignTimeWindowList":[{"startTime":2,"endTime":4}],"downloadAfterDate":"2026-03-06","downloadTimeWindowList":[{"startTime":"20","endTime":"24"}],"installAfterDate":"2026-03-07","installTimeWindowList":[{"startTime":0,"endTime":1}],"timeZone":"Australia/Lord_Howe"}`,
		`{"startDate":"2026-03-05"}`,
		`{"startDate":"2026-03-05","timeZone":"America/New_York","downloadTimeWindowList":[{"startTime":2,"endTime":3}]}`,
		`{"startDate":"2026-03-04","endDate":"2026-03-01"}`,
		`{"endDate":null,"timeZone":"Local"}`,
		`null`, `[]`, `{"startDate":5}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseHTTPRequest(b)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("%q: untyped error %v", b, err)
			}
			_ = err.Error()
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("Marshal %+v: %v", r, err)
		}
		back, err := ParseHTTPRequest(out)
		if err != nil || !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip %+v -> %s -> %+v %v", r, out, back, err)
		}
		h, err := NewHTTP(r, now, DefaultPolicy())
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("NewHTTP: untyped error %v", err)
			}
			return
		}
		for ph := range numPhases {
			if o, ok := h.NextOpen(ph, now); ok && !h.Open(ph, o) {
				t.Fatalf("NextOpen %v not open", o)
			}
		}
	})
}
