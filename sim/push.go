package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/device/omadm"
	"github.com/fotakit/fota/schedule"
)

// The push transport: the simulator drives the Manager's push family as a
// host's LwM2M or OMA-DM server would. It takes the due commands from
// Outbox whenever the Manager says some are due (the time Outbox
// returned, or Manager.Due after an operation planned one), hands each to
// its simulated device, confirms what came of it (with the value an
// LwM2M observe or read answered, or the notification the command's
// change set off at once, Receipt.Value), and passes on what the devices
// tell later: LwM2M notifications of /5/0/3 and /5/0/5, FUMO Generic
// Alerts, registrations and sessions (Connected).
//
// Each device runs its protocol's own machine: Object 5 by
// lwm2m.Step (device/lwm2m's Table), FUMO by omadm.Step. A device that is
// offline answers nothing (Receipt.Delivered false); it registers, or
// opens a session, when it comes online.

// Push-side Manager calls.

// callOutbox returns the due commands and when the next one falls due
// (0: none planned).
func (r *runner) callOutbox() ([]fota.Command, int64, error) {
	r.totals.Outboxes++
	r.totals.ManagerCalls++
	cmds, next, err := r.m.Outbox(r.ctx, fota.MaxPageSize)
	if err != nil || next.IsZero() {
		return cmds, 0, err
	}
	return cmds, micros(next), nil
}

func (r *runner) callConfirm(cmd fota.Command, rc fota.Receipt) (fota.PushResult, error) {
	r.totals.Commands++
	if !rc.Delivered {
		r.totals.Undelivered++
	}
	if rc.Value != nil {
		r.totals.Observations++
	}
	r.totals.ManagerCalls++
	return r.m.Confirm(r.ctx, cmd, rc)
}

func (r *runner) callObservation(id string, obs lwm2m.Observation) (fota.PushResult, error) {
	r.totals.Observations++
	r.totals.ManagerCalls++
	return r.m.Observation(r.ctx, id, obs)
}

func (r *runner) callAlert(id string, a omadm.Alert) (fota.PushResult, error) {
	r.totals.Alerts++
	r.totals.ManagerCalls++
	return r.m.Alert(r.ctx, id, a)
}

func (r *runner) callConnected(id string) (fota.PushResult, error) {
	r.totals.Connects++
	r.totals.ManagerCalls++
	return r.m.Connected(r.ctx, id)
}

// The transport's timing, as a host's: it sleeps until the time the last
// Outbox call said the next command falls due (its timer), and
// Manager.Due wakes it sooner (a wake-up). An Outbox call hands out what
// is due and resets the timer; a timer or wake-up that a later call made
// needless is cancelled. While the transport is taking commands, a
// wake-up only tells it to look again, which it does anyway until Outbox
// hands out nothing.
//
// A wake-up after an operator's operation or a Tick calls Outbox at once.
// After a device's answer (a confirmation, observation, alert or
// registration) it may wait: the transport knows the Manager's push and
// schedule policies, which it configured (the defaults), and nothing such
// an answer plans falls due before the answer's time plus the shorter of
// LeaseTTL and ObserveTimeout, or the next daily retry time (RetryHour:00
// UTC), whichever comes first; what falls due at once comes back as
// PushResult.Next. So the wake-up waits until then, one Outbox call
// serves every answer in between, and no command is handed out later
// than it falls due.

// answerGap is how long after a device's answer the earliest command it
// planned can fall due (see above).
var answerGap = int64(min(fota.DefaultPushPolicy().LeaseTTL, fota.DefaultPushPolicy().ObserveTimeout) / time.Microsecond)

// nextRetry is the first daily retry time (RetryHour:00 UTC) after now.
func nextRetry(now int64) int64 {
	at := now - ((now%day)+day)%day + int64(schedule.DefaultPolicy().RetryHour)*3600*second
	if at <= now {
		at += day
	}
	return at
}

// wake is the transport's side of Manager.Due after an operator's
// operation or a Tick: call Outbox at now.
func (r *runner) wake(now int64) { r.wakeBy(now) }

// wakeAnswered is wake after a device's answer at now.
func (r *runner) wakeAnswered(now int64) { r.wakeBy(min(now+answerGap, nextRetry(now))) }

// wakeBy makes sure Outbox is called no later than by if an operation
// planned a push command.
func (r *runner) wakeBy(by int64) {
	select {
	case <-r.m.Due():
	default:
		return
	}
	if r.inOutbox || r.timer != 0 && r.timer <= by || r.wakeAt >= 0 && r.wakeAt <= by {
		return // a call already planned covers it
	}
	r.wakeAt = by
	r.q.Push(by, event{kind: evOutbox})
}

// setTimer sets the transport's timer to at, the next due command (0:
// none planned).
func (r *runner) setTimer(at int64) {
	if at == r.timer {
		return // already queued
	}
	r.timer = at
	if at != 0 {
		r.q.Push(at, event{kind: evOutbox, arg: 1})
	}
}

// cancelled reports an outbox event that a later one made needless: a
// timer since reset, or a wake-up since moved earlier.
func (r *runner) cancelled(at int64, ev event) bool {
	if ev.arg == 1 {
		return at != r.timer
	}
	return at != r.wakeAt
}

// outboxEvent handles an outbox event at now: a wake-up, or the timer
// (the loop drops a cancelled one).
func (r *runner) outboxEvent(now int64, ev event) error {
	if ev.arg == 1 {
		r.timer = 0
	} else {
		r.wakeAt = -1
	}
	return r.outbox(now)
}

// outbox takes every command due at now, a page at a time, and sends each
// to its device; then it sleeps until the next one falls due.
func (r *runner) outbox(now int64) error {
	r.inOutbox = true
	defer func() { r.inOutbox = false }()
	for {
		cmds, next, err := r.callOutbox()
		if err != nil {
			return fmt.Errorf("sim: Outbox at %v: %w", Time(now), err)
		}
		if r.s.OnStep != nil {
			st := Step{At: Time(now), Kind: StepOutbox, Commands: len(cmds)}
			if next != 0 {
				st.Next = Time(next)
			}
			r.s.OnStep(st)
		}
		for k := 0; k < len(cmds); k += fota.PrefetchMax {
			chunk := cmds[k:min(k+fota.PrefetchMax, len(cmds))]
			devs, err := r.readAheadCommands(chunk)
			if err != nil {
				return err
			}
			for j, cmd := range chunk {
				if err := r.send(now, devs[j], cmd); err != nil {
					return err
				}
			}
		}
		if len(cmds) > 0 {
			continue // perhaps more was due than a page holds
		}
		if next != 0 && next <= now {
			return fmt.Errorf("sim: Manager.Outbox at %v handed out nothing and said the next command falls due at %v", Time(now), Time(next))
		}
		r.setTimer(next)
		return nil
	}
}

// readAheadCommands finds the devices of cmds and reads what sending
// cmds will touch, their records here and in the store, before they are
// sent (see readAhead). The devices' indexes stay valid until the next
// call.
func (r *runner) readAheadCommands(cmds []fota.Command) ([]int32, error) {
	ids, devs := r.rd.ids[:0], r.cmdDevs[:0]
	var sum uint8
	for i := range cmds {
		d, ok := r.fleet.index(cmds[i].DeviceID)
		if !ok {
			return nil, fmt.Errorf("sim: the Manager handed out %s for %q, not a device of the fleet", cmds[i].Kind, cmds[i].DeviceID)
		}
		ids, devs = append(ids, cmds[i].DeviceID), append(devs, d)
		sum += r.fleet[d].st
	}
	r.rd.prefetch(r, ids, sum)
	r.cmdDevs = devs
	return devs, nil
}

// send hands cmd to its device, i, at now, confirms what came of it,
// passes on what the device then tells, and does the same with every
// command the Manager hands out at once in answer (PushResult.Next, for
// the same device).
func (r *runner) send(now int64, i int32, cmd fota.Command) error {
	for {
		if cmd.DeviceID != r.fleet.id(i) {
			return fmt.Errorf("sim: the Manager handed out %s for %q in answer to device %s", cmd.Kind, cmd.DeviceID, r.fleet.id(i))
		}
		next, err := r.sendOne(now, i, cmd)
		if err != nil || next == nil {
			return err
		}
		cmd = *next
	}
}

func (r *runner) sendOne(now int64, i int32, cmd fota.Command) (*fota.Command, error) {
	var rc fota.Receipt
	notify := false
	if r.online(i, now) {
		var err error
		if rc, notify, err = r.answer(now, i, cmd.Kind); err != nil {
			return nil, err
		}
	}
	var told lwm2m.Observation
	if notify {
		// The device notifies what the command changed, at once: unless
		// the notification is lost, the transport holds it as it
		// confirms and hands it over with the acknowledgement
		// (fota.Receipt.Value), one Manager call for both.
		told = r.observed(i)
		if r.lose(now, i, told) {
			notify = false
		} else {
			rc.Value = r.value(told)
		}
	}
	res, err := r.callConfirm(cmd, rc)
	if err != nil {
		return nil, fmt.Errorf("sim: confirming %s (%+v) to %s at %v: %w", cmd.Kind, rc, cmd.DeviceID, Time(now), err)
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: Time(now), Kind: StepCommand, Campaign: cmd.CampaignID, Device: cmd.DeviceID,
			Command: cmd, Receipt: rc, State: res.State})
		if notify {
			r.s.OnStep(Step{At: Time(now), Kind: StepNotification, Campaign: cmd.CampaignID, Device: cmd.DeviceID, Observation: told, State: res.State})
		}
	}
	r.wakeAnswered(now)
	return res.Next, nil
}

// value is obs for a fota.Receipt: the Manager reads it during the call
// and keeps nothing of it, so one buffer serves every receipt, unless
// OnStep may keep it (a Step holds the receipt).
func (r *runner) value(obs lwm2m.Observation) *lwm2m.Observation {
	if r.s.OnStep != nil {
		p := new(lwm2m.Observation) // (not &obs: obs would then be allocated every time)
		*p = obs
		return p
	}
	r.valueBuf = obs
	return &r.valueBuf
}

// observed is LwM2M device i's /5/0/3 and /5/0/5.
func (r *runner) observed(i int32) lwm2m.Observation {
	d := &r.fleet[i]
	return lwm2m.Observation{State: lwm2m.State(d.st), Result: lwm2m.Result(d.res)}
}

// lose reports whether device i's notification of obs at now is lost,
// and counts it so.
func (r *runner) lose(now int64, i int32, obs lwm2m.Observation) bool {
	d := &r.fleet[i]
	if !r.chance(r.groups[d.group].NotificationLoss) {
		return false
	}
	r.totals.Lost++
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: Time(now), Kind: StepNotification, Campaign: r.camps[d.camp].rep.ID, Device: r.fleet.id(i), Observation: obs, Lost: true})
	}
	return true
}

// online reports whether device i answers at now.
func (r *runner) online(i int32, now int64) bool {
	d := &r.fleet[i]
	return !d.never && now >= r.groups[d.group].onlineAt
}

// joinPush prepares a device that joins a push campaign at now: its
// protocol machine at rest, and, if it is offline, its registration (or
// session) when it comes online.
func (r *runner) joinPush(now int64, i int32) {
	d := &r.fleet[i]
	d.alert = 0
	d.st, d.res = uint8(lwm2m.Idle), uint8(lwm2m.Initial)
	if r.groups[d.group].proto == device.OMADM {
		d.st = uint8(omadm.Idle)
	}
	if on := r.groups[d.group].onlineAt; on > now {
		r.q.Push(on, event{dev: i, kind: evConnect, gen: d.gen})
	}
}

// answer is device i's answer to a command it received at now, by its
// protocol machine: the receipt, and whether it notifies a change next.
func (r *runner) answer(now int64, i int32, kind fota.CommandKind) (fota.Receipt, bool, error) {
	d := &r.fleet[i]
	g := &r.groups[d.group]
	ok := func(status int) fota.Receipt { return fota.Receipt{Delivered: true, Status: status} }
	if g.proto == device.OMADM {
		if kind != fota.CommandExec {
			return fota.Receipt{}, false, fmt.Errorf("sim: the Manager sent %s to OMA-DM device %s", kind, r.fleet.id(i))
		}
		st, err := omadm.Step(omadm.State(d.st), omadm.EventServerExecDownloadAndUpdate)
		if err != nil {
			return ok(405), false, nil // an operation is under way: not allowed now
		}
		d.st = uint8(st)
		r.startStep(now, i, g.Download, g.DownloadFail)
		return ok(202), false, nil // accepted for later processing
	}
	state := lwm2m.State(d.st)
	switch kind {
	case fota.CommandObserve, fota.CommandRead:
		// 2.05 Content: the answer carries the current value.
		rc := ok(205)
		rc.Value = r.value(lwm2m.Observation{State: state, Result: lwm2m.Result(d.res)})
		return rc, false, nil
	case fota.CommandReset:
		if _, err := lwm2m.Step(state, lwm2m.EventReset); err != nil {
			return ok(405), false, nil // Updating: 4.05 Method Not Allowed
		}
		// An observed value that changes is notified (RFC 7641): the
		// Manager writes the package once it sees (Idle, Initial).
		changed := state != lwm2m.Idle || lwm2m.Result(d.res) != lwm2m.Initial
		d.st, d.res = uint8(lwm2m.Idle), uint8(lwm2m.Initial)
		return ok(204), changed, nil
	case fota.CommandWritePackage:
		st, err := lwm2m.Step(state, lwm2m.EventWritePackage)
		if err != nil {
			return ok(400), false, nil
		}
		d.st, d.res = uint8(st), uint8(lwm2m.Initial)
		r.startStep(now, i, g.Download, g.DownloadFail)
		return ok(204), true, nil
	case fota.CommandExecute:
		st, err := lwm2m.Step(state, lwm2m.EventUpdate)
		if err != nil {
			return ok(405), false, nil
		}
		d.st, d.res = uint8(st), uint8(lwm2m.Initial)
		r.startStep(now, i, g.Install, g.InstallFail)
		return ok(204), true, nil
	}
	return fota.Receipt{}, false, fmt.Errorf("sim: the Manager sent %s to LwM2M device %s", kind, r.fleet.id(i))
}

// startStep starts device i's download or update at now: whether it
// fails, and when it ends.
func (r *runner) startStep(now int64, i int32, rg Range, fail float64) {
	var arg uint8
	if r.chance(fail) {
		arg = 1
	}
	r.q.Push(now+r.draw(rg), event{dev: i, kind: evStep, arg: arg, gen: r.fleet[i].gen})
}

// step ends device i's download or update at now.
func (r *runner) step(now int64, i int32, failed bool) error {
	d := &r.fleet[i]
	g := &r.groups[d.group]
	if g.proto == device.OMADM {
		return r.stepFUMO(now, i, failed)
	}
	var ev lwm2m.Event
	res := lwm2m.Initial
	switch state := lwm2m.State(d.st); {
	case state == lwm2m.Downloading && failed:
		ev, res = lwm2m.EventDownloadFailed, lwm2m.Result(g.downloadCode)
	case state == lwm2m.Downloading:
		ev = lwm2m.EventDownloaded
	case state == lwm2m.Updating && failed && g.installCode == int(lwm2m.UpdateFailed):
		ev, res = lwm2m.EventUpdateFailedImageKept, lwm2m.UpdateFailed
	case state == lwm2m.Updating && failed:
		ev, res = lwm2m.EventUpdateFailedImageLost, lwm2m.Result(g.installCode)
	case state == lwm2m.Updating:
		ev, res = lwm2m.EventUpdated, lwm2m.Success
	default:
		return fmt.Errorf("sim: LwM2M device %s ends a step in state %s", r.fleet.id(i), state)
	}
	st, err := lwm2m.Step(lwm2m.State(d.st), ev)
	if err != nil {
		return err
	}
	d.st, d.res = uint8(st), uint8(res)
	next, err := r.notify(now, i)
	if err != nil || next == nil {
		return err
	}
	return r.send(now, i, *next)
}

// stepFUMO ends an OMA-DM device's download or update at now. A
// DownloadAndUpdate goes on from the download to the update by itself;
// the end of either step, success or failure, is a Generic Alert.
func (r *runner) stepFUMO(now int64, i int32, failed bool) error {
	d := &r.fleet[i]
	g := &r.groups[d.group]
	var path []omadm.Event
	code := int(omadm.Successful)
	switch state := omadm.State(d.st); {
	case state == omadm.DownloadProgressing && failed:
		path, code = []omadm.Event{omadm.EventClientDownloadFailed}, g.downloadCode
	case state == omadm.DownloadProgressing:
		path = []omadm.Event{omadm.EventClientDownloadComplete, omadm.EventClientReadyToUpdate, omadm.EventClientStartUpdate}
	case state == omadm.UpdateProgressing && failed:
		path, code = []omadm.Event{omadm.EventClientUpdateFailed}, g.installCode
	case state == omadm.UpdateProgressing:
		path = []omadm.Event{omadm.EventClientUpdateSucceeded}
	default:
		return fmt.Errorf("sim: OMA-DM device %s ends a step in state %s", r.fleet.id(i), state)
	}
	st := omadm.State(d.st)
	for _, ev := range path {
		var err error
		if st, err = omadm.Step(st, ev); err != nil {
			return err
		}
	}
	d.st = uint8(st)
	if st == omadm.UpdateProgressing {
		r.startStep(now, i, g.Install, g.InstallFail)
		return nil
	}
	d.alert = uint16(code)
	return r.sendAlert(now, i)
}

// notify passes device i's notification of /5/0/3 and /5/0/5 to the
// Manager, unless it is lost. It returns the command the Manager hands out
// at once in answer.
func (r *runner) notify(now int64, i int32) (*fota.Command, error) {
	d := &r.fleet[i]
	obs := r.observed(i)
	id := r.fleet.id(i)
	if r.lose(now, i, obs) {
		return nil, nil
	}
	res, err := r.callObservation(id, obs)
	if err != nil && !r.late(now, i, err) {
		return nil, fmt.Errorf("sim: observation %s of %s at %v: %w", obs, id, Time(now), err)
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: Time(now), Kind: StepNotification, Campaign: r.camps[d.camp].rep.ID, Device: id, Observation: obs, State: res.State, Err: err})
	}
	r.wakeAnswered(now)
	return res.Next, nil
}

// late reports (and counts) an answer the Manager refused because the
// device's campaign had ended: a step that finished after the end date.
func (r *runner) late(now int64, i int32, err error) bool {
	c := &r.camps[r.fleet[i].camp]
	if errors.Is(err, fota.ErrInvalidTransition) && now >= c.endsAt {
		r.totals.LateReports++
		return true
	}
	return false
}

// sendAlert sends device i's pending Generic Alert at now. A lost alert
// is sent again in the device's next session, at its next regular slot.
func (r *runner) sendAlert(now int64, i int32) error {
	d := &r.fleet[i]
	id := r.fleet.id(i)
	code := int(d.alert)
	if r.chance(r.groups[d.group].NotificationLoss) {
		r.totals.Lost++
		if r.s.OnStep != nil {
			r.s.OnStep(Step{At: Time(now), Kind: StepNotification, Campaign: r.camps[d.camp].rep.ID, Device: id, Alert: code, Lost: true})
		}
		r.q.Push(r.nextRegular(i, now, r.draw(r.jitter(i))), event{dev: i, kind: evSession, gen: d.gen})
		return nil
	}
	a := omadm.Alert{Code: omadm.GenericAlert, Type: omadm.TypeDownloadAndUpdate, Source: "./FwUpdate/sim/DownloadAndUpdate",
		Data: fmt.Sprintf("%03d", code)}
	res, err := r.callAlert(id, a)
	if err != nil && !r.late(now, i, err) {
		return fmt.Errorf("sim: Generic Alert %d of %s at %v: %w", code, id, Time(now), err)
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: Time(now), Kind: StepNotification, Campaign: r.camps[d.camp].rep.ID, Device: id, Alert: code, State: res.State, Err: err})
	}
	r.wakeAnswered(now)
	// Reported: the client cleans up and is idle again.
	st := omadm.State(d.st)
	for st != omadm.Idle {
		ev := omadm.EventClientBackToIdle
		if st == omadm.UpdateFailedHaveData || st == omadm.UpdateSuccessfulHaveData {
			ev = omadm.EventClientCleanUp
		}
		if st, err = omadm.Step(st, ev); err != nil {
			return err
		}
	}
	d.st, d.alert = uint8(st), 0
	return nil
}

// connect is an offline device coming online at now: an LwM2M device
// registers, an OMA-DM device opens a session. The Manager hands out the
// device's pending command at once.
func (r *runner) connect(now int64, i int32) error {
	id := r.fleet.id(i)
	res, err := r.callConnected(id)
	if err != nil {
		return fmt.Errorf("sim: %s connected at %v: %w", id, Time(now), err)
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: Time(now), Kind: StepConnect, Campaign: r.camps[r.fleet[i].camp].rep.ID, Device: id, State: res.State})
	}
	r.wakeAnswered(now)
	if res.Next == nil {
		return nil
	}
	return r.send(now, i, *res.Next)
}

// session is an OMA-DM device's next session after its Generic Alert was
// lost: it connects and sends the alert again.
func (r *runner) session(now int64, i int32) error {
	if r.fleet[i].alert == 0 {
		return nil
	}
	if err := r.connect(now, i); err != nil {
		return err
	}
	return r.sendAlert(now, i)
}
