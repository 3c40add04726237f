package sim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "time/tzdata" // window hours in a named zone, the same on every machine

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/sim"
	"pgregory.net/rapid"
)

// render runs s and returns its report as JSON and as a table.
func render(t *testing.T, s sim.Scenario) (*sim.Report, []byte, []byte) {
	t.Helper()
	rep, err := sim.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	return rep, js, table.Bytes()
}

// TestDeterminism: "the same seed and config give byte-identical output";
// another seed gives another run.
func TestDeterminism(t *testing.T) {
	s := sim.DefaultScenario(400)
	a, ajs, atab := render(t, s)
	b, bjs, btab := render(t, s)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("two runs with seed %d differ:\n%s\n%s", s.Seed, ajs, bjs)
	}
	if !bytes.Equal(ajs, bjs) || !bytes.Equal(atab, btab) {
		t.Fatal("same report, different bytes")
	}
	s.Seed++
	_, cjs, ctab := render(t, s)
	if bytes.Equal(ajs, cjs) || bytes.Equal(atab, ctab) {
		t.Fatalf("seeds %d and %d gave the same output", s.Seed-1, s.Seed)
	}
}

// TestWorkersAgree: however many workers run the device events of one
// instant side by side, a run gives the same report, tells its Observer the
// same changes in the same order, and its OnStep the same steps. The
// fleets check in within a second of their hour, so that hundreds of
// events share an instant and every batch is split between the workers;
// one runs a pilot whose end (the last of its devices finishing, in a
// batch) sends the rollout, another mixes HTTP and push devices.
func TestWorkersAgree(t *testing.T) {
	dense := sim.DefaultScenario(6000)
	dense.Fleet[0].CheckInJitter = sim.Duration(time.Second)
	dense.Fleet[0].Download = sim.Range{Min: sim.Duration(time.Minute), Max: sim.Duration(time.Minute)}
	dense.Fleet[0].UnknownError = 0.05
	mixed := sim.DefaultScenario(3000)
	mixed.Fleet[0].CheckInJitter = sim.Duration(2 * time.Second)
	mixed.Fleet = append(mixed.Fleet, pushScenario().Fleet[0], pushScenario().Fleet[7])
	for name, s := range map[string]sim.Scenario{"dense": dense, "mixed": mixed} {
		var want string
		for _, workers := range []int{1, 2, 3, 8} {
			s.Workers = workers
			var log strings.Builder
			s.Observer = fota.ObserverFunc(func(c fota.Change) { fmt.Fprintln(&log, c) })
			s.OnStep = func(st sim.Step) { fmt.Fprintf(&log, "%+v\n", st) }
			_, js, table := render(t, s)
			got := string(js) + string(table) + log.String()
			if workers == 1 {
				want = got
				continue
			}
			if got != want {
				t.Fatalf("%s: %d workers and 1 differ", name, workers)
			}
		}
	}
}

// TestTallyAgreesWithChanges: a campaign's final tally (read from its
// counts, or device by device when it has rejected devices) is what the
// Observer was told of its devices, the last change of each.
func TestTallyAgreesWithChanges(t *testing.T) {
	rejecting := sim.DefaultScenario(600)
	rejecting.Fleet = append(rejecting.Fleet, sim.DefaultGroup())
	rejecting.Fleet[1].Name, rejecting.Fleet[1].Software, rejecting.Fleet[1].Count = "old", "0.9", 100
	mixed := sim.DefaultScenario(400)
	mixed.Fleet = append(mixed.Fleet, pushScenario().Fleet...)
	for name, s := range map[string]sim.Scenario{"default": sim.DefaultScenario(500), "rejecting": rejecting, "mixed": mixed} {
		last := map[[2]string]fota.Change{}
		s.Observer = fota.ObserverFunc(func(c fota.Change) {
			if c.Kind == fota.DeviceChanged {
				last[[2]string{c.CampaignID, c.DeviceID}] = c
			}
		})
		rep, _, _ := render(t, s)
		rejected := 0
		for _, c := range rep.Campaigns {
			if c.ID == "" {
				continue
			}
			want := map[string]int{}
			for k, ch := range last {
				if k[0] == c.ID {
					want[ch.Status()+"/"+ch.Detail()]++
				}
			}
			got := map[string]int{}
			for _, row := range c.Tally {
				got[row.Status+"/"+row.Reason] += row.Count
				if strings.Contains(row.Status, "Rejected") {
					rejected += row.Count
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s: tally %v, changes %v", name, c.Name, got, want)
			}
		}
		if (name == "rejecting") != (rejected > 0) {
			t.Errorf("%s: %d devices rejected", name, rejected)
		}
	}
}

// checkConservation: every device ends in exactly one final status; the
// tally read device by device equals the campaign's Counts; the
// campaigns hold every device of the fleet once.
func checkConservation(t interface {
	Helper()
	Fatalf(string, ...any)
}, s sim.Scenario, rep *sim.Report) {
	t.Helper()
	final := map[string]bool{"UpgradeSuccess": true, "UpgradeFailed": true, "DeviceRejected": true,
		"CampaignCancelled": true, "CampaignAborted": true,
		"Upgrade Success": true, "Upgrade Failed": true, "Device Rejected": true}
	total := 0
	for _, c := range rep.Campaigns {
		if c.Refused != "" {
			if len(c.Tally) != 0 || c.ID != "" {
				t.Fatalf("%s refused but has a campaign: %+v", c.Name, c)
			}
			continue
		}
		total += c.Devices
		byStatus := map[string]int{}
		n := 0
		for _, row := range c.Tally {
			if !final[row.Status] {
				t.Fatalf("%s: %d devices still %s after the campaign %s", c.Name, row.Count, row.Status, c.Status)
			}
			byStatus[row.Status] += row.Count
			n += row.Count
		}
		if n != c.Devices {
			t.Fatalf("%s: tally holds %d devices, the campaign %d", c.Name, n, c.Devices)
		}
		counted := 0
		for _, sc := range c.Counts {
			if byStatus[sc.Status] != sc.Count {
				t.Fatalf("%s: %s: tally %d, Counts %d", c.Name, sc.Status, byStatus[sc.Status], sc.Count)
			}
			counted += sc.Count
		}
		if counted != c.Devices {
			t.Fatalf("%s: Counts hold %d devices, the campaign %d", c.Name, counted, c.Devices)
		}
		for _, d := range c.Days {
			k := 0
			for _, sc := range d.Counts {
				k += sc.Count
			}
			if k != c.Devices {
				t.Fatalf("%s at %v: %d devices counted, want %d", c.Name, d.At, k, c.Devices)
			}
		}
	}
	if rep.Campaigns[len(rep.Campaigns)-1].Refused == "" && total != s.Devices() {
		t.Fatalf("campaigns hold %d devices, the fleet %d", total, s.Devices())
	}
}

func TestConservation(t *testing.T) {
	s := sim.DefaultScenario(500)
	g := &s.Fleet[0]
	g.DownloadFail, g.InstallFail, g.UnknownError, g.NeverOnline = 0.1, 0.1, 0.05, 0.05
	rep, _, _ := render(t, s)
	checkConservation(t, s, rep)
	// Each kind of ending happened, so the check above saw them all.
	reasons := map[string]bool{}
	for _, row := range rep.Campaigns[1].Tally {
		reasons[row.Reason] = true
	}
	for _, want := range []string{"Download and install succeeded.", "RovaClientDownloadFailed",
		"RovaClientDownloadedInstallFailed", "Uknown device error.", "RovaClientDidNotReportStatus"} {
		if !reasons[want] {
			t.Errorf("no device ended with %q: %+v", want, rep.Campaigns[1].Tally)
		}
	}
}

// TestPilotGate: "The pilot campaign limit is in place until at least 5
// devices and no more than 20 devices have had at least a 50% success
// rate" (ThingSpace, pilot campaigns). A failed pilot leaves the rollout
// refused, reported with its reason rather than returned as an error.
func TestPilotGate(t *testing.T) {
	s := sim.DefaultScenario(100)
	s.Fleet[0].InstallFail = 1
	rep, _, _ := render(t, s)
	if len(rep.Campaigns) != 2 {
		t.Fatalf("%d campaigns", len(rep.Campaigns))
	}
	p, r := rep.Campaigns[0], rep.Campaigns[1]
	if p.Status != "CampaignEnded" {
		t.Fatalf("pilot %s", p.Status)
	}
	for _, row := range p.Tally {
		if row.Status == "UpgradeSuccess" {
			t.Fatalf("a device succeeded with every install failing: %+v", p.Tally)
		}
	}
	if !errors.Is(r.Err, fota.ErrPilotRequired) || r.Refused == "" || r.ID != "" {
		t.Fatalf("rollout after a failed pilot: %+v", r)
	}
	if rep.PilotGate != "Standing" {
		t.Fatalf("gate %s", rep.PilotGate)
	}
	checkConservation(t, s, rep)

	// The same fleet with installs that work: the pilot lifts the gate.
	s.Fleet[0].InstallFail = 0
	rep, _, _ = render(t, s)
	if rep.PilotGate != "Lifted" || rep.Campaigns[1].Refused != "" || rep.Campaigns[1].Status != "CampaignEnded" {
		t.Fatalf("after a good pilot: gate %s, rollout %+v", rep.PilotGate, rep.Campaigns[1])
	}

	// No pilot: a fleet of 20 runs, a fleet of 21 is refused.
	for n, refused := range map[int]bool{20: false, 21: true} {
		s := sim.DefaultScenario(n)
		s.Pilot.Devices = 0
		rep, _, _ := render(t, s)
		if len(rep.Campaigns) != 1 || (rep.Campaigns[0].Refused != "") != refused {
			t.Fatalf("%d devices without a pilot: %+v", n, rep.Campaigns)
		}
	}
}

// windowOracle is the windows rule checked by hand: "open while
// startTime <= hour < endTime", the hour read in the campaign's zone;
// an empty list is all hours.
func inWindows(ws []schedule.Window, at time.Time, loc *time.Location) bool {
	if len(ws) == 0 {
		return true
	}
	h := at.In(loc).Hour()
	for _, w := range ws {
		if w.StartTime <= h && h < w.EndTime {
			return true
		}
	}
	return false
}

func TestWindowsRespected(t *testing.T) {
	s := sim.DefaultScenario(300)
	s.Pilot.TimeZone, s.Rollout.TimeZone = "America/New_York", "America/New_York"
	s.Rollout.DownloadAfterDate, s.Rollout.InstallAfterDate = sim.Relative(1), sim.Relative(2)
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	var steps []sim.Step
	s.OnStep = func(st sim.Step) { steps = append(steps, st) }
	rep, _, _ := render(t, s)
	requests := map[string]schedule.HTTPRequest{}
	for _, c := range rep.Campaigns {
		requests[c.ID] = c.Request
	}
	counts := map[fota.Action]int{}
	for _, st := range steps {
		if st.Kind != sim.StepCheckIn || st.Instruction.Action == fota.ActionNone {
			continue
		}
		counts[st.Instruction.Action]++
		req := requests[st.Campaign]
		start, end := req.StartDate.Start(), req.EndDate.End()
		ws, after := req.DownloadTimeWindowList, req.DownloadAfterDate
		if st.Instruction.Action == fota.ActionInstall {
			ws, after = req.InstallTimeWindowList, req.InstallAfterDate
		}
		if !after.IsZero() && st.At.Before(after.Start()) || !inWindows(ws, st.At, loc) || st.At.Before(start) || !st.At.Before(end) {
			t.Fatalf("%s told to %s at %v (%v in New York), outside windows %v after %v of [%v, %v)",
				st.Device, st.Instruction.Action, st.At, st.At.In(loc), ws, after, start, end)
		}
		if !st.At.Before(st.Instruction.Until) {
			t.Fatalf("%s told to %s at %v until %v", st.Device, st.Instruction.Action, st.At, st.Instruction.Until)
		}
	}
	if counts[fota.ActionDownload] < 250 || counts[fota.ActionInstall] < 200 {
		t.Fatalf("too few instructions to judge: %v", counts)
	}
}

// TestRandomScenarios: small random fleets and behaviours. Whatever
// happens, devices are conserved, events are handled in time order, and
// the Manager's deadlines lie ahead of the tick that returned them.
func TestRandomScenarios(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(21, 200).Draw(t, "devices")
		s := sim.DefaultScenario(n)
		s.Seed = rapid.Uint64().Draw(t, "seed")
		// Mostly a pilot that can count (5..20 devices), sometimes none.
		s.Pilot.Devices = rapid.SampledFrom([]int{0, 5, 10, 20}).Draw(t, "pilot")
		s.Pilot.EndDate = sim.Relative(rapid.IntRange(0, 2).Draw(t, "pilotDays"))
		in := rapid.IntRange(0, 2).Draw(t, "rolloutStartIn")
		s.Rollout.StartDate, s.Rollout.EndDate = sim.Relative(in), sim.Relative(in+rapid.IntRange(0, 2).Draw(t, "rolloutDays"))
		if rapid.Bool().Draw(t, "allHours") {
			s.Rollout.DownloadTimeWindowList, s.Rollout.InstallTimeWindowList = nil, nil
		}
		// Cubed: mostly small chances, so that most pilots pass and the
		// rollout runs, sometimes large ones.
		p := func(name string) float64 { x := rapid.Float64Range(0, 1).Draw(t, name); return x * x * x }
		g := &s.Fleet[0]
		g.DownloadFail, g.InstallFail, g.UnknownError, g.NeverOnline = p("downloadFail"), p("installFail"), p("unknownError")/4, p("offline")/2
		g.CheckInEvery = sim.Duration(rapid.IntRange(4, 48).Draw(t, "everyHours")) * sim.Duration(time.Hour)
		g.FollowRetry = rapid.Bool().Draw(t, "followRetry")
		var last time.Time
		s.OnStep = func(st sim.Step) {
			if st.At.Before(last) {
				t.Fatalf("%s at %v handled after an event at %v", st.Kind, st.At, last)
			}
			last = st.At
			if st.Kind == sim.StepTick && !st.Next.IsZero() && !st.Next.After(st.At) {
				t.Fatalf("tick at %v: next deadline %v", st.At, st.Next)
			}
		}
		rep, err := sim.Run(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		checkConservation(t, s, rep)
		// Every device event is one Manager call; every operator event
		// (here, scheduling a campaign) asks Tick once, as a tick event
		// does.
		if tt := rep.Totals; tt.Events != tt.CheckIns+tt.Reports+tt.Ticks || tt.ManagerCalls < tt.Events+int64(len(rep.Campaigns)) {
			t.Fatalf("totals %+v for %d campaigns", rep.Totals, len(rep.Campaigns))
		}
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		field  string
		change func(*sim.Scenario)
	}{
		{"fleet", func(s *sim.Scenario) { s.Fleet[0].Count = 0 }},
		{"fleet", func(s *sim.Scenario) { s.Fleet[0].Count = sim.MaxDevices + 1 }},
		{"fleet", func(s *sim.Scenario) { s.Fleet = nil }},
		{"pilot.devices", func(s *sim.Scenario) { s.Pilot.Devices = 3 }},
		{"pilot.devices", func(s *sim.Scenario) { s.Pilot.Devices = 21 }},
		{"pilot.devices", func(s *sim.Scenario) { s.Pilot.Devices = -1 }},
		{"pilot.devices", func(s *sim.Scenario) { s.Fleet[0].Count = 10; s.Pilot.Devices = 20 }},
		{"start", func(s *sim.Scenario) { s.Start = time.Time{} }},
		{"historyMax", func(s *sim.Scenario) { s.HistoryMax = 0 }},
		{"workers", func(s *sim.Scenario) { s.Workers = -1 }},
		{"sampleEvery", func(s *sim.Scenario) { s.SampleEvery = 0 }},
		{"fleet[0].checkInEvery", func(s *sim.Scenario) { s.Fleet[0].CheckInEvery = 0 }},
		{"fleet[0].download.max", func(s *sim.Scenario) {
			s.Fleet[0].Download = sim.Range{Min: sim.Duration(time.Hour), Max: sim.Duration(time.Minute)}
		}},
		{"fleet[0].retryJitter", func(s *sim.Scenario) { s.Fleet[0].RetryJitter = -1 }},
		{"fleet[0].installFail", func(s *sim.Scenario) { s.Fleet[0].InstallFail = 1.5 }},
		{"fleet[0].protocol", func(s *sim.Scenario) { s.Fleet[0].Protocol = "CoAP" }},
		{"fleet[0].online", func(s *sim.Scenario) { s.Fleet[0].Online = "sometimes" }},
		{"fleet[0].offlineFor", func(s *sim.Scenario) { s.Fleet[0].Online = sim.OnlineOffline }},
		{"fleet[0].downloadFailCode", func(s *sim.Scenario) { s.Fleet[0].DownloadFailCode = 4 }}, // HTTP has no codes
		{"fleet[0].installFailCode", func(s *sim.Scenario) { s.Fleet[0].Protocol, s.Fleet[0].InstallFailCode = "LWM2M", 1 }},
		{"fleet[0].installFailCode", func(s *sim.Scenario) { s.Fleet[0].Protocol, s.Fleet[0].InstallFailCode = "OMA-DM", 200 }},
		{"fleet[1].name", func(s *sim.Scenario) { s.Fleet = append(s.Fleet, s.Fleet[0]) }},
		{"rollout.endDate", func(s *sim.Scenario) {
			s.Rollout.EndDate = sim.DateSpec{Abs: schedule.Date{Year: 2025, Month: 1, Day: 1}}
		}},
		{"pilot.startDate", func(s *sim.Scenario) {
			s.Pilot.StartDate = sim.DateSpec{Abs: schedule.Date{Year: 2025, Month: 1, Day: 1}}
		}},
		{"rollout.softwareTo", func(s *sim.Scenario) { s.Rollout.SoftwareTo = "" }},
		{"rollout.endDate", func(s *sim.Scenario) { s.Rollout.EndDate = sim.Relative(-1) }},
		{"actions[0].dates.installAfterDate", func(s *sim.Scenario) {
			s.Actions = []sim.Action{{Do: sim.DoChangeDates, Campaign: "rollout", Dates: &sim.Timing{StartDate: sim.Relative(0), EndDate: sim.Relative(3), InstallAfterDate: sim.Relative(5000)}}}
		}},
		{"rollout.groups[0]", func(s *sim.Scenario) { s.Rollout.Groups = []string{"nobody"} }},
		// "Start hour in range [0..23]", "End hour in range [1..24]" (ThingSpace V2TimeWindow), checked by package schedule.
		{"rollout.downloadTimeWindowList[0].endTime", func(s *sim.Scenario) {
			s.Rollout.DownloadTimeWindowList = []schedule.Window{{StartTime: 3, EndTime: 25}}
		}},
		{"pilot.timeZone", func(s *sim.Scenario) { s.Pilot.TimeZone = "Mars/Olympus" }},
		// An after-date must lie in [startDate, endDate].
		{"rollout.installAfterDate", func(s *sim.Scenario) { s.Rollout.InstallAfterDate = sim.Relative(7) }},
		{"actions[0].do", func(s *sim.Scenario) { s.Actions = []sim.Action{{Do: "reboot"}} }},
		{"actions[0].campaign", func(s *sim.Scenario) { s.Actions = []sim.Action{{Do: sim.DoCancel, Campaign: "main"}} }},
		{"actions[0].dates", func(s *sim.Scenario) { s.Actions = []sim.Action{{Do: sim.DoChangeDates, Campaign: "rollout"}} }},
		{"actions[0].count", func(s *sim.Scenario) { s.Actions = []sim.Action{{Do: sim.DoEnableLogging, Group: "fleet", Count: 21}} }},
		{"actions[0].group", func(s *sim.Scenario) {
			s.Actions = []sim.Action{{Do: sim.DoAddDevices, Campaign: "rollout", Group: "x"}}
		}},
	}
	for _, tt := range tests {
		s := sim.DefaultScenario(100)
		tt.change(&s)
		_, err := sim.Run(context.Background(), s)
		var se *sim.ScenarioError
		if !errors.Is(err, sim.ErrBadScenario) || !errors.As(err, &se) || se.Field != tt.field {
			t.Errorf("%s: got %v (field %q)", tt.field, err, fieldOf(se))
		}
	}
	s := sim.DefaultScenario(100)
	s.Rollout.DownloadTimeWindowList = []schedule.Window{{StartTime: 5, EndTime: 2}}
	if err := s.Validate(); !errors.Is(err, schedule.ErrBadWindow) {
		t.Errorf("a bad window: %v, want it to wrap schedule.ErrBadWindow", err)
	}
}

func fieldOf(se *sim.ScenarioError) string {
	if se == nil {
		return ""
	}
	return se.Field
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sim.Run(ctx, sim.DefaultScenario(3000)); !errors.Is(err, context.Canceled) {
		t.Fatalf("run with a cancelled context: %v", err)
	}
}
