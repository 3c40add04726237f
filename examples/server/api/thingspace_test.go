package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/examples/server/api"
)

// POST /campaigns/software/{acc} reads hours as the SDK's
// SchedulesSoftwareUpgradeRequest sends them (strings) or as numbers,
// and answers them as strings (DownloadTimeWindow), with the device
// list; POST /campaigns/{acc} answers them as numbers (V2TimeWindow).
func TestScheduleHoursOnTheWire(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	windows := `"downloadTimeWindowList":[{"startTime":"2","endTime":"4"}],"installTimeWindowList":[{"startTime":5,"endTime":"7"}]`
	_, raw := f.do("POST", v2+"/campaigns/software/acme", campaignBody(tomorrow, "2026-03-05", f.ids[:2], windows))
	for _, want := range []string{`"downloadTimeWindowList":[{"startTime":"2","endTime":"4"}]`,
		`"installTimeWindowList":[{"startTime":"5","endTime":"7"}]`, `"deviceList":` + list(f.ids[:2]...), `"status":"CampaignRequestQueued"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("software schedule lacks %s: %s", want, raw)
		}
	}
	_, raw = f.do("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[2:3], windows))
	if !strings.Contains(string(raw), `"downloadTimeWindowList":[{"startTime":2,"endTime":4}]`) {
		t.Errorf("older schedule path: %s", raw)
	}
	_, raw = f.do("GET", v2+"/campaigns/acme/c1", "")
	if !strings.Contains(string(raw), `"installTimeWindowList":[{"startTime":5,"endTime":7}]`) {
		t.Errorf("GET answers V2TimeWindow: %s", raw)
	}
}

// Strings are bounded, valid UTF-8 and free of NUL, in bodies, paths and
// queries; the message names the field.
func TestStringBounds(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: api.Options{MaxStringBytes: 64}})
	long := strings.Repeat("x", 65)
	for _, tc := range []struct{ name, method, path, body, field string }{
		{"long campaign name", "POST", v2 + "/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[:1], `"campaignName":"`+long+`"`), "campaignName"},
		{"long device id in a list", "POST", v2 + "/campaigns/acme", campaignBody(tomorrow, "2026-03-05", []string{long}, ""), "deviceList"},
		{"NUL in a name", "POST", v2 + "/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[:1], `"softwareName":"a\u0000b"`), "softwareName"},
		{"invalid UTF-8", "POST", v2 + "/campaigns/acme", "{\"softwareName\":\"\xff\"}", "body"},
		{"long key", "PUT", v2 + "/logging/acme/devices", `{"` + long + `":1,"deviceIds":["x"]}`, long[:20]},
		{"long path value", "GET", v2 + "/campaigns/acme/" + long, "", "campaignId"},
		{"long query value", "GET", v2 + "/reports/acme/campaigns?lastSeenCampaignId=" + long, "", "lastSeenCampaignId"},
		{"long query", "GET", v2 + "/reports/acme/campaigns?x=" + strings.Repeat("y", 17<<10), "", "query"},
		{"NUL in a short body", "POST", dev + "/checkin", `{"deviceId":"a\u0000"}`, "deviceId"},
		{"device side", "POST", dev + "/checkin", `{"deviceId":"` + f.ids[0] + `","result":"` + long + `"}`, "result"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := *f
			g.t = t
			if msg := g.fails(tc.method, tc.path, tc.body, 400, api.CodeBadRequest); !strings.Contains(msg, tc.field) {
				t.Errorf("message %q does not name %s", msg, tc.field)
			}
		})
	}
	var h api.CampaignHistory
	f.ok("GET", v2+"/reports/acme/campaigns", "", &h)
	if len(h.CampaignList) != 0 {
		t.Fatalf("a refused schedule created %+v", h.CampaignList)
	}
}

// Callbacks through the API: /v2 register, list, update, deregister;
// /v1 register, list, deregister; and the Manager's changes delivered to
// the registered URL in the shape the OpenAPI document gives them.
func TestCallbacks(t *testing.T) {
	f := newFixture(t, fixtureConfig{callbacks: true})
	var mu sync.Mutex
	var got [][]byte
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
	}))
	defer rc.Close()
	received := func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return append([][]byte(nil), got...)
	}

	var cb api.CallbackURL
	f.ok("GET", v2+"/callbacks/acme", "", &cb)
	if cb.URL != "" {
		t.Fatalf("before registering: %+v", cb)
	}
	f.fails("PUT", v2+"/callbacks/acme", `{"url":"`+rc.URL+`"}`, 400, api.CodeNotFound) // nothing to update yet
	f.fails("POST", v2+"/callbacks/acme", `{"url":"ftp://example.test"}`, 400, api.CodeBadRequest)
	f.fails("POST", v2+"/callbacks/acme", `{}`, 400, api.CodeBadRequest)
	f.ok("POST", v2+"/callbacks/acme", `{"url":"http://127.0.0.1:1/old"}`, &cb)
	f.ok("PUT", v2+"/callbacks/acme", `{"url":"`+rc.URL+`/v2"}`, &cb)
	f.ok("GET", v2+"/callbacks/acme", "", &cb)
	if cb.URL != rc.URL+"/v2" {
		t.Fatalf("after the update: %+v", cb)
	}

	var res1 api.CallbackRegistrationResultV1
	f.fails("POST", v1+"/callbacks/acme", `{"name":"Sms","url":"`+rc.URL+`"}`, 400, api.CodeBadRequest)
	f.ok("POST", v1+"/callbacks/acme", `{"name":"Fota","url":"`+rc.URL+`/v1","username":"u","password":"p"}`, &res1)
	if res1 != (api.CallbackRegistrationResultV1{AccountName: "acme", ServiceName: "Fota"}) {
		t.Fatalf("v1 registration: %+v", res1)
	}
	var listed []api.RegisteredCallback
	f.ok("GET", v1+"/callbacks/acme", "", &listed)
	if len(listed) != 1 || listed[0] != (api.RegisteredCallback{AccountName: "acme", Name: "Fota", URL: rc.URL + "/v1", Username: "u"}) {
		t.Fatalf("v1 listing: %+v", listed)
	}
	_, raw := f.do("GET", v1+"/callbacks/acme", "")
	if strings.Contains(string(raw), `"p"`) {
		t.Errorf("the listing shows the password: %s", raw)
	}
	f.fails("DELETE", v1+"/callbacks/acme/name/Sms", "", 400, api.CodeBadRequest)
	f.ok("DELETE", v1+"/callbacks/acme/name/Fota", "", nil)
	f.fails("DELETE", v1+"/callbacks/acme/name/Fota", "", 400, api.CodeNotFound)
	f.ok("GET", v1+"/callbacks/acme", "", &listed)
	if len(listed) != 0 {
		t.Fatalf("after deregistering: %+v", listed)
	}

	// The Manager's changes reach the /v2 URL: the campaign's status and
	// each device's.
	f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[:2], ""), nil)
	c, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	schema := c.doc.Components.Schemas["CallbackMessage"].Value
	// statuses validates every message received so far against the
	// document and returns the statuses they carry.
	statuses := func() map[string]bool {
		seen := map[string]bool{}
		for _, b := range received() {
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			if err := schema.VisitJSON(v); err != nil {
				t.Fatalf("callback %s breaks CallbackMessage: %v", b, err)
			}
			var m struct {
				Type, Status string
				DeviceList   []api.DeviceResult
			}
			_ = json.Unmarshal(b, &m)
			if m.Status != "" {
				seen[m.Type+" "+m.Status] = true
			}
			for _, d := range m.DeviceList {
				seen[m.Type+" "+d.Status] = true
			}
		}
		return seen
	}
	waitFor(t, "the queued campaign's and an accepted device's callbacks", func() bool {
		seen := statuses()
		return seen["CampaignStatus CampaignRequestQueued"] && seen["DeviceStatus Accepted"]
	})

	// Deregistered: once what was queued has been dealt with, the next
	// change is not delivered.
	f.ok("DELETE", v2+"/callbacks/acme", "", nil)
	f.fails("DELETE", v2+"/callbacks/acme", "", 400, api.CodeNotFound)
	d := f.opts().Callbacks
	waitFor(t, "the queue settled", func() bool {
		st := d.Stats()
		return st.Queued == st.Delivered+st.DeadLetters+st.Discarded
	})
	before, unregistered := len(received()), d.Stats().Unregistered
	f.ok("DELETE", v2+"/campaigns/acme/c1", "", nil)
	if d.Stats().Unregistered == unregistered {
		t.Error("the change after deregistration was not counted as unregistered")
	}
	if st := d.Stats(); st.Queued != st.Delivered+st.DeadLetters+st.Discarded || len(received()) != before {
		t.Errorf("queued or delivered after deregistration: %+v, %d received, %d before", st, len(received()), before)
	}
}

// Without a dispatcher the callback routes say so in the SDK's shape.
func TestCallbacksUnsupported(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	f.fails("GET", v2+"/callbacks/acme", "", 400, api.CodeUnsupported)
	f.fails("POST", v1+"/callbacks/acme", `{"name":"Fota","url":"http://127.0.0.1:1/"}`, 400, api.CodeUnsupported)
}

// waitFor polls until cond holds; the bound turns a hang into a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// Every request is logged once: method, route pattern, status,
// duration; a request without a route is logged as route "(none)".
func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	f := newFixture(t, fixtureConfig{opts: api.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}})
	f.ok("GET", v2+"/reports/acme/campaigns", "", nil)
	f.fails("GET", v2+"/nowhere/acme", "", 400, api.CodeNotFound)
	f.do("GET", v2+"/campaigns/acme/c1", "") // not found
	req := newRequest("GET", v2+"/reports/acme/campaigns", "")
	f.send(req) // no token: 401
	var records []map[string]any
	for line := range strings.Lines(buf.String()) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r["msg"] == "request" {
			records = append(records, r)
		}
	}
	want := []string{
		"GET GET /api/fota/v2/reports/{acc}/campaigns 200",
		"GET (none) 400",
		"GET GET /api/fota/v2/campaigns/{acc}/{campaignId} 400",
		"GET GET /api/fota/v2/reports/{acc}/campaigns 401",
	}
	if len(records) != len(want) {
		t.Fatalf("%d request records, want %d:\n%s", len(records), len(want), buf.String())
	}
	for i, r := range records {
		if got := fmt.Sprintf("%v %v %v", r["method"], r["route"], r["status"]); got != want[i] {
			t.Errorf("record %d: %s, want %s", i, got, want[i])
		}
		if d, ok := r["duration"].(float64); !ok || d < 0 {
			t.Errorf("record %d: duration %v", i, r["duration"])
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The document is served as it is embedded, and every answer check can
// fail: a body with a numeric clientType (what the server sent before)
// or a campaign status outside the SDK's enum breaks it.
func TestOpenAPIServedAndEnforced(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), api.OpenAPI) || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, tc := range []struct{ path, body string }{
		{v2 + "/logging/acme/devices/1/checkInHistory", `[{"deviceId":"1","clientType":6,"result":"","failureType":"","timeCompleted":"x"}]`},
		{v2 + "/campaigns/acme/c1", `{"id":"c1","accountName":"acme","softwareName":"s","distributionType":"HTTP","make":"","model":"",` +
			`"softwareFrom":"1","softwareTo":"2","startDate":"2026-03-02","endDate":"2026-03-03","status":"CampaignInProgress"}`},
		{v2 + "/licenses/acme/assign", `{"accountName":"acme","deviceList":[]}`},
	} {
		method := "GET"
		if strings.HasSuffix(tc.path, "assign") {
			method = "POST"
		}
		rt := &recordingTB{TB: t}
		checkContract(rt, httptest.NewRequest(method, tc.path, nil), 200, http.Header{"Content-Type": {"application/json"}}, []byte(tc.body))
		if !rt.failed {
			t.Errorf("%s %s: the contract accepted %s", method, tc.path, tc.body)
		}
	}
}

// recordingTB records a failure instead of failing.
type recordingTB struct {
	testing.TB
	failed bool
}

func (r *recordingTB) Errorf(string, ...any) { r.failed = true }
func (r *recordingTB) Helper()               {}

// Callbacks carry changes of the status ThingSpace shows: a device that
// downloads, has downloaded and installs is UpgradePending throughout,
// and its receiver hears UpgradePending once, between Accepted and
// UpgradeSuccess.
func TestCallbacksCarryWireChangesOnly(t *testing.T) {
	f := newFixture(t, fixtureConfig{callbacks: true})
	var mu sync.Mutex
	var got []string // the device's statuses, as received
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ DeviceList []api.DeviceResult }
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		defer mu.Unlock()
		for _, d := range m.DeviceList {
			got = append(got, d.Status)
		}
	}))
	defer rc.Close()
	f.ok("POST", v2+"/callbacks/acme", `{"url":"`+rc.URL+`"}`, nil)
	d := f.ids[0]
	f.ok("POST", v2+"/campaigns/acme", campaignBody(today, "2026-03-05", []string{d}, `"installTimeWindowList":[{"startTime":23,"endTime":24}]`), nil)
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+d+`"}`, nil)                                         // downloading
	f.ok("POST", dev+"/report", `{"deviceId":"`+d+`","campaignId":"c1","outcome":"downloaded"}`, nil) // downloaded
	f.clk.Set(time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC))
	var in fota.Instruction
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+d+`"}`, &in) // installing
	if in.Action != fota.ActionInstall {
		t.Fatalf("second check-in: %+v", in)
	}
	f.ok("POST", dev+"/report", `{"deviceId":"`+d+`","campaignId":"c1","outcome":"installed"}`, nil)
	st := f.opts().Callbacks
	waitFor(t, "every callback delivered", func() bool {
		s := st.Stats()
		return s.Queued > 0 && s.Queued == s.Delivered+s.DeadLetters+s.Discarded
	})
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(got) // delivery is concurrent: compare as a set with counts
	if want := []string{"Accepted", "UpgradePending", "UpgradeSuccess"}; !slices.Equal(got, want) {
		t.Fatalf("device statuses received %v, want each of %v once", got, want)
	}
}
