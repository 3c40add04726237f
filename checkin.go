package fota

import (
	"context"
	"errors"
	"fmt"
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

// String is the action's name: "none", "download" or "install".
func (a Action) String() string {
	switch a {
	case ActionNone:
		return "none"
	case ActionDownload:
		return "download"
	case ActionInstall:
		return "install"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) {
	if a > ActionInstall {
		return nil, &RequestError{Field: "action", Value: a.String(), Reason: "unknown action"}
	}
	return []byte(a.String()), nil
}

// UnmarshalText reads an action's name.
func (a *Action) UnmarshalText(b []byte) error {
	for _, x := range []Action{ActionNone, ActionDownload, ActionInstall} {
		if x.String() == string(b) {
			*a = x
			return nil
		}
	}
	return &RequestError{Field: "action", Value: string(b), Reason: "unknown action"}
}

// CheckInRequest is one HTTP device check-in: who, and what the check-in
// history records of it.
type CheckInRequest struct {
	DeviceID    string
	ClientType  verboselog.ClientType
	Result      string
	FailureType string
}

// Instruction answers a check-in.
type Instruction struct {
	Action       Action
	CampaignID   string
	SoftwareName string
	SoftwareTo   string
	// Until is when the open window closes (Download, Install): a device
	// should not start after it.
	Until time.Time
	// RetryAt is the next time there will be something to do (None), or
	// zero when nothing is planned for this device.
	RetryAt time.Time
}

// CheckIn answers an HTTP device's periodic check-in: download or install
// now, respecting the campaign's dates, windows and after-dates, or
// nothing with the time to come back. It records the check-in in the
// device's history, and a pending verbose-logging session starts
// collecting. The first device to start downloading moves the campaign to
// In Progress.
func (m *Manager) CheckIn(ctx context.Context, req CheckInRequest) (Instruction, error) {
	if req.DeviceID == "" {
		return Instruction{}, &RequestError{Field: "deviceId", Value: "", Reason: "required"}
	}

	// The hot path: the request and answer travel in the pooled op and the
	// transaction function is bound once in New, so a check-in allocates
	// no closure.
	o := opPool.Get().(*op)
	defer o.release()
	o.checkIn = req
	err := m.updateOp(ctx, "checkIn", o, m.checkInTx, req.DeviceID)
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
		err = m.updateOp(ctx, "checkIn", o, m.checkInTx, req.DeviceID)
	}
	if err != nil {
		return Instruction{}, err
	}
	return o.answer, nil
}

// errUnseen stops a check-in from a device the store holds nothing about,
// until the inventory has vouched for it.
var errUnseen = errors.New("fota: device unseen")

func (m *Manager) checkIn(tx Tx, o *op) error {
	req, in := &o.checkIn, &o.answer
	*in = Instruction{}
	id, err := tx.ActiveCampaign(req.DeviceID)
	if err != nil {
		return err
	}
	if id == "" && !o.known {
		h, err := tx.CheckIns(req.DeviceID, time.Time{}, 1)
		if err != nil {
			return err
		}
		if len(h) == 0 {
			return errUnseen
		}
	}
	if err := tx.AddCheckIn(verboselog.CheckIn{
		DeviceID: req.DeviceID, ClientType: req.ClientType, Result: req.Result,
		FailureType: req.FailureType, TimeCompleted: o.now,
	}, m.logging.HistoryMax); err != nil {
		return err
	}
	if err := m.collect(tx, req.DeviceID, o.now); err != nil {
		return err
	}
	if id == "" {
		return nil
	}
	c, err := m.load(tx, o, id)
	if err != nil {
		return err
	}
	if c.Protocol.Family() != device.FamilyHTTP {
		return &FamilyError{Op: "check in", ID: req.DeviceID, Protocol: c.Protocol}
	}
	sched, err := m.httpSchedule(&c)
	if err != nil {
		return err
	}
	mem, err := tx.Member(c.ID, req.DeviceID)
	if err != nil {
		return err
	}
	in.CampaignID, in.SoftwareName, in.SoftwareTo = c.ID, c.SoftwareName, c.Target.SoftwareTo
	if c.Status != campaign.HTTPScheduled && c.Status != campaign.HTTPInProgress {
		// Not started yet (or just ended): come back at the opening.
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
	if err := m.move(tx, o, &c, mem, ev); err != nil {
		return err
	}
	if c.Status == campaign.HTTPScheduled {
		return m.apply(tx, o, &c, campaign.Begin)
	}
	return nil
}

// move applies a device event to a member and stores the result.
func (m *Manager) move(tx Tx, o *op, c *Campaign, mem Member, ev device.Event) error {
	next, err := device.Next(c.Protocol.Family(), mem.State, ev)
	if err != nil {
		return err
	}
	mem.State, mem.UpdatedAt = next, o.now
	if err := tx.PutMember(mem); err != nil {
		return err
	}
	o.device(c, mem.DeviceID, next, 0)
	return nil
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

var outcomeNames = [...]string{
	OutcomeDownloadFailed: "downloadFailed",
	OutcomeDownloaded:     "downloaded",
	OutcomeInstallFailed:  "installFailed",
	OutcomeInstalled:      "installed",
	OutcomeUnknownError:   "unknownError",
	OutcomeOther:          "other",
}

var outcomeEvents = [...]device.Event{
	OutcomeDownloadFailed: device.EventDownloadFailed,
	OutcomeDownloaded:     device.EventDownloaded,
	OutcomeInstallFailed:  device.EventInstallFailed,
	OutcomeInstalled:      device.EventInstalled,
	OutcomeUnknownError:   device.EventUnknownError,
	OutcomeOther:          device.EventOther,
}

// String is the outcome's name, e.g. "installed".
func (o Outcome) String() string {
	if o >= OutcomeDownloadFailed && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// MarshalText writes the outcome's name.
func (o Outcome) MarshalText() ([]byte, error) {
	if o < OutcomeDownloadFailed || int(o) >= len(outcomeNames) {
		return nil, &RequestError{Field: "outcome", Value: o.String(), Reason: "unknown outcome"}
	}
	return []byte(o.String()), nil
}

// UnmarshalText reads an outcome's name.
func (o *Outcome) UnmarshalText(b []byte) error {
	for i, n := range outcomeNames {
		if n != "" && n == string(b) {
			*o = Outcome(i)
			return nil
		}
	}
	return &RequestError{Field: "outcome", Value: string(b), Reason: "unknown outcome"}
}

// Report applies an HTTP device's report about its update in a campaign.
// A report that does not fit the device's state is refused
// (ErrInvalidTransition); one that repeats an outcome already applied is
// recognised as such (ErrDuplicateReport); neither changes anything. When
// every accepted device has succeeded, the campaign ends early.
func (m *Manager) Report(ctx context.Context, campaignID, deviceID string, outcome Outcome) (device.State, error) {
	if outcome < OutcomeDownloadFailed || int(outcome) >= len(outcomeEvents) {
		return 0, &RequestError{Field: "outcome", Value: outcome.String(), Reason: "unknown outcome"}
	}
	var state device.State
	err := m.update(ctx, "report", func(tx Tx, o *op) error {
		c, err := m.load(tx, o, campaignID)
		if err != nil {
			return err
		}
		if c.Protocol.Family() != device.FamilyHTTP {
			return &FamilyError{Op: "report", ID: c.ID, Protocol: c.Protocol}
		}
		mem, err := tx.Member(c.ID, deviceID)
		if err != nil {
			return err
		}
		ev := outcomeEvents[outcome]
		if device.DuplicateOf(device.FamilyHTTP, mem.State, ev) {
			return &ReportError{Campaign: c.ID, Device: deviceID, Outcome: outcome, State: mem.State}
		}
		if err := m.move(tx, o, &c, mem, ev); err != nil {
			return err
		}
		state, _ = device.Next(device.FamilyHTTP, mem.State, ev)
		if !state.Terminal() {
			return nil
		}
		if err := m.release(tx, c.ID, deviceID); err != nil {
			return err
		}
		if state != device.StateSucceeded {
			return nil
		}
		rec, err := tx.Device(deviceID)
		if err != nil {
			return err
		}
		if !rec.EverUpgraded {
			rec.EverUpgraded = true
			if err := tx.PutDevice(rec); err != nil {
				return err
			}
		}
		counts, err := tx.Counts(c.ID)
		if err != nil {
			return err
		}
		if counts.Of(device.StateSucceeded) == counts.Accepted() && campaign.Can(c.Status, campaign.End) {
			return m.end(tx, o, &c)
		}
		return nil
	})
	return state, err
}
