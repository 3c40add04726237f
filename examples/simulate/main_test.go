package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/sim"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/")

// quiet is a run's surroundings in a test: no terminal, a clock that
// stands still.
func quiet() env {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	return env{terminal: false, now: func() time.Time { return t0 }}
}

func runCmd(t *testing.T, e env, args ...string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := run(args, &out, &errs, e)
	return code, out.String(), errs.String()
}

func TestHelp(t *testing.T) {
	code, out, errs := runCmd(t, quiet(), "-h")
	if code != exitOK || !strings.Contains(out, "usage: simulate") || !strings.Contains(out, "-scenario") || errs != "" {
		t.Fatalf("-h: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestRun(t *testing.T) {
	code, out1, errs := runCmd(t, quiet(), "-devices", "300", "-seed", "7")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"pilot: 20 devices", "rollout: 280 devices", "UpgradeSuccess", "Download and install succeeded.",
		"pilot gate: Lifted", "2026-01-05..2026-01-06, download 00-06 20-24, install 02-07 (UTC)", "forecast", "days that add nothing:"} {
		if !strings.Contains(out1, want) {
			t.Errorf("output lacks %q:\n%s", want, out1)
		}
	}
	if !strings.Contains(errs, "events/s") {
		t.Errorf("no speed on stderr: %q", errs)
	}
	if code, out2, _ := runCmd(t, quiet(), "-devices", "300", "-seed", "7"); code != exitOK || out1 != out2 {
		t.Fatalf("a second run with the same seed printed something else (exit %d)", code)
	}
}

// TestGolden: the table, the JSON and the forecast of a small scenario,
// byte for byte. After a deliberate change: go test -run TestGolden -rewrite.
func TestGolden(t *testing.T) {
	for _, g := range []struct {
		scenario string
		file     string
		args     []string
		code     int
	}{
		{"small.json", "small.table", nil, exitOK},
		{"small.json", "small.json.golden", []string{"-json"}, exitOK},
		{"small.json", "small.forecast", []string{"-forecast"}, exitOK},
		{"small.json", "small-refused.table", []string{"-install-fail", "0.9"}, exitRefused},
		// A push rollout: LwM2M and OMA-DM devices online, offline for a
		// while, for too long, never; failures with their result codes;
		// lost notifications.
		{"small-push.json", "small-push.table", nil, exitOK},
		{"small-push.json", "small-push.json.golden", []string{"-json"}, exitOK},
	} {
		args := append([]string{"-scenario", filepath.Join("testdata", g.scenario)}, g.args...)
		code, out, errs := runCmd(t, quiet(), args...)
		if code != g.code {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		path := filepath.Join("testdata", g.file)
		if *rewrite {
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("%v differs from %s (go test -run TestGolden -rewrite after a deliberate change):\n%s", args, path, out)
		}
	}
}

// TestJSONDocumented: the JSON output decodes into sim.Report with no
// field left over, and every top-level field the package doc lists is
// there.
func TestJSONDocumented(t *testing.T) {
	code, out, errs := runCmd(t, quiet(), "-scenario", "testdata/small.json", "-json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep sim.Report
	dec := newStrictDecoder(out)
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("the JSON output does not decode as sim.Report: %v", err)
	}
	if len(rep.Campaigns) != 2 || rep.Forecast == nil || len(rep.Campaigns[1].Samples) == 0 || len(rep.Statuses) != 7 {
		t.Fatalf("decoded report: %+v", rep)
	}
}

// TestScenarioFiles runs every example scenario at a small size: each
// runs to its end, and only the one written to fail its pilot is refused.
func TestScenarioFiles(t *testing.T) {
	files, err := filepath.Glob("scenarios/*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("scenarios: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, out, errs := runCmd(t, quiet(), "-scenario", f, "-devices", "1500")
			want := exitOK
			if strings.HasSuffix(f, "pilot-fails.json") {
				want = exitRefused
			}
			if code != want {
				t.Fatalf("exit %d, want %d: %s\n%s", code, want, errs, out)
			}
			if want == exitRefused && !regexp.MustCompile(`REFUSED: pilot: \d+ of 20 succeeded, \d+% < 50%`).MatchString(out) {
				t.Fatalf("refused without its reason:\n%s", out)
			}
		})
	}
}

// TestPushProtocols: -protocol lwm2m and -protocol omadm run a push
// rollout of the whole fleet (no pilot) to Finished and print the same
// report, in /v1 spelling; -json reports the campaign's status and its
// tally in /v1 spelling.
func TestPushProtocols(t *testing.T) {
	for _, proto := range []string{"lwm2m", "omadm"} {
		code, out, errs := runCmd(t, quiet(), "-protocol", proto, "-devices", "400", "-notification-loss", "0.05")
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", proto, code, errs)
		}
		for _, want := range []string{"upgrade: 400 devices, campaign sim-1, Finished", "(/v1 push, UTC dates)",
			"Device Accepted", "Upgrade Success  The firmware upgrade was successful.", "Upgrade Failed   Device is not in an active state or is not connected.",
			"  Mon 01-05 02:00:00  InProgress", "  Mon 01-12 00:00:00  Finished", "reached: ", "push: "} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: the table lacks %q:\n%s", proto, want, out)
			}
		}
		for _, http := range []string{"pilot:", "rollout:", "UpgradeSuccess", "pilot gate"} {
			if strings.Contains(out, http) {
				t.Errorf("%s: the table says %q (HTTP):\n%s", proto, http, out)
			}
		}
		code, out, errs = runCmd(t, quiet(), "-protocol", proto, "-devices", "400", "-json")
		if code != exitOK {
			t.Fatalf("%s -json: exit %d: %s", proto, code, errs)
		}
		var rep sim.Report
		if err := newStrictDecoder(out).Decode(&rep); err != nil {
			t.Fatalf("%s -json: %v", proto, err)
		}
		if len(rep.Campaigns) != 1 {
			t.Fatalf("%s -json: %d campaigns", proto, len(rep.Campaigns))
		}
		c := rep.Campaigns[0]
		want := []string{"Device Accepted", "Device Rejected", "Upgrade Pending", "Upgrade Success", "Upgrade Failed", "CampaignCancelled"}
		if c.Status != "Finished" || c.Family != "PUSH" || !reflect.DeepEqual(c.Statuses, want) || len(c.Samples[0].Counts) != len(want) {
			t.Fatalf("%s -json: %s %s %v", proto, c.Status, c.Family, c.Statuses)
		}
		n := 0
		for _, row := range c.Tally {
			if row.Status != "Upgrade Success" && row.Status != "Upgrade Failed" {
				t.Errorf("%s -json: tally row %+v", proto, row)
			}
			n += row.Count
		}
		if n != 400 || rep.Totals.Commands == 0 || rep.Totals.Outboxes == 0 {
			t.Errorf("%s -json: tally of %d devices, totals %+v", proto, n, rep.Totals)
		}
	}
}

// TestDefaultFile: scenarios/default.json is the default scenario, so the
// file documents what a run without -scenario does.
func TestDefaultFile(t *testing.T) {
	f, err := os.Open("scenarios/default.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := sim.ReadScenario(f, sim.Scenario{})
	if err != nil {
		t.Fatal(err)
	}
	if want := sim.DefaultScenario(100_000); !reflect.DeepEqual(got, want) {
		t.Fatalf("scenarios/default.json reads as\n%+v\nnot the default\n%+v", got, want)
	}
}

// TestForecastAgrees: "on at least three scenarios (wide windows; a
// 2-hour window with daily check-ins at stable times of day; a zone that
// changes clocks during the campaign) the forecast's reachable share
// agrees with what the simulation then reaches". The tolerance is two
// percentage points of the campaign's devices: at 4,000 devices the
// binomial noise of the failure draws alone is about half a point.
func TestForecastAgrees(t *testing.T) {
	const tolerance = 0.02
	for _, c := range []struct {
		file     string
		min, max float64 // the rollout's expected reach, so that the windows visibly matter
		quiet    []string
	}{
		{"wide-windows.json", 0.9, 1, nil},
		// 02-04 UTC, devices at a stable hour, not coming back at the
		// opening: 2 hours of 24 (less the 1% never online).
		{"narrow-window.json", 0.07, 0.095, []string{"2026-04-09"}},
		// 02-03 New York time: 07 UTC before the change, 06 UTC after,
		// and no such hour on Sunday 8 March.
		{"clock-change.json", 0.07, 0.095, []string{"2026-03-08"}},
		// Push: a group back after the retry plan gave up, a group never
		// online, a group whose downloads all fail.
		{"lwm2m.json", 0.8, 0.9, []string{"2026-05-05"}},
		// A group that comes back on the second day, alerts lost.
		{"omadm.json", 0.85, 0.95, nil},
	} {
		t.Run(c.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("scenarios", c.file))
			if err != nil {
				t.Fatal(err)
			}
			s, err := sim.ReadScenario(f, sim.DefaultScenario(1))
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			s.Resize(4000)
			rep, err := sim.Run(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			for _, cr := range rep.Campaigns {
				var fc *sim.CampaignForecast
				for i := range rep.Forecast.Campaigns {
					if rep.Forecast.Campaigns[i].Name == cr.Name {
						fc = &rep.Forecast.Campaigns[i]
					}
				}
				if fc == nil || fc.Devices != cr.Devices {
					t.Fatalf("%s: forecast %+v for a campaign of %d devices", cr.Name, fc, cr.Devices)
				}
				got := float64(cr.Reached) / float64(cr.Devices)
				if math.Abs(got-fc.Reachable) > tolerance && cr.Devices > 100 {
					t.Errorf("%s: forecast reaches %.4f, the simulation %.4f (%d of %d)", cr.Name, fc.Reachable, got, cr.Reached, cr.Devices)
				}
				if cr.Name != "rollout" && cr.Name != "upgrade" {
					continue
				}
				if fc.Reachable < c.min || fc.Reachable > c.max {
					t.Errorf("rollout forecast reaches %.4f, outside [%v, %v]", fc.Reachable, c.min, c.max)
				}
				for _, d := range c.quiet {
					if !containsDate(fc.QuietDays, d) {
						t.Errorf("rollout: %s should add nothing; quiet days %v", d, fc.QuietDays)
					}
				}
			}
		})
	}
}

func containsDate(ds []schedule.Date, s string) bool {
	for _, d := range ds {
		if d.String() == s {
			return true
		}
	}
	return false
}

func TestRefusedRollout(t *testing.T) {
	for _, c := range []struct {
		args []string
		why  string
	}{
		{[]string{"-install-fail", "1"}, "pilot: 0 of 20 succeeded, 0% < 50%"},
		{[]string{"-pilot", "0"}, "no pilot: a campaign of 300 devices (more than 20) needs a pilot of 5..20 devices with at least 50% UpgradeSuccess first"},
	} {
		args := append([]string{"-devices", "300"}, c.args...)
		code, out, errs := runCmd(t, quiet(), args...)
		if code != exitRefused || !strings.Contains(out, "REFUSED: "+c.why) || !strings.Contains(errs, "refused: "+c.why) {
			t.Errorf("%v: exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", args, code, exitRefused, c.why, out, errs)
		}
	}
}

// TestBadFlags: every error names the flag the user wrote.
func TestBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-devices", "0"}, "-devices 0: a fleet size"},
		{[]string{"-devices", "ten"}, "-devices ten:"},
		{[]string{"-offline", "2"}, "-offline 2: a probability must be in [0, 1]"},
		{[]string{"-install-fail", "x"}, "-install-fail x: not a number"},
		{[]string{"-zone", "Nowhere/Atlantis"}, "-zone Nowhere/Atlantis:"},
		{[]string{"-pilot", "3"}, "-pilot 3: the pilot gate counts pilots of 5..20 devices (0: no pilot)"},
		{[]string{"-pilot", "25"}, "-pilot 25: the pilot gate counts"},
		{[]string{"-pilot", "20", "-devices", "10"}, "-pilot 20: its groups hold 10 HTTP devices"},
		{[]string{"-protocol", "coap"}, `-protocol coap: "http", "lwm2m" or "omadm"`},
		{[]string{"-notification-loss", "0.1"}, "-notification-loss 0.1: only for LWM2M and OMA-DM groups"},
		{[]string{"-notification-loss", "-1", "-protocol", "lwm2m"}, "-notification-loss -1: a probability must be in [0, 1]"},
		{[]string{"-protocol", "lwm2m", "-pilot", "5"}, "-pilot 5: its groups hold 0 HTTP devices"},
		{[]string{"-days", "0"}, "-days 0:"},
		{[]string{"-download-windows", "5-2"}, "-download-windows 5-2: window 1"},
		{[]string{"-install-windows", "2-25"}, "-install-windows 2-25: window 1"},
		{[]string{"-start", "yesterday"}, "-start yesterday:"},
		{[]string{"-plot", "out.pdf"}, "-plot out.pdf:"},
		{[]string{"-workers", "0"}, "-workers 0: must be at least 1"},
		{[]string{"-nosuchflag"}, "flag provided but not defined: -nosuchflag"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		code, out, errs := runCmd(t, quiet(), c.args...)
		if code != exitUsage || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, out, errs, exitUsage, c.want)
		}
		for _, goName := range []string{"Behaviour", "PilotShape", "Rollout.", "Fleet[", "DownloadFail"} {
			if strings.Contains(errs, goName) {
				t.Errorf("%v: the error names a Go field (%s): %s", c.args, goName, errs)
			}
		}
	}
}

// TestScenarioErrors: a scenario file's error names the field as the
// file spells it.
func TestScenarioErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, json string
		code       int
		want       string
	}{
		{"unknown field", `{"fleet": [{"name": "a", "count": 10, "chekInEvery": "24h"}]}`, exitUsage,
			`fleet[0].chekInEvery "24h": unknown field`},
		{"unknown top field", `{"devices": 10}`, exitUsage, `devices "10": unknown field`},
		{"unknown window field", `{"rollout": {"softwareName": "s", "softwareFrom": "1.0", "softwareTo": "2.0", "downloadTimeWindowList": [{"startTime": 1, "endTime": 2, "zone": "x"}]}}`,
			exitUsage, `rollout.downloadTimeWindowList[0].zone "x": unknown field`},
		{"nanoseconds", `{"fleet": [{"name": "a", "count": 10, "checkInEvery": 86400000000000}]}`, exitUsage,
			`fleet[0].checkInEvery "86400000000000": must be a string`},
		{"bad duration", `{"fleet": [{"name": "a", "count": 10, "retryJitter": "ten minutes"}]}`, exitUsage,
			`fleet[0].retryJitter "ten minutes": not a Go duration`},
		{"half a day", `{"rollout": {"softwareName": "s", "softwareFrom": "1.0", "softwareTo": "2.0", "endDate": "+36h"}}`, exitUsage,
			`rollout.endDate "+36h": a relative date is`},
		{"bad hour", `{"pilot": {"softwareName": "s", "softwareFrom": "1.0", "softwareTo": "2.0", "devices": 5, "installTimeWindowList": [{"startTime": 3, "endTime": 30}]}}`,
			exitUsage, `pilot.installTimeWindowList[0].endTime`},
		{"wrong type", `{"seed": "one"}`, exitUsage, `seed "one": must be a whole number`},
		{"broken", `{"seed": 1,`, exitUsage, `(file)`},
		{"bad group", `{"fleet": [{"name": "a", "count": 10, "online": "offline"}]}`, exitUsage,
			`fleet[0].offlineFor "0s": an "offline" group needs how long`},
		{"bad action", `{"actions": [{"at": "tomorrow", "do": "cancel", "campaign": "rollout"}]}`, exitUsage, `actions[0].at "tomorrow"`},
		{"lwm2m failure code", `{"fleet": [{"name": "a", "count": 30, "protocol": "LWM2M", "installFailCode": 1}]}`, exitUsage,
			`fleet[0].installFailCode "1": an LwM2M failure is an Update Result (/5/0/5) that a failed update leaves (updateFailedImageLost, updateFailedImageKept): 5 or 8`},
		{"lwm2m download code", `{"fleet": [{"name": "a", "count": 30, "protocol": "LWM2M", "downloadFailCode": 8}]}`, exitUsage,
			`fleet[0].downloadFailCode "8": an LwM2M failure is an Update Result (/5/0/5) that a failed download leaves (downloadFailed): 2..7 or 9`},
		{"fumo success code", `{"fleet": [{"name": "a", "count": 30, "protocol": "OMA-DM", "installFailCode": 200}]}`, exitUsage,
			`fleet[0].installFailCode "200": a FUMO failure is a 4xx or 5xx result code`},
		{"push group in a v2 campaign", `{"fleet": [{"name": "a", "count": 30}, {"name": "meters", "count": 30, "protocol": "LWM2M"}], "rollout": {"softwareName": "s", "softwareFrom": "1.0", "softwareTo": "2.0", "groups": ["meters"]}}`,
			exitUsage, `rollout.groups[0] "meters": a push group (LWM2M, OMA-DM): a /v2 campaign takes HTTP groups; push groups go to the upgrade`},
		{"http group in the upgrade", `{"fleet": [{"name": "a", "count": 30}, {"name": "meters", "count": 30, "protocol": "LWM2M"}], "upgrade": {"firmwareName": "f", "firmwareTo": "2.0", "endDate": "+48h", "groups": ["a"]}}`,
			exitUsage, `upgrade.groups[0] "a": an HTTP group: the /v1 upgrade takes LWM2M and OMA-DM groups`},
		{"upgrade without end", `{"fleet": [{"name": "meters", "count": 30, "protocol": "LWM2M"}], "pilot": {"softwareName": "s", "softwareFrom": "1.0", "softwareTo": "2.0", "devices": 0}, "upgrade": {"firmwareName": "f", "firmwareTo": "2.0"}}`,
			exitUsage, `upgrade.endDate: required: a /v1 request gives its end date`},
		{"lift a push gate", `{"actions": [{"at": "1h", "do": "liftGate", "campaign": "upgrade"}]}`,
			exitUsage, `actions[0].campaign "upgrade": a push campaign has no pilot gate`},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".json")
		if err := os.WriteFile(path, []byte(c.json), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errs := runCmd(t, quiet(), "-scenario", path)
		if code != c.code || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d (want %d), stdout %q, stderr %q; want %q", c.name, code, c.code, out, errs, c.want)
		}
	}
	// Flags override the file, and their errors name the flag.
	path := filepath.Join(dir, "ok.json")
	if err := os.WriteFile(path, []byte(`{"fleet": [{"name": "a", "count": 40}], "pilot": {"softwareName": "sensor-fw", "softwareFrom": "1.0", "softwareTo": "2.0", "make": "Acme", "model": "Sensor", "devices": 5}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCmd(t, quiet(), "-scenario", path, "-pilot", "4"); code != exitUsage || !strings.Contains(errs, "-pilot 4:") {
		t.Errorf("-pilot 4 over a file: exit %d, %q", code, errs)
	}
	if code, out, errs := runCmd(t, quiet(), "-scenario", path, "-pilot", "10", "-devices", "60"); code != exitOK ||
		!strings.Contains(out, "pilot: 10 devices") || !strings.Contains(out, "rollout: 50 devices") {
		t.Errorf("flags over a file: exit %d, %s\n%s", code, errs, out)
	}
}

// TestPlotSVG: the SVG parses as XML and holds one series per status
// that the run saw: a legend entry and one line of many points in the
// status's colour.
func TestPlotSVG(t *testing.T) {
	file := filepath.Join(t.TempDir(), "run.svg")
	code, _, errs := runCmd(t, quiet(), "-scenario", "testdata/small.json", "-plot", file)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	texts, paths := map[string]int{}, map[string]int{}
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not XML: %v", err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch el.Name.Local {
		case "text":
			var s string
			if err := dec.DecodeElement(&s, &el); err != nil {
				t.Fatal(err)
			}
			texts[strings.TrimSpace(s)]++
		case "path":
			var d, style string
			for _, a := range el.Attr {
				switch a.Name.Local {
				case "d":
					d = a.Value
				case "style":
					style = a.Value
				}
			}
			if strings.Count(d, "L") > 2 && strings.Contains(style, "stroke-width:1.5") {
				paths[strings.ToUpper(style)]++
			}
		}
	}
	rep := smallReport(t)
	seen := 0
	for k, status := range rep.Statuses {
		present := false
		for _, c := range rep.Campaigns {
			for _, s := range c.Samples {
				present = present || s.Counts[k] != 0
			}
		}
		col := statusColors[status]
		style := strings.ToUpper("fill:none;stroke:#" + hex2(col.R) + hex2(col.G) + hex2(col.B) + ";stroke-width:1.5")
		want := 0
		if present {
			want, seen = 1, seen+1
		}
		if texts[status] != want || paths[style] != want {
			t.Errorf("%s: %d legend entries and %d lines, want %d of each", status, texts[status], paths[style], want)
		}
	}
	if seen < 3 || texts["download window"] != 1 || texts["install window"] != 1 {
		t.Errorf("%d statuses plotted; legend %v", seen, texts)
	}
}

func hex2(b uint8) string { return string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15]) }

func smallReport(t *testing.T) *sim.Report {
	t.Helper()
	f, err := os.Open("testdata/small.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := sim.ReadScenario(f, sim.DefaultScenario(100_000))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sim.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestPlotPNG(t *testing.T) {
	file := filepath.Join(t.TempDir(), "run.png")
	if code, _, errs := runCmd(t, quiet(), "-devices", "200", "-plot", file); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG (%v): % x", err, b[:min(8, len(b))])
	}
}

// TestProgressDecision: a progress line only on a terminal, only once the
// run has lasted a second, at most every quarter second, and cleared at
// the end. The clock is the test's.
func TestProgressDecision(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	wall := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return wall }
	step := func(terminal bool) string {
		var buf bytes.Buffer
		wall = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		p := newProgress(&buf, env{terminal: terminal, now: clock}, start)
		lines := []string{}
		for _, s := range []struct {
			after  time.Duration
			events int64
		}{{500 * time.Millisecond, 1 << 14}, {600 * time.Millisecond, 2 << 14}, {100 * time.Millisecond, 3 << 14}, {400 * time.Millisecond, 4 << 14}} {
			wall = wall.Add(s.after)
			buf.Reset()
			p.update(sim.Progress{At: start.Add(30 * time.Hour), Events: s.events})
			lines = append(lines, buf.String())
		}
		buf.Reset()
		p.done()
		return strings.Join(append(lines, buf.String()), "|")
	}
	if got := step(false); got != "||||" {
		t.Errorf("not a terminal: %q, want nothing", got)
	}
	got := strings.Split(step(true), "|")
	want := []string{
		"", // 0.5 s: too early
		"\r\x1b[Ksimulate: day 2, Tue 01-06 06:00, 32768 events, 29789 events/s", // 1.1 s: 32768 events in 1.1 s
		"", // 0.1 s after the last line
		"\r\x1b[Ksimulate: day 2, Tue 01-06 06:00, 65536 events, 65536 events/s", // 32768 more in 0.5 s
		"\r\x1b[K", // cleared
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("on a terminal:\n got %q\nwant %q", got, want)
	}
}

// TestProgressInRun: a run that the clock says takes seconds writes a
// progress line on a terminal and none elsewhere; standard output is the
// same either way.
func TestProgressInRun(t *testing.T) {
	slow := func(terminal bool) env {
		t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		return env{terminal: terminal, now: func() time.Time { t0 = t0.Add(2 * time.Second); return t0 }}
	}
	_, out1, errs1 := runCmd(t, slow(true), "-devices", "3000")
	_, out2, errs2 := runCmd(t, slow(false), "-devices", "3000")
	if !strings.Contains(errs1, "\r\x1b[Ksimulate: day ") || strings.Contains(errs2, "\r") || out1 != out2 {
		t.Fatalf("terminal stderr %q; pipe stderr %q; same stdout %v", errs1, errs2, out1 == out2)
	}
}

func newStrictDecoder(s string) *json.Decoder {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	return dec
}
