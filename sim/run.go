package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/verboselog"
)

// StepKind says what kind of event a Step handled.
type StepKind uint8

// The kinds of event.
const (
	StepCheckIn StepKind = iota + 1 // a device checked in
	StepReport                      // a device reported an outcome
	StepTick                        // a Manager deadline fell due
)

func (k StepKind) String() string {
	switch k {
	case StepCheckIn:
		return "checkIn"
	case StepReport:
		return "report"
	case StepTick:
		return "tick"
	}
	return "StepKind(" + strconv.Itoa(int(k)) + ")"
}

// Step is one event the simulator handled, for Scenario.OnStep.
type Step struct {
	At       time.Time
	Kind     StepKind
	Campaign string // the campaign being simulated
	Device   string // check-ins and reports
	// Instruction is the Manager's answer to a check-in.
	Instruction fota.Instruction
	// Outcome is what a device reported, State where it led, and Err the
	// Manager's refusal of a late report (nil otherwise).
	Outcome fota.Outcome
	State   device.State
	Err     error
	// Next is the deadline a Tick returned (zero: none).
	Next time.Time
}

// Account, product and versions of the simulated fleet.
const (
	account  = "sim"
	make_    = "Acme"
	model    = "Sensor"
	software = "sensor-fw"
	from     = "1.0"
	to       = "2.0"
)

// simDevice is what the simulator keeps per device: 24 bytes.
type simDevice struct {
	id      string
	phase   int32 // seconds from the anchor to its first regular slot
	offline bool
}

type eventKind uint8

const (
	evCheckIn eventKind = iota + 1
	evReport
	evTick
)

// event is one queued event: a device's check-in or report, or a tick.
type event struct {
	dev     int32
	kind    eventKind
	outcome fota.Outcome
}

type runner struct {
	ctx    context.Context
	s      Scenario
	b      Behaviour
	rng    *rand.Rand
	clock  *Clock
	store  *fota.MemoryStore
	m      *fota.Manager
	fleet  []simDevice
	q      Queue[event]
	anchor time.Time // midnight UTC of the start day: regular slots count from it
	every  time.Duration

	// The campaign being simulated.
	scheduling bool
	cur        *CampaignReport
	ended      bool
	tickAt     time.Time // the queued tick, if tickQueued
	tickQueued bool

	totals Totals
}

// Run simulates the scenario: it builds the fleet and a Manager on
// simulated time, runs the pilot, then (if the pilot lifted the gate, or
// no gate applies) the rollout of every other device, each until the
// campaign ends, and reports what happened. The same scenario always
// gives the same Report. An error means the scenario is bad
// (ErrBadScenario), ctx was cancelled, or the Manager failed in a way a
// device cannot cause; a refused campaign is reported, not an error.
func Run(ctx context.Context, s Scenario) (*Report, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	r := &runner{
		ctx:    ctx,
		s:      s,
		b:      s.Behaviour,
		rng:    rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15)),
		clock:  NewClock(s.Start.UTC()),
		store:  fota.NewMemoryStore(),
		anchor: s.Start.UTC().Truncate(24 * time.Hour),
		every:  s.Behaviour.CheckInEvery,
	}
	rep := &Report{Seed: s.Seed, Devices: s.Devices, Start: s.Start.UTC()}
	inv, err := r.buildFleet(rep)
	if err != nil {
		return nil, err
	}
	logging := verboselog.DefaultPolicy()
	logging.HistoryMax = s.HistoryMax
	r.m, err = fota.New(fota.Config{
		Store: r.store, Inventory: inv, Clock: r.clock, Observer: r, Logging: logging,
		NewID: func(seq uint64) string { return "sim-" + strconv.FormatUint(seq, 10) },
	})
	if err != nil {
		return nil, err
	}
	if s.Pilot > 0 {
		c, err := r.campaign("pilot", 0, s.Pilot, s.PilotShape)
		if err != nil {
			return nil, err
		}
		rep.Campaigns = append(rep.Campaigns, c)
	}
	if s.Pilot < s.Devices {
		c, err := r.campaign("rollout", s.Pilot, s.Devices, s.Rollout)
		if err != nil {
			return nil, err
		}
		rep.Campaigns = append(rep.Campaigns, c)
	}
	if err := r.store.View(ctx, func(tx fota.Tx) error {
		g, err := tx.Gate(pilot.Target{Account: account, SoftwareName: software, SoftwareFrom: from, SoftwareTo: to})
		rep.PilotGate = g.State.String()
		return err
	}); err != nil {
		return nil, err
	}
	rep.End = r.clock.Now()
	rep.Totals = r.totals
	return rep, nil
}

// buildFleet mints the devices' IMEIs, draws their phases and whether
// they stay offline, and fills the inventory.
func (r *runner) buildFleet(rep *Report) (*fota.MemoryInventory, error) {
	inv := fota.NewMemoryInventory()
	r.fleet = make([]simDevice, r.s.Devices)
	hours := int(r.every / time.Hour)
	body := [14]byte{'3', '5'} // TAC prefix "35", then a 12-digit serial
	for i := range r.fleet {
		for j, n := 13, i; j >= 2; j, n = j-1, n/10 {
			body[j] = '0' + byte(n%10)
		}
		id, err := device.IMEIOf(string(body[:]))
		if err != nil {
			return nil, err
		}
		d := &r.fleet[i]
		d.id = id
		if hours > 0 {
			d.phase = int32(r.rng.IntN(hours)) * 3600
		} else {
			d.phase = int32(r.rng.Int64N(int64(r.every / time.Second)))
		}
		d.offline = r.rng.Float64() < r.b.Offline
		if d.offline {
			rep.Offline++
		}
		inv.Put(fota.DeviceInfo{DeviceID: id, Account: account, Protocol: device.HTTP, Make: make_, Model: model,
			Software: from, FOTACapable: true, ActiveConnected: true})
	}
	return inv, nil
}

// Observe implements fota.Observer: it follows the simulated campaign's
// status and passes every change on to the scenario's observer.
func (r *runner) Observe(c fota.Change) {
	r.totals.Changes++
	if c.Kind == fota.CampaignChanged && r.cur != nil && (r.scheduling || c.CampaignID == r.cur.ID) {
		r.cur.ID = c.CampaignID
		r.cur.Timeline = append(r.cur.Timeline, StatusChange{At: c.Time, Status: c.Campaign.String()})
		if c.Campaign.Terminal() {
			r.ended = true
			r.cur.EndedAt = c.Time
		}
	}
	if r.s.Observer != nil {
		r.s.Observer.Observe(c)
	}
}

// campaign schedules the fleet's devices [lo, hi) as one campaign and
// runs it until it ends.
func (r *runner) campaign(name string, lo, hi int, shape Shape) (CampaignReport, error) {
	now := r.clock.Now()
	rep := CampaignReport{Name: name, Devices: hi - lo, ScheduledAt: now}
	ids := make([]string, 0, hi-lo)
	for i := lo; i < hi; i++ {
		ids = append(ids, r.fleet[i].id)
	}
	req := fota.CampaignRequest{
		CampaignName: name, SoftwareName: software, SoftwareFrom: from, SoftwareTo: to,
		Make: make_, Model: model, Timing: shape.Timing(now), DeviceList: ids,
	}
	r.cur, r.ended, r.scheduling = &rep, false, true
	info, err := r.m.Schedule(r.ctx, account, req)
	r.scheduling = false
	r.totals.ManagerCalls++
	if err != nil {
		if errors.Is(err, fota.ErrPilotRequired) {
			rep.Refused, rep.Err = err.Error(), err
			return rep, nil
		}
		return rep, fmt.Errorf("sim: scheduling the %s: %w", name, err)
	}
	rep.ID, rep.StartsAt, rep.EndsAt = info.ID, info.StartsAt, info.EndsAt

	// Every device that is online starts with its next regular check-in;
	// the Manager's first deadline is the first tick.
	r.q.Reset()
	r.tickQueued = false
	for i := lo; i < hi; i++ {
		if !r.fleet[i].offline {
			r.q.Push(r.nextRegular(int32(i), now), event{dev: int32(i), kind: evCheckIn})
		}
	}
	if err := r.tick(now); err != nil {
		return rep, err
	}
	if err := r.loop(&rep); err != nil {
		return rep, err
	}
	r.totals.Dropped += int64(r.q.Len())
	if r.tickQueued {
		r.totals.Dropped-- // the tick is not a device event
	}
	r.q.Reset()

	final, err := r.m.Campaign(r.ctx, account, rep.ID)
	r.totals.ManagerCalls++
	if err != nil {
		return rep, err
	}
	rep.Status = final.Status.String()
	rep.Counts = statusCounts(final.Counts)
	// The end, unless the last midnight's query already saw it (a query
	// settles a due end).
	if n := len(rep.Days); n == 0 || rep.Days[n-1].Status != rep.Status || !rep.Days[n-1].At.Equal(r.clock.Now()) {
		rep.Days = append(rep.Days, Day{At: r.clock.Now(), Status: rep.Status, Counts: rep.Counts})
	}
	rep.Tally, err = r.tally(rep.ID)
	r.cur = nil
	return rep, err
}

// loop handles events in time order until the campaign ends.
func (r *runner) loop(rep *CampaignReport) error {
	midnight := r.clock.Now().Truncate(24 * time.Hour).Add(24 * time.Hour)
	for !r.ended {
		at, ev, ok := r.q.Pop()
		if !ok {
			return fmt.Errorf("sim: campaign %s: nothing left to happen, yet it is still %s", rep.ID,
				rep.Timeline[len(rep.Timeline)-1].Status)
		}
		for !at.Before(midnight) {
			if err := r.snapshot(rep, midnight); err != nil {
				return err
			}
			midnight = midnight.Add(24 * time.Hour)
		}
		r.clock.Set(at)
		r.totals.Events++
		if r.totals.Events&1023 == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
		}
		var err error
		switch ev.kind {
		case evCheckIn:
			err = r.checkIn(at, ev.dev)
		case evReport:
			err = r.report(at, ev.dev, ev.outcome)
		case evTick:
			r.tickQueued = false
			err = r.tick(at)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// snapshot records the campaign's counts at a midnight.
func (r *runner) snapshot(rep *CampaignReport, at time.Time) error {
	r.clock.Set(at)
	info, err := r.m.Campaign(r.ctx, account, rep.ID)
	r.totals.ManagerCalls++
	if err != nil {
		return err
	}
	rep.Days = append(rep.Days, Day{At: at, Status: info.Status.String(), Counts: statusCounts(info.Counts)})
	return nil
}

// tick applies the Manager's due deadlines and queues a tick for the next.
func (r *runner) tick(now time.Time) error {
	next, err := r.m.Tick(r.ctx)
	r.totals.Ticks++
	r.totals.ManagerCalls++
	if err != nil {
		return err
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: now, Kind: StepTick, Campaign: r.cur.ID, Next: next})
	}
	if next.IsZero() {
		return nil
	}
	if !next.After(now) {
		return fmt.Errorf("sim: Manager.Tick at %v returned the deadline %v, not after it", now, next)
	}
	if !r.tickQueued || next.Before(r.tickAt) {
		// A later queued tick stays: it finds nothing due and asks again.
		r.q.Push(next, event{kind: evTick})
		r.tickAt, r.tickQueued = next, true
	}
	return nil
}

// checkIn is a device's check-in and what it does with the answer.
func (r *runner) checkIn(now time.Time, i int32) error {
	d := &r.fleet[i]
	in, err := r.m.CheckIn(r.ctx, fota.CheckInRequest{DeviceID: d.id, ClientType: verboselog.ClientRovaClient})
	r.totals.CheckIns++
	r.totals.ManagerCalls++
	if err != nil {
		return fmt.Errorf("sim: check-in of %s at %v: %w", d.id, now, err)
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: now, Kind: StepCheckIn, Campaign: r.cur.ID, Device: d.id, Instruction: in})
	}
	b := &r.b
	switch in.Action {
	case fota.ActionDownload:
		outcome := fota.OutcomeDownloaded
		if r.chance(b.UnknownError) {
			outcome = fota.OutcomeUnknownError
		} else if r.chance(b.DownloadFail) {
			outcome = fota.OutcomeDownloadFailed
		}
		r.q.Push(now.Add(r.draw(b.Download)), event{dev: i, kind: evReport, outcome: outcome})
	case fota.ActionInstall:
		outcome := fota.OutcomeInstalled
		if r.chance(b.UnknownError) {
			outcome = fota.OutcomeUnknownError
		} else if r.chance(b.InstallFail) {
			outcome = fota.OutcomeInstallFailed
		}
		r.q.Push(now.Add(r.draw(b.Install)), event{dev: i, kind: evReport, outcome: outcome})
	default:
		if in.CampaignID == "" {
			return nil // finished, or in no campaign: nothing more to simulate
		}
		next := r.nextRegular(i, now)
		if !in.RetryAt.IsZero() {
			if !in.RetryAt.After(now) {
				return fmt.Errorf("sim: check-in of %s at %v: told to come back at %v, not later", d.id, now, in.RetryAt)
			}
			if retry := in.RetryAt.Add(r.draw(Range{Max: b.RetryJitter - time.Second})); retry.Before(next) {
				next = retry
			}
		}
		r.q.Push(next, event{dev: i, kind: evCheckIn})
	}
	return nil
}

// report is a device reporting the outcome of its download or install.
func (r *runner) report(now time.Time, i int32, outcome fota.Outcome) error {
	d := &r.fleet[i]
	st, err := r.m.Report(r.ctx, r.cur.ID, d.id, outcome)
	r.totals.Reports++
	r.totals.ManagerCalls++
	late := errors.Is(err, fota.ErrInvalidTransition)
	if err != nil && !late {
		return fmt.Errorf("sim: report %s of %s at %v: %w", outcome, d.id, now, err)
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: now, Kind: StepReport, Campaign: r.cur.ID, Device: d.id, Outcome: outcome, State: st, Err: err})
	}
	if late {
		r.totals.LateReports++
		return nil
	}
	if !st.Terminal() {
		// Downloaded: the device checks in at once to ask about the
		// install (it may be told to wait for the install window).
		r.q.Push(now, event{dev: i, kind: evCheckIn})
	}
	return nil
}

// nextRegular is a device's first regular check-in after now: its slot in
// the next period plus a fresh jitter.
func (r *runner) nextRegular(i int32, now time.Time) time.Time {
	base := r.anchor.Add(time.Duration(r.fleet[i].phase)*time.Second + r.draw(Range{Max: r.b.CheckInJitter - time.Second}))
	d := now.Sub(base)
	k := d / r.every
	if d < 0 && d%r.every != 0 {
		k-- // floor, not truncation
	}
	return base.Add((k + 1) * r.every)
}

// draw returns a uniform whole number of seconds in [rg.Min, rg.Max]
// (zero when the range is empty).
func (r *runner) draw(rg Range) time.Duration {
	lo, hi := int64(rg.Min/time.Second), int64(rg.Max/time.Second)
	if hi <= lo {
		return time.Duration(max(lo, 0)) * time.Second
	}
	return time.Duration(lo+r.rng.Int64N(hi-lo+1)) * time.Second
}

// chance draws true with probability p. A p of 0 draws nothing, so a
// scenario without failures consumes the same randomness whatever the
// other probabilities.
func (r *runner) chance(p float64) bool {
	return p > 0 && r.rng.Float64() < p
}

// tally counts the campaign's devices by status and reason, page by page.
func (r *runner) tally(id string) ([]TallyRow, error) {
	type key struct{ status, reason string }
	counts := map[key]int{}
	last := ""
	for {
		page, err := r.m.Devices(r.ctx, account, id, last, fota.MaxPageSize)
		r.totals.ManagerCalls++
		if err != nil {
			return nil, err
		}
		for _, d := range page.DeviceList {
			counts[key{d.Status, d.ResultReason}]++
		}
		if !page.HasMoreData {
			break
		}
		last = page.LastSeenDeviceID
	}
	rows := make([]TallyRow, 0, len(counts))
	for k, n := range counts {
		rows = append(rows, TallyRow{Status: k.status, Reason: k.reason, Count: n})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Status != rows[j].Status {
			return rows[i].Status < rows[j].Status
		}
		return rows[i].Reason < rows[j].Reason
	})
	return rows, nil
}
