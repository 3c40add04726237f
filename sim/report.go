package sim

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
)

// Report is what a run produced. It holds nothing that depends on the
// machine (no wall time, no memory figures), so the same scenario always
// gives an identical Report. Its JSON is examples/simulate's -json output;
// the package doc describes it.
type Report struct {
	Seed    uint64    `json:"seed"`
	Devices int       `json:"devices"`
	Offline int       `json:"offline"` // devices that never checked in
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"` // the simulated time when the run finished
	// Statuses are the HTTP device statuses, in the order of the counts
	// of every HTTP campaign's Samples (a push campaign lists its own in
	// CampaignReport.Statuses).
	Statuses []string `json:"statuses"`
	// Forecast is what the scenario's timing promised before the run.
	Forecast *Forecast `json:"forecast"`
	// Campaigns are the campaigns scheduled (or refused), in the order
	// they were requested: the pilot (when Scenario.Pilot.Devices > 0),
	// the rollout (when HTTP devices are left for it) and the upgrade
	// (when the fleet has LWM2M or OMA-DM devices).
	Campaigns []CampaignReport `json:"campaigns"`
	// Actions are the operator's actions, in the order they happened.
	Actions []ActionReport `json:"actions,omitempty"`
	// PilotGate is the rollout's target's pilot gate at the end:
	// "Standing" or "Lifted".
	PilotGate string `json:"pilotGate"`
	// Refused is why a campaign was refused, the rollout's first: for a
	// rollout the pilot gate stopped, what the pilot did ("pilot: 3 of 20
	// succeeded, 15% < 50%"). Empty when every campaign was scheduled.
	Refused string `json:"refused,omitempty"`
	Totals  Totals `json:"totals"`
}

// CampaignReport is one campaign of a run. Statuses and reasons are in
// the wire spelling of the campaign's family: /v2 for the pilot and the
// rollout, /v1 for the upgrade.
type CampaignReport struct {
	Name string `json:"name"` // "pilot", "rollout" or "upgrade"
	// Family is "PUSH" for the upgrade (a /v1 campaign of LwM2M and
	// OMA-DM devices); absent for the HTTP campaigns.
	Family  string `json:"family,omitempty"`
	ID      string `json:"id,omitempty"`
	Devices int    `json:"devices"` // the devices requested, and added
	// ScheduledAt is when the request was sent; Request its dates and
	// windows, resolved to ThingSpace dates (the request the Manager got;
	// a /v1 request has dates only).
	ScheduledAt time.Time            `json:"scheduledAt"`
	Request     schedule.HTTPRequest `json:"request"`
	// Statuses are a push campaign's device statuses (/v1: "Device
	// Accepted", ...), in the order of its Samples' counts; absent for an
	// HTTP campaign, whose samples follow Report.Statuses.
	Statuses []string `json:"statuses,omitempty"`
	// Refused is the Manager's error when it refused to schedule the
	// campaign, Reason why in a sentence (for a rollout the pilot gate
	// stopped, what the pilot did), and Err the error, for errors.Is.
	Refused string `json:"refused,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Err     error  `json:"-"`
	// Status is the campaign's final status, in its wire spelling.
	Status   string    `json:"status,omitempty"`
	StartsAt time.Time `json:"startsAt,omitzero"`
	EndsAt   time.Time `json:"endsAt,omitzero"` // the end date's exclusive end
	EndedAt  time.Time `json:"endedAt,omitzero"`
	// Timeline is every campaign status change, in order.
	Timeline []StatusChange `json:"timeline,omitempty"`
	// Days holds the device counts at every simulated midnight while the
	// campaign ran (the end of the day before, as Manager.Campaign reports
	// it then), and at its end.
	Days []Day `json:"days,omitempty"`
	// Samples holds the counts every Scenario.SampleEvery while the
	// campaign ran, and at its end, in Report.Statuses' order (a push
	// campaign: its own Statuses').
	Samples []Sample `json:"samples,omitempty"`
	// Counts is the campaign's final Counts by device status.
	Counts []StatusCount `json:"counts,omitempty"`
	// Tally is the final count of devices by status and reason, read
	// device by device through Manager.Devices.
	Tally []TallyRow `json:"tally,omitempty"`
	// Reached is how many devices ended through their own report
	// (UpgradeSuccess, or a failure they reported; push: a result code
	// they reported, or an Exec they refused), not through the
	// campaign's end, the push retry plan running out or a rejection:
	// what the forecast's Reachable foresees.
	Reached int `json:"reached"`
}

// StatusChange is a campaign status and when it was entered.
type StatusChange struct {
	At     time.Time `json:"at"`
	Status string    `json:"status"`
}

// Day is a campaign's device counts at one instant.
type Day struct {
	At     time.Time     `json:"at"`
	Status string        `json:"status"` // the campaign's status then
	Counts []StatusCount `json:"counts"`
}

// Sample is a campaign's device counts at one instant, in
// Report.Statuses' order (a push campaign: CampaignReport.Statuses').
type Sample struct {
	At     time.Time `json:"at"`
	Counts []int     `json:"counts"`
}

// StatusCount is how many devices are in one device status (the wire
// spelling of the campaign's family).
type StatusCount struct {
	Status string `json:"status"`
	Count  int    `json:"count"`
}

// TallyRow is how many devices ended in one status with one reason (the
// exact ThingSpace sentence).
type TallyRow struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// ActionReport is one operator action and what came of it.
type ActionReport struct {
	At       time.Time `json:"at"`
	Do       string    `json:"do"`
	Campaign string    `json:"campaign,omitempty"`
	Group    string    `json:"group,omitempty"`
	Devices  int       `json:"devices,omitzero"` // addDevices, enableLogging
	// Request is the timing changeDates sent.
	Request *schedule.HTTPRequest `json:"request,omitempty"`
	// Result says what the action did when it says more than done
	// (enableLogging: until when); Refused is the Manager's refusal.
	Result  string `json:"result,omitempty"`
	Refused string `json:"refused,omitempty"`
}

// Totals counts what the run did.
type Totals struct {
	// Events are the queue events handled: check-ins, reports, ticks,
	// operator events, and for push devices outbox calls, the ends of
	// downloads and updates, registrations and sessions.
	Events   int64 `json:"events"`
	CheckIns int64 `json:"checkIns"` // Manager.CheckIn calls
	Reports  int64 `json:"reports"`  // Manager.Report calls
	Ticks    int64 `json:"ticks"`    // Manager.Tick calls
	// ManagerCalls is every call into the Manager: the above and below,
	// Schedule and ScheduleUpgrade, the operator's actions, and the
	// queries (Campaign, Devices) that build the report.
	ManagerCalls int64 `json:"managerCalls"`
	// LateReports are reports, observations and alerts the Manager
	// refused because the device's campaign had moved on
	// (ErrInvalidTransition): a step that ended after the end date.
	LateReports int64 `json:"lateReports"`
	// Dropped are device events still queued when their campaign ended: a
	// next check-in, or a download or install still under way.
	Dropped int64 `json:"dropped"`
	// Changes is the number of status changes the Manager reported to its
	// Observer.
	Changes int64 `json:"changes"`

	// Push (absent from the JSON of a run without push devices).
	Outboxes     int64 `json:"outboxes,omitzero"`     // Manager.Outbox calls
	Commands     int64 `json:"commands,omitzero"`     // Manager.Confirm calls: commands sent to devices
	Undelivered  int64 `json:"undelivered,omitzero"`  // of which the device did not answer
	Observations int64 `json:"observations,omitzero"` // Manager.Observation calls, and values a Confirm carried (an observe's or a read's content, the notification after a command)
	Alerts       int64 `json:"alerts,omitzero"`       // Manager.Alert calls
	Lost         int64 `json:"lost,omitzero"`         // notifications and Generic Alerts that never reached the Manager
	Connects     int64 `json:"connects,omitzero"`     // Manager.Connected calls
}

// familyStatuses are the device statuses a campaign of each family
// reports, in the catalog's order: HTTP's 7, the push family's 6.
var familyStatuses = func() map[device.Family][]device.Status {
	out := map[device.Family][]device.Status{}
	for _, f := range []device.Family{device.FamilyHTTP, device.FamilyPush} {
		for _, s := range device.Statuses {
			if s.Wire(f) != "" {
				out[f] = append(out[f], s)
			}
		}
	}
	return out
}()

// statusNames are family fam's device statuses in their wire spelling.
func statusNames(fam device.Family) []string {
	ss := familyStatuses[fam]
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Wire(fam)
	}
	return out
}

// statusCounts folds a campaign's per-state Counts into per-status counts,
// every status of its family present (zero or not), in the catalog's
// order.
func statusCounts(fam device.Family, c fota.Counts) []StatusCount {
	var by [32]int
	for _, st := range device.States {
		if s := st.Status(); int(s) < len(by) {
			by[s] += c.Of(st)
		}
	}
	ss := familyStatuses[fam]
	out := make([]StatusCount, len(ss))
	for i, s := range ss {
		out[i] = StatusCount{Status: s.Wire(fam), Count: by[s]}
	}
	return out
}

func countsOnly(sc []StatusCount) []int {
	out := make([]int, len(sc))
	for i, c := range sc {
		out[i] = c.Count
	}
	return out
}

// reachedReasons are, per family, the reasons of a device that ended
// through its own report.
var reachedReasons = map[device.Family]map[string]bool{
	device.FamilyHTTP: {
		device.ReasonUpgraded.Text(device.FamilyHTTP):       true,
		device.ReasonDownloadFailed.Text(device.FamilyHTTP): true,
		device.ReasonInstallFailed.Text(device.FamilyHTTP):  true,
		device.ReasonUnknownError.Text(device.FamilyHTTP):   true,
		device.ReasonOther.Text(device.FamilyHTTP):          true,
	},
	device.FamilyPush: {
		device.StateSucceeded.Reason().Text(device.FamilyPush):      true,
		device.StateUpdateFailed.Reason().Text(device.FamilyPush):   true,
		device.StateModuleMismatch.Reason().Text(device.FamilyPush): true,
		device.StateInternalError.Reason().Text(device.FamilyPush):  true,
	},
}

// reached counts the devices of a tally that ended through their own
// report.
func reached(fam device.Family, tally []TallyRow) int {
	n := 0
	for _, t := range tally {
		if reachedReasons[fam][t.Reason] {
			n += t.Count
		}
	}
	return n
}

// gateReason says why the pilot gate refused a campaign of requested
// devices, given the pilot's campaign (nil: there was none).
func gateReason(p *fota.CampaignInfo, requested int, policy pilot.Policy) string {
	need := fmt.Sprintf("a pilot of %d..%d devices with at least %s UpgradeSuccess", policy.MinDevices, policy.MaxDevices, percent(policy.SuccessRatio, -1))
	if p == nil {
		return fmt.Sprintf("no pilot: a campaign of %d devices (more than %d) needs %s first", requested, policy.MaxDevices, need)
	}
	if !p.Status.Terminal() {
		return fmt.Sprintf("pilot: still %s when the rollout was sent; the gate judges a pilot once it ends", p.Status)
	}
	ending := map[string]pilot.Ending{"CampaignEnded": pilot.EndedNormally, "CampaignCancelled": pilot.Cancelled,
		"CampaignAborted": pilot.Aborted}[p.Status.String()]
	if ending != pilot.EndedNormally {
		return fmt.Sprintf("pilot: %s; only a pilot that runs to its end counts", p.Status)
	}
	o := pilot.Outcome{Ending: ending, Devices: p.Counts.Accepted(), Succeeded: p.Counts.Of(device.StateSucceeded)}
	if !policy.Counts(o) {
		return fmt.Sprintf("pilot: %d devices accepted (%d rejected); the gate counts pilots of %d..%d",
			o.Devices, p.Counts.Of(device.StateRejected), policy.MinDevices, policy.MaxDevices)
	}
	share := float64(o.Succeeded) / float64(o.Devices)
	if policy.Passed(o) {
		return fmt.Sprintf("pilot: %d of %d succeeded, %s >= %s", o.Succeeded, o.Devices, percent(share, policy.SuccessRatio), percent(policy.SuccessRatio, -1))
	}
	return fmt.Sprintf("pilot: %d of %d succeeded, %s < %s", o.Succeeded, o.Devices, percent(share, policy.SuccessRatio), percent(policy.SuccessRatio, -1))
}

// percent writes x as a whole percentage, with one decimal when that
// would print the same as than (so 49.6% never reads "50% < 50%").
func percent(x, than float64) string {
	s := strconv.FormatFloat(100*x, 'f', 0, 64)
	if than >= 0 && s == strconv.FormatFloat(100*than, 'f', 0, 64) && x != than {
		s = strconv.FormatFloat(100*x, 'f', 1, 64)
	}
	return s + "%"
}

func targetString(t pilot.Target) string {
	return fmt.Sprintf("%s %s->%s", t.SoftwareName, orAny(t.SoftwareFrom), orAny(t.SoftwareTo))
}

func orAny(s string) string {
	if s == "" {
		return "any"
	}
	return s
}

// WriteTable writes the report as readable text: for each campaign its
// request, timeline, one row per simulated day and the final tally; the
// operator's actions; the forecast; and why a campaign was refused.
func (r *Report) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("fota fleet simulation: %d devices (%d never online), seed %d, from %s\n",
		r.Devices, r.Offline, r.Seed, r.Start.UTC().Format("Mon 2006-01-02 15:04 MST"))
	for _, c := range r.Campaigns {
		ew.printf("\n%s: %d devices", c.Name, c.Devices)
		if c.Refused != "" {
			ew.printf(", refused at %s\n  %s\n  why: %s\n", stamp(c.ScheduledAt), TimingString(c.Request), c.Reason)
			continue
		}
		ew.printf(", campaign %s, %s\n", c.ID, c.Status)
		if c.Family == device.FamilyPush.String() {
			ew.printf("  %s\n", PushTimingString(c.Request))
		} else {
			ew.printf("  %s\n", TimingString(c.Request))
		}
		for _, t := range c.Timeline {
			ew.printf("  %s  %s\n", stamp(t.At), t.Status)
		}
		// Columns: the statuses any row of this campaign holds.
		names := r.Statuses
		if len(c.Statuses) > 0 {
			names = c.Statuses
		}
		var cols []int
		for i := range names {
			for _, d := range c.Days {
				if i < len(d.Counts) && d.Counts[i].Count != 0 {
					cols = append(cols, i)
					break
				}
			}
		}
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "  at\tcampaign\t")
		for _, i := range cols {
			fmt.Fprintf(tw, "%s\t", names[i])
		}
		fmt.Fprintln(tw)
		for _, d := range c.Days {
			fmt.Fprintf(tw, "  %s\t%s\t", stamp(d.At), d.Status)
			for _, i := range cols {
				fmt.Fprintf(tw, "%d\t", d.Counts[i].Count)
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		ew.printf("  final tally:\n")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, t := range c.Tally {
			fmt.Fprintf(tw, "  %10d\t%s\t%s\n", t.Count, t.Status, t.Reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		ew.printf("  reached: %d of %d devices (%s)", c.Reached, c.Devices, percent(share(c.Reached, c.Devices), -1))
		if f := r.Forecast.campaign(c.Name); f != nil && f.Err == "" {
			ew.printf("; forecast %s", percent(f.Reachable, -1))
		}
		ew.printf("\n")
	}
	if len(r.Actions) > 0 {
		ew.printf("\nactions:\n")
		for _, a := range r.Actions {
			ew.printf("  %s  %s", stamp(a.At), a.Do)
			if a.Campaign != "" {
				ew.printf(" %s", a.Campaign)
			}
			if a.Group != "" {
				ew.printf(", %d devices of group %s", a.Devices, a.Group)
			}
			if a.Request != nil {
				ew.printf(" to %s", TimingString(*a.Request))
			}
			switch {
			case a.Refused != "":
				ew.printf(": refused: %s\n", a.Refused)
			case a.Result != "":
				ew.printf(": %s\n", a.Result)
			default:
				ew.printf(": done\n")
			}
		}
	}
	if r.Forecast != nil {
		ew.printf("\n")
		if err := r.Forecast.WriteTable(ew); err != nil {
			return err
		}
	}
	t := r.Totals
	ew.printf("\n")
	for _, c := range r.Campaigns {
		if c.Family == "" { // an HTTP campaign: the gate is the HTTP family's
			ew.printf("pilot gate: %s\n", r.PilotGate)
			break
		}
	}
	if r.Refused != "" {
		ew.printf("REFUSED: %s\n", r.Refused)
	}
	ew.printf("simulated until %s\n", stamp(r.End))
	ew.printf("events: %d (%d check-ins, %d reports, %d ticks); %d Manager calls; %d status changes; %d late reports; %d dropped\n",
		t.Events, t.CheckIns, t.Reports, t.Ticks, t.ManagerCalls, t.Changes, t.LateReports, t.Dropped)
	if t.Outboxes > 0 {
		ew.printf("push: %d outbox calls; %d commands (%d not answered); %d observations, %d alerts, %d lost; %d registrations and sessions\n",
			t.Outboxes, t.Commands, t.Undelivered, t.Observations, t.Alerts, t.Lost, t.Connects)
	}
	return ew.err
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// TimingString writes a campaign's dates and windows in one line:
// "2026-01-05..2026-01-11, download 00-06 20-24, install 02-07 (UTC)".
func TimingString(t schedule.HTTPRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s..", t.StartDate)
	if t.EndDate.IsZero() {
		b.WriteString("(a week)")
	} else {
		b.WriteString(t.EndDate.String())
	}
	windows := func(name string, ws []schedule.Window, after schedule.Date) {
		if len(ws) == 0 && after.IsZero() && name == "campaign" {
			return
		}
		fmt.Fprintf(&b, ", %s", name)
		if !after.IsZero() {
			fmt.Fprintf(&b, " from %s", after)
		}
		if len(ws) == 0 {
			b.WriteString(" all hours")
		}
		for _, w := range ws {
			fmt.Fprintf(&b, " %02d-%02d", w.StartTime, w.EndTime)
		}
	}
	windows("campaign", t.CampaignTimeWindowList, schedule.Date{})
	windows("download", t.DownloadTimeWindowList, t.DownloadAfterDate)
	windows("install", t.InstallTimeWindowList, t.InstallAfterDate)
	zone := t.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	fmt.Fprintf(&b, " (%s)", zone)
	return b.String()
}

// PushTimingString writes a /v1 request's dates in one line:
// "2026-01-05..2026-01-11 (/v1 push, UTC dates)". Its timeline says when
// it started: at 00:00 UTC of a later start date, or two hours after an
// on-demand request.
func PushTimingString(t schedule.HTTPRequest) string {
	return fmt.Sprintf("%s..%s (/v1 push, UTC dates)", t.StartDate, t.EndDate)
}

func stamp(t time.Time) string { return t.UTC().Format("Mon 01-02 15:04:05") }

// errWriter keeps the first write error, so WriteTable checks once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
