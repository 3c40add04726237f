package sim_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/sim"
)

// richScenario uses every part of the format.
func richScenario() sim.Scenario {
	s := sim.DefaultScenario(300)
	s.Fleet = append(s.Fleet, sim.DefaultGroup())
	s.Fleet[1].Name, s.Fleet[1].Count, s.Fleet[1].Online, s.Fleet[1].OfflineFor = "late", 40, sim.OnlineOffline, sim.Duration(30*time.Hour)
	s.Rollout.Groups = []string{"fleet"}
	s.Rollout.ScheduleAt = sim.At{After: 48 * time.Hour} // when the pilot has ended, however early
	s.Rollout.StartDate, s.Rollout.EndDate = sim.Relative(2), sim.Relative(6)
	s.Rollout.InstallAfterDate = sim.DateSpec{From: sim.FromStart, Days: 5}
	s.Rollout.TimeZone = "Europe/Paris"
	s.Actions = []sim.Action{
		{At: sim.At{After: time.Hour}, Do: sim.DoEnableLogging, Group: "fleet", Count: 4},
		{At: sim.At{After: 49 * time.Hour}, Do: sim.DoAddDevices, Campaign: "rollout", Group: "late"},
		{At: sim.At{After: 50 * time.Hour}, Do: sim.DoChangeDates, Campaign: "rollout", Dates: &sim.Timing{
			StartDate: sim.Relative(2), EndDate: sim.DateSpec{Abs: schedule.Date{Year: 2026, Month: 1, Day: 15}},
			DownloadTimeWindowList: append(s.Rollout.DownloadTimeWindowList, schedule.Window{StartTime: 12, EndTime: 13}),
			InstallTimeWindowList:  s.Rollout.InstallTimeWindowList, InstallAfterDate: s.Rollout.InstallAfterDate, TimeZone: "Europe/Paris",
		}},
		{At: sim.At{After: 144 * time.Hour}, Do: sim.DoCancel, Campaign: "rollout"},
		{At: sim.At{After: 168 * time.Hour}, Do: sim.DoAbort, Campaign: "rollout"},
	}
	return s
}

// TestScenarioJSON: durations, instants and dates are written as strings
// and read back to the same scenario.
func TestScenarioJSON(t *testing.T) {
	s := richScenario()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"checkInEvery":"24h"`, `"retryJitter":"10m"`, `"offlineFor":"30h"`, `"download":{"min":"2m","max":"30m"}`,
		`"startDate":"+48h"`, `"installAfterDate":"start+120h"`, `"endDate":"2026-01-15"`, `"at":"49h"`, `"at":"1h"`, `"scheduleAt":"48h"`, `"sampleEvery":"1h"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	if regexp.MustCompile(`\d{10}`).Match(b) {
		t.Errorf("a duration as nanoseconds:\n%s", b)
	}
	got, err := sim.ReadScenario(strings.NewReader(string(b)), sim.Scenario{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("read back:\n%+v\nwritten:\n%+v", got, s)
	}
}

// TestReadScenarioStrict: what the format does not know is refused with
// the field's full name as the file spells it.
func TestReadScenarioStrict(t *testing.T) {
	for _, c := range []struct{ json, field, reason string }{
		{`{"Seed": 1}`, "Seed", "unknown field"}, // keys match exactly
		{`{"fleet": [{}, {"name": "b", "jitter": "1h"}]}`, "fleet[1].jitter", "unknown field"},
		{`{"fleet": [{"download": {"min": "1m", "mean": "2m"}}]}`, "fleet[0].download.mean", "unknown field"},
		{`{"pilot": {"deviceList": ["1"]}}`, "pilot.deviceList", "unknown field"},
		{`{"actions": [{"at": "1h", "do": "cancel", "when": "now"}]}`, "actions[0].when", "unknown field"},
		{`{"actions": [{"do": "changeDates", "dates": {"end": "+24h"}}]}`, "actions[0].dates.end", "unknown field"},
		{`{"fleet": [{"checkInEvery": 3600}]}`, "fleet[0].checkInEvery", "must be a string"},
		{`{"fleet": [{"count": "ten"}]}`, "fleet[0].count", "must be a whole number"},
		{`{"fleet": {"name": "a"}}`, "fleet", "must be a list"},
		{`{"pilot": []}`, "pilot", "must be an object"},
		{`{"start": "monday"}`, "start", ""},
		{`{"rollout": {"startDate": "tomorrow"}}`, "rollout.startDate", "not a date"},
		{`{"rollout": {"endDate": "+25h"}}`, "rollout.endDate", "whole number of days"},
		{`{"rollout": {"scheduleAt": "-1h"}}`, "rollout.scheduleAt", ""},
		{`{"rollout": {"downloadTimeWindowList": [{"startTime": "x", "endTime": 4}]}}`, "rollout.downloadTimeWindowList[0].startTime", ""},
		{`{"seed": 1} {"seed": 2}`, "(file)", "more than one JSON value"},
		{`{"seed": 1`, "(file)", ""},
	} {
		_, err := sim.ReadScenario(strings.NewReader(c.json), sim.DefaultScenario(10))
		var se *sim.ScenarioError
		if !errors.Is(err, sim.ErrBadScenario) || !errors.As(err, &se) || se.Field != c.field || !strings.Contains(se.Reason, c.reason) {
			t.Errorf("%s: %v (field %q), want field %q and %q", c.json, err, fieldOf(se), c.field, c.reason)
		}
		if c.reason == "unknown field" && !errors.Is(err, sim.ErrUnknownField) {
			t.Errorf("%s: %v does not match ErrUnknownField", c.json, err)
		}
	}
	// What the file leaves out keeps the base; a group starts from
	// DefaultGroup; a campaign's timing is what the file writes.
	s, err := sim.ReadScenario(strings.NewReader(`{"seed": 9, "fleet": [{"name": "a", "count": 50, "installFail": 0}],
		"rollout": {"endDate": "+72h"}}`), sim.DefaultScenario(10))
	if err != nil {
		t.Fatal(err)
	}
	want := sim.DefaultScenario(10)
	want.Seed = 9
	want.Fleet = []sim.Group{sim.DefaultGroup()}
	want.Fleet[0].Name, want.Fleet[0].Count, want.Fleet[0].InstallFail = "a", 50, 0
	want.Rollout.Timing = sim.Timing{StartDate: sim.Relative(0), EndDate: sim.Relative(3)}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("read\n%+v\nwant\n%+v", s, want)
	}
}

func TestDateSpecAndAt(t *testing.T) {
	start := time.Date(2026, 1, 5, 13, 0, 0, 0, time.UTC)
	sent := time.Date(2026, 1, 7, 23, 59, 0, 0, time.UTC)
	for _, c := range []struct{ text, resolved string }{
		{"+0h", "2026-01-07"}, {"+48h", "2026-01-09"}, {"start+0h", "2026-01-05"}, {"start+240h", "2026-01-15"},
		{"2026-02-01", "2026-02-01"}, {"", "0000-00-00"},
	} {
		var d sim.DateSpec
		if err := d.UnmarshalText([]byte(c.text)); err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		if got := d.Resolve(sent, start).String(); got != c.resolved || d.String() != c.text {
			t.Errorf("%q: resolves to %s, prints %q", c.text, got, d.String())
		}
	}
	for _, bad := range []string{"+1d", "+12h", "-24h", "start", "start-24h", "start+2026-01-01", "2026-02-30", "+876000h"} {
		var d sim.DateSpec
		if err := d.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q read as %v", bad, d)
		}
	}
	for _, c := range []struct {
		text string
		at   sim.At
	}{{"0s", sim.At{}}, {"36h", sim.At{After: 36 * time.Hour}}, {"pilotEnd", sim.At{PilotEnd: true}}, {"pilotEnd+1h30m", sim.At{PilotEnd: true, After: 90 * time.Minute}}} {
		var a sim.At
		if err := a.UnmarshalText([]byte(c.text)); err != nil || a != c.at || a.String() != c.text {
			t.Errorf("%q: %+v %v, prints %q", c.text, a, err, a.String())
		}
	}
	for _, bad := range []string{"", "-1h", "pilotEnd-1h", "pilotend", "pilotEnd+", "tomorrow"} {
		var a sim.At
		if err := a.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q read as %+v", bad, a)
		}
	}
}

func TestResize(t *testing.T) {
	s := sim.DefaultScenario(10)
	s.Fleet = []sim.Group{{Count: 600}, {Count: 300}, {Count: 100}}
	for _, c := range []struct {
		n    int
		want []int
	}{{1000, []int{600, 300, 100}}, {10, []int{6, 3, 1}}, {7, []int{4, 2, 1}}, {1, []int{1, 0, 0}}, {2000, []int{1200, 600, 200}}} {
		s.Resize(c.n)
		got := []int{s.Fleet[0].Count, s.Fleet[1].Count, s.Fleet[2].Count}
		if !reflect.DeepEqual(got, c.want) || s.Devices() != c.n {
			t.Errorf("Resize(%d): %v, want %v", c.n, got, c.want)
		}
		s.Fleet[0].Count, s.Fleet[1].Count, s.Fleet[2].Count = 600, 300, 100
	}
}

// TestPushGroup: LWM2M and OMA-DM groups beside an HTTP one: the pilot
// and the rollout take the HTTP devices, the upgrade the push devices,
// and every campaign runs to its end.
func TestPushGroup(t *testing.T) {
	for _, proto := range []string{"LWM2M", "OMA-DM"} {
		s := sim.DefaultScenario(100)
		g := sim.DefaultGroup()
		g.Name, g.Protocol, g.NotificationLoss, g.Count = "push", proto, 0.1, 60
		codes := map[string][2]int{"LWM2M": {7, 8}, "OMA-DM": {503, 410}}[proto]
		g.DownloadFailCode, g.InstallFailCode = codes[0], codes[1]
		s.Fleet = append(s.Fleet, g)
		if err := s.Validate(); err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		rep, err := sim.Run(context.Background(), s)
		if err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		if len(rep.Campaigns) != 3 {
			t.Fatalf("%s: %d campaigns", proto, len(rep.Campaigns))
		}
		// The upgrade is sent at the start, the rollout when the pilot
		// ends.
		p, u, r := rep.Campaigns[0], rep.Campaigns[1], rep.Campaigns[2]
		if p.Devices != 20 || r.Devices != 80 || u.Devices != 60 || u.Name != "upgrade" || u.Status != "Finished" || u.Family != "PUSH" {
			t.Errorf("%s: pilot %d, rollout %d, upgrade %d devices %s %s", proto, p.Devices, r.Devices, u.Devices, u.Status, u.Family)
		}
		checkConservation(t, s, rep)
	}
}

// TestActions: the operator's actions reach the Manager at their
// instants; a refused one is reported and changes nothing.
func TestActions(t *testing.T) {
	s := richScenario()
	var ops []string
	s.OnStep = func(st sim.Step) {
		if st.Kind == sim.StepOperator {
			ops = append(ops, st.At.Format("01-02 15:04 ")+st.Operator)
		}
	}
	rep, _, table := render(t, s)
	checkConservation(t, s, rep)
	wantOps := []string{"01-05 00:00 schedule pilot", "01-05 01:00 enableLogging fleet", "01-07 00:00 schedule rollout",
		"01-07 01:00 addDevices rollout late", "01-07 02:00 changeDates rollout", "01-11 00:00 cancel rollout", "01-12 00:00 abort rollout"}
	if !reflect.DeepEqual(ops, wantOps) {
		t.Fatalf("operator events:\n%q\nwant\n%q", ops, wantOps)
	}
	if len(rep.Actions) != 5 {
		t.Fatalf("actions %+v", rep.Actions)
	}
	a := rep.Actions
	switch {
	case a[0].Refused != "" || a[0].Devices != 4 || !strings.HasPrefix(a[0].Result, "logging until Mon 01-12 01:00"):
		t.Errorf("enableLogging: %+v", a[0])
	case a[1].Refused != "" || a[1].Devices != 40:
		t.Errorf("addDevices: %+v", a[1])
	case a[2].Refused != "" || a[2].Request == nil || a[2].Request.EndDate.String() != "2026-01-15":
		t.Errorf("changeDates: %+v", a[2])
	case !strings.Contains(a[3].Refused, "cancel"): // the rollout has started: too late to cancel
		t.Errorf("cancel: %+v", a[3])
	case a[4].Refused != "":
		t.Errorf("abort: %+v", a[4])
	}
	r := rep.Campaigns[1]
	if r.Devices != 320 || r.Status != "CampaignAborted" || r.Request.EndDate.String() != "2026-01-15" || len(r.Request.DownloadTimeWindowList) != 3 ||
		!r.EndsAt.Equal(time.Date(2026, 1, 16, 0, 0, 0, 0, time.UTC)) || !r.EndedAt.Equal(time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("rollout: %d devices, %s, request %+v, ends %v, ended %v", r.Devices, r.Status, r.Request, r.EndsAt, r.EndedAt)
	}
	if !strings.Contains(string(table), "cancel rollout: refused:") || !strings.Contains(string(table), "addDevices rollout, 40 devices of group late: done") {
		t.Errorf("table:\n%s", table)
	}

	// Cancelled before its start: every device CampaignCancelled, and its
	// queued check-ins dropped.
	s = sim.DefaultScenario(200)
	s.Rollout.StartDate, s.Rollout.EndDate = sim.Relative(3), sim.Relative(5)
	s.Actions = []sim.Action{{At: sim.At{PilotEnd: true, After: 24 * time.Hour}, Do: sim.DoCancel, Campaign: "rollout"}}
	rep, _, _ = render(t, s)
	checkConservation(t, s, rep)
	if r := rep.Campaigns[1]; r.Status != "CampaignCancelled" || len(r.Tally) != 1 || r.Tally[0].Status != "CampaignCancelled" || rep.Actions[0].Refused != "" {
		t.Fatalf("cancelled rollout: %+v %+v", r, rep.Actions)
	}
	if rep.Totals.Dropped == 0 {
		t.Errorf("no device event dropped after the cancel: %+v", rep.Totals)
	}
}

// TestRefusalReasons: why the gate refused the rollout, in a sentence.
func TestRefusalReasons(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(*sim.Scenario)
		want   string
	}{
		{"failed pilot", func(s *sim.Scenario) { s.Fleet[0].InstallFail, s.Fleet[0].NeverOnline = 0.85, 0 }, `^pilot: \d of 20 succeeded, \d+% < 50%$`},
		{"no pilot", func(s *sim.Scenario) { s.Pilot.Devices = 0 }, `^no pilot: a campaign of 120 devices \(more than 20\) needs a pilot of 5\.\.20 devices with at least 50% UpgradeSuccess first$`},
		{"rollout too early", func(s *sim.Scenario) { s.Rollout.ScheduleAt = sim.At{After: time.Hour} },
			`^pilot: still Campaign(Scheduled|InProgress) when the rollout was sent; the gate judges a pilot once it ends$`},
		{"aborted pilot", func(s *sim.Scenario) {
			s.Actions = []sim.Action{{At: sim.At{After: 12 * time.Hour}, Do: sim.DoAbort, Campaign: "pilot"}}
		}, `^pilot: CampaignAborted; only a pilot that runs to its end counts$`},
		{"another target", func(s *sim.Scenario) { s.Pilot.SoftwareTo = "1.5" }, `^pilot: (1\d|20) of 20 succeeded, \d+% >= 50%; the pilot's target \(sensor-fw 1\.0->1\.5\) is not the rollout's \(sensor-fw 1\.0->2\.0\)$`},
		{"start passed", func(s *sim.Scenario) {
			s.Rollout.StartDate = sim.DateSpec{Abs: schedule.Date{Year: 2026, Month: 1, Day: 5}}
		},
			`^rollout: schedule: startDate "2026-01-05": start date has passed`},
	} {
		s := sim.DefaultScenario(120)
		c.change(&s)
		rep, _, table := render(t, s)
		if !regexp.MustCompile(c.want).MatchString(rep.Refused) || rep.Campaigns[len(rep.Campaigns)-1].Reason != rep.Refused {
			t.Errorf("%s: refused %q, want %s", c.name, rep.Refused, c.want)
		}
		if !strings.Contains(string(table), "REFUSED: "+rep.Refused) {
			t.Errorf("%s: the table does not say why:\n%s", c.name, table)
		}
	}
}

// TestForecast: the default run's forecast says what issue 12 observed,
// that after the second day of the rollout nothing happens.
func TestForecast(t *testing.T) {
	s := sim.DefaultScenario(100_000)
	f, err := s.Forecast()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Campaigns) != 2 || f.Devices != 100_000 || f.Reachable < 0.985 || f.Reachable > 0.995 {
		t.Fatalf("forecast %+v", f)
	}
	r := f.Campaigns[1]
	var quiet []string
	for _, d := range r.QuietDays {
		quiet = append(quiet, d.String())
	}
	if r.Devices != 99_980 || !r.ScheduledAt.Equal(time.Date(2026, 1, 7, 0, 0, 0, 0, time.UTC)) ||
		!reflect.DeepEqual(quiet, []string{"2026-01-09", "2026-01-10", "2026-01-11", "2026-01-12", "2026-01-13"}) ||
		!r.Finish50.Before(r.Finish90) || r.Finish99.Before(r.Finish90) || r.Finish99.After(time.Date(2026, 1, 8, 7, 0, 0, 0, time.UTC)) ||
		r.Success > r.Reachable || r.Gate != "" || r.Refused {
		t.Fatalf("rollout forecast %+v (quiet %v)", r, quiet)
	}
	if p := f.Campaigns[0]; !strings.HasPrefix(p.Gate, "the pilot lifts the gate") {
		t.Fatalf("pilot forecast %+v", p)
	}
	// A group the request rejects, and one that is never online, are not
	// reachable.
	s = sim.DefaultScenario(1000)
	s.Fleet = append(s.Fleet, sim.DefaultGroup(), sim.DefaultGroup())
	s.Fleet[1].Name, s.Fleet[1].Software, s.Fleet[1].Count = "old", "0.9", 500
	s.Fleet[2].Name, s.Fleet[2].Online, s.Fleet[2].Count = "dark", sim.OnlineNever, 500
	f, err = s.Forecast()
	if err != nil {
		t.Fatal(err)
	}
	if r := f.Campaigns[1]; r.Rejected != 500 || r.Reachable > 0.5 || r.NeverOnline < 0.25 {
		t.Fatalf("rollout forecast %+v", r)
	}
}
