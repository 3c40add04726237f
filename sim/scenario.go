package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/device/omadm"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
)

// MaxDevices bounds a fleet: device ids are IMEIs minted from a 12-digit
// serial, and a hundred million devices is far beyond what one process
// simulates.
const MaxDevices = 100_000_000

// maxSpan bounds every duration and offset of a scenario: a year.
const maxSpan = 366 * 24 * time.Hour

// The online patterns of a fleet group (Group.Online).
const (
	OnlineAlways  = "always"  // checks in from the start
	OnlineOffline = "offline" // checks in from Scenario.Start + Group.OfflineFor
	OnlineNever   = "never"   // never checks in
)

// Group is a part of the fleet whose devices share a product, a protocol
// and a behaviour. DefaultGroup gives the defaults; in a scenario file a
// group starts from them, so a file writes only what differs.
type Group struct {
	// Name names the group in campaigns' "groups" and in actions.
	Name string `json:"name"`
	// Count is how many devices the group holds.
	Count int `json:"count"`
	// Make, Model and Software are what the inventory says of every
	// device: a campaign whose make, model or softwareFrom differs
	// rejects them, as ThingSpace does.
	Make     string `json:"make"`
	Model    string `json:"model"`
	Software string `json:"software"`
	// Protocol is "HTTP", "LWM2M" or "OMA-DM" (ThingSpace's spellings;
	// "OMA" and "OMD-DM" are read too). HTTP devices check in and join
	// the pilot and the rollout (/v2); LWM2M and OMA-DM devices are pushed
	// to and join the upgrade (/v1).
	Protocol string `json:"protocol"`
	// CheckInEvery is the period of a device's regular check-ins (push
	// devices: of the sessions in which an OMA-DM device sends a Generic
	// Alert the server did not get). Each device has its own phase: a
	// random whole hour within the period (a random second when the period
	// is under an hour). Default 24h: "once a day", at the device's own
	// hour.
	CheckInEvery Duration `json:"checkInEvery"`
	// CheckInJitter spreads each regular check-in uniformly over
	// [slot, slot+jitter), drawn anew every time. Default 1h.
	CheckInJitter Duration `json:"checkInJitter"`
	// RetryJitter is how late after Instruction.RetryAt a device comes
	// back, uniform in [0, RetryJitter). Default 10m. A device comes back
	// at RetryAt only when that is earlier than its next regular check-in.
	RetryJitter Duration `json:"retryJitter"`
	// FollowRetry is whether a device told to come back at
	// Instruction.RetryAt (a window that opens later) does so. Default
	// true; false is a device that only ever checks in at its own times.
	FollowRetry bool `json:"followRetry"`
	// Online is the group's pattern: "always" (the default), "offline"
	// (no check-in before Scenario.Start + OfflineFor; a push device
	// answers nothing until then, and then registers or opens a session)
	// or "never".
	Online string `json:"online"`
	// OfflineFor is how long an "offline" group stays silent.
	OfflineFor Duration `json:"offlineFor,omitzero"`
	// NeverOnline is the chance that a device of the group never checks
	// in (push: never answers) at all, drawn once per device. Default
	// 0.01.
	NeverOnline float64 `json:"neverOnline"`
	// Download and Install are how long the two steps take. Defaults:
	// 2m..30m and 1m..10m.
	Download Range `json:"download"`
	Install  Range `json:"install"`
	// DownloadFail and InstallFail are the chances that a step fails
	// (HTTP: RovaClientDownloadFailed, RovaClientDownloadedInstallFailed;
	// push: the failure codes below). Defaults 0.02 and 0.03.
	DownloadFail float64 `json:"downloadFail"`
	InstallFail  float64 `json:"installFail"`
	// UnknownError is the chance, at each step, that an HTTP device
	// reports "Uknown device error." instead. Default 0.002. Push devices
	// report protocol result codes only: they draw nothing from it.
	UnknownError float64 `json:"unknownError"`

	// Push groups only (LWM2M, OMA-DM).

	// NotificationLoss is the chance that one LwM2M notification or FUMO
	// Generic Alert never reaches the server. The Manager reads /5/0 of
	// an LwM2M device it has heard nothing from for a while; an OMA-DM
	// device sends the alert again in its next session.
	NotificationLoss float64 `json:"notificationLoss,omitzero"`
	// DownloadFailCode and InstallFailCode are what a failed step
	// reports. LwM2M: an Update Result (/5/0/5) that its Object 5 machine
	// can reach, 2..7 or 9 for a download (downloadFailed) and 5 or 8 for
	// an update (the device left Idle with 5, Downloaded with 8, the image
	// kept). OMA-DM: a FUMO failure code (4xx, 5xx, the vendor ranges
	// included). 0 is the protocol's usual one: LwM2M 4 (connection lost
	// during download) and 8 (firmware update failed), FUMO 503 (download
	// failed: network issues) and 410 (firmware update failed).
	DownloadFailCode int `json:"downloadFailCode,omitzero"`
	InstallFailCode  int `json:"installFailCode,omitzero"`
}

// DefaultGroup returns the default group: 1,000 HTTP devices "Acme"
// "Sensor" on software "1.0", checking in daily at their own hour, with
// the failure rates documented on Group's fields.
func DefaultGroup() Group {
	return Group{
		Name: "fleet", Count: 1000, Make: "Acme", Model: "Sensor", Software: "1.0", Protocol: "HTTP",
		CheckInEvery: Duration(24 * time.Hour), CheckInJitter: Duration(time.Hour), RetryJitter: Duration(10 * time.Minute),
		FollowRetry: true, Online: OnlineAlways, NeverOnline: 0.01,
		Download:     Range{Duration(2 * time.Minute), Duration(30 * time.Minute)},
		Install:      Range{Duration(time.Minute), Duration(10 * time.Minute)},
		DownloadFail: 0.02, InstallFail: 0.03, UnknownError: 0.002,
	}
}

// UnmarshalJSON reads a group on top of DefaultGroup, so that a scenario
// file writes only what differs from the defaults.
func (g *Group) UnmarshalJSON(b []byte) error {
	type plain Group
	p := plain(DefaultGroup())
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*g = Group(p)
	return nil
}

// protocol is the group's protocol (HTTP when it cannot be read; Validate
// reports that).
func (g *Group) protocol() device.Protocol {
	p, err := device.ParseProtocol(g.Protocol)
	if err != nil {
		return device.HTTP
	}
	return p
}

// Timing is the date and window part of a ThingSpace campaign request
// (/v2 CampaignSoftwareUpgrade and V2ChangeCampaignDatesRequest), with
// dates that may be relative (see DateSpec) and fota's timeZone.
type Timing struct {
	StartDate              DateSpec          `json:"startDate"`
	EndDate                DateSpec          `json:"endDate,omitzero"`
	CampaignTimeWindowList []schedule.Window `json:"campaignTimeWindowList,omitempty"`
	DownloadAfterDate      DateSpec          `json:"downloadAfterDate,omitzero"`
	DownloadTimeWindowList []schedule.Window `json:"downloadTimeWindowList,omitempty"`
	InstallAfterDate       DateSpec          `json:"installAfterDate,omitzero"`
	InstallTimeWindowList  []schedule.Window `json:"installTimeWindowList,omitempty"`
	// TimeZone is the IANA zone the window hours are read in ("" is UTC).
	TimeZone string `json:"timeZone,omitempty"`
}

// Request is the ThingSpace timing of a campaign scheduled at scheduled
// in a simulation that started at start.
func (t Timing) Request(scheduled, start time.Time) schedule.HTTPRequest {
	return schedule.HTTPRequest{
		StartDate: t.StartDate.Resolve(scheduled, start), EndDate: t.EndDate.Resolve(scheduled, start),
		CampaignTimeWindowList: t.CampaignTimeWindowList,
		DownloadAfterDate:      t.DownloadAfterDate.Resolve(scheduled, start),
		DownloadTimeWindowList: t.DownloadTimeWindowList,
		InstallAfterDate:       t.InstallAfterDate.Resolve(scheduled, start),
		InstallTimeWindowList:  t.InstallTimeWindowList,
		TimeZone:               t.TimeZone,
	}
}

// Campaign is the pilot or the rollout: a ThingSpace /v2 schedule request
// (CampaignSoftwareUpgrade) whose deviceList the simulator fills, plus
// when the operator sends it. It takes HTTP devices only.
type Campaign struct {
	CampaignName     string `json:"campaignName,omitempty"`
	SoftwareName     string `json:"softwareName"`
	SoftwareFrom     string `json:"softwareFrom"`
	SoftwareTo       string `json:"softwareTo"`
	DistributionType string `json:"distributionType,omitempty"` // "HTTP"
	Make             string `json:"make,omitempty"`
	Model            string `json:"model,omitempty"`
	Timing
	// Devices is how many devices the campaign requests, taken in fleet
	// order from its groups. For the pilot, 0 means no pilot; otherwise
	// 5..20, the sizes the pilot gate counts. For the rollout, 0 means
	// every device of its groups that is not in the pilot.
	Devices int `json:"devices"`
	// Groups names the fleet groups the campaign draws from, HTTP groups
	// all; empty is every HTTP group.
	Groups []string `json:"groups,omitempty"`
	// ScheduleAt is when the request is sent. Defaults: the start for
	// the pilot, "pilotEnd" for the rollout (the gate is judged when the
	// pilot ends).
	ScheduleAt At `json:"scheduleAt"`
}

// UnmarshalJSON reads a campaign on top of the one it replaces, except
// for its timing, which is exactly what the file writes, as in a
// ThingSpace request: an absent window list is all hours, an absent
// startDate is "+0h" (on-demand) and an absent endDate of an on-demand
// campaign is a week later.
func (c *Campaign) UnmarshalJSON(b []byte) error {
	type plain Campaign
	p := plain(*c)
	p.Timing = Timing{StartDate: Relative(0)}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = Campaign(p)
	return nil
}

// Upgrade is the push rollout: a ThingSpace /v1 request
// (FirmwareUpgradeRequest: firmwareName, firmwareTo, startDate, endDate,
// deviceList, with fota's prerequisites make, model and firmwareFrom),
// whose deviceList the simulator fills with LWM2M and OMA-DM devices,
// plus when the operator sends it. It has no pilot: the pilot gate is the
// HTTP family's. A start date of the day it is sent is on-demand (it
// starts two hours later); a later one starts at 00:00 UTC that day. It
// runs to the end of its end date, which a /v1 request must give.
type Upgrade struct {
	CampaignName string `json:"campaignName,omitempty"`
	FirmwareName string `json:"firmwareName"`
	FirmwareFrom string `json:"firmwareFrom,omitempty"`
	FirmwareTo   string `json:"firmwareTo"`
	Make         string `json:"make,omitempty"`
	Model        string `json:"model,omitempty"`
	// StartDate and EndDate are the request's dates (see DateSpec).
	StartDate DateSpec `json:"startDate"`
	EndDate   DateSpec `json:"endDate"`
	// Devices is how many devices the upgrade requests, taken in fleet
	// order from its groups; 0 means every device of its groups.
	Devices int `json:"devices"`
	// Groups names the fleet groups the upgrade draws from, LWM2M and
	// OMA-DM groups all; empty is every push group.
	Groups []string `json:"groups,omitempty"`
	// ScheduleAt is when the request is sent. Default: the start.
	ScheduleAt At `json:"scheduleAt"`
}

// UnmarshalJSON reads an upgrade on top of the one it replaces, except
// for its dates, which are exactly what the file writes: an absent
// startDate is "+0h" (on-demand), and endDate is required.
func (u *Upgrade) UnmarshalJSON(b []byte) error {
	type plain Upgrade
	p := plain(*u)
	p.StartDate, p.EndDate = Relative(0), DateSpec{}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*u = Upgrade(p)
	return nil
}

// Request is the /v1 request of an upgrade scheduled at scheduled in a
// simulation that started at start, for the devices ids.
func (u *Upgrade) Request(scheduled, start time.Time, ids []string) fota.UpgradeRequest {
	return fota.UpgradeRequest{
		AccountName: account, CampaignName: u.CampaignName, FirmwareName: u.FirmwareName,
		FirmwareTo: u.FirmwareTo, StartDate: u.StartDate.Resolve(scheduled, start), EndDate: u.EndDate.Resolve(scheduled, start),
		DeviceList: ids, Make: u.Make, Model: u.Model, FirmwareFrom: u.FirmwareFrom,
	}
}

// The operator actions (Action.Do).
const (
	DoCancel        = "cancel"        // Manager.Cancel: before the start
	DoAbort         = "abort"         // Manager.Abort: after the start
	DoChangeDates   = "changeDates"   // Manager.ChangeDates with Action.Dates
	DoAddDevices    = "addDevices"    // Manager.AddDevices: Count devices of Group
	DoEnableLogging = "enableLogging" // Manager.EnableLogging: Count devices of Group
	DoLiftGate      = "liftGate"      // Manager.LiftGate: the pilot gate of the campaign's software
)

// Action is one operator action on the scenario's timeline. A refused
// action is reported (ActionReport.Refused) and changes nothing.
type Action struct {
	At At     `json:"at"`
	Do string `json:"do"`
	// Campaign is "pilot", "rollout" or "upgrade" (cancel, abort,
	// changeDates, addDevices; liftGate lifts the gate of the pilot's or
	// the rollout's software, by the operator's decision).
	Campaign string `json:"campaign,omitempty"`
	// Dates is the full new timing of changeDates (ThingSpace: "Fields
	// which need to remain unchanged should be also provided"); relative
	// dates count from the day the campaign was scheduled.
	Dates *Timing `json:"dates,omitempty"`
	// Group and Count choose the devices of addDevices and enableLogging:
	// the group's first Count devices that are in no campaign (0: all of
	// them; enableLogging: at most 20).
	Group string `json:"group,omitempty"`
	Count int    `json:"count,omitzero"`
}

// Scenario is one simulation: a fleet, a pilot campaign and the rollout
// (/v2, for the HTTP devices), the upgrade (/v1, for the LwM2M and OMA-DM
// devices), and operator actions. DefaultScenario gives the defaults;
// ReadScenario reads a scenario file (its JSON is this type's); Run uses
// the fields as given.
type Scenario struct {
	// Seed seeds the one random source of the run.
	Seed uint64 `json:"seed"`
	// Start is the simulated time at which the simulation starts.
	Start time.Time `json:"start"`
	// Fleet is the devices, group by group, 1..MaxDevices in all.
	Fleet []Group `json:"fleet"`
	// Pilot and Rollout are the two /v2 campaigns of the HTTP devices;
	// Upgrade is the /v1 push campaign of the LWM2M and OMA-DM devices.
	// A campaign whose groups hold no device left is not sent.
	Pilot   Campaign `json:"pilot"`
	Rollout Campaign `json:"rollout"`
	Upgrade Upgrade  `json:"upgrade"`
	// Actions are the operator's actions, in any order.
	Actions []Action `json:"actions,omitempty"`
	// SampleEvery is how often the report samples every campaign's
	// counts (Report's Samples, the plot). Default 1h.
	SampleEvery Duration `json:"sampleEvery"`
	// HistoryMax is how many check-ins the Manager keeps per device
	// (verboselog.Policy.HistoryMax). Small, so that a million devices'
	// history stays bounded: 8 by default.
	HistoryMax int `json:"historyMax"`

	// Workers is how many goroutines run the HTTP devices' events of one
	// instant side by side (see Cores in the package doc); 0 means 1.
	// The Report, the changes told to Observer and the steps told to
	// OnStep are the same whatever the number. One is the default, so
	// that a run starts no goroutine of its own (a helper waits for work
	// by spinning a while): a second makes a million-device run about a
	// tenth shorter on this project's 2-core machines, for a tenth to a
	// fifth more CPU time. examples/simulate runs one per core, at most
	// two.
	Workers int `json:"-"`

	// Observer, when set, also receives every change the Manager makes:
	// those of one instant's batch of check-ins and reports in event
	// order, its campaigns' changes after them (see Cores in the package
	// doc).
	Observer fota.Observer `json:"-"`
	// OnStep, when set, is called after every event the simulator
	// handles, in order.
	OnStep func(Step) `json:"-"`
	// OnProgress, when set, is called each time the events handled pass
	// a multiple of ProgressEvery, with the simulated time and the events
	// handled so far.
	OnProgress func(Progress) `json:"-"`

	// config, set by the package's tests only, adjusts the Managers'
	// configuration before they are made: a store that fails on purpose.
	config func(*fota.Config)
}

// DefaultScenario returns a scenario for one group of n devices
// (DefaultGroup): a pilot of 20 devices (none when n < 5; n when n < 20)
// for 2 days, then, when the pilot ends, a 7-day rollout of every other
// device; both on-demand, downloading at night (00..06 and 20..24 UTC)
// and installing 02..07 UTC; seed 1, starting Monday 2026-01-05 00:00 UTC.
// Its upgrade, a 7-day on-demand /v1 request of the same firmware sent at
// the start, takes the push groups, of which the default fleet has none
// (examples/simulate -protocol lwm2m makes the group a push group).
func DefaultScenario(n int) Scenario {
	g := DefaultGroup()
	g.Count = n
	timing := func(days int) Timing {
		return Timing{
			StartDate: Relative(0), EndDate: Relative(days - 1),
			DownloadTimeWindowList: []schedule.Window{{StartTime: 0, EndTime: 6}, {StartTime: 20, EndTime: 24}},
			InstallTimeWindowList:  []schedule.Window{{StartTime: 2, EndTime: 7}},
		}
	}
	request := func(name string, days int) Campaign {
		return Campaign{CampaignName: name, SoftwareName: "sensor-fw", SoftwareFrom: "1.0", SoftwareTo: "2.0",
			DistributionType: "HTTP", Make: "Acme", Model: "Sensor", Timing: timing(days)}
	}
	pilotSize := min(20, max(n, 0))
	if pilotSize < pilot.DefaultPolicy().MinDevices {
		pilotSize = 0
	}
	s := Scenario{
		Seed:        1,
		Start:       time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		Fleet:       []Group{g},
		Pilot:       request("pilot", 2),
		Rollout:     request("rollout", 7),
		SampleEvery: Duration(time.Hour),
		HistoryMax:  8,
	}
	s.Pilot.Devices = pilotSize
	s.Rollout.ScheduleAt = At{PilotEnd: true}
	s.Upgrade = Upgrade{CampaignName: "upgrade", FirmwareName: "sensor-fw", FirmwareFrom: "1.0", FirmwareTo: "2.0",
		Make: "Acme", Model: "Sensor", StartDate: Relative(0), EndDate: Relative(6)}
	return s
}

// SetProtocol makes every fleet group's devices speak protocol p ("HTTP",
// "LWM2M" or "OMA-DM", in any case, as Group.Protocol reads them). For a push protocol it
// also drops the pilot (the pilot gate is the HTTP family's): the
// upgrade then takes the whole fleet. A protocol it cannot read is a
// *ScenarioError naming "fleet[*].protocol".
func (s *Scenario) SetProtocol(p string) error {
	proto, err := device.ParseProtocol(strings.ToUpper(p))
	if err != nil {
		return &ScenarioError{Field: "fleet[*].protocol", Value: p, Reason: `must be "HTTP", "LWM2M" or "OMA-DM"`, Err: err}
	}
	for i := range s.Fleet {
		s.Fleet[i].Protocol = proto.String()
	}
	if proto.Family() == device.FamilyPush {
		s.Pilot.Devices = 0
	}
	return nil
}

// Devices is the fleet's size: every group's count.
func (s *Scenario) Devices() int {
	n := 0
	for _, g := range s.Fleet {
		n += g.Count
	}
	return n
}

// Resize scales every group's count so that the fleet holds n devices,
// in proportion (largest remainders; ties to the earlier group). With
// one group it just sets its count.
func (s *Scenario) Resize(n int) {
	total := s.Devices()
	if total <= 0 || len(s.Fleet) == 0 {
		if len(s.Fleet) > 0 {
			s.Fleet[0].Count = n
		}
		return
	}
	type rem struct {
		i int
		r int64
	}
	left := n
	rems := make([]rem, len(s.Fleet))
	for i := range s.Fleet {
		num := int64(s.Fleet[i].Count) * int64(n)
		s.Fleet[i].Count = int(num / int64(total))
		rems[i] = rem{i, num % int64(total)}
		left -= s.Fleet[i].Count
	}
	for ; left > 0; left-- {
		best := 0
		for j := range rems {
			if rems[j].r > rems[best].r {
				best = j
			}
		}
		s.Fleet[rems[best].i].Count++
		rems[best].r = -1
	}
}

// ErrBadScenario is matched (errors.Is) by every *ScenarioError.
var ErrBadScenario = errors.New("bad simulation scenario")

// ErrUnknownField is wrapped by the *ScenarioError of a field that the
// scenario format does not know.
var ErrUnknownField = errors.New("unknown field")

// ScenarioError names the scenario field, as a scenario file spells it
// ("fleet[1].checkInEvery", "rollout.downloadTimeWindowList[0].endTime"),
// and the value that cannot be simulated. Err, when set, is the
// underlying error (a *schedule.FieldError for a timing the schedule
// refuses, ErrUnknownField).
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

// Validate checks that the scenario can be simulated; every error is a
// *ScenarioError naming the field as a scenario file spells it.
func (s *Scenario) Validate() error {
	bad := func(field, value, reason string) error {
		return &ScenarioError{Field: field, Value: value, Reason: reason}
	}
	itoa := strconv.Itoa
	switch {
	case s.Start.IsZero():
		return bad("start", "", "required")
	case s.Start.Year() < 1900 || s.Start.Year() > 9000:
		return bad("start", s.Start.Format(time.RFC3339), "must lie in years 1900..9000")
	case s.Workers < 0:
		return bad("workers", itoa(s.Workers), "must be 0 (one) or more")
	case s.HistoryMax < 1:
		return bad("historyMax", itoa(s.HistoryMax), "must be at least 1")
	case s.SampleEvery < Duration(time.Minute) || s.SampleEvery > Duration(maxSpan):
		return bad("sampleEvery", s.SampleEvery.String(), "must be in 1m..8784h")
	case len(s.Fleet) == 0:
		return bad("fleet", "[]", "needs at least one group")
	case s.Devices() < 1 || s.Devices() > MaxDevices:
		return bad("fleet", itoa(s.Devices())+" devices", fmt.Sprintf("the groups' counts must add up to 1..%d", MaxDevices))
	}
	names := map[string]device.Family{}
	for i := range s.Fleet {
		if err := s.Fleet[i].validate("fleet[" + itoa(i) + "]"); err != nil {
			return err
		}
		if names[s.Fleet[i].Name] != 0 {
			return bad("fleet["+itoa(i)+"].name", s.Fleet[i].Name, "two groups have this name")
		}
		names[s.Fleet[i].Name] = s.Fleet[i].protocol().Family()
	}
	for _, c := range []struct {
		name string
		c    *Campaign
	}{{"pilot", &s.Pilot}, {"rollout", &s.Rollout}} {
		if err := s.validateCampaign(c.name, c.c, names); err != nil {
			return err
		}
	}
	if s.Pilot.ScheduleAt.PilotEnd {
		return bad("pilot.scheduleAt", s.Pilot.ScheduleAt.String(), "the pilot cannot wait for its own end")
	}
	pool := s.groupDevices(s.Pilot.Groups, device.FamilyHTTP)
	if s.Pilot.Devices > pool {
		return bad("pilot.devices", itoa(s.Pilot.Devices), fmt.Sprintf("its groups hold %d HTTP devices", pool))
	}
	if s.Rollout.Devices < 0 {
		return bad("rollout.devices", itoa(s.Rollout.Devices), "must be 0 (every other device) or more")
	}
	if err := s.validateUpgrade(names); err != nil {
		return err
	}
	for i := range s.Actions {
		if err := s.validateAction("actions["+itoa(i)+"]", &s.Actions[i], names); err != nil {
			return err
		}
	}
	return nil
}

func (g *Group) validate(path string) error {
	bad := func(field, value, reason string) error {
		return &ScenarioError{Field: path + "." + field, Value: value, Reason: reason}
	}
	proto, err := device.ParseProtocol(g.Protocol)
	switch {
	case g.Name == "":
		return bad("name", "", "required")
	case g.Count < 0 || g.Count > MaxDevices:
		return bad("count", strconv.Itoa(g.Count), fmt.Sprintf("must be in 0..%d", MaxDevices))
	case err != nil:
		return &ScenarioError{Field: path + ".protocol", Value: g.Protocol, Reason: `must be "HTTP", "LWM2M" or "OMA-DM"`, Err: err}
	case g.Online != OnlineAlways && g.Online != OnlineOffline && g.Online != OnlineNever:
		return bad("online", g.Online, `must be "always", "offline" or "never"`)
	case g.Online == OnlineOffline && g.OfflineFor <= 0:
		return bad("offlineFor", g.OfflineFor.String(), `an "offline" group needs how long it stays offline, such as "72h"`)
	case g.Online != OnlineOffline && g.OfflineFor != 0:
		return bad("offlineFor", g.OfflineFor.String(), `only for "online": "offline"`)
	}
	for _, f := range []struct {
		name   string
		d, lo  Duration
		strict bool
	}{
		{"checkInEvery", g.CheckInEvery, Duration(time.Second), false},
		{"checkInJitter", g.CheckInJitter, 0, false},
		{"retryJitter", g.RetryJitter, 0, false},
		{"offlineFor", g.OfflineFor, 0, false},
		{"download.min", g.Download.Min, 0, false},
		{"download.max", g.Download.Max, g.Download.Min, false},
		{"install.min", g.Install.Min, 0, false},
		{"install.max", g.Install.Max, g.Install.Min, false},
	} {
		if f.d < f.lo || f.d > Duration(maxSpan) {
			return bad(f.name, f.d.String(), fmt.Sprintf("must be in %v..8784h", f.lo))
		}
	}
	for _, p := range []struct {
		name string
		p    float64
	}{
		{"neverOnline", g.NeverOnline}, {"downloadFail", g.DownloadFail}, {"installFail", g.InstallFail},
		{"unknownError", g.UnknownError}, {"notificationLoss", g.NotificationLoss},
	} {
		if math.IsNaN(p.p) || p.p < 0 || p.p > 1 {
			return bad(p.name, strconv.FormatFloat(p.p, 'g', -1, 64), "a probability must be in [0, 1]")
		}
	}
	push := proto.Family() == device.FamilyPush
	for _, c := range []struct {
		name string
		code int
		ev   lwm2m.Event // the LwM2M event whose results the code must be
	}{{"downloadFailCode", g.DownloadFailCode, lwm2m.EventDownloadFailed}, {"installFailCode", g.InstallFailCode, lwm2m.EventUpdateFailedImageLost}} {
		switch {
		case c.code == 0:
		case !push:
			return bad(c.name, strconv.Itoa(c.code), "only for LWM2M and OMA-DM groups")
		case proto == device.LWM2M:
			if !lwm2mFailure(c.ev, c.code) {
				what := "a failed download leaves (downloadFailed): 2..7 or 9"
				if c.ev != lwm2m.EventDownloadFailed {
					what = "a failed update leaves (updateFailedImageLost, updateFailedImageKept): 5 or 8"
				}
				return bad(c.name, strconv.Itoa(c.code), "an LwM2M failure is an Update Result (/5/0/5) that "+what)
			}
		default:
			rc, err := omadm.ParseResultCode(fmt.Sprintf("%03d", c.code))
			if err != nil || rc.Successful() {
				return bad(c.name, strconv.Itoa(c.code), "a FUMO failure is a 4xx or 5xx result code of the table or a vendor range")
			}
		}
	}
	if !push && g.NotificationLoss != 0 {
		return bad("notificationLoss", strconv.FormatFloat(g.NotificationLoss, 'g', -1, 64), "only for LWM2M and OMA-DM groups")
	}
	return nil
}

// lwm2mFailure reports whether code is a failure result that event ev
// (downloadFailed, or an update's failure: updateFailedImageLost with 5
// or 8) leaves in /5/0/5.
func lwm2mFailure(ev lwm2m.Event, code int) bool {
	r, err := lwm2m.ParseResult(int64(code))
	if err != nil || r == lwm2m.Success || r == lwm2m.Initial {
		return false
	}
	return slices.Contains(ev.Results(), r)
}

// groupDevices is how many devices of family fam the named groups hold
// (every group of the family when names is empty).
func (s *Scenario) groupDevices(names []string, fam device.Family) int {
	n := 0
	for i := range s.Fleet {
		if s.Fleet[i].protocol().Family() == fam && inGroups(names, s.Fleet[i].Name) {
			n += s.Fleet[i].Count
		}
	}
	return n
}

func inGroups(names []string, name string) bool {
	return len(names) == 0 || slices.Contains(names, name)
}

// checkGroups refuses a campaign's group that does not exist or whose
// devices are not of the campaign's family.
func checkGroups(path string, names []string, groups map[string]device.Family, fam device.Family) error {
	for i, g := range names {
		field := path + ".groups[" + strconv.Itoa(i) + "]"
		switch f := groups[g]; {
		case f == 0:
			return &ScenarioError{Field: field, Value: g, Reason: "no fleet group has this name"}
		case f != fam && fam == device.FamilyHTTP:
			return &ScenarioError{Field: field, Value: g, Reason: "a push group (LWM2M, OMA-DM): a /v2 campaign takes HTTP groups; push groups go to the upgrade"}
		case f != fam:
			return &ScenarioError{Field: field, Value: g, Reason: "an HTTP group: the /v1 upgrade takes LWM2M and OMA-DM groups"}
		}
	}
	return nil
}

func (s *Scenario) validateCampaign(name string, c *Campaign, groups map[string]device.Family) error {
	bad := func(field, value, reason string) error {
		return &ScenarioError{Field: name + "." + field, Value: value, Reason: reason}
	}
	gate := pilot.DefaultPolicy()
	switch {
	case name == "pilot" && c.Devices != 0 && (c.Devices < gate.MinDevices || c.Devices > gate.MaxDevices):
		return bad("devices", strconv.Itoa(c.Devices),
			fmt.Sprintf("the pilot gate counts pilots of %d..%d devices (0: no pilot)", gate.MinDevices, gate.MaxDevices))
	case c.DistributionType != "" && c.DistributionType != "HTTP":
		return bad("distributionType", c.DistributionType, `must be "HTTP": a /v2 request (a push campaign is the upgrade, a /v1 request)`)
	case c.SoftwareName == "":
		return bad("softwareName", "", "required")
	case c.SoftwareFrom == "":
		return bad("softwareFrom", "", "required")
	case c.SoftwareTo == "":
		return bad("softwareTo", "", "required")
	case c.ScheduleAt.After > maxSpan:
		return bad("scheduleAt", c.ScheduleAt.String(), "must be within 8784h")
	}
	if err := checkGroups(name, c.Groups, groups, device.FamilyHTTP); err != nil {
		return err
	}
	return s.validateTiming(name, &c.Timing, s.Start.Add(c.ScheduleAt.After), nil)
}

// validateUpgrade checks the upgrade as the Manager would if it were sent
// at its scheduleAt.
func (s *Scenario) validateUpgrade(groups map[string]device.Family) error {
	u := &s.Upgrade
	bad := func(field, value, reason string) error {
		return &ScenarioError{Field: "upgrade." + field, Value: value, Reason: reason}
	}
	switch {
	case u.Devices < 0:
		return bad("devices", strconv.Itoa(u.Devices), "must be 0 (every device of its groups) or more")
	case u.ScheduleAt.After > maxSpan:
		return bad("scheduleAt", u.ScheduleAt.String(), "must be within 8784h")
	}
	if err := checkGroups("upgrade", u.Groups, groups, device.FamilyPush); err != nil {
		return err
	}
	if s.groupDevices(u.Groups, device.FamilyPush) == 0 {
		return nil // not sent: nothing more to check
	}
	switch {
	case u.FirmwareName == "":
		return bad("firmwareName", "", "required")
	case u.FirmwareTo == "":
		return bad("firmwareTo", "", "required")
	case u.StartDate.IsZero():
		return bad("startDate", "", "required")
	case u.EndDate.IsZero():
		return bad("endDate", "", "required: a /v1 request gives its end date")
	}
	for _, d := range []struct {
		name string
		d    DateSpec
	}{{"startDate", u.StartDate}, {"endDate", u.EndDate}} {
		if d.d.From != FromNothing && (d.d.Days < 0 || d.d.Days > maxDays) {
			return bad(d.name, strconv.Itoa(d.d.Days)+" days", "a relative date is 0..3660 days on")
		}
	}
	if u.StartDate.From == FromNothing && u.StartDate.Abs.Before(schedule.DateOf(s.Start)) {
		return &ScenarioError{Field: "upgrade.startDate", Value: u.StartDate.String(),
			Reason: "lies before the scenario's start (" + schedule.DateOf(s.Start).String() + ")", Err: schedule.ErrStartPassed}
	}
	at := s.Start.Add(u.ScheduleAt.After)
	if u.ScheduleAt.PilotEnd {
		return nil // sent when the pilot ends: the Manager judges the dates then
	}
	req := u.Request(at, s.Start, nil)
	if req.StartDate.Before(schedule.DateOf(at)) {
		return nil // the start has passed when it is sent: the Manager's refusal, reported
	}
	start, err := schedule.NewPush(req.StartDate, at, schedule.DefaultPolicy())
	if err != nil {
		return &ScenarioError{Field: "upgrade.startDate", Value: u.StartDate.String(), Reason: err.Error(), Err: err}
	}
	if req.EndDate.Before(req.StartDate) {
		return &ScenarioError{Field: "upgrade.endDate", Value: u.EndDate.String(), Reason: "before startDate " + req.StartDate.String(), Err: schedule.ErrEndBeforeStart}
	}
	if !start.StartsAt().Before(req.EndDate.End()) {
		return &ScenarioError{Field: "upgrade.endDate", Value: u.EndDate.String(),
			Reason: "the upgrade would start (" + start.StartsAt().Format(time.RFC3339) + ") after it ends", Err: schedule.ErrEndBeforeStart}
	}
	return nil
}

// validateTiming checks a timing as the schedule would if the campaign
// were scheduled at at (for a rollout scheduled when the pilot ends, the
// earliest it can be); with old, as a change of old's timing.
func (s *Scenario) validateTiming(path string, t *Timing, at time.Time, old *schedule.HTTP) error {
	if err := checkDays(path, t); err != nil {
		return err
	}
	if t.StartDate.IsZero() {
		return &ScenarioError{Field: path + ".startDate", Reason: "required"}
	}
	if t.StartDate.From == FromNothing && t.StartDate.Abs.Before(schedule.DateOf(s.Start)) {
		return &ScenarioError{Field: path + ".startDate", Value: t.StartDate.String(),
			Reason: "lies before the scenario's start (" + schedule.DateOf(s.Start).String() + ")", Err: schedule.ErrStartPassed}
	}
	req := t.Request(at, s.Start)
	if req.StartDate.Before(schedule.DateOf(at)) {
		// An absolute start that the scheduling instant has passed is the
		// Manager's to refuse (reported as a refused campaign), not a bad
		// scenario: check the rest as if it were scheduled that day.
		at = req.StartDate.Start()
	}
	_, err := schedule.NewHTTP(req, at, schedule.DefaultPolicy())
	if err == nil {
		return nil
	}
	se := &ScenarioError{Field: path, Reason: err.Error(), Err: err}
	var fe *schedule.FieldError
	if errors.As(err, &fe) {
		se.Field, se.Value = path+"."+fe.Field, fe.Value
		switch fe.Field {
		case "startDate":
			se.Value = t.StartDate.String()
		case "endDate":
			se.Value = t.EndDate.String()
		case "downloadAfterDate":
			se.Value = t.DownloadAfterDate.String()
		case "installAfterDate":
			se.Value = t.InstallAfterDate.String()
		}
	}
	return se
}

// checkDays refuses a relative date a scenario file cannot write (only a
// Go caller can): negative, or more than ten years on.
func checkDays(path string, t *Timing) error {
	for _, d := range []struct {
		name string
		d    DateSpec
	}{{"startDate", t.StartDate}, {"endDate", t.EndDate}, {"downloadAfterDate", t.DownloadAfterDate}, {"installAfterDate", t.InstallAfterDate}} {
		if d.d.From != FromNothing && (d.d.Days < 0 || d.d.Days > maxDays) {
			return &ScenarioError{Field: path + "." + d.name, Value: strconv.Itoa(d.d.Days) + " days", Reason: "a relative date is 0..3660 days on"}
		}
	}
	return nil
}

func (s *Scenario) validateAction(path string, a *Action, groups map[string]device.Family) error {
	bad := func(field, value, reason string) error {
		return &ScenarioError{Field: path + "." + field, Value: value, Reason: reason}
	}
	if a.At.After > maxSpan {
		return bad("at", a.At.String(), "must be within 8784h")
	}
	needCampaign := a.Do != DoEnableLogging
	needGroup := a.Do == DoAddDevices || a.Do == DoEnableLogging
	switch {
	case a.Do != DoCancel && a.Do != DoAbort && a.Do != DoChangeDates && a.Do != DoAddDevices && a.Do != DoEnableLogging && a.Do != DoLiftGate:
		return bad("do", a.Do, `must be "cancel", "abort", "changeDates", "addDevices", "enableLogging" or "liftGate"`)
	case needCampaign && a.Campaign != "pilot" && a.Campaign != "rollout" && a.Campaign != "upgrade":
		return bad("campaign", a.Campaign, `must be "pilot", "rollout" or "upgrade"`)
	case a.Do == DoLiftGate && a.Campaign == "upgrade":
		return bad("campaign", a.Campaign, "a push campaign has no pilot gate (it is the HTTP family's)")
	case a.Do == DoAddDevices && groups[a.Group] != 0 && (groups[a.Group] == device.FamilyPush) != (a.Campaign == "upgrade"):
		return bad("group", a.Group, "its devices are not of the campaign's family (HTTP groups go to the pilot and the rollout, push groups to the upgrade)")
	case a.Do == DoEnableLogging && groups[a.Group] == device.FamilyPush:
		return bad("group", a.Group, "verbose logging is for HTTP devices")
	case !needCampaign && a.Campaign != "":
		return bad("campaign", a.Campaign, "enableLogging is per device, not per campaign")
	case a.Do == DoChangeDates && a.Dates == nil:
		return bad("dates", "", "changeDates needs the full new timing")
	case a.Do != DoChangeDates && a.Dates != nil:
		return bad("dates", "{...}", "only for changeDates")
	case needGroup && groups[a.Group] == 0:
		return bad("group", a.Group, "no fleet group has this name")
	case !needGroup && a.Group != "":
		return bad("group", a.Group, "only for addDevices and enableLogging")
	case a.Count < 0 || (!needGroup && a.Count != 0):
		return bad("count", strconv.Itoa(a.Count), "a number of devices, only for addDevices and enableLogging")
	case a.Do == DoEnableLogging && (a.Count < 1 || a.Count > 20):
		return bad("count", strconv.Itoa(a.Count), "enableLogging takes 1..20 devices (ThingSpace's limit per account)")
	}
	if a.Dates != nil {
		if err := checkDays(path+".dates", a.Dates); err != nil {
			return err
		}
		if a.Dates.StartDate.IsZero() {
			return bad("dates.startDate", "", "required (the full new timing)")
		}
		if a.Dates.EndDate.IsZero() {
			return bad("dates.endDate", "", "required (the full new timing)")
		}
		for _, w := range []struct {
			name string
			ws   []schedule.Window
		}{{"campaignTimeWindowList", a.Dates.CampaignTimeWindowList}, {"downloadTimeWindowList", a.Dates.DownloadTimeWindowList}, {"installTimeWindowList", a.Dates.InstallTimeWindowList}} {
			for i, win := range w.ws {
				if err := win.Validate(w.name + "[" + strconv.Itoa(i) + "]"); err != nil {
					var fe *schedule.FieldError
					field := w.name
					if errors.As(err, &fe) {
						field = fe.Field
					}
					return &ScenarioError{Field: path + ".dates." + field, Value: win.String(), Reason: err.Error(), Err: err}
				}
			}
		}
		if a.Dates.TimeZone != "" {
			if _, err := schedule.NewHTTP(schedule.HTTPRequest{StartDate: schedule.DateOf(s.Start), TimeZone: a.Dates.TimeZone}, s.Start, schedule.DefaultPolicy()); err != nil {
				return &ScenarioError{Field: path + ".dates.timeZone", Value: a.Dates.TimeZone, Reason: err.Error(), Err: err}
			}
		}
	}
	return nil
}
