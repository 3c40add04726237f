package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/api"
	"github.com/fotakit/fota/lifecycle"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// Every sentinel the Manager and the pure packages return maps to a
// status and an errorCode; server faults are 500 and hide their text.
func TestClassifyEverySentinel(t *testing.T) {
	secret := "store password=hunter2"
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{&fota.NotFoundError{Kind: "campaign", ID: "c9"}, 404, api.CodeNotFound},
		{&fota.NotFoundError{Kind: "device", ID: "d", Campaign: "c9"}, 404, api.CodeNotFound},
		{&fota.RequestError{Field: "deviceList", Value: "", Reason: "required"}, 400, api.CodeBadRequest},
		{&fota.ReportError{Campaign: "c1", Device: "d", Report: "installed"}, 400, api.CodeDuplicateReport},
		{&fota.FamilyError{Op: "report", ID: "c1", Protocol: device.LWM2M}, 400, api.CodeWrongFamily},
		{fmt.Errorf("schedule: %w", pilot.ErrPilotRequired), 400, api.CodePilotRequired},
		{&lifecycle.TransitionError{Lifecycle: "campaign (HTTP)", State: "Ended", Event: "abort"}, 400, api.CodeInvalidTransition},
		{fmt.Errorf("x: %w", campaign.ErrDevicesFrozen), 400, api.CodeDevicesFrozen},
		{fmt.Errorf("x: %w", campaign.ErrStarted), 400, api.CodeTooLate},
		{fmt.Errorf("x: %w", campaign.ErrEnded), 400, api.CodeTooLate},
		{fmt.Errorf("x: %w", campaign.ErrNotStarted), 400, api.CodeTooEarly},
		{&campaign.StatusError{Field: "campaignStatus", Value: "Bogus"}, 400, api.CodeBadRequest},
		{&schedule.FieldError{Field: "body", Err: schedule.ErrBadJSON}, 400, api.CodeBadRequest},
		{&schedule.FieldError{Field: "startDate", Value: "2026-13-01", Err: schedule.ErrBadDate}, 400, api.CodeBadDate},
		{&schedule.FieldError{Field: "endDate", Err: schedule.ErrMissingDate}, 400, api.CodeMissingDate},
		{&schedule.FieldError{Field: "startDate", Err: schedule.ErrStartPassed}, 400, api.CodeStartPassed},
		{&schedule.FieldError{Field: "endDate", Err: schedule.ErrEndBeforeStart}, 400, api.CodeEndBeforeStart},
		{&schedule.FieldError{Field: "installAfterDate", Err: schedule.ErrDateOutside}, 400, api.CodeDateOutside},
		{&schedule.FieldError{Field: "downloadTimeWindowList[0]", Err: schedule.ErrBadWindow}, 400, api.CodeBadWindow},
		{&schedule.FieldError{Field: "timeZone", Err: schedule.ErrBadZone}, 400, api.CodeBadTimeZone},
		{&schedule.FieldError{Field: "startDate", Err: schedule.ErrStartFixed}, 400, api.CodeStartFixed},
		{&schedule.FieldError{Field: "endDate", Err: schedule.ErrEndTooSoon}, 400, api.CodeEndTooSoon},
		{&schedule.FieldError{Field: "downloadTimeWindowList", Err: schedule.ErrWindowRemoved}, 400, api.CodeWindowRemoved},
		{&schedule.FieldError{Field: "timeZone", Err: schedule.ErrFixedAfterStart}, 400, api.CodeFixedAfterStart},
		{&schedule.FieldError{Field: "endDate", Err: schedule.ErrEnded}, 400, api.CodeTooLate},
		{&verboselog.LimitError{Limit: 20, Device: "d"}, 400, api.CodeLoggingLimit},
		{&verboselog.NotHTTPError{Device: "d", Protocol: device.LWM2M}, 400, api.CodeNotHTTP},
		{&verboselog.NotReadyError{Device: "d", ReadyAt: start}, 400, api.CodeNotReady},
		{&verboselog.FieldError{Field: "deviceId", Err: verboselog.ErrNeverEnabled}, 400, api.CodeNeverEnabled},
		{&verboselog.UploadError{Device: "d", Reason: "not collecting"}, 400, api.CodeUploadRefused},
		{&verboselog.SessionError{Device: "d", Err: &lifecycle.TransitionError{Lifecycle: "logging session", State: "Off", Event: "disable"}}, 400, api.CodeInvalidTransition},
		{&verboselog.FieldError{Field: "deviceId", Err: verboselog.ErrDeviceID}, 400, api.CodeBadRequest},
		{&verboselog.FieldError{Field: "logType", Err: verboselog.ErrLogType}, 400, api.CodeBadRequest},
		{&verboselog.FieldError{Field: "clientType", Err: verboselog.ErrClientType}, 400, api.CodeBadRequest},
		{&verboselog.FieldError{Field: "state", Err: verboselog.ErrState}, 400, api.CodeBadRequest},
		{&verboselog.FieldError{Field: "logTime", Err: verboselog.ErrTime}, 400, api.CodeBadRequest},
		{&verboselog.FieldError{Field: "limit", Err: verboselog.ErrCount}, 400, api.CodeBadRequest},
		{&verboselog.FieldError{Field: "body", Err: verboselog.ErrJSON}, 400, api.CodeBadRequest},
		{&device.IMEIError{}, 400, api.CodeInvalidIMEI},
		{&device.ProtocolError{}, 400, api.CodeBadRequest},
		{&http.MaxBytesError{Limit: 10}, 413, api.CodeTooLarge},
		{fmt.Errorf("read: %w", context.Canceled), 503, api.CodeUnavailable},
		{context.DeadlineExceeded, 503, api.CodeUnavailable},
		// Server faults: 500, and the text stays in the log.
		{errors.New(secret), 500, api.CodeInternal},
		{fmt.Errorf("%s: %w", secret, fota.ErrReadOnly), 500, api.CodeInternal},
		{&schedule.FieldError{Field: "Policy.RetryHour", Value: secret, Err: schedule.ErrBadPolicy}, 500, api.CodeInternal},
		{&verboselog.FieldError{Field: "Policy.Duration", Value: secret, Err: verboselog.ErrPolicy}, 500, api.CodeInternal},
		{fmt.Errorf("%s: %w", secret, pilot.ErrInvalidGate), 500, api.CodeInternal},
		{fmt.Errorf("%s: %w", secret, pilot.ErrInvalidOutcome), 500, api.CodeInternal},
		{fmt.Errorf("%s: %w", secret, pilot.ErrInvalidPolicy), 500, api.CodeInternal},
		{fmt.Errorf("%s: %w", secret, pilot.ErrInvalidCount), 500, api.CodeInternal},
	} {
		status, body := api.Classify(tc.err)
		if status != tc.status || body.ErrorCode != tc.code {
			t.Errorf("Classify(%T %v) = %d %s, want %d %s", tc.err, tc.err, status, body.ErrorCode, tc.status, tc.code)
		}
		if strings.Contains(body.ErrorMessage, "hunter2") {
			t.Errorf("Classify(%v) leaks %q", tc.err, body.ErrorMessage)
		}
		if body.ErrorMessage == "" {
			t.Errorf("Classify(%v): empty message", tc.err)
		}
	}
}

// Every error the API gives for a real request: its status and errorCode,
// and that the message names the field or value at fault.
func TestErrorResponses(t *testing.T) {
	f := newFixture(t, fixtureConfig{opts: api.Options{MaxBodyBytes: 4096}})
	// c1: queued (tomorrow), c2: started on-demand with a download window.
	f.ok("POST", v2+"/campaigns/acme", campaignBody(tomorrow, "2026-03-05", f.ids[:2], ""), nil)
	f.ok("POST", v2+"/campaigns/acme", campaignBody(today, "2026-03-05", f.ids[2:4],
		`"downloadAfterDate":"2026-03-01","downloadTimeWindowList":[{"startTime":20,"endTime":24}]`), nil)
	// c3: ended
	f.ok("POST", v2+"/campaigns/acme", campaignBody(today, "2026-03-05", f.ids[4:5], ""), nil)
	f.ok("POST", dev+"/checkin", `{"deviceId":"`+f.ids[4]+`"}`, nil)
	f.ok("POST", dev+"/report", `{"deviceId":"`+f.ids[4]+`","campaignId":"c3","outcome":"installed"}`, nil)
	f.ok("PUT", v2+"/logging/acme/devices/"+f.ids[5], "", nil)

	sched := func(start, end string, extra string) string { return campaignBody(start, end, f.ids[10:11], extra) }
	twentyOne := campaignBody(tomorrow, "2026-03-05", f.ids[:21], "")
	twentyOneLogs := `{"deviceIds":` + list(append(slices.Clone(f.ids[:5]), f.ids[6:22]...)...) + `}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
		mentions                 string
	}{
		{"malformed JSON", "POST", "/campaigns/acme", `{"softwareName":`, 400, api.CodeBadRequest, "malformed JSON"},
		{"wrong type names the field", "POST", "/campaigns/acme", `{"softwareName":7}`, 400, api.CodeBadRequest, "softwareName"},
		{"empty body", "POST", "/campaigns/acme", ``, 400, api.CodeBadRequest, "body"},
		{"softwareName required", "POST", "/campaigns/acme", `{"softwareFrom":"1","softwareTo":"2","deviceList":["x"]}`, 400, api.CodeBadRequest, "softwareName"},
		{"distributionType OMA", "POST", "/campaigns/acme", sched(tomorrow, "2026-03-05", `"distributionType":"OMA"`), 400, api.CodeBadRequest, "OMA"},
		{"deviceList empty", "POST", "/campaigns/acme", campaignBody(tomorrow, "2026-03-05", []string{}, ""), 400, api.CodeBadRequest, "deviceList"},
		{"device listed twice", "POST", "/campaigns/acme", campaignBody(tomorrow, "2026-03-05", []string{f.ids[10], f.ids[10]}, ""), 400, api.CodeBadRequest, f.ids[10]},
		{"bad date", "POST", "/campaigns/acme", sched("2026-13-01", "2026-03-05", ""), 400, api.CodeBadDate, "2026-13-01"},
		{"missing endDate", "POST", "/campaigns/acme", sched(tomorrow, "", ""), 400, api.CodeMissingDate, "endDate"},
		{"start passed", "POST", "/campaigns/acme", sched("2026-02-27", "2026-03-05", ""), 400, api.CodeStartPassed, "2026-02-27"},
		{"end before start", "POST", "/campaigns/acme", sched("2026-03-04", "2026-03-03", ""), 400, api.CodeEndBeforeStart, "endDate"},
		{"after-date outside", "POST", "/campaigns/acme", sched(tomorrow, "2026-03-05", `"installAfterDate":"2026-04-01"`), 400, api.CodeDateOutside, "installAfterDate"},
		{"bad window", "POST", "/campaigns/acme", sched(tomorrow, "2026-03-05", `"downloadTimeWindowList":[{"startTime":5,"endTime":3}]`), 400, api.CodeBadWindow, "downloadTimeWindowList[0]"},
		{"bad zone", "POST", "/campaigns/acme", sched(tomorrow, "2026-03-05", `"timeZone":"Mars/Olympus"`), 400, api.CodeBadTimeZone, "Mars/Olympus"},
		{"pilot limit: 21 devices", "POST", "/campaigns/software/acme", twentyOne, 400, api.CodePilotRequired, "20"},
		{"unknown campaign", "GET", "/campaigns/acme/c404", "", 400, api.CodeNotFound, "c404"},
		{"unknown campaign devices", "GET", "/reports/acme/campaigns/c404/devices", "", 400, api.CodeNotFound, "c404"},
		{"another account's campaign", "GET", "/campaigns/other/c1", "", 400, api.CodeNotFound, "c1"},
		{"Type merge", "PUT", "/campaigns/acme/c1", `{"Type":"merge","deviceList":["x"]}`, 400, api.CodeBadRequest, "merge"},
		{"Type missing", "PUT", "/campaigns/acme/c1", `{"deviceList":["x"]}`, 400, api.CodeBadRequest, "Type"},
		{"append after start", "PUT", "/campaigns/acme/c2", `{"Type":"append","deviceList":` + list(f.ids[10]) + `}`, 400, api.CodeDevicesFrozen, "change devices"},
		{"append a member", "PUT", "/campaigns/acme/c1", `{"Type":"append","deviceList":` + list(f.ids[0]) + `}`, 400, api.CodeBadRequest, f.ids[0]},
		{"remove a stranger", "PUT", "/campaigns/acme/c1", `{"Type":"remove","deviceList":` + list(f.ids[10]) + `}`, 400, api.CodeNotFound, f.ids[10]},
		{"dates: start moved after start", "PUT", "/campaigns/acme/c2/dates", `{"startDate":"2026-03-02","endDate":"2026-03-05"}`, 400, api.CodeStartFixed, "startDate"},
		{"dates: end within 24 h", "PUT", "/campaigns/acme/c2/dates", `{"startDate":"2026-03-01","endDate":"2026-03-01","downloadAfterDate":"2026-03-01","downloadTimeWindowList":[{"startTime":20,"endTime":24}]}`, 400, api.CodeEndTooSoon, "endDate"},
		{"dates: window removed", "PUT", "/campaigns/acme/c2/dates", `{"startDate":"2026-03-01","endDate":"2026-03-06","downloadAfterDate":"2026-03-01"}`, 400, api.CodeWindowRemoved, "downloadTimeWindowList"},
		{"dates: after-date changed", "PUT", "/campaigns/acme/c2/dates", `{"startDate":"2026-03-01","endDate":"2026-03-06","downloadAfterDate":"2026-03-02","downloadTimeWindowList":[{"startTime":20,"endTime":24}]}`, 400, api.CodeFixedAfterStart, "downloadAfterDate"},
		{"dates: ended campaign", "PUT", "/campaigns/acme/c3/dates", `{"startDate":"2026-03-01","endDate":"2026-03-09"}`, 400, api.CodeInvalidTransition, "CampaignEnded"},
		{"dates: malformed", "PUT", "/campaigns/acme/c1/dates", `{"startDate":2026}`, 400, api.CodeBadRequest, "startDate"},
		{"delete ended", "DELETE", "/campaigns/acme/c3", "", 400, api.CodeInvalidTransition, "abort"},
		{"campaignStatus unknown", "GET", "/reports/acme/campaigns?campaignStatus=CampaignBogus", "", 400, api.CodeBadRequest, "CampaignBogus"},
		{"logging limit", "PUT", "/logging/acme/devices", twentyOneLogs, 400, api.CodeLoggingLimit, "20"},
		{"logging a push device", "PUT", "/logging/acme/devices/" + f.lwm2m, "", 400, api.CodeNotHTTP, f.lwm2m},
		{"logging an unknown device", "PUT", "/logging/acme/devices/490154203237518", "", 400, api.CodeNotFound, "490154203237518"},
		{"logging already on", "PUT", "/logging/acme/devices/" + f.ids[5], "", 400, api.CodeInvalidTransition, f.ids[5]},
		{"logs not ready", "GET", "/logging/acme/devices/" + f.ids[5] + "/logs", "", 400, api.CodeNotReady, "2026-03-02T22:00:00Z"},
		{"logs never enabled", "GET", "/logging/acme/devices/" + f.ids[6] + "/logs", "", 400, api.CodeNeverEnabled, f.ids[6]},
		{"disable logging that is off", "DELETE", "/logging/acme/devices/" + f.ids[6], "", 400, api.CodeInvalidTransition, f.ids[6]},
		{"disable with no list", "DELETE", "/logging/acme/devices", "", 400, api.CodeBadRequest, "body"},
		{"licence body malformed", "POST", "/licenses/acme/assign", `{"deviceList":"x"}`, 400, api.CodeBadRequest, "deviceList"},
		{"licence list empty", "POST", "/licenses/acme/remove", `{"deviceList":[]}`, 400, api.CodeBadRequest, "deviceList"},
		{"check-in without device", "POST", "!/checkin", `{"clientType":1}`, 400, api.CodeBadRequest, "deviceId"},
		{"check-in clientType -1", "POST", "!/checkin", `{"deviceId":"x","clientType":-1}`, 400, api.CodeBadRequest, "clientType"},
		{"check-in clientType text", "POST", "!/checkin", `{"deviceId":"x","clientType":"Device"}`, 400, api.CodeBadRequest, "clientType"},
		{"report outcome unknown", "POST", "!/report", `{"deviceId":"` + f.ids[2] + `","campaignId":"c2","outcome":"exploded"}`, 400, api.CodeBadRequest, "exploded"},
		{"report outcome missing", "POST", "!/report", `{"deviceId":"` + f.ids[2] + `","campaignId":"c2"}`, 400, api.CodeBadRequest, "outcome"},
		{"report campaign missing", "POST", "!/report", `{"deviceId":"` + f.ids[2] + `","outcome":"installed"}`, 400, api.CodeBadRequest, "campaignId"},
		{"report before download", "POST", "!/report", `{"deviceId":"` + f.ids[2] + `","campaignId":"c2","outcome":"installed"}`, 400, api.CodeInvalidTransition, "installed"},
		{"report twice", "POST", "!/report", `{"deviceId":"` + f.ids[4] + `","campaignId":"c3","outcome":"installed"}`, 400, api.CodeDuplicateReport, f.ids[4]},
		{"report from a stranger", "POST", "!/report", `{"deviceId":"` + f.ids[10] + `","campaignId":"c2","outcome":"installed"}`, 404, api.CodeNotFound, f.ids[10]},
		{"report to an unknown campaign", "POST", "!/report", `{"deviceId":"` + f.ids[2] + `","campaignId":"c404","outcome":"installed"}`, 404, api.CodeNotFound, "c404"},
		{"log upload not collecting", "POST", "!/logs", `{"deviceId":"` + f.ids[5] + `","logTime":"2026-03-01T22:00:00Z","logType":"Event","eventLog":"x"}`, 400, api.CodeUploadRefused, f.ids[5]},
		{"log upload bad logType", "POST", "!/logs", `{"deviceId":"` + f.ids[5] + `","logTime":"2026-03-01T22:00:00Z","logType":"Diary"}`, 400, api.CodeBadRequest, "Diary"},
		{"log upload without time", "POST", "!/logs", `{"deviceId":"` + f.ids[5] + `","logType":"Event"}`, 400, api.CodeBadRequest, "logTime"},
		{"body over the limit", "POST", "/campaigns/acme", `{"deviceList":["` + strings.Repeat("1", 5000) + `"]}`, 400, api.CodeTooLarge, "4096"},
		{"unknown route", "GET", "/firmware/acme", "", 400, api.CodeNotFound, "/firmware/acme"},
		{"wrong method", "PATCH", "/campaigns/acme/c1", "", 400, api.CodeMethodNotAllowed, "PATCH"},
		{"wrong method on device side", "GET", "!/checkin", "", 405, api.CodeMethodNotAllowed, "POST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := v2 + tc.path
			if p, ok := strings.CutPrefix(tc.path, "!"); ok {
				path = dev + p
			}
			g := *f
			g.t = t
			msg := g.fails(tc.method, path, tc.body, tc.status, tc.code)
			if !strings.Contains(msg, tc.mentions) {
				t.Errorf("message %q does not mention %q", msg, tc.mentions)
			}
		})
	}
	// The refusals changed nothing.
	var c api.CampaignSoftware
	f.ok("GET", v2+"/campaigns/acme/c2", "", &c)
	if c.EndDate.String() != "2026-03-05" || c.Status != "CampaignScheduled" {
		t.Fatalf("a refused change changed c2: %+v", c)
	}
}

// A wrong method carries Allow, like the ServeMux's 405: 400 on the
// ThingSpace routes (the SDK reads only 400 as its error), 405 on the
// device side.
func TestMethodNotAllowedListsMethods(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	req := httptest.NewRequest("POST", v2+"/campaigns/acme/c1", nil)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	allow := rec.Header().Get("Allow")
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		if !strings.Contains(allow, m) {
			t.Errorf("Allow %q lacks %s", allow, m)
		}
	}
	if rec.Code != 400 || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, httptest.NewRequest("GET", dev+"/checkin", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "POST" {
		t.Errorf("device side: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

// A handler without a Manager answers 500 instead of panicking.
func TestNilManager(t *testing.T) {
	rec := httptest.NewRecorder()
	api.New(nil, api.Options{}).ServeHTTP(rec, httptest.NewRequest("GET", v2+"/campaigns/acme/c1", nil))
	var e api.Error
	if rec.Code != 500 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.ErrorCode != api.CodeInternal {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
