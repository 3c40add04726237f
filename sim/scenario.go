package sim

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/schedule"
)

// MaxDevices bounds a fleet: device ids are IMEIs minted from a 12-digit
// serial, and a hundred million devices is far beyond what one process
// simulates.
const MaxDevices = 100_000_000

// Range is a span of durations. A draw from it is uniform over the whole
// seconds in [Min, Max].
type Range struct {
	Min time.Duration `json:"min"`
	Max time.Duration `json:"max"`
}

// Behaviour is how every device of the fleet behaves. DefaultBehaviour
// gives the defaults; Run uses the fields as given (a zero probability
// means never).
type Behaviour struct {
	// CheckInEvery is the period of a device's regular check-ins. Each
	// device has its own phase: a random whole hour within the period (a
	// random second when the period is under an hour). Default 24 h:
	// "once a day", at the device's own hour.
	CheckInEvery time.Duration `json:"checkInEvery"`
	// CheckInJitter spreads each regular check-in uniformly over
	// [slot, slot+jitter), drawn anew every time. Default 1 h: anywhere
	// in the device's hour.
	CheckInJitter time.Duration `json:"checkInJitter"`
	// RetryJitter is how late after Instruction.RetryAt a device comes
	// back, uniform in [0, RetryJitter): devices told the same opening
	// do not all call at its first second. Default 10 min. A device comes
	// back at RetryAt only when that is earlier than its next regular
	// check-in.
	RetryJitter time.Duration `json:"retryJitter"`
	// Download and Install are how long the two steps take. Defaults:
	// 2..30 min and 1..10 min.
	Download Range `json:"download"`
	Install  Range `json:"install"`
	// DownloadFail is the chance that a download fails
	// (RovaClientDownloadFailed). Default 0.02.
	DownloadFail float64 `json:"downloadFail"`
	// InstallFail is the chance that an install fails
	// (RovaClientDownloadedInstallFailed). Default 0.03.
	InstallFail float64 `json:"installFail"`
	// UnknownError is the chance, at each of the two steps, that the
	// device reports "Uknown device error." instead of the step's result.
	// Default 0.002.
	UnknownError float64 `json:"unknownError"`
	// Offline is the chance that a device never checks in during the
	// simulation: it ends as RovaClientDidNotReportStatus. Drawn once per
	// device when the fleet is built. Default 0.01.
	Offline float64 `json:"offline"`
}

// DefaultBehaviour returns the default device behaviour (see Behaviour's
// fields).
func DefaultBehaviour() Behaviour {
	return Behaviour{
		CheckInEvery:  24 * time.Hour,
		CheckInJitter: time.Hour,
		RetryJitter:   10 * time.Minute,
		Download:      Range{2 * time.Minute, 30 * time.Minute},
		Install:       Range{time.Minute, 10 * time.Minute},
		DownloadFail:  0.02,
		InstallFail:   0.03,
		UnknownError:  0.002,
		Offline:       0.01,
	}
}

// Shape is the timing of one campaign request, relative to the day it is
// scheduled: the rollout is scheduled when the pilot ends, a moment not
// known in advance.
type Shape struct {
	// StartIn is the number of days from the scheduling day (UTC) to the
	// start date: 0 makes an on-demand campaign, starting at once.
	StartIn int `json:"startIn"`
	// Days is how many calendar days the campaign runs, its start and end
	// dates included (endDate = startDate + Days - 1). At least 1.
	Days int `json:"days"`
	// The hour windows, as in a ThingSpace request; empty means all hours.
	CampaignWindows []schedule.Window `json:"campaignTimeWindowList,omitempty"`
	DownloadWindows []schedule.Window `json:"downloadTimeWindowList,omitempty"`
	InstallWindows  []schedule.Window `json:"installTimeWindowList,omitempty"`
	// DownloadAfter and InstallAfter, when positive, set downloadAfterDate
	// and installAfterDate that many days after the start date.
	DownloadAfter int `json:"downloadAfter,omitempty"`
	InstallAfter  int `json:"installAfter,omitempty"`
	// TimeZone is the IANA zone the window hours are read in ("" is UTC).
	TimeZone string `json:"timeZone,omitempty"`
}

// Timing is the shape's request for a campaign scheduled at now.
func (sh Shape) Timing(now time.Time) schedule.HTTPRequest {
	start := schedule.DateOf(now).AddDays(sh.StartIn)
	req := schedule.HTTPRequest{
		StartDate: start, EndDate: start.AddDays(sh.Days - 1),
		CampaignTimeWindowList: sh.CampaignWindows,
		DownloadTimeWindowList: sh.DownloadWindows,
		InstallTimeWindowList:  sh.InstallWindows,
		TimeZone:               sh.TimeZone,
	}
	if sh.DownloadAfter > 0 {
		req.DownloadAfterDate = start.AddDays(sh.DownloadAfter)
	}
	if sh.InstallAfter > 0 {
		req.InstallAfterDate = start.AddDays(sh.InstallAfter)
	}
	return req
}

// Scenario is one simulation: a fleet, a pilot campaign, then the rollout
// of every other device once the pilot has ended. DefaultScenario gives
// the defaults; Run uses the fields as given.
type Scenario struct {
	// Devices is the fleet size, 1..MaxDevices.
	Devices int `json:"devices"`
	// Seed seeds the one random source of the run.
	Seed uint64 `json:"seed"`
	// Start is the simulated time at which the pilot is scheduled.
	Start time.Time `json:"start"`
	// Pilot is how many devices (the first of the fleet) form the pilot
	// campaign, 0..Devices. ThingSpace refuses a campaign of more than 20
	// devices for a software target until a pilot of 5..20 devices has
	// reached 50% success. With Pilot 0 there is no pilot, and a rollout
	// of more than 20 devices is refused.
	Pilot int `json:"pilot"`
	// PilotShape and Rollout are the two campaigns' timings.
	PilotShape Shape `json:"pilotShape"`
	Rollout    Shape `json:"rollout"`
	// Behaviour is how devices behave.
	Behaviour Behaviour `json:"behaviour"`
	// HistoryMax is how many check-ins the Manager keeps per device
	// (verboselog.Policy.HistoryMax). Small, so that a million devices'
	// history stays bounded: 8 by default.
	HistoryMax int `json:"historyMax"`

	// Observer, when set, also receives every change the Manager makes.
	Observer fota.Observer `json:"-"`
	// OnStep, when set, is called after every event the simulator
	// handles, in order.
	OnStep func(Step) `json:"-"`
}

// DefaultScenario returns a scenario for a fleet of n devices: a pilot of
// 20 devices for 2 days, then a 7-day rollout, both on-demand, downloading
// at night (00..06 and 20..24 UTC) and installing 02..07 UTC, with
// DefaultBehaviour, seed 1, starting Monday 2026-01-05 00:00 UTC.
func DefaultScenario(n int) Scenario {
	windows := func() Shape {
		return Shape{
			DownloadWindows: []schedule.Window{{StartTime: 0, EndTime: 6}, {StartTime: 20, EndTime: 24}},
			InstallWindows:  []schedule.Window{{StartTime: 2, EndTime: 7}},
		}
	}
	pilot, rollout := windows(), windows()
	pilot.Days, rollout.Days = 2, 7
	return Scenario{
		Devices:    n,
		Seed:       1,
		Start:      time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		Pilot:      min(20, max(n, 0)),
		PilotShape: pilot,
		Rollout:    rollout,
		Behaviour:  DefaultBehaviour(),
		HistoryMax: 8,
	}
}

// ErrBadScenario is matched (errors.Is) by every *ScenarioError.
var ErrBadScenario = errors.New("bad simulation scenario")

// ScenarioError names the scenario field and the value that cannot be
// simulated. Err, when set, is the underlying error (a
// *schedule.FieldError for a shape the schedule refuses).
type ScenarioError struct {
	Field  string
	Value  string
	Reason string
	Err    error
}

func (e *ScenarioError) Error() string {
	return fmt.Sprintf("sim: %s %q: %s", e.Field, e.Value, e.Reason)
}

// Is matches ErrBadScenario.
func (e *ScenarioError) Is(target error) bool { return target == ErrBadScenario }

// Unwrap returns the underlying error, if any.
func (e *ScenarioError) Unwrap() error { return e.Err }

// Validate checks that the scenario can be simulated.
func (s *Scenario) Validate() error {
	bad := func(field, value, reason string) error {
		return &ScenarioError{Field: field, Value: value, Reason: reason}
	}
	itoa := strconv.Itoa
	switch {
	case s.Devices < 1 || s.Devices > MaxDevices:
		return bad("Devices", itoa(s.Devices), fmt.Sprintf("must be in 1..%d", MaxDevices))
	case s.Pilot < 0 || s.Pilot > s.Devices:
		return bad("Pilot", itoa(s.Pilot), "must be in 0..Devices")
	case s.Start.IsZero():
		return bad("Start", s.Start.String(), "required")
	case s.Start.Year() < 1900 || s.Start.Year() > 9000:
		return bad("Start", s.Start.String(), "must lie in years 1900..9000")
	case s.HistoryMax < 1:
		return bad("HistoryMax", itoa(s.HistoryMax), "must be at least 1")
	}
	if err := s.Behaviour.validate(); err != nil {
		return err
	}
	for _, sh := range []struct {
		name  string
		shape Shape
	}{{"PilotShape", s.PilotShape}, {"Rollout", s.Rollout}} {
		if sh.shape.StartIn < 0 || sh.shape.StartIn > 366 {
			return bad(sh.name+".StartIn", itoa(sh.shape.StartIn), "must be in 0..366")
		}
		if sh.shape.Days < 1 || sh.shape.Days > 366 {
			return bad(sh.name+".Days", itoa(sh.shape.Days), "must be in 1..366")
		}
		if _, err := schedule.NewHTTP(sh.shape.Timing(s.Start), s.Start, schedule.DefaultPolicy()); err != nil {
			se := &ScenarioError{Field: sh.name, Reason: err.Error(), Err: err}
			var fe *schedule.FieldError
			if errors.As(err, &fe) {
				se.Field, se.Value = sh.name+"."+fe.Field, fe.Value
			}
			return se
		}
	}
	return nil
}

func (b *Behaviour) validate() error {
	dur := func(field string, d time.Duration, lo time.Duration) error {
		if d < lo || d > 366*24*time.Hour {
			return &ScenarioError{Field: "Behaviour." + field, Value: d.String(),
				Reason: fmt.Sprintf("must be in %v..8784h", lo)}
		}
		return nil
	}
	for _, f := range []struct {
		name string
		d    time.Duration
		lo   time.Duration
	}{
		{"CheckInEvery", b.CheckInEvery, time.Second},
		{"CheckInJitter", b.CheckInJitter, 0},
		{"RetryJitter", b.RetryJitter, 0},
		{"Download.Min", b.Download.Min, 0},
		{"Download.Max", b.Download.Max, b.Download.Min},
		{"Install.Min", b.Install.Min, 0},
		{"Install.Max", b.Install.Max, b.Install.Min},
	} {
		if err := dur(f.name, f.d, f.lo); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		name string
		p    float64
	}{
		{"DownloadFail", b.DownloadFail}, {"InstallFail", b.InstallFail},
		{"UnknownError", b.UnknownError}, {"Offline", b.Offline},
	} {
		if math.IsNaN(p.p) || p.p < 0 || p.p > 1 {
			return &ScenarioError{Field: "Behaviour." + p.name, Value: strconv.FormatFloat(p.p, 'g', -1, 64),
				Reason: "a probability must be in [0, 1]"}
		}
	}
	return nil
}
