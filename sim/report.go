package sim

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
)

// Report is what a run produced. It holds nothing that depends on the
// machine (no wall time, no memory figures), so the same scenario always
// gives an identical Report.
type Report struct {
	Seed    uint64    `json:"seed"`
	Devices int       `json:"devices"`
	Offline int       `json:"offline"` // devices that never checked in
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"` // the simulated time when the run finished
	// Campaigns are the pilot (when Scenario.Pilot > 0) and the rollout
	// (when devices are left), in that order.
	Campaigns []CampaignReport `json:"campaigns"`
	// PilotGate is the software target's pilot gate at the end:
	// "Standing" or "Lifted".
	PilotGate string `json:"pilotGate"`
	Totals    Totals `json:"totals"`
}

// CampaignReport is one campaign of a run.
type CampaignReport struct {
	Name    string `json:"name"` // "pilot" or "rollout"
	ID      string `json:"id,omitempty"`
	Devices int    `json:"devices"` // the devices requested
	// Refused is the Manager's error when it refused to schedule the
	// campaign (a pilot gate that stands: fota.ErrPilotRequired); Err is
	// that error, for errors.Is.
	Refused string `json:"refused,omitempty"`
	Err     error  `json:"-"`
	// Status is the campaign's final status, in its wire spelling.
	Status      string    `json:"status,omitempty"`
	ScheduledAt time.Time `json:"scheduledAt"`
	StartsAt    time.Time `json:"startsAt,omitzero"`
	EndsAt      time.Time `json:"endsAt,omitzero"` // the end date's exclusive end
	EndedAt     time.Time `json:"endedAt,omitzero"`
	// Timeline is every campaign status change, in order.
	Timeline []StatusChange `json:"timeline,omitempty"`
	// Days holds the device counts at every simulated midnight while the
	// campaign ran (the end of the day before, as Manager.Campaign reports
	// it then), and at its end.
	Days []Day `json:"days,omitempty"`
	// Counts is the campaign's final Counts by device status.
	Counts []StatusCount `json:"counts,omitempty"`
	// Tally is the final count of devices by status and reason, read
	// device by device through Manager.Devices.
	Tally []TallyRow `json:"tally,omitempty"`
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

// StatusCount is how many devices are in one device status (HTTP wire
// spelling).
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

// Totals counts what the run did.
type Totals struct {
	Events   int64 `json:"events"`   // queue events handled: check-ins, reports, ticks
	CheckIns int64 `json:"checkIns"` // Manager.CheckIn calls
	Reports  int64 `json:"reports"`  // Manager.Report calls
	Ticks    int64 `json:"ticks"`    // Manager.Tick calls
	// ManagerCalls is every call into the Manager: the above, Schedule,
	// and the queries (Campaign, Devices) that build the report.
	ManagerCalls int64 `json:"managerCalls"`
	// LateReports are reports the Manager refused because the device's
	// campaign had moved on (ErrInvalidTransition).
	LateReports int64 `json:"lateReports"`
	// Dropped are device events still queued when their campaign ended: a
	// next check-in, or a download or install still under way.
	Dropped int64 `json:"dropped"`
	// Changes is the number of status changes the Manager reported to its
	// Observer.
	Changes int64 `json:"changes"`
}

// httpStatuses are the device statuses an HTTP campaign reports, in the
// catalog's order.
var httpStatuses = func() []device.Status {
	var out []device.Status
	for _, s := range device.Statuses {
		if s.Wire(device.FamilyHTTP) != "" {
			out = append(out, s)
		}
	}
	return out
}()

// statusCounts folds a campaign's per-state Counts into per-status counts,
// every HTTP status present (zero or not), in the catalog's order.
func statusCounts(c fota.Counts) []StatusCount {
	var by [32]int
	for _, st := range device.States {
		if s := st.Status(); int(s) < len(by) {
			by[s] += c.Of(st)
		}
	}
	out := make([]StatusCount, len(httpStatuses))
	for i, s := range httpStatuses {
		out[i] = StatusCount{Status: s.Wire(device.FamilyHTTP), Count: by[s]}
	}
	return out
}

// WriteTable writes the report as readable text: for each campaign its
// timeline, one row per simulated day, and the final tally.
func (r *Report) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("fota fleet simulation: %d devices (%d offline), seed %d, from %s\n",
		r.Devices, r.Offline, r.Seed, r.Start.UTC().Format("Mon 2006-01-02 15:04 MST"))
	for _, c := range r.Campaigns {
		ew.printf("\n%s: %d devices", c.Name, c.Devices)
		if c.Refused != "" {
			ew.printf(", refused at %s: %s\n", stamp(c.ScheduledAt), c.Refused)
			continue
		}
		ew.printf(", campaign %s, %s\n", c.ID, c.Status)
		for _, t := range c.Timeline {
			ew.printf("  %s  %s\n", stamp(t.At), t.Status)
		}
		// Columns: the statuses any row of this campaign holds.
		var cols []int
		for i := range httpStatuses {
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
			fmt.Fprintf(tw, "%s\t", httpStatuses[i].Wire(device.FamilyHTTP))
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
	}
	t := r.Totals
	ew.printf("\npilot gate: %s\n", r.PilotGate)
	ew.printf("simulated until %s\n", stamp(r.End))
	ew.printf("events: %d (%d check-ins, %d reports, %d ticks); %d Manager calls; %d status changes; %d late reports; %d dropped\n",
		t.Events, t.CheckIns, t.Reports, t.Ticks, t.ManagerCalls, t.Changes, t.LateReports, t.Dropped)
	return ew.err
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
