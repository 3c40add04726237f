package fota

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/device/omadm"
	"github.com/fotakit/fota/lifecycle"
	"github.com/fotakit/fota/schedule"
)

// CommandKind is what the host must send a push device.
type CommandKind uint8

// The commands. LwM2M devices get Observe, Read, Reset, WritePackage and
// Execute (the Cumulocity flow: observe, reset, write the package URI,
// execute on Downloaded, read when notifications stop; the reset only when
// the observe's answer shows the device anywhere but at rest in (Idle,
// Initial), where a reset changes nothing, and the write after a reset
// only once an observation shows the device at (Idle, Initial), see
// lwm2m.Tracker.Next); OMA-DM devices get Exec, the FUMO Exec of
// DownloadAndUpdate.
const (
	CommandObserve      CommandKind = iota + 1 // LwM2M: observe /5/0/3 and /5/0/5 (the first notification is the current value)
	CommandRead                                // LwM2M: read /5/0 (no notification came for Push.ObserveTimeout)
	CommandReset                               // LwM2M: write "" to /5/0/1
	CommandWritePackage                        // LwM2M: write Command.PackageURI to /5/0/1
	CommandExecute                             // LwM2M: execute /5/0/2
	CommandExec                                // OMA-DM: Exec ./FwUpdate/<x>/DownloadAndUpdate with PkgURL = Command.PackageURI

	numCommandKinds
)

var commandKindNames = names{"CommandKind", "kind", []string{
	CommandObserve: "observe", CommandRead: "read", CommandReset: "reset",
	CommandWritePackage: "writePackage", CommandExecute: "execute", CommandExec: "exec",
}}

// String is the command's name, e.g. "writePackage".
func (k CommandKind) String() string { return commandKindNames.string(uint8(k)) }

// MarshalText writes the command's name.
func (k CommandKind) MarshalText() ([]byte, error) { return commandKindNames.marshal(uint8(k)) }

// UnmarshalText reads a command's name.
func (k *CommandKind) UnmarshalText(b []byte) error {
	v, err := commandKindNames.parse(b)
	if err == nil {
		*k = CommandKind(v)
	}
	return err
}

// Command is one thing the host must send a push device now: the Manager
// decides, the host's transport carries it out and confirms it (Confirm).
// A command is leased to the caller that received it until LeaseUntil;
// one not confirmed by then is handed out again, to this caller or
// another replica sharing the store.
type Command struct {
	Kind         CommandKind     `json:"kind"`
	Protocol     device.Protocol `json:"protocol"`
	Account      string          `json:"accountName"`
	CampaignID   string          `json:"campaignId"`
	DeviceID     string          `json:"deviceId"`
	FirmwareName string          `json:"firmwareName"`
	FirmwareTo   string          `json:"firmwareTo"`
	// PackageURI is what to write to /5/0/1 or to give the FUMO Exec: the
	// catalog's download URL for the firmware, "" when the host's catalog
	// does not know it (the host then derives one from the firmware's
	// name and version).
	PackageURI string `json:"packageUri,omitempty"`
	// Attempt is, for LwM2M, the attempt of the retry plan this hand-out
	// belongs to: 0 from the start, k after the k-th daily retry time; for
	// OMA-DM, which has no plan, how many pushes went unanswered before.
	Attempt int `json:"attempt"`
	// Lease identifies this hand-out; Confirm checks it.
	Lease      uint64    `json:"lease"`
	LeaseUntil time.Time `json:"leaseUntil"`
}

// Receipt is what became of a handed-out command.
type Receipt struct {
	// Delivered is false when the device did not answer: a CoAP timeout,
	// a device not registered, an OMA-DM device that is off.
	Delivered bool `json:"delivered"`
	// Status is the device's answer when delivered: the CoAP code as a
	// number (2.04 Changed is 204, 4.00 is 400, 4.05 is 405) for LwM2M,
	// the SyncML status for OMA-DM (202: accepted for later processing).
	Status int `json:"status,omitempty"`
	// Value is /5/0/3 and /5/0/5 as an LwM2M device showed them with its
	// 2.xx answer: what a 2.05 Content answer to an Observe or a Read
	// carried, or the notification the device sent once it acted on a
	// reset, a package write or an Execute, when the host holds it as it
	// confirms (a CoAP host that takes a device's messages in a burst, or
	// a simulator, saves the Manager a call per command). The Manager
	// takes it as the observation it is, after the acknowledgement and in
	// the same operation, as Observation would next; nil leaves it to a
	// call of Observation. A Value the device's machine cannot reach
	// after the acknowledgement fails the whole Confirm as Observation
	// would fail, and changes nothing: the lease stands until it expires.
	// An OMA-DM command, an undelivered one or a refused one comes with
	// none (ErrBadRequest, naming "value"). The Manager reads it during the
	// call and keeps nothing of it: a host may reuse it.
	Value *lwm2m.Observation `json:"value,omitempty"`
}

// PushResult is what a push-side call did to the device.
type PushResult struct {
	// State is the device's state in its campaign afterwards.
	State device.State `json:"state"`
	// Next is the device's next command when one is due at once (after
	// the observation that shows the device at rest comes the package
	// write, after a registration the observation), already leased to the
	// caller. nil otherwise.
	Next *Command `json:"next,omitempty"`
}

// FUMO steps the Manager keeps in Push.Machine for an OMA-DM device.
const (
	fumoIdle     = 0 // the Exec is not accepted yet
	fumoAccepted = 1 // the device accepted the Exec (202); its Generic Alert ends it
)

// readFirst is the Manager's own bit in an LwM2M device's Push.Machine,
// beside its lwm2m.Tracker's Pack (bits 0 to 12): the device refused a
// command, so it is not where the server thought, and /5/0 is read before
// any other command goes out.
const readFirst = 1 << 15

// trackerOf is an LwM2M device's tracker.
func trackerOf(p Push) (lwm2m.Tracker, error) { return lwm2m.UnpackTracker(p.Machine &^ readFirst) }

// attemptAt is the attempt of the retry plan at now: how many daily retry
// times of the campaign have passed.
func (m *Manager) attemptAt(c *Campaign, now time.Time) int { return m.retries(c).AttemptAt(now) }

// nextAttempt is the first retry time of the plan after t.
func (m *Manager) nextAttempt(c *Campaign, t time.Time) (time.Time, bool) {
	return m.retries(c).NextAttempt(t)
}

// retryPlan is the campaign start a retry plan belongs to, and the plan.
type retryPlan struct {
	start time.Time
	plan  schedule.Retries
}

// retries is the retry plan of campaign c, kept for the start asked last
// (a hand-out asks it each time; the campaigns under way share a few
// starts).
func (m *Manager) retries(c *Campaign) schedule.Retries {
	if r := m.lastRetries.Load(); r != nil && r.start.Equal(c.StartsAt) {
		return r.plan
	}
	r := &retryPlan{start: c.StartsAt, plan: m.schedule.Retries(c.StartsAt)}
	m.lastRetries.Store(r)
	return r.plan
}

// nextCommand decides what the device needs now; ok is false when
// nothing is to be sent (it waits for the device).
func nextCommand(p Push) (CommandKind, bool, error) {
	switch p.Protocol {
	case device.LWM2M:
		if !p.Observing {
			return CommandObserve, true, nil
		}
		t, err := trackerOf(p)
		if err != nil {
			return 0, false, err
		}
		if p.Machine&readFirst != 0 && t.Next() != lwm2m.CommandDone {
			return CommandRead, true, nil
		}
		switch t.Next() {
		case lwm2m.CommandReset:
			return CommandReset, true, nil
		case lwm2m.CommandWritePackage:
			return CommandWritePackage, true, nil
		case lwm2m.CommandExecuteUpdate:
			return CommandExecute, true, nil
		case lwm2m.CommandWait:
			return CommandRead, true, nil // the wait timed out: read /5/0
		}
		return 0, false, nil
	case device.OMADM:
		if p.Machine == fumoIdle {
			return CommandExec, true, nil
		}
		return 0, false, nil
	}
	return 0, false, &FamilyError{Op: "push", ID: "", Protocol: p.Protocol}
}

// lease hands the device's next command out to the caller until now +
// LeaseTTL, writing nothing: the caller stores mem.
func (m *Manager) lease(c *Campaign, mem *Member, kind CommandKind, now time.Time) Command {
	mem.Push.Lease++
	mem.Push.Leased = true
	mem.Push.DueAt = now.Add(m.push.LeaseTTL)
	return Command{
		Kind: kind, Protocol: mem.Push.Protocol, Account: c.Account, CampaignID: c.ID, DeviceID: mem.DeviceID,
		FirmwareName: c.Target.SoftwareName, FirmwareTo: c.Target.SoftwareTo, PackageURI: c.Package.URL,
		Attempt: m.attemptOf(c, mem.Push, now), Lease: mem.Push.Lease, LeaseUntil: mem.Push.DueAt,
	}
}

// plan sets when the Manager acts on a push device next, after it heard
// from it: at once when a command is to go out (an observation to set up,
// a reset, the package write, the Execute, a read after a refusal), or,
// while the server waits for the device's notifications, a Read after
// Push.ObserveTimeout; never while a command is leased (its confirmation
// plans) or once nothing is left to send.
func (m *Manager) plan(p *Push, now time.Time) error {
	if p.Leased {
		return nil
	}
	kind, ok, err := nextCommand(*p)
	switch {
	case err != nil:
		return err
	case !ok:
		p.DueAt = time.Time{}
	case kind == CommandRead && p.Machine&readFirst == 0:
		p.DueAt = now.Add(m.push.ObserveTimeout)
	default:
		p.DueAt = now
	}
	return nil
}

// attemptOf is a hand-out's Command.Attempt: for LwM2M the attempt of the
// retry plan at now, for OMA-DM (which has no plan) how many pushes went
// unanswered.
func (m *Manager) attemptOf(c *Campaign, p Push, now time.Time) int {
	if p.Protocol == device.LWM2M {
		return m.attemptAt(c, now)
	}
	return int(p.Attempt)
}

// Outbox hands out up to limit push commands that are due (at most
// MaxPageSize; limit <= 0 means that many), each leased to the caller
// until its LeaseUntil, and returns the time the next one falls due when
// none is left now (zero: none is planned). With several replicas over
// one store, each due command goes to exactly one caller at a time. A
// command whose lease expired unconfirmed is due again.
func (m *Manager) Outbox(ctx context.Context, limit int) ([]Command, time.Time, error) {
	limit = pageSize(limit)
	m.dueSent.Store(false) // before the read: what is planned after it signals again
	var out []Command
	var next time.Time
	err := m.update(ctx, "outbox", func(tx Tx, o *op) error {
		due, err := tx.DueMembers(o.now, limit)
		if err != nil {
			return err
		}
		out = make([]Command, 0, len(due))
		camps := map[string]*Campaign{}
		for _, mem := range due {
			c := camps[mem.CampaignID]
			if c == nil {
				cc, err := tx.Campaign(mem.CampaignID)
				if err != nil {
					return err
				}
				if err := m.settle(tx, o, &cc); err != nil {
					return err
				}
				c = &cc
				camps[c.ID] = c
			}
			if !running(c.Status) || mem.State.Terminal() {
				if c.Status == campaign.PushQueued {
					// The start moved later since the device was queued.
					mem.Push.DueAt, mem.Push.Leased = c.StartsAt, false
				} else {
					// Stopped: the sweep (or the device's end) withdrew it.
					mem.Push.DueAt, mem.Push.Leased = time.Time{}, false
				}
				if err := tx.PutMember(mem); err != nil {
					return err
				}
				continue
			}
			kind, ok, err := nextCommand(mem.Push)
			if err != nil {
				return err
			}
			if !ok {
				mem.Push.DueAt, mem.Push.Leased = time.Time{}, false
			} else {
				out = append(out, m.lease(c, &mem, kind, o.now))
			}
			if err := tx.PutMember(mem); err != nil {
				return err
			}
		}
		if len(out) == 0 {
			at, ok, err := tx.NextDue()
			if err != nil {
				return err
			}
			if ok {
				next = at
			}
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	return out, next, nil
}

// Due returns a channel that receives when an operation of this Manager
// planned a push command (a schedule, a confirmation, a registration), so
// that a transport sleeping until the time Outbox last reported wakes to
// call Outbox again. Commands due at once after a device's answer come
// back in PushResult.Next instead. One receiver per Manager. It signals
// once until the next Outbox call of this Manager begins: that call reads
// what every operation since planned, and a transport that took the
// signal without calling Outbox sleeps until a time it set itself.
func (m *Manager) Due() <-chan struct{} { return m.dueCh }

// pushMember is a push device's member record in the campaign holding it
// (or, once it finished, the campaign it finished in), with the campaign.
type pushMember struct {
	c      *Campaign // read only: it may be the store's own record (lendCampaign)
	mem    Member
	st     campaign.Status // the campaign's status at now
	stored Member          // mem as read, so that an answer changing nothing writes nothing
}

// campaignLender is a device transaction that lends its campaign records
// for reading, sparing the copy Campaign makes (the memory store's).
type campaignLender interface {
	lendCampaign(id string) (*Campaign, error)
}

// lendCampaign returns campaign id's record for reading only: the store's
// own when it lends it, else a copy.
func lendCampaign(tx DeviceTx, id string) (*Campaign, error) {
	if l, ok := tx.(campaignLender); ok {
		return l.lendCampaign(id)
	}
	c, err := tx.Campaign(id)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// pushArgs is Confirm's and Observation's request and answer, carried in
// the pooled op (so that these calls allocate no closure).
type pushArgs struct {
	cmd      Command
	receipt  Receipt
	deviceID string
	obs      lwm2m.Observation
	res      PushResult
}

// loadPush finds the push campaign of a device into p: the one holding
// it, else the last one it finished in; errors name the device.
func loadPush(tx DeviceTx, now time.Time, op string, want device.Protocol, p *pushMember) error {
	id := tx.DeviceID()
	cid, err := tx.ActiveCampaign()
	if err != nil {
		return err
	}
	if cid == "" {
		rec, err := tx.Device()
		if err != nil {
			return err
		}
		cid = rec.LastCampaign
	}
	if cid == "" {
		return &NotFoundError{Kind: "device", ID: id, Campaign: anyPushCampaign}
	}
	if p.c, err = lendCampaign(tx, cid); err != nil {
		return err
	}
	if p.c.Family != device.FamilyPush {
		return &FamilyError{Op: op, ID: id, Protocol: p.c.Protocol}
	}
	if err := startFirst(p.c, now); err != nil {
		return err
	}
	if p.mem, err = tx.Member(cid); err != nil {
		return err
	}
	p.stored = p.mem
	if want != 0 && p.mem.Push.Protocol != want {
		return &FamilyError{Op: op, ID: id, Protocol: p.mem.Push.Protocol}
	}
	p.st = effective(p.c, now)
	return nil
}

// finishPush moves a push device to a final state with its protocol's
// result, and frees it.
func (m *Manager) finishPush(tx DeviceTx, o *op, p *pushMember, ev device.Event, result uint16) error {
	mem := &p.mem
	from := mem.State
	if mem.State == device.StateAccepted && ev != device.EventInternalError && ev != device.EventUnreachable {
		// The device answered without its acknowledgement of the push
		// reaching the server (a lost 2.04, a lost 202): it was notified.
		next, err := device.Next(device.FamilyPush, mem.State, device.EventNotify)
		if err != nil {
			return err
		}
		mem.State = next
	}
	next, err := device.Next(device.FamilyPush, mem.State, ev)
	if err != nil {
		return err
	}
	mem.State, mem.UpdatedAt, mem.Push.Result = next, o.now, result
	mem.Push.DueAt, mem.Push.Leased = time.Time{}, false
	if err := tx.PutMember(*mem); err != nil {
		return err
	}
	o.device(p.c, mem.DeviceID, from, next, 0, result)
	return m.releaseDevice(tx, p.c, next == device.StateSucceeded)
}

// releaseDevice frees a device that finished in campaign c, remembering
// the campaign (and, for a success, that it upgraded).
func (m *Manager) releaseDevice(tx DeviceTx, c *Campaign, upgraded bool) error {
	held, err := tx.ActiveCampaign()
	if err != nil {
		return err
	}
	if held == c.ID {
		if err := tx.SetActiveCampaign(""); err != nil {
			return err
		}
	}
	rec, err := tx.Device()
	if err != nil {
		return err
	}
	if rec.LastCampaign == c.ID && (rec.EverUpgraded || !upgraded) {
		return nil
	}
	rec.LastCampaign = c.ID
	rec.EverUpgraded = rec.EverUpgraded || upgraded
	return tx.PutDevice(rec)
}

// leaseNow hands the device its next command at once when one is due now,
// for PushResult.Next.
func (m *Manager) leaseNow(o *op, p *pushMember, now time.Time) (*Command, error) {
	if p.mem.Push.Leased || p.mem.Push.DueAt.IsZero() || p.mem.Push.DueAt.After(now) || p.mem.State.Terminal() {
		return nil, nil
	}
	kind, ok, err := nextCommand(p.mem.Push)
	if err != nil || !ok {
		return nil, err
	}
	return o.keep(m.lease(p.c, &p.mem, kind, now)), nil
}

// pushDone stores the member, when the call changed it, and answers with
// its state and next command.
func (m *Manager) pushDone(tx DeviceTx, o *op, p *pushMember, res *PushResult) error {
	next, err := m.leaseNow(o, p, o.now)
	if err != nil {
		return err
	}
	if !p.mem.State.Terminal() && !p.mem.same(&p.stored) {
		// (A repeated notification, say, changes nothing.)
		if err := tx.PutMember(p.mem); err != nil {
			return err
		}
		o.pushDue = o.pushDue || !p.mem.Push.DueAt.IsZero()
	}
	if p.st != p.c.Status {
		o.settleLater(p.c.ID) // a start (or end) that fell due
	}
	*res = PushResult{State: p.mem.State, Next: next}
	return nil
}

// same reports whether m and o are equal, comparing first what a call
// changes (the ids, which it never changes, last).
func (m *Member) same(o *Member) bool {
	return m.Push == o.Push && m.State == o.State && m.Reason == o.Reason && m.UpdatedAt == o.UpdatedAt &&
		m.CampaignID == o.CampaignID && m.DeviceID == o.DeviceID
}

// stopped answers a device call in a campaign that no longer runs: the
// device's state is where the campaign's stop leaves it, and its command
// is withdrawn.
func stopped(tx DeviceTx, o *op, p *pushMember, res *PushResult) error {
	res.State = effectiveState(device.FamilyPush, p.st, p.mem.State)
	if p.mem.Push.Leased && !p.mem.State.Terminal() {
		p.mem.Push.Leased, p.mem.Push.DueAt = false, time.Time{}
		return tx.PutMember(p.mem)
	}
	return nil
}

// Confirm records what became of a command the caller was handed (by
// Outbox, or as a PushResult.Next). A command not delivered counts as an
// unanswered attempt: an LwM2M device is tried again at the next daily
// retry time, until the plan runs out; an OMA-DM device waits until it
// connects. A delivered command moves the device on, and its next command
// is returned when it is due at once. A command whose lease expired, was
// handed out again, or was never handed out is refused (ErrLeaseLost); a
// second confirmation of the same hand-out is ErrDuplicateReport.
func (m *Manager) Confirm(ctx context.Context, cmd Command, r Receipt) (PushResult, error) {
	if err := checkDeviceID("deviceId", cmd.DeviceID); err != nil {
		return PushResult{}, err
	}
	if err := checkText("campaignId", cmd.CampaignID, maxID); err != nil {
		return PushResult{}, err
	}
	if cmd.Kind == 0 || cmd.Kind >= numCommandKinds {
		return PushResult{}, &RequestError{Field: "kind", Value: cmd.Kind.String(), Reason: "unknown command"}
	}
	if v := r.Value; v != nil {
		if cmd.Kind == CommandExec || !r.Delivered || r.Status < 200 || r.Status >= 300 {
			return PushResult{}, &RequestError{Field: "value", Value: v.String(),
				Reason: "only an LwM2M command that the device answered with 2.xx comes with a value, not " + cmd.Kind.String() + " " + strconv.Itoa(r.Status)}
		}
		if _, err := lwm2m.ParseObservation(int64(v.State), int64(v.Result)); err != nil {
			return PushResult{}, asRequestError(err)
		}
	}
	o := getOp()
	defer o.release()
	o.push.cmd, o.push.receipt = cmd, r
	err := m.updateDevice(ctx, "confirm", cmd.DeviceID, o, m.confirmTx)
	return o.push.res, err
}

func (m *Manager) confirm(tx DeviceTx, o *op) error {
	a := &o.push
	cmd, r := &a.cmd, a.receipt
	var pm pushMember // on the stack: copying the campaign in needs no write barrier
	p := &pm
	a.res = PushResult{}
	var err error
	if p.c, err = lendCampaign(tx, cmd.CampaignID); err != nil {
		return err
	}
	if err := startFirst(p.c, o.now); err != nil {
		return err
	}
	if p.mem, err = tx.Member(cmd.CampaignID); err != nil {
		return err
	}
	p.stored = p.mem
	p.st = effective(p.c, o.now)
	if err := checkLease(p, cmd, o.now); err != nil {
		return err
	}
	if !running(p.st) || p.mem.State.Terminal() {
		return stopped(tx, o, p, &a.res)
	}
	pp := &p.mem.Push
	pp.Leased, pp.DueAt = false, time.Time{}
	if !r.Delivered {
		pp.Attempt++
		if pp.Protocol == device.LWM2M {
			if at, ok := m.nextAttempt(p.c, o.now); ok {
				pp.DueAt = at
			} else {
				pp.Spent = true // the give-up pass fails it
			}
		}
		return m.pushDone(tx, o, p, &a.res)
	}
	pp.Spent = false
	switch pp.Protocol {
	case device.LWM2M:
		if err := m.confirmLwM2M(o, p, cmd.Kind, r.Status); err != nil {
			return err
		}
		if r.Value != nil {
			return m.observed(tx, o, p, *r.Value)
		}
	case device.OMADM:
		if omadm.ExecAccepted(r.Status) {
			pp.Machine = fumoAccepted
			if p.mem.State == device.StateAccepted {
				if err := m.notified(o, p); err != nil {
					return err
				}
			}
			break
		}
		// The device refused the Exec: its FUMO client cannot take
		// this package now.
		if err := m.finishPush(tx, o, p, device.EventUpdateFailed, uint16(r.Status)); err != nil {
			return err
		}
		a.res = PushResult{State: p.mem.State}
		return nil
	}
	return m.pushDone(tx, o, p, &a.res)
}

// checkLease refuses a confirmation that does not match the device's
// current hand-out.
func checkLease(p *pushMember, cmd *Command, now time.Time) error {
	pp := p.mem.Push
	switch {
	case cmd.Lease == pp.Lease && !pp.Leased:
		return &ReportError{Campaign: p.c.ID, Device: p.mem.DeviceID, Report: "confirmation of " + cmd.Kind.String(), State: p.mem.State}
	case cmd.Lease != pp.Lease || cmd.Lease == 0 || !now.Before(pp.DueAt):
		return &LeaseError{Campaign: p.c.ID, Device: p.mem.DeviceID, Lease: cmd.Lease, Current: pp.Lease, Expired: cmd.Lease == pp.Lease}
	}
	return nil
}

// notified moves an accepted device to Notified: the push reached it.
func (m *Manager) notified(o *op, p *pushMember) error {
	next, err := device.Next(device.FamilyPush, p.mem.State, device.EventNotify)
	if err != nil {
		return err
	}
	o.device(p.c, p.mem.DeviceID, p.mem.State, next, 0, p.mem.Push.Result)
	p.mem.State, p.mem.UpdatedAt = next, o.now
	return nil
}

// confirmLwM2M applies a delivered LwM2M command's answer and plans the
// device's next step from where it now stands.
func (m *Manager) confirmLwM2M(o *op, p *pushMember, kind CommandKind, status int) error {
	pp := &p.mem.Push
	ok := status >= 200 && status < 300
	t, err := trackerOf(*pp)
	if err != nil {
		return err
	}
	var sent lwm2m.Command
	switch kind {
	case CommandObserve:
		pp.Observing = true
		if _, known := t.Last(); ok && !known {
			// The answer carries the current value, which the host passes
			// on as an observation: it decides whether the device needs
			// a reset before the package write (lwm2m.Tracker.Next), so
			// wait for it, going on without it after ObserveTimeout.
			pp.DueAt = o.now.Add(m.push.ObserveTimeout)
			return nil
		}
		// Refused or not, go on: without notifications the reads after
		// each wait tell the server where the device is.
		ok = true
	case CommandRead:
		if ok && pp.Machine&readFirst != 0 {
			// Read after a refusal, and no observation since: wait for
			// the read's values, which come as an observation and plan
			// the next command then.
			pp.Machine &^= readFirst
			pp.DueAt = o.now.Add(m.push.ObserveTimeout)
			return nil
		}
	case CommandReset:
		sent = lwm2m.CommandReset
	case CommandWritePackage:
		// A client may refuse the URI with 4.00 and record why in the
		// Update Result: the device did receive it (package lwm2m).
		sent, ok = lwm2m.CommandWritePackage, ok || status == 400
	case CommandExecute:
		sent = lwm2m.CommandExecuteUpdate
	}
	if sent != 0 && ok {
		n, err := t.Sent(sent)
		if err != nil {
			return err
		}
		pp.Machine = n.Pack() | pp.Machine&readFirst
		if sent == lwm2m.CommandReset {
			// The reset cleared /5/0/5: an earlier update's result seen
			// before it is no result of this campaign.
			pp.Result = uint16(lwm2m.Initial)
		}
		if kind == CommandWritePackage && p.mem.State == device.StateAccepted {
			if err := m.notified(o, p); err != nil {
				return err
			}
		}
	}
	if !ok {
		// Refused: the device is not where the server thought. Read it
		// before anything else, rather than insist.
		pp.Machine |= readFirst
	}
	return m.plan(pp, o.now)
}

// Observation records an LwM2M device's Read or Notify of /5/0/3 (State)
// and /5/0/5 (Update Result). Notifications may be lost: the device's
// tracker accepts what the Object 5 machine can reach (package
// device/lwm2m). A final observation moves the device to Upgrade Success
// or Upgrade Failed, with the Update Result kept beside the reason. An
// observation the machine cannot reach is refused (lwm2m.ErrUnreachable,
// ErrInvalidTransition); a repeat is ErrDuplicateReport; neither changes
// anything.
//
// The host passes a device's notifications in the order the device sent
// them and drops stale ones: RFC 7641 §3.4 numbers notifications with the
// Observe option, and one is newer than the last accepted when its number
// is greater in 24-bit serial number arithmetic or when it arrives more
// than 128 seconds after it (examples/lwm2m/server/observation.go does
// so). A Read's answer is always fresh. The Manager relies on that order
// after a reset: it writes the package only once an observation shows the
// device at (Idle, Initial), which the device cannot reach from another
// state on its own, so a notification sent before the reset and delivered
// after its acknowledgement is refused rather than taken for the
// device's answer to the package write (lwm2m.Tracker.Next). Without such
// a notification it Reads /5/0 after Push.ObserveTimeout.
func (m *Manager) Observation(ctx context.Context, deviceID string, obs lwm2m.Observation) (PushResult, error) {
	if err := checkDeviceID("deviceId", deviceID); err != nil {
		return PushResult{}, err
	}
	if _, err := lwm2m.ParseObservation(int64(obs.State), int64(obs.Result)); err != nil {
		return PushResult{}, asRequestError(err)
	}
	o := getOp()
	defer o.release()
	o.push.deviceID, o.push.obs = deviceID, obs
	err := m.updateDevice(ctx, "observation", deviceID, o, m.observationTx)
	return o.push.res, err
}

func (m *Manager) observation(tx DeviceTx, o *op) error {
	a := &o.push
	var pm pushMember // on the stack: copying the campaign in needs no write barrier
	p := &pm
	a.res = PushResult{}
	if err := loadPush(tx, o.now, "observation", device.LWM2M, p); err != nil {
		return err
	}
	return m.observed(tx, o, p, a.obs)
}

// observed applies observation obs to the LwM2M member p: an Observation,
// or the value of a confirmed Observe or Read.
func (m *Manager) observed(tx DeviceTx, o *op, p *pushMember, obs lwm2m.Observation) error {
	a := &o.push
	deviceID := p.mem.DeviceID
	t, err := trackerOf(p.mem.Push)
	if err != nil {
		return err
	}
	n, out, implied, err := observe(t, obs, p.mem.Push)
	if err != nil {
		return err
	}
	if out.Verdict == lwm2m.Settled {
		return &ReportError{Campaign: p.c.ID, Device: deviceID, Report: "observation " + obs.String(), State: effectiveState(device.FamilyPush, p.st, p.mem.State)}
	}
	if !running(p.st) || p.mem.State.Terminal() {
		return &lifecycle.TransitionError{Lifecycle: device.PushTable.Name(), State: effectiveState(device.FamilyPush, p.st, p.mem.State).String(), Event: "observation " + obs.String()}
	}
	p.mem.Push.Machine = n.Pack() // the device said where it is: no read first
	p.mem.Push.Result = uint16(obs.Result)
	if implied != 0 {
		// The observation answers the command handed out: its
		// acknowledgement is late or was lost. A confirmation that
		// comes later is a duplicate.
		p.mem.Push.Leased, p.mem.Push.Spent = false, false
		if implied == lwm2m.CommandWritePackage && p.mem.State == device.StateAccepted {
			if err := m.notified(o, p); err != nil {
				return err
			}
		}
	}
	if out.Verdict == lwm2m.Succeeded || out.Verdict == lwm2m.Failed {
		if err := m.finishPush(tx, o, p, out.Event, uint16(out.Result)); err != nil {
			return err
		}
		a.res = PushResult{State: p.mem.State}
		return nil
	}
	if err := m.plan(&p.mem.Push, o.now); err != nil {
		return err
	}
	return m.pushDone(tx, o, p, &a.res)
}

// observe places an observation on the device's tracker. Notifications
// travel apart from the acknowledgements of the commands they follow: one
// may overtake the 2.04 of the reset, the package write or the Execute it
// answers, or that 2.04 may be lost while the device acted. So when the
// tracker cannot reach the observation but would after the command it was
// about to have acknowledged (once some command was handed out), that
// command is taken as acknowledged: implied names it. A reset is implied
// only by (Idle, Initial), the one value it leaves, which a device that
// needs a reset cannot show without one (and the host drops notifications
// older than the one that showed it needing it). After an acknowledged
// reset the tracker waits (lwm2m.CommandWait) until an observation shows
// (Idle, Initial), so no write is handed out or implied before it: a
// notification from before the reset is refused.
func observe(t lwm2m.Tracker, obs lwm2m.Observation, p Push) (lwm2m.Tracker, lwm2m.Outcome, lwm2m.Command, error) {
	n, out, err := t.Observe(obs)
	if err == nil || !errors.Is(err, lwm2m.ErrUnreachable) || p.Lease == 0 {
		return n, out, 0, err
	}
	next := t.Next()
	if next != lwm2m.CommandReset && next != lwm2m.CommandWritePackage && next != lwm2m.CommandExecuteUpdate {
		return n, out, 0, err
	}
	sent, serr := t.Sent(next)
	if serr != nil {
		return n, out, 0, err
	}
	n2, out2, err2 := sent.Observe(obs)
	if err2 != nil {
		return n, out, 0, err
	}
	return n2, out2, next, nil
}

// Alert records an OMA-DM device's FUMO Generic Alert (1226): a final
// result moves the device to Upgrade Success or Upgrade Failed, with the
// FUMO result code kept beside the reason (package device/omadm). An
// invalid alert is refused (ErrBadRequest); a repeat after the device
// finished is ErrDuplicateReport.
func (m *Manager) Alert(ctx context.Context, deviceID string, a omadm.Alert) (PushResult, error) {
	if err := checkDeviceID("deviceId", deviceID); err != nil {
		return PushResult{}, err
	}
	ev, final, err := omadm.Outcome(a)
	if err != nil {
		return PushResult{}, asRequestError(err)
	}
	code, _ := a.Result() // Outcome validated it
	var res PushResult
	o := getOp()
	defer o.release()
	err = m.updateDevice(ctx, "alert", deviceID, o, func(tx DeviceTx, o *op) error {
		var p pushMember
		if err := loadPush(tx, o.now, "alert", device.OMADM, &p); err != nil {
			return err
		}
		if p.mem.State.Terminal() {
			return &ReportError{Campaign: p.c.ID, Device: deviceID, Report: "alert " + a.Data, State: p.mem.State}
		}
		if !running(p.st) {
			return &lifecycle.TransitionError{Lifecycle: device.PushTable.Name(), State: effectiveState(device.FamilyPush, p.st, p.mem.State).String(), Event: "alert " + a.Data}
		}
		if !final {
			// A download finished; DownloadAndUpdate goes on by itself.
			p.mem.Push.Result = uint16(code)
			return m.pushDone(tx, o, &p, &res)
		}
		if err := m.finishPush(tx, o, &p, ev, uint16(code)); err != nil {
			return err
		}
		res = PushResult{State: p.mem.State}
		return nil
	})
	return res, err
}

// Connected records that a push device registered with the LwM2M server
// or opened an OMA-DM session: a device that was off is notified now
// ("notified when it next connects"), an LwM2M device is observed again
// (the server "MUST re-initiate observation requests whenever the LwM2M
// Client registers"), and its next command, due at once, is returned
// leased to the caller. A device in no running push campaign changes
// nothing.
func (m *Manager) Connected(ctx context.Context, deviceID string) (PushResult, error) {
	return m.reached(ctx, "connected", deviceID, true)
}

// Reachable records that a push device showed it can be reached without
// losing its observations, as an LwM2M registration Update from the same
// address does: a command waiting for the retry plan's next attempt is due
// at once (and returned leased to the caller); the observations stand.
func (m *Manager) Reachable(ctx context.Context, deviceID string) (PushResult, error) {
	return m.reached(ctx, "reachable", deviceID, false)
}

func (m *Manager) reached(ctx context.Context, name, deviceID string, registered bool) (PushResult, error) {
	if err := checkDeviceID("deviceId", deviceID); err != nil {
		return PushResult{}, err
	}
	var res PushResult
	o := getOp()
	defer o.release()
	err := m.updateDevice(ctx, name, deviceID, o, func(tx DeviceTx, o *op) error {
		cid, err := tx.ActiveCampaign()
		if err != nil || cid == "" {
			return err
		}
		c, err := lendCampaign(tx, cid)
		if err != nil || c.Family != device.FamilyPush {
			return err
		}
		if err := startFirst(c, o.now); err != nil {
			return err
		}
		mem, err := tx.Member(cid)
		if err != nil {
			return err
		}
		p := pushMember{c: c, mem: mem, st: effective(c, o.now), stored: mem}
		if !running(p.st) || p.mem.State.Terminal() {
			res.State = effectiveState(device.FamilyPush, p.st, p.mem.State)
			return nil
		}
		pp := &p.mem.Push
		pp.Spent = false
		if registered && pp.Protocol == device.LWM2M {
			pp.Observing = false
		}
		if !pp.Leased {
			kind, ok, err := nextCommand(*pp)
			if err != nil {
				return err
			}
			// A wait for notifications stands: the device is reachable,
			// and it will say when it moves.
			if ok && (kind != CommandRead || pp.Machine&readFirst != 0) {
				pp.DueAt = o.now
			}
		}
		return m.pushDone(tx, o, &p, &res)
	})
	return res, err
}
