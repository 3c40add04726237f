package fota

import (
	"context"
	"errors"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// Action is what a device that checks in should do now.
type Action uint8

// The answers to a check-in.
const (
	ActionNone     Action = iota // nothing now; come back at RetryAt if set
	ActionDownload               // download the campaign's software
	ActionInstall                // install what was downloaded
)

var actionNames = names{"Action", "action", []string{ActionNone: "none", ActionDownload: "download", ActionInstall: "install"}}

// String is the action's name: "none", "download" or "install".
func (a Action) String() string { return actionNames.string(uint8(a)) }

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) { return actionNames.marshal(uint8(a)) }

// UnmarshalText reads an action's name.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := actionNames.parse(b)
	if err == nil {
		*a = Action(v)
	}
	return err
}

// CheckInRequest is one HTTP device check-in: who, and what the check-in
// history records of it.
type CheckInRequest struct {
	DeviceID    string                `json:"deviceId"`
	ClientType  verboselog.ClientType `json:"clientType"`
	Result      string                `json:"result,omitempty"`
	FailureType string                `json:"failureType,omitempty"`
}

// Instruction answers a check-in.
type Instruction struct {
	Action       Action `json:"action"`
	CampaignID   string `json:"campaignId,omitempty"`
	SoftwareName string `json:"softwareName,omitempty"`
	SoftwareTo   string `json:"softwareTo,omitempty"`
	// PackageURL, PackageSize and PackageSHA256 say where to download the
	// software and how to check it, when the host's catalog knows them.
	PackageURL    string `json:"downloadUrl,omitempty"`
	PackageSize   int64  `json:"size,omitempty"`
	PackageSHA256 string `json:"sha256,omitempty"`
	// Until is when the open window closes (Download, Install): a device
	// should not start after it.
	Until time.Time `json:"until,omitzero"`
	// RetryAt is the next time there will be something to do (None), or
	// zero when nothing is planned for this device.
	RetryAt time.Time `json:"retryAt,omitzero"`
}

// CheckIn answers an HTTP device's periodic check-in: download or install
// now, respecting the campaign's dates, windows and after-dates, or
// nothing with the time to come back. It records the check-in in the
// device's history, and a pending verbose-logging session starts
// collecting. It is a device operation: it never writes the campaign. The
// first download moves the campaign to In Progress, in a transaction of
// its own after the check-in's; a check-in after the campaign's end date
// is answered as ended, and the ending is Tick's.
func (m *Manager) CheckIn(ctx context.Context, req CheckInRequest) (Instruction, error) {
	if err := checkDeviceID("deviceId", req.DeviceID); err != nil {
		return Instruction{}, err
	}
	if req.Result != "" || req.FailureType != "" { // (mostly empty: a device with something to say reports it)
		if err := checkTexts(text{"result", req.Result, maxName}, text{"failureType", req.FailureType, maxName}); err != nil {
			return Instruction{}, err
		}
	}
	// The hot path: the request and answer travel in the pooled op and the
	// transaction function is bound once in New, so a check-in allocates
	// no closure.
	o := getOp()
	defer o.release()
	o.checkIn = req
	err := m.updateDevice(ctx, "checkIn", req.DeviceID, o, m.checkInTx)
	if errors.Is(err, errUnseen) {
		// A device the store has never seen is asked about once: one the
		// host does not know leaves no trace, as its check-ins would
		// otherwise grow the history without bound.
		if _, found, err := m.inventory.Lookup(ctx, req.DeviceID); err != nil {
			return Instruction{}, err
		} else if !found {
			return Instruction{}, &NotFoundError{Kind: "device", ID: req.DeviceID}
		}
		o.known = true
		err = m.updateDevice(ctx, "checkIn", req.DeviceID, o, m.checkInTx)
	}
	if err != nil {
		return Instruction{}, err
	}
	return o.answer, nil
}

// errUnseen stops a check-in from a device the store holds nothing about,
// until the inventory has vouched for it.
var errUnseen = errors.New("fota: device unseen")

func (m *Manager) checkIn(tx DeviceTx, o *op) error {
	req, in := &o.checkIn, &o.answer
	*in = Instruction{}
	id, err := tx.ActiveCampaign()
	if err != nil {
		return err
	}
	if id == "" && !o.known {
		known, err := tx.Known()
		if err != nil {
			return err
		}
		if !known {
			return errUnseen
		}
	}
	if err := tx.AddCheckIn(verboselog.CheckIn{
		DeviceID: req.DeviceID, ClientType: req.ClientType, Result: req.Result,
		FailureType: req.FailureType, TimeCompleted: o.now,
	}, m.logging.HistoryMax); err != nil {
		return err
	}
	if err := m.collect(tx, o.now); err != nil {
		return err
	}
	if id == "" {
		return nil
	}
	c, err := lendCampaign(tx, id) // read only
	if err != nil {
		return err
	}
	if c.Family != device.FamilyHTTP {
		return &FamilyError{Op: "check in", ID: req.DeviceID, Protocol: c.Protocol}
	}
	if err := startFirst(c, o.now); err != nil {
		return err
	}
	st := effective(c, o.now)
	if st != c.Status {
		o.settleLater(c.ID) // a start or end fell due
	}
	if !st.Active() {
		return nil // ended, cancelled or aborted: nothing more for this device
	}
	sched, err := m.httpSchedule(c)
	if err != nil {
		return err
	}
	mem, err := tx.Member(c.ID)
	if err != nil {
		return err
	}
	in.CampaignID, in.SoftwareName, in.SoftwareTo = c.ID, c.Target.SoftwareName, c.Target.SoftwareTo
	in.PackageURL, in.PackageSize, in.PackageSHA256 = c.Package.URL, c.Package.Size, c.Package.SHA256
	if !running(st) {
		// Not started yet: come back at the opening.
		in.RetryAt, _ = sched.NextOpen(schedule.PhaseDownload, o.now)
		return nil
	}
	var phase schedule.Phase
	var ev device.Event
	switch mem.State {
	case device.StateAccepted:
		phase, ev, in.Action = schedule.PhaseDownload, device.EventDownload, ActionDownload
	case device.StateDownloading:
		phase, in.Action = schedule.PhaseDownload, ActionDownload
	case device.StateDownloaded:
		phase, ev, in.Action = schedule.PhaseInstall, device.EventInstall, ActionInstall
	case device.StateInstalling:
		phase, in.Action = schedule.PhaseInstall, ActionInstall
	default:
		*in = Instruction{} // finished in this campaign
		return nil
	}
	if !sched.Open(phase, o.now) {
		in.Action = ActionNone
		in.RetryAt, _ = sched.NextOpen(phase, o.now)
		return nil
	}
	in.Until, _ = sched.NextClose(phase, o.now)
	if ev == 0 {
		return nil // asked again: the same answer, no transition
	}
	if err := m.move(tx, o, c, mem, ev); err != nil {
		return err
	}
	if st == campaign.HTTPScheduled {
		o.settleLater(c.ID) // the first download: the campaign begins
	}
	return nil
}

// move applies a device event to a member and stores the result.
func (m *Manager) move(tx DeviceTx, o *op, c *Campaign, mem Member, ev device.Event) error {
	next, err := device.Next(c.Family, mem.State, ev)
	if err != nil {
		return err
	}
	o.device(c, mem.DeviceID, mem.State, next, 0, 0)
	mem.State, mem.UpdatedAt = next, o.now
	return tx.PutMember(mem)
}

// Outcome is what an HTTP device reports about its update.
type Outcome uint8

// The outcomes a device reports.
const (
	OutcomeDownloadFailed Outcome = iota + 1
	OutcomeDownloaded
	OutcomeInstallFailed
	OutcomeInstalled
	OutcomeUnknownError
	OutcomeOther
)

var outcomeNames = names{"Outcome", "outcome", []string{
	OutcomeDownloadFailed: "downloadFailed",
	OutcomeDownloaded:     "downloaded",
	OutcomeInstallFailed:  "installFailed",
	OutcomeInstalled:      "installed",
	OutcomeUnknownError:   "unknownError",
	OutcomeOther:          "other",
}}

var outcomeEvents = [...]device.Event{
	OutcomeDownloadFailed: device.EventDownloadFailed,
	OutcomeDownloaded:     device.EventDownloaded,
	OutcomeInstallFailed:  device.EventInstallFailed,
	OutcomeInstalled:      device.EventInstalled,
	OutcomeUnknownError:   device.EventUnknownError,
	OutcomeOther:          device.EventOther,
}

// String is the outcome's name, e.g. "installed".
func (o Outcome) String() string { return outcomeNames.string(uint8(o)) }

// MarshalText writes the outcome's name.
func (o Outcome) MarshalText() ([]byte, error) { return outcomeNames.marshal(uint8(o)) }

// UnmarshalText reads an outcome's name.
func (o *Outcome) UnmarshalText(b []byte) error {
	v, err := outcomeNames.parse(b)
	if err == nil {
		*o = Outcome(v)
	}
	return err
}

// reportArgs is Report's request, carried in the pooled op.
type reportArgs struct {
	campaignID, deviceID string
	outcome              Outcome
}

// Report applies an HTTP device's report about its update in a campaign.
// A report that does not fit the device's state is refused
// (ErrInvalidTransition); one that repeats an outcome already applied is
// recognised as such (ErrDuplicateReport); neither changes anything. It
// is a device operation: when every accepted device has succeeded, the
// campaign ends early in a transaction of its own after the report's.
func (m *Manager) Report(ctx context.Context, campaignID, deviceID string, outcome Outcome) (device.State, error) {
	if outcome < OutcomeDownloadFailed || int(outcome) >= len(outcomeEvents) {
		return 0, &RequestError{Field: "outcome", Value: outcome.String(), Reason: "unknown outcome"}
	}
	if err := checkDeviceID("deviceId", deviceID); err != nil {
		return 0, err
	}
	if err := checkText("campaignId", campaignID, maxID); err != nil {
		return 0, err
	}
	o := getOp()
	defer o.release()
	o.report = reportArgs{campaignID: campaignID, deviceID: deviceID, outcome: outcome}
	err := m.updateDevice(ctx, "report", deviceID, o, m.reportTx)
	return o.reportState, err
}

func (m *Manager) report(tx DeviceTx, o *op) error {
	r := &o.report
	c, err := lendCampaign(tx, r.campaignID) // read only
	if err != nil {
		return err
	}
	if c.Family != device.FamilyHTTP {
		return &FamilyError{Op: "report", ID: c.ID, Protocol: c.Protocol}
	}
	mem, err := tx.Member(c.ID)
	if err != nil {
		return err
	}
	st := effective(c, o.now)
	if st != c.Status {
		o.settleLater(c.ID)
	}
	ev := outcomeEvents[r.outcome]
	cur := effectiveState(c.Family, st, mem.State)
	if device.DuplicateOf(device.FamilyHTTP, cur, ev) {
		return &ReportError{Campaign: c.ID, Device: r.deviceID, Report: r.outcome.String(), State: cur}
	}
	if cur != mem.State {
		// The campaign stopped: the device is where its sweep puts it.
		_, err := device.Next(device.FamilyHTTP, cur, ev)
		return err
	}
	if err := m.move(tx, o, c, mem, ev); err != nil {
		return err
	}
	o.reportState, _ = device.Next(device.FamilyHTTP, mem.State, ev)
	if !o.reportState.Terminal() {
		return nil
	}
	if o.reportState == device.StateSucceeded {
		o.settleLater(c.ID) // perhaps the last: the campaign ends early
	}
	return m.releaseDevice(tx, c, o.reportState == device.StateSucceeded)
}
