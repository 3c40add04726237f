package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// StepKind says what kind of event a Step handled.
type StepKind uint8

// The kinds of event.
const (
	StepCheckIn  StepKind = iota + 1 // a device checked in
	StepReport                       // a device reported an outcome
	StepTick                         // a Manager deadline fell due
	StepOperator                     // the operator scheduled a campaign or acted
)

func (k StepKind) String() string {
	switch k {
	case StepCheckIn:
		return "checkIn"
	case StepReport:
		return "report"
	case StepTick:
		return "tick"
	case StepOperator:
		return "operator"
	}
	return "StepKind(" + strconv.Itoa(int(k)) + ")"
}

// Step is one event the simulator handled, for Scenario.OnStep.
type Step struct {
	At       time.Time
	Kind     StepKind
	Campaign string // the device's campaign (check-ins, reports)
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
	// Operator is what the operator did: "schedule pilot", "cancel
	// rollout", ...
	Operator string
}

// ProgressEvery is how many events pass between two Scenario.OnProgress
// calls.
const ProgressEvery = 1 << 14

// Progress is how far a run has got, for Scenario.OnProgress.
type Progress struct {
	At     time.Time // the simulated time
	Events int64     // events handled so far
}

// account is the one account of the simulated fleet.
const account = "sim"

// simDevice is what the simulator keeps per device: 32 bytes.
type simDevice struct {
	id    string
	phase int32 // seconds from the anchor to its first regular slot
	group uint16
	camp  int8  // the campaign it joined (index in runner.camps), -1 none
	gen   uint8 // bumped when it joins a campaign: older events are stale
	never bool  // never checks in
}

type eventKind uint8

const (
	evCheckIn eventKind = iota + 1
	evReport
	evTick
	evOperator
)

// event is one queued event: a device's check-in or report, a tick, or
// an operator event (dev is then its index in runner.ops).
type event struct {
	dev     int32
	kind    eventKind
	outcome fota.Outcome
	gen     uint8
}

// campRT is a campaign while the run goes on.
type campRT struct {
	name  string
	spec  *Campaign
	rep   *CampaignReport
	open  bool // scheduled and not ended
	ended bool // reached a terminal status; its end not yet recorded
}

// operatorEvent is something the operator does: schedule a campaign
// (action < 0) or carry out Scenario.Actions[action].
type operatorEvent struct {
	camp   int
	action int
	at     At
}

type runner struct {
	ctx    context.Context
	s      Scenario
	rng    *rand.Rand
	clock  *Clock
	store  *fota.MemoryStore
	m      *fota.Manager
	fleet  []simDevice
	groups []Group
	q      Queue[event]
	anchor time.Time // midnight UTC of the start day: regular slots and samples count from it
	rep    *Report

	camps      [2]campRT // pilot, rollout
	byID       map[string]int
	order      []int // the campaigns in the order they were scheduled
	scheduling int   // the campaign being scheduled, -1 none
	open       int   // campaigns scheduled and not ended
	ops        []operatorEvent
	deferred   []int // ops waiting for the pilot's end
	pilotEnded bool
	pending    int // ops not yet carried out
	tickAt     time.Time
	tickQueued bool

	totals Totals
}

// Run simulates the scenario: it builds the fleet and a Manager on
// simulated time, schedules the pilot and the rollout when the scenario
// says, carries out the operator's actions, and runs until every
// campaign has ended and every action is done; then it reports what
// happened. The same scenario always gives the same Report. An error
// means the scenario is bad (ErrBadScenario), cannot run in this build
// (errors.ErrUnsupported: a push group), ctx was cancelled, or the
// Manager failed in a way a device cannot cause; a refused campaign or
// action is reported, not an error.
func Run(ctx context.Context, s Scenario) (*Report, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	forecast, err := s.Forecast() // also refuses a push group
	if err != nil {
		return nil, err
	}
	r := &runner{
		ctx:        ctx,
		s:          s,
		groups:     s.Fleet,
		rng:        rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15)),
		clock:      NewClock(s.Start.UTC()),
		store:      fota.NewMemoryStore(),
		anchor:     s.Start.UTC().Truncate(24 * time.Hour),
		byID:       map[string]int{},
		scheduling: -1,
	}
	r.rep = &Report{Seed: s.Seed, Devices: s.Devices(), Start: s.Start.UTC(), Statuses: statusNames(), Forecast: forecast}
	r.camps[0] = campRT{name: "pilot", spec: &s.Pilot}
	r.camps[1] = campRT{name: "rollout", spec: &s.Rollout}
	inv, err := r.buildFleet()
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
	r.planOperator()
	if err := r.loop(); err != nil {
		return nil, err
	}
	for _, i := range r.order {
		c := r.camps[i].rep
		if c.ID != "" {
			if c.Tally, err = r.tally(c.ID); err != nil {
				return nil, err
			}
			c.Reached = reached(c.Tally)
		}
		r.rep.Campaigns = append(r.rep.Campaigns, *c)
		if c.Refused != "" && (r.rep.Refused == "" || i == 1) {
			r.rep.Refused = c.Reason
		}
	}
	g, err := r.gate(pilotTarget(&s.Rollout))
	if err != nil {
		return nil, err
	}
	r.rep.PilotGate = g.State.String()
	r.rep.End = r.clock.Now()
	r.rep.Totals = r.totals
	return r.rep, nil
}

// The Manager calls, all of them.

func (r *runner) callSchedule(req fota.CampaignRequest) (fota.CampaignInfo, error) {
	r.totals.ManagerCalls++
	return r.m.Schedule(r.ctx, account, req)
}

func (r *runner) callCampaign(id string) (fota.CampaignInfo, error) {
	r.totals.ManagerCalls++
	return r.m.Campaign(r.ctx, account, id)
}

func (r *runner) callDevices(id, after string) (fota.DevicePage, error) {
	r.totals.ManagerCalls++
	return r.m.Devices(r.ctx, account, id, after, fota.MaxPageSize)
}

func (r *runner) callCheckIn(id string) (fota.Instruction, error) {
	r.totals.CheckIns++
	r.totals.ManagerCalls++
	return r.m.CheckIn(r.ctx, fota.CheckInRequest{DeviceID: id, ClientType: verboselog.ClientRovaClient})
}

func (r *runner) callReport(campaignID, deviceID string, o fota.Outcome) (device.State, error) {
	r.totals.Reports++
	r.totals.ManagerCalls++
	return r.m.Report(r.ctx, campaignID, deviceID, o)
}

func (r *runner) callTick() (time.Time, error) {
	r.totals.Ticks++
	r.totals.ManagerCalls++
	return r.m.Tick(r.ctx)
}

// callAction carries out an operator action on campaign id (if any)
// with the devices ids and, for changeDates, the new timing.
func (r *runner) callAction(do, id string, ids []string, timing schedule.HTTPRequest) (string, error) {
	r.totals.ManagerCalls++
	switch do {
	case DoCancel:
		_, err := r.m.Cancel(r.ctx, account, id)
		return "", err
	case DoAbort:
		_, err := r.m.Abort(r.ctx, account, id)
		return "", err
	case DoChangeDates:
		_, err := r.m.ChangeDates(r.ctx, account, id, timing)
		return "", err
	case DoAddDevices:
		_, err := r.m.AddDevices(r.ctx, account, id, ids)
		return "", err
	case DoEnableLogging:
		st, err := r.m.EnableLogging(r.ctx, account, ids)
		if err != nil || len(st) == 0 {
			return "", err
		}
		return "logging until " + stamp(st[0].ExpiryDate), nil
	}
	return "", fmt.Errorf("sim: unknown action %q", do)
}

// gate reads the pilot gate of a target.
func (r *runner) gate(t pilot.Target) (pilot.Gate, error) {
	r.totals.ManagerCalls++
	return r.m.Gate(r.ctx, t)
}

// pilotTarget is the pilot gate's key for a campaign's request: the
// account's software, by name and versions.
func pilotTarget(c *Campaign) pilot.Target {
	return pilot.Target{Account: account, SoftwareName: c.SoftwareName, SoftwareFrom: c.SoftwareFrom, SoftwareTo: c.SoftwareTo}
}

// buildFleet mints the devices' IMEIs, draws their phases and whether
// they never check in, and fills the inventory.
func (r *runner) buildFleet() (*fota.MemoryInventory, error) {
	inv := fota.NewMemoryInventory()
	r.fleet = make([]simDevice, r.s.Devices())
	body := [14]byte{'3', '5'} // TAC prefix "35", then a 12-digit serial
	i := 0
	for gi := range r.groups {
		g := &r.groups[gi]
		every := time.Duration(g.CheckInEvery)
		hours := int(every / time.Hour)
		never := g.Online == OnlineNever
		for range g.Count {
			for j, n := 13, i; j >= 2; j, n = j-1, n/10 {
				body[j] = '0' + byte(n%10)
			}
			id, err := device.IMEIOf(string(body[:]))
			if err != nil {
				return nil, err
			}
			d := &r.fleet[i]
			d.id, d.group, d.camp = id, uint16(gi), -1
			if hours > 0 {
				d.phase = int32(r.rng.IntN(hours)) * 3600
			} else {
				d.phase = int32(r.rng.Int64N(int64(every / time.Second)))
			}
			d.never = never || r.chance(g.NeverOnline)
			if d.never {
				r.rep.Offline++
			}
			inv.Put(fota.DeviceInfo{DeviceID: id, Account: account, Protocol: g.protocol(), Make: g.Make, Model: g.Model,
				Software: g.Software, FOTACapable: true, ActiveConnected: true})
			i++
		}
	}
	return inv, nil
}

// planOperator queues the campaigns' scheduling and the actions: those
// relative to the start now, those relative to the pilot's end when it
// ends (at once when there is no pilot).
func (r *runner) planOperator() {
	if r.s.Pilot.Devices > 0 {
		r.ops = append(r.ops, operatorEvent{camp: 0, action: -1, at: r.s.Pilot.ScheduleAt})
	}
	if r.s.Rollout.Devices > 0 || r.s.groupDevices(r.s.Rollout.Groups) > r.s.Pilot.Devices {
		r.ops = append(r.ops, operatorEvent{camp: 1, action: -1, at: r.s.Rollout.ScheduleAt})
	}
	for i, a := range r.s.Actions {
		r.ops = append(r.ops, operatorEvent{action: i, at: a.At})
	}
	// Actions at one instant happen in the file's order, after the
	// campaigns scheduled then.
	sort.SliceStable(r.ops, func(i, j int) bool {
		a, b := r.ops[i].at, r.ops[j].at
		return !a.PilotEnd && b.PilotEnd || a.PilotEnd == b.PilotEnd && a.After < b.After
	})
	r.pending = len(r.ops)
	for i, op := range r.ops {
		if op.at.PilotEnd {
			r.deferred = append(r.deferred, i)
		} else {
			r.q.Push(r.s.Start.UTC().Add(op.at.After), event{dev: int32(i), kind: evOperator})
		}
	}
	if r.s.Pilot.Devices == 0 {
		r.pilotEnd(r.s.Start.UTC())
	}
}

// pilotEnd queues the operator events that wait for the pilot's end.
func (r *runner) pilotEnd(at time.Time) {
	if r.pilotEnded {
		return
	}
	r.pilotEnded = true
	for _, i := range r.deferred {
		r.q.Push(at.Add(r.ops[i].at.After), event{dev: int32(i), kind: evOperator})
	}
	r.deferred = nil
}

// Observe implements fota.Observer: it follows the campaigns' statuses
// and passes every change on to the scenario's observer.
func (r *runner) Observe(c fota.Change) {
	r.totals.Changes++
	if c.Kind == fota.CampaignChanged {
		i, ok := r.byID[c.CampaignID]
		if !ok && r.scheduling >= 0 {
			i, ok = r.scheduling, true
			r.byID[c.CampaignID] = i
		}
		if ok {
			cr := r.camps[i].rep
			cr.ID = c.CampaignID
			cr.Timeline = append(cr.Timeline, StatusChange{At: c.Time, Status: c.Campaign.String()})
			if c.Campaign.Terminal() && cr.EndedAt.IsZero() {
				cr.EndedAt = c.Time
				r.camps[i].ended = true
				if i == 0 {
					r.pilotEnd(c.Time)
				}
			}
		}
	}
	if r.s.Observer != nil {
		r.s.Observer.Observe(c)
	}
}

// loop handles events in time order until every campaign has ended and
// every operator event has happened.
func (r *runner) loop() error {
	every := time.Duration(r.s.SampleEvery)
	nextSample := r.anchor.Add(every)
	for nextSample.Before(r.s.Start) || nextSample.Equal(r.s.Start) {
		nextSample = nextSample.Add(every)
	}
	nextMidnight := r.anchor.Add(24 * time.Hour)
	for r.open > 0 || r.pending > 0 {
		at, ev, ok := r.q.Pop()
		if !ok {
			return fmt.Errorf("sim: nothing left to happen, yet %d campaigns are still running", r.open)
		}
		for r.open > 0 {
			t := nextSample
			if nextMidnight.Before(t) {
				t = nextMidnight
			}
			if at.Before(t) {
				break
			}
			if err := r.snapshot(t, t.Equal(nextSample), t.Equal(nextMidnight)); err != nil {
				return err
			}
			if t.Equal(nextSample) {
				nextSample = nextSample.Add(every)
			}
			if t.Equal(nextMidnight) {
				nextMidnight = nextMidnight.Add(24 * time.Hour)
			}
		}
		if r.open == 0 {
			// Nothing runs: move the sampling on with the clock.
			for !at.Before(nextSample) {
				nextSample = nextSample.Add(every)
			}
			for !at.Before(nextMidnight) {
				nextMidnight = nextMidnight.Add(24 * time.Hour)
			}
		}
		if (ev.kind == evCheckIn || ev.kind == evReport) && r.stale(ev) {
			r.totals.Dropped++
			continue
		}
		r.clock.Set(at)
		r.totals.Events++
		if r.totals.Events%ProgressEvery == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
			if r.s.OnProgress != nil {
				r.s.OnProgress(Progress{At: at, Events: r.totals.Events})
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
		case evOperator:
			r.pending--
			err = r.operator(at, int(ev.dev))
		}
		if err != nil {
			return err
		}
		if err := r.recordEnds(); err != nil {
			return err
		}
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	// Device events still queued: a next check-in, a download or install
	// under way, when its campaign ended.
	for {
		_, ev, ok := r.q.Pop()
		if !ok {
			return nil
		}
		if ev.kind == evCheckIn || ev.kind == evReport {
			r.totals.Dropped++
		}
	}
}

// stale reports a device event whose campaign has ended or that belongs
// to a campaign the device has since left.
func (r *runner) stale(ev event) bool {
	d := &r.fleet[ev.dev]
	return d.camp < 0 || ev.gen != d.gen || !r.camps[d.camp].open
}

// snapshot records the counts of every running campaign at t: a sample
// (every Scenario.SampleEvery) and/or a day (every midnight).
func (r *runner) snapshot(t time.Time, sample, day bool) error {
	r.clock.Set(t)
	for i := range r.camps {
		c := &r.camps[i]
		if !c.open {
			continue
		}
		info, err := r.callCampaign(c.rep.ID)
		if err != nil {
			return err
		}
		counts := statusCounts(info.Counts)
		if sample {
			c.rep.Samples = append(c.rep.Samples, Sample{At: t, Counts: countsOnly(counts)})
		}
		if day {
			c.rep.Days = append(c.rep.Days, Day{At: t, Status: info.Status.String(), Counts: counts})
		}
	}
	return r.recordEnds()
}

// recordEnds records the final status and counts of every campaign that
// has just ended, at the clock's time.
func (r *runner) recordEnds() error {
	for i := range r.camps {
		c := &r.camps[i]
		if !c.ended || !c.open {
			continue
		}
		c.open, c.ended = false, false
		r.open--
		now := r.clock.Now()
		info, err := r.callCampaign(c.rep.ID)
		if err != nil {
			return err
		}
		c.rep.Status = info.Status.String()
		c.rep.Counts = statusCounts(info.Counts)
		// The end, unless a snapshot at this instant already saw it (a
		// query settles a due end).
		if n := len(c.rep.Days); n == 0 || c.rep.Days[n-1].Status != c.rep.Status || !c.rep.Days[n-1].At.Equal(now) {
			c.rep.Days = append(c.rep.Days, Day{At: now, Status: c.rep.Status, Counts: c.rep.Counts})
		}
		if n := len(c.rep.Samples); n == 0 || !c.rep.Samples[n-1].At.Equal(now) {
			c.rep.Samples = append(c.rep.Samples, Sample{At: now, Counts: countsOnly(c.rep.Counts)})
		} else {
			c.rep.Samples[n-1].Counts = countsOnly(c.rep.Counts)
		}
	}
	return nil
}

// operator carries out operator event i at now.
func (r *runner) operator(now time.Time, i int) error {
	op := r.ops[i]
	var err error
	var what string
	if op.action < 0 {
		what = "schedule " + r.camps[op.camp].name
		err = r.schedule(now, op.camp)
	} else {
		a := &r.s.Actions[op.action]
		what = strings.Join(strings.Fields(a.Do+" "+a.Campaign+" "+a.Group), " ")
		err = r.act(now, a)
	}
	if err != nil {
		return err
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: now, Kind: StepOperator, Operator: what})
	}
	// Scheduling and every action may add or move the Manager's
	// deadlines: ask for the next one.
	return r.tick(now)
}

// schedule sends campaign ci's request, its devices taken in fleet order.
func (r *runner) schedule(now time.Time, ci int) error {
	c := &r.camps[ci]
	spec := c.spec
	var ids []int32
	want := spec.Devices
	for i := range r.fleet {
		if want > 0 && len(ids) == want {
			break
		}
		d := &r.fleet[i]
		if d.camp < 0 && inGroups(spec.Groups, r.groups[d.group].Name) {
			ids = append(ids, int32(i))
		}
	}
	req := r.request(spec, now, ids)
	c.rep = &CampaignReport{Name: c.name, Devices: len(ids), ScheduledAt: now, Request: req.Timing}
	r.order = append(r.order, ci)
	if len(ids) == 0 {
		c.rep.Refused, c.rep.Reason = "no devices left in its groups", "no devices left in its groups"
		return nil
	}
	r.scheduling = ci
	info, err := r.callSchedule(req)
	r.scheduling = -1
	if err != nil {
		if !refusal(err) {
			return fmt.Errorf("sim: scheduling the %s: %w", c.name, err)
		}
		c.rep.Refused, c.rep.Err = err.Error(), err
		c.rep.Reason = r.refusalReason(ci, err)
		if ci == 0 {
			r.pilotEnd(now)
		}
		return nil
	}
	c.rep.ID, c.rep.StartsAt, c.rep.EndsAt = info.ID, info.StartsAt, info.EndsAt
	r.byID[info.ID] = ci
	c.open = true
	r.open++
	if !c.ended { // not ended while scheduling (no device accepted)
		r.join(now, ids, ci)
	}
	// The first sample: every device just requested.
	c.rep.Samples = append(c.rep.Samples, Sample{At: now, Counts: countsOnly(statusCounts(info.Counts))})
	return nil
}

// request is the ThingSpace request of a campaign scheduled at now.
func (r *runner) request(spec *Campaign, now time.Time, devs []int32) fota.CampaignRequest {
	ids := make([]string, len(devs))
	for i, d := range devs {
		ids[i] = r.fleet[d].id
	}
	return fota.CampaignRequest{
		CampaignName: spec.CampaignName, SoftwareName: spec.SoftwareName, SoftwareFrom: spec.SoftwareFrom,
		SoftwareTo: spec.SoftwareTo, DistributionType: spec.DistributionType, Make: spec.Make, Model: spec.Model,
		Timing: spec.Timing.Request(now, r.s.Start.UTC()), DeviceList: ids,
	}
}

// refusal reports an error the request caused (the Manager refused it),
// as opposed to a failure of the Manager.
func refusal(err error) bool {
	var fe *schedule.FieldError
	return errors.Is(err, fota.ErrPilotRequired) || errors.Is(err, fota.ErrBadRequest) ||
		errors.Is(err, fota.ErrInvalidTransition) || errors.Is(err, fota.ErrNotFound) ||
		errors.Is(err, fota.ErrWrongFamily) || errors.As(err, &fe)
}

// join makes devices members of campaign ci from now: each starts with
// its next regular check-in.
func (r *runner) join(now time.Time, devs []int32, ci int) {
	for _, i := range devs {
		d := &r.fleet[i]
		d.camp, d.gen = int8(ci), d.gen+1
		if d.never {
			continue
		}
		r.q.Push(r.firstCheckIn(i, now), event{dev: i, kind: evCheckIn, gen: d.gen})
	}
}

// firstCheckIn is a device's first check-in from now: its next regular
// slot once its group is online.
func (r *runner) firstCheckIn(i int32, now time.Time) time.Time {
	g := &r.groups[r.fleet[i].group]
	if on := r.s.Start.UTC().Add(time.Duration(g.OfflineFor)); on.After(now) {
		now = on.Add(-time.Nanosecond) // a slot at the very instant it comes online counts
	}
	return r.nextRegular(i, now)
}

// act carries out an operator action; a refusal is reported, not returned.
func (r *runner) act(now time.Time, a *Action) error {
	ar := ActionReport{At: now, Do: a.Do, Campaign: a.Campaign, Group: a.Group}
	defer func() { r.rep.Actions = append(r.rep.Actions, ar) }()
	var c *campRT
	id, ci := "", 0
	if a.Campaign != "" {
		if a.Campaign == "rollout" {
			ci = 1
		}
		c = &r.camps[ci]
		if c.rep == nil || c.rep.ID == "" {
			ar.Refused = "the " + a.Campaign + " was not scheduled"
			return nil
		}
		id = c.rep.ID
	}
	var devs []int32
	var ids []string
	if a.Group != "" {
		for i := range r.fleet {
			d := &r.fleet[i]
			if a.Count > 0 && len(devs) == a.Count {
				break
			}
			if d.camp < 0 && r.groups[d.group].Name == a.Group {
				devs = append(devs, int32(i))
				ids = append(ids, d.id)
			}
		}
		ar.Devices = len(ids)
		if len(ids) == 0 {
			ar.Refused = "no device of group " + a.Group + " is free"
			return nil
		}
	}
	var timing schedule.HTTPRequest
	if a.Dates != nil {
		timing = a.Dates.Request(c.rep.ScheduledAt, r.s.Start.UTC())
		ar.Request = &timing
	}
	result, err := r.callAction(a.Do, id, ids, timing)
	if err != nil {
		if !refusal(err) {
			return fmt.Errorf("sim: %s at %v: %w", a.Do, now, err)
		}
		ar.Refused = err.Error()
		return nil
	}
	ar.Result = result
	switch a.Do {
	case DoAddDevices:
		c.rep.Devices += len(devs)
		r.join(now, devs, ci)
	case DoChangeDates:
		c.rep.Request = timing
		if info, err := r.callCampaign(id); err == nil {
			c.rep.StartsAt, c.rep.EndsAt = info.StartsAt, info.EndsAt
		} else {
			return err
		}
	}
	return nil
}

// tick applies the Manager's due deadlines and queues a tick for the next.
func (r *runner) tick(now time.Time) error {
	next, err := r.callTick()
	if err != nil {
		return err
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: now, Kind: StepTick, Next: next})
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
	in, err := r.callCheckIn(d.id)
	if err != nil {
		return fmt.Errorf("sim: check-in of %s at %v: %w", d.id, now, err)
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: now, Kind: StepCheckIn, Campaign: r.camps[d.camp].rep.ID, Device: d.id, Instruction: in})
	}
	g := &r.groups[d.group]
	switch in.Action {
	case fota.ActionDownload:
		outcome := fota.OutcomeDownloaded
		if r.chance(g.UnknownError) {
			outcome = fota.OutcomeUnknownError
		} else if r.chance(g.DownloadFail) {
			outcome = fota.OutcomeDownloadFailed
		}
		r.q.Push(now.Add(r.draw(g.Download)), event{dev: i, kind: evReport, outcome: outcome, gen: d.gen})
	case fota.ActionInstall:
		outcome := fota.OutcomeInstalled
		if r.chance(g.UnknownError) {
			outcome = fota.OutcomeUnknownError
		} else if r.chance(g.InstallFail) {
			outcome = fota.OutcomeInstallFailed
		}
		r.q.Push(now.Add(r.draw(g.Install)), event{dev: i, kind: evReport, outcome: outcome, gen: d.gen})
	default:
		if in.CampaignID == "" {
			return nil // finished, or in no campaign: nothing more to simulate
		}
		next := r.nextRegular(i, now)
		if !in.RetryAt.IsZero() && g.FollowRetry {
			if !in.RetryAt.After(now) {
				return fmt.Errorf("sim: check-in of %s at %v: told to come back at %v, not later", d.id, now, in.RetryAt)
			}
			if retry := in.RetryAt.Add(r.draw(Range{Max: g.RetryJitter - Duration(time.Second)})); retry.Before(next) {
				next = retry
			}
		}
		r.q.Push(next, event{dev: i, kind: evCheckIn, gen: d.gen})
	}
	return nil
}

// report is a device reporting the outcome of its download or install.
func (r *runner) report(now time.Time, i int32, outcome fota.Outcome) error {
	d := &r.fleet[i]
	id := r.camps[d.camp].rep.ID
	st, err := r.callReport(id, d.id, outcome)
	late := errors.Is(err, fota.ErrInvalidTransition)
	if err != nil && !late {
		return fmt.Errorf("sim: report %s of %s at %v: %w", outcome, d.id, now, err)
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: now, Kind: StepReport, Campaign: id, Device: d.id, Outcome: outcome, State: st, Err: err})
	}
	if late {
		r.totals.LateReports++
		return nil
	}
	if !st.Terminal() {
		// Downloaded: the device checks in at once to ask about the
		// install (it may be told to wait for the install window).
		r.q.Push(now, event{dev: i, kind: evCheckIn, gen: d.gen})
	}
	return nil
}

// nextRegular is a device's first regular check-in after now: its slot in
// the next period plus a fresh jitter.
func (r *runner) nextRegular(i int32, now time.Time) time.Time {
	d := &r.fleet[i]
	g := &r.groups[d.group]
	jitter := r.draw(Range{Max: g.CheckInJitter - Duration(time.Second)})
	return slotAfter(r.anchor.Add(time.Duration(d.phase)*time.Second+jitter), time.Duration(g.CheckInEvery), now)
}

// slotAfter is the first base + k*every (k any integer) after now.
func slotAfter(base time.Time, every time.Duration, now time.Time) time.Time {
	d := now.Sub(base)
	k := d / every
	if d < 0 && d%every != 0 {
		k-- // floor, not truncation
	}
	return base.Add((k + 1) * every)
}

// draw returns a uniform whole number of seconds in [rg.Min, rg.Max]
// (zero when the range is empty).
func (r *runner) draw(rg Range) time.Duration {
	lo, hi := int64(time.Duration(rg.Min)/time.Second), int64(time.Duration(rg.Max)/time.Second)
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
		page, err := r.callDevices(id, last)
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

// refusalReason says why campaign ci was refused: for a rollout the pilot
// gate stopped, what the pilot did.
func (r *runner) refusalReason(ci int, err error) string {
	name := r.camps[ci].name
	if !errors.Is(err, fota.ErrPilotRequired) {
		return name + ": " + err.Error()
	}
	p := r.camps[0].rep
	if ci == 0 || p == nil {
		return gateReason(nil, r.camps[ci].rep.Devices, pilot.DefaultPolicy())
	}
	if p.ID == "" {
		return "pilot: refused (" + p.Reason + ")"
	}
	info, qerr := r.callCampaign(p.ID)
	if qerr != nil {
		return name + ": " + err.Error()
	}
	reason := gateReason(&info, r.camps[ci].rep.Devices, pilot.DefaultPolicy())
	if pilotTarget(&r.s.Pilot) != pilotTarget(&r.s.Rollout) {
		reason += fmt.Sprintf("; the pilot's target (%s) is not the rollout's (%s)", targetString(pilotTarget(&r.s.Pilot)), targetString(pilotTarget(&r.s.Rollout)))
	}
	return reason
}
