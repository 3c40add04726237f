// Command simulate is fota's rollout-planning tool: it forecasts and then
// simulates a pilot campaign and the rollout to a fleet of HTTP devices
// (ThingSpace /v2), or a push rollout to LwM2M and OMA-DM devices (/v1),
// on simulated time, through the public fota.Manager API (package sim),
// and prints the dates and windows used, the devices per status day by
// day, the final tally by status and reason, the forecast, and why a
// campaign was refused.
//
//	go run ./examples/simulate                              # 100,000 HTTP devices, the default scenario
//	go run ./examples/simulate -protocol lwm2m              # the same fleet as LwM2M devices: a /v1 push rollout
//	go run ./examples/simulate -protocol omadm              # ... as OMA-DM devices
//	go run ./examples/simulate -scenario examples/simulate/scenarios/narrow-window.json
//	go run ./examples/simulate -devices 1000000 -plot run.svg
//	go run ./examples/simulate -install-fail 1              # the pilot fails: rollout refused, exit 3
//	go run ./examples/simulate -forecast                    # the forecast alone
//
// A scenario file (-scenario) is the JSON of sim.Scenario, documented in
// package sim and examples/simulate/README.md; flags given on the command
// line override it. -json prints the report (sim.Report) as JSON, -plot
// draws devices per status over time with the windows shaded (SVG or PNG,
// by the file's extension).
//
// Standard output depends only on the scenario and flags: the same seed
// gives the same bytes. Wall time, events per second and memory go to
// standard error, and so does a progress line while a run that takes
// more than a second goes on, when standard error is a terminal.
//
// Exit status: 0 when every campaign ran; 1 when the simulation failed;
// 2 for bad flags or a bad scenario; 3 when a campaign was refused (the
// reason is printed: "pilot: 3 of 20 succeeded, 15% < 50%").
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "time/tzdata" // window hours in a named zone, the same on every machine

	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/sim"
)

// The exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitRefused = 3
)

func main() {
	if os.Getenv("GOGC") == "" {
		// The fleet lives in the store's and the simulator's dense
		// columns, which hold no pointers: a collection has little to
		// mark, so collecting often costs little, and the heap's peak
		// stays within a tenth of what is live rather than twice it.
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, env{terminal: isTerminal(os.Stderr), now: time.Now}))
}

// defaultWorkers is -workers unless given: one per core the process may
// use, at most two. On this project's 2-core machines two workers made a
// million-device run about a tenth shorter than one (sim's package doc,
// Cores); more are as correct (the output is the same for any number) but
// were not measured to be faster.
func defaultWorkers() int { return min(runtime.GOMAXPROCS(0), 2) }

// gcPercent is the collector's GOGC unless the environment sets one.
const gcPercent = 10

// env is what the command takes from its surroundings, so that tests can
// set it: whether standard error is a terminal, and the wall clock.
type env struct {
	terminal bool
	now      func() time.Time
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// overrides are the flags that change the scenario: each is applied only
// when given, after the scenario file, and names the scenario fields it
// sets so that an error in them names the flag.
type override struct {
	name   string
	fields []string // scenario fields (prefixes, "*" for any group index)
	apply  func(s *sim.Scenario, v string) error
}

func overrides() []override {
	prob := func(set func(g *sim.Group, p float64)) func(*sim.Scenario, string) error {
		return func(s *sim.Scenario, v string) error {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return errors.New("not a number")
			}
			for i := range s.Fleet {
				set(&s.Fleet[i], p)
			}
			return nil
		}
	}
	windows := func(set func(c *sim.Campaign, ws []schedule.Window)) func(*sim.Scenario, string) error {
		return func(s *sim.Scenario, v string) error {
			ws, err := parseWindows(v)
			if err != nil {
				return err
			}
			set(&s.Pilot, ws)
			set(&s.Rollout, ws)
			return nil
		}
	}
	days := func(c func(s *sim.Scenario) *sim.Campaign) func(*sim.Scenario, string) error {
		return func(s *sim.Scenario, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return errors.New("a number of days, at least 1")
			}
			camp := c(s)
			camp.EndDate = camp.StartDate
			if camp.EndDate.From == sim.FromNothing {
				camp.EndDate.Abs = camp.EndDate.Abs.AddDays(n - 1)
			} else {
				camp.EndDate.Days += n - 1
			}
			return nil
		}
	}
	return []override{
		{"devices", []string{"fleet"}, func(s *sim.Scenario, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > sim.MaxDevices {
				return fmt.Errorf("a fleet size in 1..%d", sim.MaxDevices)
			}
			s.Resize(n)
			return nil
		}},
		{"seed", nil, func(s *sim.Scenario, v string) error {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return errors.New("a whole number")
			}
			s.Seed = n
			return nil
		}},
		{"start", []string{"start"}, func(s *sim.Scenario, v string) error {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				d, derr := schedule.ParseDate("start", v)
				if derr != nil {
					return errors.New(`an RFC 3339 time ("2026-03-02T00:00:00Z") or a date ("2026-03-02")`)
				}
				t = d.Start()
			}
			s.Start = t
			return nil
		}},
		{"protocol", []string{"fleet[*].protocol"}, func(s *sim.Scenario, v string) error {
			if err := s.SetProtocol(v); err != nil {
				return errors.New(`"http", "lwm2m" or "omadm"`)
			}
			return nil
		}},
		{"pilot", []string{"pilot.devices"}, func(s *sim.Scenario, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return errors.New("a number of devices")
			}
			s.Pilot.Devices = n
			return nil
		}},
		{"pilot-days", []string{"pilot.endDate"}, days(func(s *sim.Scenario) *sim.Campaign { return &s.Pilot })},
		{"days", []string{"rollout.endDate"}, days(func(s *sim.Scenario) *sim.Campaign { return &s.Rollout })},
		{"zone", []string{"pilot.timeZone", "rollout.timeZone"}, func(s *sim.Scenario, v string) error {
			s.Pilot.TimeZone, s.Rollout.TimeZone = v, v
			return nil
		}},
		{"download-windows", []string{"pilot.downloadTimeWindowList", "rollout.downloadTimeWindowList"},
			windows(func(c *sim.Campaign, ws []schedule.Window) { c.DownloadTimeWindowList = ws })},
		{"install-windows", []string{"pilot.installTimeWindowList", "rollout.installTimeWindowList"},
			windows(func(c *sim.Campaign, ws []schedule.Window) { c.InstallTimeWindowList = ws })},
		{"download-fail", []string{"fleet[*].downloadFail"}, prob(func(g *sim.Group, p float64) { g.DownloadFail = p })},
		{"install-fail", []string{"fleet[*].installFail"}, prob(func(g *sim.Group, p float64) { g.InstallFail = p })},
		{"unknown-error", []string{"fleet[*].unknownError"}, prob(func(g *sim.Group, p float64) { g.UnknownError = p })},
		{"offline", []string{"fleet[*].neverOnline"}, prob(func(g *sim.Group, p float64) { g.NeverOnline = p })},
		{"notification-loss", []string{"fleet[*].notificationLoss"}, prob(func(g *sim.Group, p float64) { g.NotificationLoss = p })},
	}
}

// parseWindows reads "0-6,20-24" (hours, ThingSpace's startTime-endTime);
// "" or "all" is all hours.
func parseWindows(v string) ([]schedule.Window, error) {
	if v == "" || v == "all" {
		return nil, nil
	}
	var ws []schedule.Window
	for i, part := range strings.Split(v, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "-")
		start, err1 := strconv.Atoi(a)
		end, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("window %d %q: hours as start-end, such as \"0-6,20-24\", or \"all\"", i+1, part)
		}
		w := schedule.Window{StartTime: start, EndTime: end}
		if err := w.Validate("window"); err != nil {
			var fe *schedule.FieldError
			if errors.As(err, &fe) && fe.Reason != "" {
				return nil, fmt.Errorf("window %d %q: %s", i+1, part, fe.Reason)
			}
			return nil, fmt.Errorf("window %d %q: startTime 0..23, endTime 1..24, start before end", i+1, part)
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// run is the command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer, e env) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	usage := func(w io.Writer) {
		fmt.Fprint(w, `usage: simulate [flags]

Forecasts and simulates a pilot FOTA campaign and the rollout to the rest of
the fleet, on simulated time. Without -scenario it runs the default scenario:
100,000 devices checking in daily, a 2-day pilot of 20, then a 7-day rollout,
downloading 00-06 and 20-24 UTC and installing 02-07 UTC. With -protocol
lwm2m or omadm the fleet's devices are pushed to instead: one 7-day /v1
rollout of them all, starting two hours after it is sent (no pilot: the
pilot gate is the HTTP family's).

Exit status: 0 every campaign ran, 1 the simulation failed, 2 bad flags or
scenario, 3 a campaign was refused (the reason is printed).

Flags (given flags override the scenario file):
`)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	fs.Usage = func() {} // -h prints to standard output, a bad flag to standard error: see below
	scenarioFile := fs.String("scenario", "", "read the scenario from this JSON `file` (see examples/simulate/scenarios)")
	help := map[string]string{
		"devices":           "fleet `size`; a fleet of several groups is scaled in proportion (default 100000)",
		"seed":              "random `seed`: the same seed gives the same output (default 1)",
		"start":             "simulated `time` the run starts: RFC 3339 or YYYY-MM-DD (default 2026-01-05)",
		"pilot":             "`devices` in the pilot: 0 (no pilot) or 5..20, the sizes the pilot gate counts (default 20)",
		"pilot-days":        "`days` the pilot runs, start and end dates included (default 2)",
		"days":              "`days` the rollout runs, start and end dates included (default 7)",
		"zone":              "IANA time `zone` the window hours are read in (default UTC)",
		"download-windows":  "download `hours` of both campaigns, as 0-6,20-24, or all (default 0-6,20-24)",
		"install-windows":   "install `hours` of both campaigns, as 2-7, or all (default 2-7)",
		"download-fail":     "`chance` that a download fails, every group (default 0.02)",
		"install-fail":      "`chance` that an install fails, every group (default 0.03)",
		"unknown-error":     "`chance`, per step, of an unknown device error, every group (default 0.002)",
		"offline":           "`chance` that a device never checks in, every group (default 0.01)",
		"protocol":          "every group's `protocol`: http (/v2 check-ins), lwm2m or omadm (a /v1 push rollout, no pilot) (default http)",
		"notification-loss": "`chance` that a push device's notification or Generic Alert is lost, every group (default 0)",
	}
	given := map[string]string{}
	ovs := overrides()
	for _, o := range ovs {
		fs.Func(o.name, help[o.name], func(v string) error { given[o.name] = v; return nil })
	}
	asJSON := fs.Bool("json", false, "print the report as JSON (sim.Report)")
	forecastOnly := fs.Bool("forecast", false, "print the forecast only; simulate nothing")
	plotFile := fs.String("plot", "", "draw devices per status over time to this `file` (.svg or .png)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this `file`")
	workers := fs.Int("workers", defaultWorkers(), "`goroutines` that run one instant's check-ins and reports side by side (the output is the same for any number; by default one per core, at most 2)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return exitOK
		}
		usage(stderr)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "simulate: unexpected argument %q\n", fs.Arg(0))
		usage(stderr)
		return exitUsage
	}
	if *plotFile != "" && !strings.HasSuffix(*plotFile, ".svg") && !strings.HasSuffix(*plotFile, ".png") {
		fmt.Fprintf(stderr, "simulate: -plot %s: the file must end in .svg or .png\n", *plotFile)
		return exitUsage
	}

	s := sim.DefaultScenario(100_000)
	if *scenarioFile != "" {
		f, err := os.Open(*scenarioFile)
		if err != nil {
			fmt.Fprintf(stderr, "simulate: -scenario: %v\n", err)
			return exitUsage
		}
		s, err = sim.ReadScenario(f, s)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "simulate: %s: %s\n", *scenarioFile, describe(err))
			return exitUsage
		}
	}
	for _, o := range ovs { // in a fixed order, whatever the command line's
		v, ok := given[o.name]
		if !ok {
			continue
		}
		if err := o.apply(&s, v); err != nil {
			fmt.Fprintf(stderr, "simulate: -%s %s: %v\n", o.name, v, err)
			return exitUsage
		}
	}
	if err := s.Validate(); err != nil {
		var se *sim.ScenarioError
		if errors.As(err, &se) {
			for _, o := range ovs {
				if _, ok := given[o.name]; ok && names(o.fields, se.Field) {
					fmt.Fprintf(stderr, "simulate: -%s %s: %s\n", o.name, given[o.name], se.Reason)
					return exitUsage
				}
			}
		}
		where := "the default scenario"
		if *scenarioFile != "" {
			where = *scenarioFile
		}
		fmt.Fprintf(stderr, "simulate: %s: %s\n", where, describe(err))
		return exitUsage
	}

	if *forecastOnly {
		fc, err := s.Forecast()
		if err == nil {
			if *asJSON {
				err = writeJSON(stdout, fc)
			} else {
				err = fc.WriteTable(stdout)
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "simulate:", err)
			return exitFailed
		}
		return exitOK
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "simulate:", err)
			return exitFailed
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "simulate:", err)
			return exitFailed
		}
		defer pprof.StopCPUProfile()
	}

	if *workers < 1 {
		fmt.Fprintf(stderr, "simulate: -workers %d: must be at least 1\n", *workers)
		return exitUsage
	}
	s.Workers = *workers
	prog := newProgress(stderr, e, s.Start)
	s.OnProgress = prog.update
	peak := watchHeap()
	start := e.now()
	rep, err := sim.Run(context.Background(), s)
	wall := e.now().Sub(start)
	heap, sys := peak()
	prog.done()
	if err != nil {
		fmt.Fprintln(stderr, "simulate:", err)
		return exitFailed
	}
	if *asJSON {
		err = writeJSON(stdout, rep)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err == nil && *plotFile != "" {
		err = writePlot(rep, *plotFile)
	}
	if err != nil {
		fmt.Fprintln(stderr, "simulate:", err)
		return exitFailed
	}
	n := float64(s.Devices())
	fmt.Fprintf(stderr, "simulate: %d devices, %d events in %v wall time: %.0f events/s; peak heap %.0f B/device (heap obtained from the OS %.0f B/device)\n",
		s.Devices(), rep.Totals.Events, wall.Round(time.Millisecond), float64(rep.Totals.Events)/max(wall.Seconds(), 1e-9),
		float64(heap)/n, float64(sys)/n)
	if rep.Refused != "" {
		fmt.Fprintf(stderr, "simulate: refused: %s\n", rep.Refused)
		return exitRefused
	}
	return exitOK
}

// names reports whether scenario field f is one of fields (a prefix, "*"
// standing for any group index).
func names(fields []string, f string) bool {
	for _, p := range fields {
		if a, b, ok := strings.Cut(p, "[*]"); ok {
			rest, ok := strings.CutPrefix(f, a+"[")
			if _, after, found := strings.Cut(rest, "]"); ok && found && strings.HasPrefix(after, b) {
				return true
			}
			continue
		}
		if f == p || strings.HasPrefix(f, p+".") || strings.HasPrefix(f, p+"[") {
			return true
		}
	}
	return false
}

// describe writes a scenario error as "field "value": reason".
func describe(err error) string {
	var se *sim.ScenarioError
	if errors.As(err, &se) {
		if se.Value == "" {
			return fmt.Sprintf("%s: %s", se.Field, se.Reason)
		}
		return fmt.Sprintf("%s %q: %s", se.Field, se.Value, se.Reason)
	}
	return err.Error()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// watchHeap samples the heap every 20 ms until the returned function is
// called, which reports the highest sample and the heap obtained from the
// OS (which only grows, so it bounds the true peak from above). It reads
// runtime/metrics, which does not stop the world as
// runtime.ReadMemStats does: sampling costs the run nothing.
func watchHeap() func() (peak, sys uint64) {
	var (
		mu   sync.Mutex
		high uint64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	sample := func() {
		h := heapMetrics()
		mu.Lock()
		high = max(high, h[0])
		mu.Unlock()
	}
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() (uint64, uint64) {
		close(stop)
		<-done
		sample()
		mu.Lock()
		defer mu.Unlock()
		return high, heapMetrics()[1]
	}
}

// heapMetrics reads the bytes of heap objects (live and not yet swept:
// MemStats.HeapAlloc) and the heap obtained from the OS (HeapSys: the
// objects, the unused part of their spans, and the free and released
// spans).
func heapMetrics() [2]uint64 {
	ms := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(ms)
	var out [2]uint64
	for i, m := range ms {
		if m.Value.Kind() != metrics.KindUint64 {
			continue
		}
		if i == 0 {
			out[0] = m.Value.Uint64()
		}
		out[1] += m.Value.Uint64()
	}
	return out
}
