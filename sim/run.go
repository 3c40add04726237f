package sim

import (
	"cmp"
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
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/device/omadm"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// StepKind says what kind of event a Step handled.
type StepKind uint8

// The kinds of event.
const (
	StepCheckIn      StepKind = iota + 1 // a device checked in
	StepReport                           // a device reported an outcome
	StepTick                             // a Manager deadline fell due
	StepOperator                         // the operator scheduled a campaign or acted
	StepOutbox                           // the push transport took the due commands (Manager.Outbox)
	StepCommand                          // a push command reached its device (or not) and was confirmed
	StepNotification                     // an LwM2M observation or a FUMO Generic Alert, received or lost
	StepConnect                          // a push device registered or opened a session (Manager.Connected)
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
	case StepOutbox:
		return "outbox"
	case StepCommand:
		return "command"
	case StepNotification:
		return "notification"
	case StepConnect:
		return "connect"
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
	// Next is the deadline a Tick returned, or the time the next push
	// command falls due that an Outbox returned (zero: none).
	Next time.Time
	// Operator is what the operator did: "schedule pilot", "cancel
	// rollout", ...
	Operator string

	// Push. Commands is how many commands an Outbox handed out. Command
	// is the command a device was sent and Receipt what came of it.
	// Observation is what an LwM2M device told (the value of an observe
	// or read, or a notification), Alert the result code of a FUMO
	// Generic Alert; Lost says the notification or alert never reached
	// the Manager. State is where the device stands in its campaign
	// afterwards (as the Manager answered).
	Commands    int
	Command     fota.Command
	Receipt     fota.Receipt
	Observation lwm2m.Observation
	Alert       int
	Lost        bool
}

// ProgressEvery is how many events pass, about, between two
// Scenario.OnProgress calls (a batch of events counts at once).
const ProgressEvery = 1 << 14

// Progress is how far a run has got, for Scenario.OnProgress.
type Progress struct {
	At     time.Time // the simulated time
	Events int64     // events handled so far
}

// account is the one account of the simulated fleet.
const account = "sim"

// Integer time: the event loop counts Unix microseconds (see Micros), the
// Manager's own resolution; every duration the scenario draws is whole
// seconds.
const (
	second = int64(time.Second / time.Microsecond)
	day    = 24 * 3600 * second
)

// micros is an instant the Manager returned, in the loop's integer time,
// rounded up (never before it) should it carry nanoseconds.
func micros(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

type eventKind uint8

const (
	evCheckIn eventKind = iota + 1
	evReport
	evTick
	evOperator
	evOutbox  // the push transport calls Outbox
	evStep    // a push device's download or update ends (arg: 1 if it failed)
	evConnect // an offline push device comes online: it registers or opens a session
	evSession // an OMA-DM device's next session: it sends its Generic Alert again
)

// deviceEvent reports the kinds of event that belong to a device in its
// campaign (dropped once the campaign has ended).
func (k eventKind) deviceEvent() bool {
	return k == evCheckIn || k == evReport || k >= evStep
}

// event is one queued event: a device's check-in, report or push step, a
// tick, an outbox call, or an operator event (dev is then its index in
// runner.ops). 8 bytes.
type event struct {
	dev  int32
	kind eventKind
	arg  uint8 // evReport: the fota.Outcome; evStep: 1 if the step failed
	gen  uint8
}

// The campaigns of a run, as indexes of runner.camps.
const (
	campPilot = iota
	campRollout
	campUpgrade
	numCamps
)

// campRT is a campaign while the run goes on.
type campRT struct {
	name   string
	spec   *Campaign // the pilot and the rollout
	up     *Upgrade  // the upgrade
	fam    device.Family
	rep    *CampaignReport
	endsAt int64 // µs: its end, once scheduled
	open   bool  // scheduled and not ended
	ended  bool  // reached a terminal status; its end not yet recorded
}

// groupRT is a fleet group as the run uses it.
type groupRT struct {
	*Group
	proto    device.Protocol
	every    int64 // CheckInEvery, µs
	onlineAt int64 // µs: when its devices come online (Start + OfflineFor)
	// The protocol's failure results (the defaults filled in).
	downloadCode, installCode int
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
	fleet  fleet
	groups []groupRT
	q      Queue[event]
	start  int64 // Scenario.Start, µs
	anchor int64 // midnight UTC of the start day: regular slots and samples count from it
	rep    *Report

	camps      [numCamps]campRT
	byID       map[string]int
	order      []int // the campaigns in the order they were scheduled
	scheduling int   // the campaign being scheduled, -1 none
	open       int   // campaigns scheduled and not ended
	ops        []operatorEvent
	deferred   []int // ops waiting for the pilot's end
	pilotEnded bool
	pending    int // ops not yet carried out
	tickAt     int64
	tickQueued bool
	// The push transport (push.go): its timer (0: none), the instant of
	// a queued wake-up (-1: none), and whether it is taking commands.
	timer    int64
	wakeAt   int64
	inOutbox bool
	cmdDevs  []int32           // the devices of the Outbox page being sent (readAheadCommands)
	valueBuf lwm2m.Observation // the observation of the receipt being confirmed (value)

	totals Totals

	// Reading ahead: events to pop before the next readAhead, its event
	// buffer, and the reader.
	ahead   int
	aheadEv []event
	rd      reader

	// Batches (batch.go): the workers (the first is the loop's own), and
	// buffers.
	workers     []*worker
	batch       []event
	part        []uint8 // each device's lock shard in the store, with more than one worker
	shares      shares  // the batch shared out
	campChanges []fota.Change
}

// Run simulates the scenario: it builds the fleet and a Manager on
// simulated time, schedules the pilot, the rollout and the upgrade when
// the scenario says, carries out the operator's actions, and runs until
// every campaign has ended and every action is done; then it reports
// what happened. The same scenario always gives the same Report. An
// error means the scenario is bad (ErrBadScenario), ctx was cancelled,
// or the Manager failed in a way a device cannot cause; a refused
// campaign or action is reported, not an error.
func Run(ctx context.Context, s Scenario) (*Report, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	forecast, err := s.Forecast()
	if err != nil {
		return nil, err
	}
	r := &runner{
		ctx:        ctx,
		s:          s,
		rng:        rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15)),
		clock:      NewClock(s.Start.UTC()),
		store:      fota.NewMemoryStore(),
		start:      Micros(s.Start),
		anchor:     Micros(s.Start.UTC().Truncate(24 * time.Hour)),
		byID:       map[string]int{},
		scheduling: -1,
		wakeAt:     -1,
	}
	r.rep = &Report{Seed: s.Seed, Devices: s.Devices(), Start: s.Start.UTC(), Statuses: statusNames(device.FamilyHTTP), Forecast: forecast}
	r.camps[campPilot] = campRT{name: "pilot", spec: &s.Pilot, fam: device.FamilyHTTP}
	r.camps[campRollout] = campRT{name: "rollout", spec: &s.Rollout, fam: device.FamilyHTTP}
	r.camps[campUpgrade] = campRT{name: "upgrade", up: &s.Upgrade, fam: device.FamilyPush}
	if err := r.buildFleet(); err != nil {
		return nil, err
	}
	logging := verboselog.DefaultPolicy()
	logging.HistoryMax = s.HistoryMax
	cfg := fota.Config{
		Store: r.store, Inventory: &inventory{fleet: r.fleet, groups: r.groups}, Clock: r.clock, Observer: r, Logging: logging,
		NewID: func(seq uint64) string { return "sim-" + strconv.FormatUint(seq, 10) },
	}
	if s.config != nil {
		s.config(&cfg)
	}
	r.m, err = fota.New(cfg)
	if err != nil {
		return nil, err
	}
	defer r.stopWorkers()
	if err := r.newWorkers(max(s.Workers, 1), cfg); err != nil {
		return nil, err
	}
	r.planOperator()
	if err := r.loop(); err != nil {
		return nil, err
	}
	for _, i := range r.order {
		c := r.camps[i].rep
		if c.ID != "" {
			if c.Tally, err = r.tally(c.ID, r.camps[i].fam); err != nil {
				return nil, err
			}
			c.Reached = reached(r.camps[i].fam, c.Tally)
		}
		r.rep.Campaigns = append(r.rep.Campaigns, *c)
		if c.Refused != "" && (r.rep.Refused == "" || i == campRollout) {
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

// The Manager calls, all of them (push: push.go).

func (r *runner) callSchedule(req fota.CampaignRequest) (fota.CampaignInfo, error) {
	r.totals.ManagerCalls++
	return r.m.Schedule(r.ctx, account, req)
}

func (r *runner) callScheduleUpgrade(req fota.UpgradeRequest) (fota.CampaignInfo, error) {
	r.totals.ManagerCalls++
	return r.m.ScheduleUpgrade(r.ctx, account, req)
}

func (r *runner) callCampaign(id string) (fota.CampaignInfo, error) {
	r.totals.ManagerCalls++
	return r.m.Campaign(r.ctx, account, id)
}

func (r *runner) callDevices(id, after string) (fota.DevicePage, error) {
	r.totals.ManagerCalls++
	return r.m.Devices(r.ctx, account, id, after, fota.MaxPageSize)
}

func (r *runner) callTick() (time.Time, error) {
	r.totals.Ticks++
	r.totals.ManagerCalls++
	return r.m.Tick(r.ctx)
}

// callAction carries out an operator action on campaign id (if any)
// with the devices ids and, for changeDates, the new timing; liftGate
// lifts the gate of target.
func (r *runner) callAction(do, id string, ids []string, timing schedule.HTTPRequest, target pilot.Target) (string, error) {
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
	case DoLiftGate:
		g, err := r.m.LiftGate(r.ctx, target)
		if err != nil {
			return "", err
		}
		return "the pilot gate of " + targetString(target) + " is " + g.State.String(), nil
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

// buildFleet mints the devices and their ids and draws their phases and
// whether they never check in.
func (r *runner) buildFleet() error {
	var err error
	if r.fleet, err = mintFleet(r.s.Devices()); err != nil {
		return err
	}
	r.groups = make([]groupRT, len(r.s.Fleet))
	i := 0
	for gi := range r.s.Fleet {
		g := &r.s.Fleet[gi]
		rt := &r.groups[gi]
		*rt = groupRT{Group: g, proto: g.protocol(), every: int64(time.Duration(g.CheckInEvery) / time.Microsecond),
			onlineAt:     r.start + int64(time.Duration(g.OfflineFor)/time.Microsecond),
			downloadCode: g.DownloadFailCode, installCode: g.InstallFailCode}
		switch rt.proto {
		case device.LWM2M:
			rt.downloadCode = cmp.Or(rt.downloadCode, int(lwm2m.ConnectionLost))
			rt.installCode = cmp.Or(rt.installCode, int(lwm2m.UpdateFailed))
		case device.OMADM:
			rt.downloadCode = cmp.Or(rt.downloadCode, int(omadm.DownloadNetworkIssues))
			rt.installCode = cmp.Or(rt.installCode, int(omadm.FirmwareUpdateFailed))
		}
		every := time.Duration(g.CheckInEvery)
		hours := int(every / time.Hour)
		never := g.Online == OnlineNever
		for range g.Count {
			d := &r.fleet[i]
			d.group = uint16(gi)
			if hours > 0 {
				d.phase = int32(r.rng.IntN(hours)) * 3600
			} else {
				d.phase = int32(r.rng.Int64N(int64(every / time.Second)))
			}
			d.never = never || r.chance(g.NeverOnline)
			if d.never {
				r.rep.Offline++
			}
			i++
		}
	}
	return nil
}

// planOperator queues the campaigns' scheduling and the actions: those
// relative to the start now, those relative to the pilot's end when it
// ends (at once when there is no pilot).
func (r *runner) planOperator() {
	if r.s.Pilot.Devices > 0 {
		r.ops = append(r.ops, operatorEvent{camp: campPilot, action: -1, at: r.s.Pilot.ScheduleAt})
	}
	if r.s.Rollout.Devices > 0 || r.s.groupDevices(r.s.Rollout.Groups, device.FamilyHTTP) > r.s.Pilot.Devices {
		r.ops = append(r.ops, operatorEvent{camp: campRollout, action: -1, at: r.s.Rollout.ScheduleAt})
	}
	if r.s.groupDevices(r.s.Upgrade.Groups, device.FamilyPush) > 0 {
		r.ops = append(r.ops, operatorEvent{camp: campUpgrade, action: -1, at: r.s.Upgrade.ScheduleAt})
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
			r.q.Push(r.start+int64(op.at.After/time.Microsecond), event{dev: int32(i), kind: evOperator})
		}
	}
	if r.s.Pilot.Devices == 0 {
		r.pilotEnd(r.start)
	}
}

// pilotEnd queues the operator events that wait for the pilot's end.
func (r *runner) pilotEnd(at int64) {
	if r.pilotEnded {
		return
	}
	r.pilotEnded = true
	for _, i := range r.deferred {
		r.q.Push(at+int64(r.ops[i].at.After/time.Microsecond), event{dev: int32(i), kind: evOperator})
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
				if i == campPilot {
					r.pilotEnd(Micros(c.Time))
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
	every := int64(time.Duration(r.s.SampleEvery) / time.Microsecond)
	nextSample := r.anchor + every
	for nextSample <= r.start {
		nextSample += every
	}
	nextMidnight := r.anchor + day
	for r.open > 0 || r.pending > 0 {
		if r.ahead <= 0 {
			r.readAhead()
		}
		r.ahead--
		at, ev, ok := r.q.Pop()
		if !ok {
			return fmt.Errorf("sim: nothing left to happen, yet %d campaigns are still running", r.open)
		}
		for r.open > 0 {
			t := min(nextSample, nextMidnight)
			if at < t {
				break
			}
			if err := r.snapshot(t, t == nextSample, t == nextMidnight); err != nil {
				return err
			}
			if t == nextSample {
				nextSample += every
			}
			if t == nextMidnight {
				nextMidnight += day
			}
		}
		if r.open == 0 {
			// Nothing runs: move the sampling on with the clock.
			for at >= nextSample {
				nextSample += every
			}
			for at >= nextMidnight {
				nextMidnight += day
			}
		}
		if ev.kind.deviceEvent() && r.stale(ev) {
			r.totals.Dropped++
			continue
		}
		if ev.kind == evOutbox && r.cancelled(at, ev) {
			continue
		}
		r.clock.setMicro(at)
		events := r.totals.Events
		var err error
		switch ev.kind {
		case evCheckIn, evReport:
			// The batch's workers count its events, and its dropped ones.
			// readAhead covered ev and the r.ahead events after it.
			covered := max(r.ahead, 0) + 1
			batch := r.gather(at, ev)
			r.ahead -= len(batch) - 1
			err = r.runBatch(at, batch, covered)
		default:
			r.totals.Events++
		}
		if err == nil && events/ProgressEvery != r.totals.Events/ProgressEvery {
			if err = r.ctx.Err(); err == nil && r.s.OnProgress != nil {
				r.s.OnProgress(Progress{At: Time(at), Events: r.totals.Events})
			}
		}
		if err != nil {
			return err
		}
		switch ev.kind {
		case evTick:
			r.tickQueued = false
			err = r.tick(at)
		case evOperator:
			r.pending--
			err = r.operator(at, int(ev.dev))
		case evOutbox:
			err = r.outboxEvent(at, ev)
		case evStep:
			err = r.step(at, ev.dev, ev.arg == 1)
		case evConnect:
			err = r.connect(at, ev.dev)
		case evSession:
			err = r.session(at, ev.dev)
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
		if ev.kind.deviceEvent() {
			r.totals.Dropped++
		}
	}
}

// gather takes off the queue the batch that begins with ev, at instant
// at: the events after it at the same instant that may run beside it.
// (The workers drop the stale ones: they read the devices' records.)
func (r *runner) gather(at int64, ev event) []event {
	batch := append(r.batch[:0], ev)
	for {
		nev, ok := r.q.PopAt(at, isBatchable)
		if !ok {
			break
		}
		batch = append(batch, nev)
	}
	r.batch = batch
	return batch
}

// aheadEvents is how many events readAhead reads ahead for.
const aheadEvents = 32

// readAhead reads what the next events will touch, their devices' records
// here and in the store, before they run (fota.MemoryStore.Prefetch): on
// a large fleet an event mostly waits for memory, and reading a few
// events' records together overlaps their misses. It changes nothing.
func (r *runner) readAhead() {
	evs := r.q.Upcoming(r.aheadEv[:0], aheadEvents)
	r.rd.events(r, evs)
	r.aheadEv = evs
	r.ahead = max(len(evs), 1)
}

// reader reads ahead for the loop or a worker: its buffer of ids, and
// what it read of the fleet's records (kept, so that the loads stay).
type reader struct {
	ids     []string
	touched uint8
}

// events reads what evs' device events will touch: first their records
// here, all of them, so that the misses overlap, then their records in
// the store.
func (rd *reader) events(r *runner, evs []event) {
	var sum uint8
	for _, ev := range evs {
		if ev.kind.deviceEvent() {
			sum += r.fleet[ev.dev].gen
		}
	}
	ids := rd.ids[:0]
	for _, ev := range evs {
		if ev.kind.deviceEvent() {
			ids = append(ids, r.fleet.id(ev.dev))
		}
	}
	rd.prefetch(r, ids, sum)
}

// prefetch hands the store the devices read ahead for, keeps sum (what
// was read of their records here) and keeps ids' array for the next time.
func (rd *reader) prefetch(r *runner, ids []string, sum uint8) {
	r.store.Prefetch(ids)
	clear(ids)
	rd.ids = ids
	rd.touched += sum
}

// stale reports a device event whose campaign has ended or that belongs
// to a campaign the device has since left.
func (r *runner) stale(ev event) bool {
	d := &r.fleet[ev.dev]
	return d.camp < 0 || ev.gen != d.gen || !r.camps[d.camp].open
}

// snapshot records the counts of every running campaign at t: a sample
// (every Scenario.SampleEvery) and/or a day (every midnight).
func (r *runner) snapshot(t int64, sample, day bool) error {
	r.clock.setMicro(t)
	for i := range r.camps {
		c := &r.camps[i]
		if !c.open {
			continue
		}
		info, err := r.callCampaign(c.rep.ID)
		if err != nil {
			return err
		}
		counts := statusCounts(c.fam, info.Counts)
		if sample {
			c.rep.Samples = append(c.rep.Samples, Sample{At: Time(t), Counts: countsOnly(counts)})
		}
		if day {
			c.rep.Days = append(c.rep.Days, Day{At: Time(t), Status: info.Status.String(), Counts: counts})
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
		c.rep.Counts = statusCounts(c.fam, info.Counts)
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
func (r *runner) operator(now int64, i int) error {
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
		r.s.OnStep(Step{At: Time(now), Kind: StepOperator, Operator: what})
	}
	// Scheduling and every action may add or move the Manager's
	// deadlines and plan push commands: ask for the next deadline, and
	// wake the push transport.
	r.wake(now)
	return r.tick(now)
}

// schedule sends campaign ci's request, its devices taken in fleet order.
func (r *runner) schedule(now int64, ci int) error {
	c := &r.camps[ci]
	groups, want := r.s.Upgrade.Groups, r.s.Upgrade.Devices
	if c.spec != nil {
		groups, want = c.spec.Groups, c.spec.Devices
	}
	devs := make([]int32, 0, min(cmp.Or(want, len(r.fleet)), len(r.fleet)))
	for i := range r.fleet {
		if want > 0 && len(devs) == want {
			break
		}
		d := &r.fleet[i]
		g := &r.groups[d.group]
		if d.camp < 0 && g.proto.Family() == c.fam && inGroups(groups, g.Name) {
			devs = append(devs, int32(i))
		}
	}
	ids := make([]string, len(devs))
	for k, i := range devs {
		ids[k] = r.fleet.id(i)
	}
	scheduled, start := Time(now), r.s.Start.UTC()
	c.rep = &CampaignReport{Name: c.name, Devices: len(devs), ScheduledAt: scheduled}
	var req fota.CampaignRequest
	var up fota.UpgradeRequest
	if c.spec != nil {
		req = r.request(c.spec, scheduled, ids)
		c.rep.Request = req.Timing
	} else {
		up = c.up.Request(scheduled, start, ids)
		c.rep.Request = schedule.HTTPRequest{StartDate: up.StartDate, EndDate: up.EndDate}
		c.rep.Family, c.rep.Statuses = c.fam.String(), statusNames(c.fam)
	}
	r.order = append(r.order, ci)
	if len(devs) == 0 {
		c.rep.Refused, c.rep.Reason = "no devices left in its groups", "no devices left in its groups"
		return nil
	}
	r.scheduling = ci
	var info fota.CampaignInfo
	var err error
	if c.spec != nil {
		info, err = r.callSchedule(req)
	} else {
		info, err = r.callScheduleUpgrade(up)
	}
	r.scheduling = -1
	if err != nil {
		if !refusal(err) {
			return fmt.Errorf("sim: scheduling the %s: %w", c.name, err)
		}
		c.rep.Refused, c.rep.Err = err.Error(), err
		c.rep.Reason = r.refusalReason(ci, err)
		if ci == campPilot {
			r.pilotEnd(now)
		}
		return nil
	}
	c.rep.ID, c.rep.StartsAt, c.rep.EndsAt = info.ID, info.StartsAt, info.EndsAt
	c.endsAt = micros(info.EndsAt)
	r.byID[info.ID] = ci
	c.open = true
	r.open++
	if !c.ended { // not ended while scheduling (no device accepted)
		r.join(now, devs, ci)
	}
	// The first sample: every device just requested.
	c.rep.Samples = append(c.rep.Samples, Sample{At: scheduled, Counts: countsOnly(statusCounts(c.fam, info.Counts))})
	return nil
}

// request is the ThingSpace request of a campaign scheduled at now.
func (r *runner) request(spec *Campaign, now time.Time, ids []string) fota.CampaignRequest {
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

// join makes devices members of campaign ci from now. An HTTP device
// starts with its next regular check-in; a push device is the Manager's
// to push (an offline one registers, or opens a session, when it comes
// online).
func (r *runner) join(now int64, devs []int32, ci int) {
	push := r.camps[ci].fam == device.FamilyPush
	for _, i := range devs {
		d := &r.fleet[i]
		d.camp, d.gen = int8(ci), d.gen+1
		if d.never {
			continue
		}
		if push {
			r.joinPush(now, i)
			continue
		}
		dc := eventDice(r.s.Seed, i, now, joinDice, d.gen)
		r.q.Push(r.firstCheckIn(i, now, dc.draw(r.jitter(i))), event{dev: i, kind: evCheckIn, gen: d.gen})
	}
}

// firstCheckIn is a device's first check-in from now: its next regular
// slot, plus jitter, once its group is online.
func (r *runner) firstCheckIn(i int32, now, jitter int64) int64 {
	if on := r.groups[r.fleet[i].group].onlineAt; on > now {
		now = on - 1 // a slot at the very instant it comes online counts
	}
	return r.nextRegular(i, now, jitter)
}

// act carries out an operator action; a refusal is reported, not returned.
func (r *runner) act(now int64, a *Action) error {
	ar := ActionReport{At: Time(now), Do: a.Do, Campaign: a.Campaign, Group: a.Group}
	defer func() { r.rep.Actions = append(r.rep.Actions, ar) }()
	var c *campRT
	id, ci := "", campPilot
	if a.Campaign != "" {
		switch a.Campaign {
		case "rollout":
			ci = campRollout
		case "upgrade":
			ci = campUpgrade
		}
		c = &r.camps[ci]
		if a.Do != DoLiftGate && (c.rep == nil || c.rep.ID == "") {
			ar.Refused = "the " + a.Campaign + " was not scheduled"
			return nil
		}
		if c.rep != nil {
			id = c.rep.ID
		}
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
				ids = append(ids, r.fleet.id(int32(i)))
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
	var target pilot.Target
	if c != nil && c.spec != nil {
		target = pilotTarget(c.spec)
	}
	result, err := r.callAction(a.Do, id, ids, timing, target)
	if err != nil {
		if !refusal(err) {
			return fmt.Errorf("sim: %s at %v: %w", a.Do, Time(now), err)
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
		info, err := r.callCampaign(id)
		if err != nil {
			return err
		}
		c.rep.StartsAt, c.rep.EndsAt = info.StartsAt, info.EndsAt
		c.endsAt = micros(info.EndsAt)
	}
	return nil
}

// tick applies the Manager's due deadlines and queues a tick for the next.
func (r *runner) tick(now int64) error {
	next, err := r.callTick()
	if err != nil {
		return err
	}
	if r.s.OnStep != nil {
		r.s.OnStep(Step{At: Time(now), Kind: StepTick, Next: next})
	}
	r.wake(now) // a start, or a give-up, may plan push commands
	if next.IsZero() {
		return nil
	}
	at := micros(next)
	if at <= now {
		return fmt.Errorf("sim: Manager.Tick at %v returned the deadline %v, not after it", Time(now), next)
	}
	if !r.tickQueued || at < r.tickAt {
		// A later queued tick stays: it finds nothing due and asks again.
		r.q.Push(at, event{kind: evTick})
		r.tickAt, r.tickQueued = at, true
	}
	return nil
}

// nextRegular is a device's first regular check-in after now: its slot in
// the next period plus jitter, a fresh draw from jitter(i).
func (r *runner) nextRegular(i int32, now, jitter int64) int64 {
	d := &r.fleet[i]
	return slotAfter(r.anchor+int64(d.phase)*second+jitter, r.groups[d.group].every, now)
}

// jitter is the range of device i's check-in jitter.
func (r *runner) jitter(i int32) Range {
	return Range{Max: r.groups[r.fleet[i].group].CheckInJitter - Duration(time.Second)}
}

// slotAfter is the first base + k*every (k any integer) after now.
func slotAfter(base, every, now int64) int64 {
	d := now - base
	k := d / every
	if d < 0 && d%every != 0 {
		k-- // floor, not truncation
	}
	return base + (k+1)*every
}

// draw returns a uniform whole number of seconds in [rg.Min, rg.Max]
// (zero when the range is empty), in microseconds.
func draw(src source, rg Range) int64 {
	lo, n := span(rg)
	if n == 0 {
		return lo * second
	}
	return (lo + src.Int64N(n)) * second
}

// span is rg in whole seconds: its least, and how many values it holds
// (0 for an empty range, whose least is then max(rg.Min, 0)).
func span(rg Range) (lo, n int64) {
	lo, hi := int64(time.Duration(rg.Min)/time.Second), int64(time.Duration(rg.Max)/time.Second)
	if hi <= lo {
		return max(lo, 0), 0
	}
	return lo, hi - lo + 1
}

// chance draws true with probability p. A p of 0 draws nothing, so a
// scenario without failures consumes the same randomness whatever the
// other probabilities.
func chance(src source, p float64) bool {
	return p > 0 && src.Float64() < p
}

// draw and chance from the run's stream, for what the loop does in order.
func (r *runner) draw(rg Range) int64   { return draw(r.rng, rg) }
func (r *runner) chance(p float64) bool { return chance(r.rng, p) }

// tally counts the campaign's devices by status and reason.
// A device's reason follows from its state but for a rejected one, which
// carries the reason it was rejected for: without rejected devices the
// campaign's counts by state are the tally, and reading every device's
// page (a few hundred bytes a device, all garbage) is left to a campaign
// that has them.
func (r *runner) tally(id string, fam device.Family) ([]TallyRow, error) {
	info, err := r.callCampaign(id)
	if err != nil {
		return nil, err
	}
	if info.Counts.Of(device.StateRejected) > 0 {
		return r.tallyDevices(id)
	}
	rows := make([]TallyRow, 0, 8)
	for st, n := range info.Counts {
		if n > 0 {
			s := device.State(st)
			rows = addTally(rows, s.Status().Wire(fam), s.Reason().Text(fam), n)
		}
	}
	sortTally(rows)
	return rows, nil
}

// addTally counts n devices of status and reason into rows. A campaign's
// devices share a few (status, reason) pairs, spelled by the same catalog
// strings: a short list compared with == (equal pointers first) counts a
// million devices faster than a map hashing both strings of each.
func addTally(rows []TallyRow, status, reason string, n int) []TallyRow {
	for i := range rows {
		if rows[i].Status == status && rows[i].Reason == reason {
			rows[i].Count += n
			return rows
		}
	}
	return append(rows, TallyRow{Status: status, Reason: reason, Count: n})
}

// sortTally orders rows by status, then reason.
func sortTally(rows []TallyRow) {
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Status != rows[j].Status {
			return rows[i].Status < rows[j].Status
		}
		return rows[i].Reason < rows[j].Reason
	})
}

// tallyDevices counts a campaign's devices by status and reason, page by
// page.
func (r *runner) tallyDevices(id string) ([]TallyRow, error) {
	rows := make([]TallyRow, 0, 8)
	last := ""
	for {
		page, err := r.callDevices(id, last)
		if err != nil {
			return nil, err
		}
		for _, d := range page.DeviceList {
			rows = addTally(rows, d.Status, d.ResultReason, 1)
		}
		if !page.HasMoreData {
			break
		}
		last = page.LastSeenDeviceID
	}
	sortTally(rows)
	return rows, nil
}

// refusalReason says why campaign ci was refused: for a rollout the pilot
// gate stopped, what the pilot did.
func (r *runner) refusalReason(ci int, err error) string {
	name := r.camps[ci].name
	if !errors.Is(err, fota.ErrPilotRequired) {
		return name + ": " + err.Error()
	}
	p := r.camps[campPilot].rep
	if ci == campPilot || p == nil {
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
