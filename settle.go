package fota

import (
	"cmp"
	"context"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
)

// A campaign's stored status can lag the clock: its start or end falls due
// at an instant, and the Manager writes it when Tick (or the next
// operation on the campaign) gets there. Until then every decision and
// every answer uses the status the campaign has at now (effective), and a
// device of a campaign that ended, was cancelled or aborted but whose
// sweep has not reached it yet is reported as the sweep will leave it
// (effectiveState). So what a device or a query sees never depends on when
// Tick ran; only observers hear of a start or an end when it is written.

// effective is the campaign's status at now: the stored one, or the one a
// due start or end gives it.
func effective(c *Campaign, now time.Time) campaign.Status {
	s := c.Status
	if (s == campaign.HTTPQueued || s == campaign.PushQueued) && !now.Before(c.StartsAt) {
		s = startedStatus(s)
	}
	if running(s) && !now.Before(c.EndsAt) {
		if s.Family() == device.FamilyPush {
			return campaign.PushFinished
		}
		return campaign.HTTPEnded
	}
	return s
}

// startedStatus is where a queued campaign goes at its start.
func startedStatus(s campaign.Status) campaign.Status {
	if s == campaign.PushQueued {
		return campaign.PushInProgress
	}
	return campaign.HTTPScheduled
}

// running reports whether a campaign in status s updates devices.
func running(s campaign.Status) bool {
	return s == campaign.HTTPScheduled || s == campaign.HTTPInProgress || s == campaign.PushInProgress
}

// sweepEvent is the device event that a campaign's final status applies to
// every device still under way (0: none).
func sweepEvent(s campaign.Status) device.Event {
	switch s {
	case campaign.HTTPEnded, campaign.PushFinished:
		return device.EventCampaignEnd
	case campaign.HTTPCancelled, campaign.PushCancelled:
		return device.EventCancel
	case campaign.HTTPAborted:
		return device.EventAbort
	case campaign.PushUpgradeFailed:
		return device.EventInternalError
	}
	return 0
}

// effectiveState is a member's state in a campaign whose status at now is
// st: a device still under way in a campaign that stopped is where the
// sweep puts it.
func effectiveState(fam device.Family, st campaign.Status, s device.State) device.State {
	if s.Terminal() {
		return s
	}
	if ev := sweepEvent(st); ev != 0 {
		if next, err := device.Next(fam, s, ev); err == nil {
			return next
		}
	}
	return s
}

// sweptCounts moves the counts of devices still under way to where the
// sweep of status st puts them.
func sweptCounts(fam device.Family, st campaign.Status, c Counts) Counts {
	if sweepEvent(st) == 0 {
		return c
	}
	var out Counts
	for s, n := range c {
		if n != 0 {
			out[effectiveState(fam, st, device.State(s))] += n
		}
	}
	return out
}

// unfinished are the states that keep an HTTP campaign from ending early:
// every state but success and rejection.
var unfinished = func() StateSet {
	var set StateSet
	for _, s := range device.States {
		if s != device.StateSucceeded && s != device.StateRejected {
			set |= States(s)
		}
	}
	return set
}()

// started are the HTTP states of a device that began its update.
var started = States(device.StateDownloading, device.StateDownloaded, device.StateInstalling,
	device.StateSucceeded, device.StateDownloadFailed, device.StateInstallFailed,
	device.StateUnknownError, device.StateOther)

// settle applies the campaign's due start and end. A due end writes the
// campaign's final status and leaves its devices to the sweep.
func (m *Manager) settle(tx Tx, o *op, c *Campaign) error {
	if (c.Status == campaign.HTTPQueued || c.Status == campaign.PushQueued) && !o.now.Before(c.StartsAt) {
		if err := m.start(tx, o, c); err != nil {
			return err
		}
	}
	if running(c.Status) && !o.now.Before(c.EndsAt) {
		return m.finishWith(tx, o, c, campaign.End)
	}
	return nil
}

// start applies a campaign's start. A push campaign's LwM2M devices that
// never answer give up at the end of the retry plan.
func (m *Manager) start(tx Tx, o *op, c *Campaign) error {
	if err := m.apply(tx, o, c, campaign.Start); err != nil {
		return err
	}
	if err := tx.DeleteDeadline(DeadlineCampaignStart, c.ID); err != nil {
		return err
	}
	if c.Family == device.FamilyPush {
		if at := m.schedule.GiveUpAt(c.StartsAt); at.Before(c.EndsAt) {
			return m.putDeadline(tx, o, DeadlinePushGiveUp, c.ID, at)
		}
	}
	return nil
}

// settleCampaign brings a campaign up to date in a transaction of its own:
// a due start or end, an HTTP campaign's first download (Scheduled to
// InProgress) and its early end once every accepted device succeeded. It
// runs after the device operations that made one due, and for queries.
func (m *Manager) settleCampaign(ctx context.Context, id string) error {
	return m.update(ctx, "settle", func(tx Tx, o *op) error {
		c, err := tx.Campaign(id)
		if err != nil {
			return err
		}
		return m.settleAll(tx, o, &c)
	})
}

// settleAll is settle plus what only the devices show: an HTTP campaign
// begins with its first started device and ends early when every accepted
// device succeeded.
func (m *Manager) settleAll(tx Tx, o *op, c *Campaign) error {
	if err := m.settle(tx, o, c); err != nil {
		return err
	}
	if c.Status == campaign.HTTPScheduled {
		begun, err := tx.AnyMember(c.ID, started)
		if err != nil || !begun {
			return err
		}
		if err := m.apply(tx, o, c, campaign.Begin); err != nil {
			return err
		}
	}
	if c.Status == campaign.HTTPInProgress {
		left, err := tx.AnyMember(c.ID, unfinished)
		if err != nil || left {
			return err
		}
		return m.finishWith(tx, o, c, campaign.End)
	}
	return nil
}

// due reports whether a campaign's stored status lags what settleAll would
// write (for queries, which settle before they read).
func due(tx Tx, c *Campaign, now time.Time) (bool, error) {
	var err error
	lag := dueWith(c, now, func(states StateSet) bool {
		in, e := tx.AnyMember(c.ID, states)
		err = cmp.Or(err, e)
		return in
	})
	return lag, err
}

// dueWith is due, asking anyIn whether members are in a set of states.
func dueWith(c *Campaign, now time.Time, anyIn func(StateSet) bool) bool {
	if effective(c, now) != c.Status {
		return true
	}
	switch c.Status {
	case campaign.HTTPScheduled:
		return anyIn(started)
	case campaign.HTTPInProgress:
		return !anyIn(unfinished)
	}
	return false
}

// lagReader is a store that tells without a transaction whether a
// campaign's stored status lags (MemoryStore); ok false: ask a View.
type lagReader interface {
	lagging(id string, now time.Time) (lag, ok bool)
}

// settleIfDue brings a campaign up to date after a device operation that
// may have left it behind: a read first, and a write only when something
// fell due (most successes are not the last).
func (m *Manager) settleIfDue(ctx context.Context, id string) error {
	if m.lags != nil {
		if lag, known := m.lags.lagging(id, m.now()); known {
			if !lag {
				return nil
			}
			return m.settleCampaign(ctx, id)
		}
	}
	return m.settleLagging(ctx, id, func(tx Tx) (Campaign, error) { return tx.Campaign(id) })
}

// settleDue brings an account's campaign up to date before a query reads
// it: a read first, and a write only when something fell due.
func (m *Manager) settleDue(ctx context.Context, account, id string) error {
	return m.settleLagging(ctx, id, func(tx Tx) (Campaign, error) { return load(tx, account, id) })
}

// settleLagging reads campaign id with read and settles it when its
// stored status lags.
func (m *Manager) settleLagging(ctx context.Context, id string, read func(Tx) (Campaign, error)) error {
	lag := false
	err := m.view(ctx, func(tx Tx, now time.Time) error {
		c, err := read(tx)
		if err != nil {
			return err
		}
		lag, err = due(tx, &c, now)
		return err
	})
	if err != nil || !lag {
		return err
	}
	return m.settleCampaign(ctx, id)
}

// finishWith moves a campaign to a final status with ev (end, cancel,
// abort, remove last, fail), drops its timing deadlines, tells the pilot
// gate how a pilot ended, and leaves its devices to the sweep, which
// Tick runs in bounded batches (DeadlineCampaignSweep).
func (m *Manager) finishWith(tx Tx, o *op, c *Campaign, ev campaign.Event) error {
	c.Cursor, c.Swept = "", false // the give-up pass may have used the cursor
	if err := m.apply(tx, o, c, ev); err != nil {
		return err
	}
	for _, k := range []DeadlineKind{DeadlineCampaignStart, DeadlineCampaignEnd, DeadlinePushGiveUp} {
		if err := tx.DeleteDeadline(k, c.ID); err != nil {
			return err
		}
	}
	// A finished campaign's windows are never asked again. Should the
	// transaction roll back, the schedule is simply compiled anew.
	m.compiled.Delete(c.ID)
	if cs := m.lastCompiled.Load(); cs != nil && cs.id == c.ID {
		m.lastCompiled.CompareAndSwap(cs, nil)
	}
	switch ev {
	case campaign.End:
		if err := m.learn(tx, o, c, pilot.EndedNormally); err != nil {
			return err
		}
	case campaign.Cancel:
		if err := m.learn(tx, o, c, pilot.Cancelled); err != nil {
			return err
		}
	case campaign.Abort:
		if err := m.learn(tx, o, c, pilot.Aborted); err != nil {
			return err
		}
	}
	// The first batch goes in this transaction, so that a campaign of up
	// to a batch's devices finishes at once; a larger one goes on in Tick.
	_, err := m.sweep(tx, o, c)
	return err
}

// sweepBatch is how many devices one sweep transaction moves.
const sweepBatch = 1000

// sweep moves the next batch of a finished campaign's devices: each still
// under way gets the final status's event, has its push command withdrawn,
// and every device the campaign holds is released. It reports whether the
// sweep is done.
func (m *Manager) sweep(tx Tx, o *op, c *Campaign) (bool, error) {
	ev := sweepEvent(c.Status)
	n, last, err := eachMember(tx, c.ID, c.Cursor, sweepBatch, true, func(mem *Member) error {
		next := mem.State
		if ev != 0 && !mem.State.Terminal() {
			if st, err := device.Next(c.Family, mem.State, ev); err == nil {
				next = st
			}
		}
		return m.letGo(tx, o, c, mem, next)
	})
	if err != nil {
		return false, err
	}
	done := n < sweepBatch
	if n > 0 {
		c.Cursor = last
	}
	c.Swept = done
	if err := putRevision(tx, c, o.now); err != nil {
		return false, err
	}
	if done {
		return true, tx.DeleteDeadline(DeadlineCampaignSweep, c.ID)
	}
	return false, m.putDeadline(tx, o, DeadlineCampaignSweep, c.ID, o.now)
}

// memberScanner is a transaction that visits a page of a campaign's
// members without building them all (MemoryStore's): fn gets each in turn.
type memberScanner interface {
	scanMembers(campaignID, afterDeviceID string, limit int, skipSettled bool, fn func(*Member) error) (int, string, error)
}

// eachMember calls fn with each member of one page of campaign id, in
// device id order after afterDeviceID (at most limit), and returns how
// many it visited and the last one's id: through scanMembers where tx has
// it, else through Members. fn may write members and devices, not list
// members. With skipSettled, fn does nothing for a settled member
// (finished, no push command planned or out, its device not held by the
// campaign), and a store that tells them apart without naming their
// devices skips them: a campaign's end then costs what its devices still
// under way cost, and a little for the rest.
func eachMember(tx Tx, id, afterDeviceID string, limit int, skipSettled bool, fn func(*Member) error) (int, string, error) {
	if sc, ok := tx.(memberScanner); ok {
		return sc.scanMembers(id, afterDeviceID, limit, skipSettled, fn)
	}
	page, err := tx.Members(id, afterDeviceID, limit)
	if err != nil || len(page) == 0 {
		return 0, "", err
	}
	for i := range page {
		if err := fn(&page[i]); err != nil {
			return i, "", err
		}
	}
	return len(page), page[len(page)-1].DeviceID, nil
}

// giveUp fails, in batches, a push campaign's LwM2M devices whose retry
// plan ran out without an answer (DeadlinePushGiveUp), carrying on from
// the campaign's Cursor. It reports whether every device has been looked
// at.
func (m *Manager) giveUp(tx Tx, o *op, c *Campaign) (bool, error) {
	n, last, err := eachMember(tx, c.ID, c.Cursor, sweepBatch, true, func(mem *Member) error {
		if mem.State.Terminal() || mem.Push.Protocol != device.LWM2M || !mem.Push.Spent {
			return nil
		}
		next, err := device.Next(device.FamilyPush, mem.State, device.EventUnreachable)
		if err != nil {
			return nil
		}
		return m.letGo(tx, o, c, mem, next)
	})
	if err != nil {
		return false, err
	}
	done := n < sweepBatch
	c.Cursor = ""
	if !done {
		c.Cursor = last
	}
	if err := putRevision(tx, c, o.now); err != nil {
		return false, err
	}
	if done {
		return true, tx.DeleteDeadline(DeadlinePushGiveUp, c.ID)
	}
	return false, nil
}

// letGo ends campaign c's hold on member mem: it moves to state next
// (told to the observer when that is a move), its push command is
// withdrawn, and the device is released.
func (m *Manager) letGo(tx Tx, o *op, c *Campaign, mem *Member, next device.State) error {
	changed := false
	if next != mem.State {
		o.device(c, mem.DeviceID, mem.State, next, 0, mem.Push.Result)
		mem.State, mem.UpdatedAt, changed = next, o.now, true
	}
	if !mem.Push.DueAt.IsZero() || mem.Push.Leased {
		mem.Push.DueAt, mem.Push.Leased, changed = time.Time{}, false, true
	}
	if changed {
		if err := tx.PutMember(*mem); err != nil {
			return err
		}
	}
	return m.release(tx, c.ID, mem.DeviceID)
}

// release frees a device held by campaign id.
func (m *Manager) release(tx Tx, id, deviceID string) error {
	held, err := tx.ActiveCampaign(deviceID)
	if err != nil || held != id {
		return err
	}
	return tx.SetActiveCampaign(deviceID, "")
}

// learn tells the target's pilot gate how a pilot campaign ended.
func (m *Manager) learn(tx Tx, o *op, c *Campaign, ending pilot.Ending) error {
	if !c.Pilot {
		return nil
	}
	counts, err := tx.Counts(c.ID)
	if err != nil {
		return err
	}
	gate, err := tx.Gate(c.Target)
	if err != nil {
		return err
	}
	next, _, err := gate.Learn(pilot.Outcome{Ending: ending, Devices: counts.Accepted(), Succeeded: counts.Of(device.StateSucceeded)}, o.now, m.pilot)
	if err != nil {
		return err
	}
	if next == gate {
		return nil
	}
	return tx.PutGate(next)
}

// settleFirst stops a device operation whose campaign's start fell due
// but is not written yet: the Manager writes it in a transaction of its
// own and runs the operation again, so that observers hear the campaign
// start before its devices move. (A due end needs no such care: the
// device is answered as ended and the ending is Tick's.)
type settleFirst struct{ campaign string }

func (e *settleFirst) Error() string {
	return "fota: campaign " + e.campaign + " must start before its devices move"
}

// startFirst returns a *settleFirst when c's start fell due at now but is
// not written.
func startFirst(c *Campaign, now time.Time) error {
	if (c.Status == campaign.HTTPQueued || c.Status == campaign.PushQueued) && !now.Before(c.StartsAt) {
		return &settleFirst{campaign: c.ID}
	}
	return nil
}
