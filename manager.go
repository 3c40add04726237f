package fota

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// Config is what a Manager is built from. The zero value of every field
// has a default, so Config{} gives a working in-memory Manager whose
// inventory knows no devices.
type Config struct {
	// Store persists campaigns, devices, deadlines, gates and logs.
	// Default: NewMemoryStore().
	Store Store
	// Inventory answers what the host knows of each device.
	// Default: an empty MemoryInventory.
	Inventory Inventory
	// Packages is the host's software catalog, if it has one: a request
	// naming a known package takes its make, model and versions from it,
	// and instructions and push commands carry its download URL, size and
	// hash. Optional.
	Packages PackageCatalog
	// Clock is read once per operation. Default: the system clock.
	Clock Clock
	// Observer receives every status change after it commits. Optional.
	Observer Observer
	// Logger receives one debug record per operation (its name, duration
	// and outcome) and a warning when follow-up work fails. Default:
	// discard.
	Logger *slog.Logger
	// Schedule, Pilot, Logging and Push are the policies of the pure
	// packages and of push delivery. A zero policy means its default
	// (ThingSpace's values where ThingSpace has them).
	Schedule schedule.Policy
	Pilot    pilot.Policy
	Logging  verboselog.Policy
	Push     PushPolicy
	// LicenseRequired makes a licence one of the eligibility checks, as for
	// ThingSpace accounts with only an MRC subscription.
	LicenseRequired bool
	// RunPoll bounds how long Run sleeps, so that deadlines another
	// replica created on a shared store are seen within it. Default one
	// minute; a Manager alone on its store may set it longer.
	RunPoll time.Duration
	// NewID names a new campaign from a number the store never returned
	// before. Default: a random UUID (version 4). Simulations pass a
	// deterministic function.
	NewID func(seq uint64) string
}

// PushPolicy holds the push family's delivery timings. ThingSpace
// publishes none of them; DefaultPushPolicy gives fota's choices.
type PushPolicy struct {
	// LeaseTTL is how long a handed-out command stays with the caller
	// before it is handed out again, to this replica or another: a replica
	// that crashed loses no device, and none is pushed twice within a
	// lease. Default 5 minutes (a CoAP exchange with retransmissions takes
	// under 4 minutes).
	LeaseTTL time.Duration
	// ObserveTimeout is how long the Manager waits for an LwM2M
	// notification before it hands out a Read of /5/0: Observe is best
	// effort, notifications get lost. Default 30 minutes. Keep it above
	// the time a notification can spend in flight (RFC 7252 §4.8.2's
	// EXCHANGE_LIFETIME, 247 seconds), so that a notification the device
	// sent before a reset cannot arrive after the Read that follows the
	// reset (package device/lwm2m, "Next").
	ObserveTimeout time.Duration
}

// DefaultPushPolicy returns the default push timings.
func DefaultPushPolicy() PushPolicy {
	return PushPolicy{LeaseTTL: 5 * time.Minute, ObserveTimeout: 30 * time.Minute}
}

// Validate checks that both durations are positive.
func (p PushPolicy) Validate() error {
	if p.LeaseTTL <= 0 {
		return &RequestError{Field: "Push.LeaseTTL", Value: p.LeaseTTL.String(), Reason: "must be positive"}
	}
	if p.ObserveTimeout <= 0 {
		return &RequestError{Field: "Push.ObserveTimeout", Value: p.ObserveTimeout.String(), Reason: "must be positive"}
	}
	return nil
}

// Manager runs campaigns over a Store: the one place where the pure
// packages meet storage, the inventory and the clock. It is safe for
// concurrent use.
type Manager struct {
	store           Store
	inventory       Inventory
	packages        PackageCatalog
	clock           Clock
	observer        Observer
	log             *slog.Logger
	debug           bool // the logger wants debug records
	schedule        schedule.Policy
	pilot           pilot.Policy
	logging         verboselog.Policy
	push            PushPolicy
	newID           func(uint64) string
	licenseRequired bool
	runPoll         time.Duration

	// compiled caches each campaign's compiled schedule by revision, so a
	// check-in does not re-parse dates or reload time zones.
	compiled     sync.Map                         // campaign id -> *compiledSchedule
	lastCompiled atomic.Pointer[compiledSchedule] // the one asked last: a rollout asks for one campaign's again and again

	// wake tells Run that an operation created a deadline earlier than the
	// one it sleeps until (sleepUntil, Unix nanoseconds; 0 while awake);
	// due tells the outbox's reader that a push command was planned.
	wake       chan struct{}
	sleepUntil atomic.Int64
	dueCh      chan struct{}
	dueSent    atomic.Bool // dueCh was signalled since the last Outbox call began

	lastRetries atomic.Pointer[retryPlan] // the retry plan asked last
	lags        lagReader                 // the store, when it reads a campaign's lag without a transaction
	mem         *MemoryStore              // the store, when it is a MemoryStore (deviceTx)

	checkInTx     func(DeviceTx, *op) error // m.checkIn, bound once
	reportTx      func(DeviceTx, *op) error // m.report, bound once
	confirmTx     func(DeviceTx, *op) error // m.confirm, bound once
	observationTx func(DeviceTx, *op) error // m.observation, bound once
}

type compiledSchedule struct {
	id       string
	revision uint64
	http     *schedule.HTTP
}

// New builds a Manager, filling defaults and validating the policies.
func New(cfg Config) (*Manager, error) {
	m := &Manager{
		store:           cfg.Store,
		inventory:       cfg.Inventory,
		packages:        cfg.Packages,
		clock:           cfg.Clock,
		observer:        cfg.Observer,
		log:             cfg.Logger,
		schedule:        cfg.Schedule,
		pilot:           cfg.Pilot,
		logging:         cfg.Logging,
		push:            cfg.Push,
		newID:           cfg.NewID,
		licenseRequired: cfg.LicenseRequired,
		runPoll:         cfg.RunPoll,
		wake:            make(chan struct{}, 1),
		dueCh:           make(chan struct{}, 1),
	}
	if m.store == nil {
		m.store = NewMemoryStore()
	}
	if m.inventory == nil {
		m.inventory = NewMemoryInventory()
	}
	if m.clock == nil {
		m.clock = systemClock{}
	}
	if m.log == nil {
		m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m.debug = m.log.Enabled(context.Background(), slog.LevelDebug)
	if m.schedule == (schedule.Policy{}) {
		m.schedule = schedule.DefaultPolicy()
	}
	if m.pilot == (pilot.Policy{}) {
		m.pilot = pilot.DefaultPolicy()
	}
	if m.logging == (verboselog.Policy{}) {
		m.logging = verboselog.DefaultPolicy()
	}
	if m.push == (PushPolicy{}) {
		m.push = DefaultPushPolicy()
	}
	if m.newID == nil {
		m.newID = randomUUID
	}
	if m.runPoll <= 0 {
		m.runPoll = time.Minute
	}
	m.checkInTx, m.reportTx = m.checkIn, m.report
	m.confirmTx, m.observationTx = m.confirm, m.observation
	m.lags, _ = m.store.(lagReader)
	m.mem, _ = m.store.(*MemoryStore)
	for _, v := range []interface{ Validate() error }{m.schedule, m.pilot, m.logging, m.push} {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// randomUUID returns a version 4 UUID, as ThingSpace campaign ids are.
func randomUUID(uint64) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// op gathers what one operation decided, for delivery after it commits.
type op struct {
	now     time.Time
	observe bool // someone listens: gather changes
	changes []Change
	// settle lists campaigns whose stored status an operation left behind
	// the clock or its devices (a due start, the first download, the last
	// success): after the commit, each is brought up to date in a
	// transaction of its own, never inside a device's.
	settle []string
	// earliest is the earliest deadline the operation wrote, to wake Run;
	// pushDue says it planned a push command, to wake the outbox's reader.
	earliest time.Time
	pushDue  bool

	fn    func(Tx, *op) error
	dfn   func(DeviceTx, *op) error
	call  func(Tx) error       // runs fn; bound once per pooled op, so passing it allocates nothing
	dcall func(DeviceTx) error // runs dfn, likewise

	checkIn CheckInRequest // CheckIn's request and answer
	answer  Instruction
	known   bool // the inventory knows the device checking in

	report      reportArgs // Report's request and answer
	reportState device.State

	push pushArgs // Confirm's and Observation's request and answer

	// cmds is where the commands handed back in PushResult.Next are cut
	// from (keep).
	cmds []Command

	// dtx is the device transaction of a device call on a MemoryStore
	// (Manager.deviceTx), kept with the operation rather than taken from
	// a pool of its own.
	dtx devTx
}

// reset clears what a run of the transaction function gathered: a store
// may run it more than once.
func (o *op) reset() {
	clearFew(o.changes)
	o.changes, o.settle, o.earliest, o.pushDue = o.changes[:0], o.settle[:0], time.Time{}, false
}

// wakeAt notes a deadline the operation wrote.
func (o *op) wakeAt(t time.Time) {
	if !t.IsZero() && (o.earliest.IsZero() || t.Before(o.earliest)) {
		o.earliest = t
	}
}

// keep returns a copy of c that outlives the operation (PushResult.Next):
// cut from a block of commands the op carries, so that a push call does
// not allocate one of its own. A block is never reused: it is let go
// whole once no caller holds a command of it.
func (o *op) keep(c Command) *Command {
	if len(o.cmds) == cap(o.cmds) {
		o.cmds = make([]Command, 0, commandBlock)
	}
	o.cmds = append(o.cmds, c)
	return &o.cmds[len(o.cmds)-1]
}

// commandBlock is how many commands keep cuts from one allocation.
const commandBlock = 32

// settleLater asks for campaign id to be brought up to date after commit.
func (o *op) settleLater(id string) {
	for _, s := range o.settle {
		if s == id {
			return
		}
	}
	o.settle = append(o.settle, id)
}

// opPool recycles ops: a check-in should not allocate one.
var opPool = sync.Pool{New: func() any {
	o := new(op)
	o.call = func(tx Tx) error {
		o.reset()
		return o.fn(tx, o)
	}
	o.dcall = func(tx DeviceTx) error {
		o.reset()
		return o.dfn(tx, o)
	}
	return o
}}

func getOp() *op { return opPool.Get().(*op) }

func (o *op) release() {
	o.fn, o.dfn = nil, nil
	o.clearArgs()
	o.reset()
	if cap(o.changes) > 1024 { // a campaign's worth of changes: let it go
		o.changes = nil
	}
	opPool.Put(o)
}

// clearArgs clears the arguments and answers the operation had, only
// those (each call names its device): clearing all of them costs a
// check-in more than its own work.
func (o *op) clearArgs() {
	if o.checkIn.DeviceID != "" {
		o.checkIn, o.answer, o.known = CheckInRequest{}, Instruction{}, false
	}
	if o.report.deviceID != "" {
		o.report, o.reportState = reportArgs{}, 0
	}
	if o.push.cmd.DeviceID != "" || o.push.deviceID != "" {
		o.push = pushArgs{}
	}
}

// now is the operation's instant: stores keep instants to the
// microsecond, and so does every decision, so that what an operation
// returns equals what a query reads back.
func (m *Manager) now() time.Time {
	t := m.clock.Now().UTC()
	if t.Nanosecond()%1000 != 0 { // (a simulated clock's instants mostly are whole microseconds)
		t = t.Truncate(time.Microsecond)
	}
	return t
}

// update runs fn in one Update transaction and, once it committed,
// delivers the changes it gathered and settles what it left behind.
func (m *Manager) update(ctx context.Context, name string, fn func(tx Tx, o *op) error) error {
	o := getOp()
	defer o.release()
	return m.updateOp(ctx, name, o, fn)
}

// updateOp is update with an op the caller took from the pool.
func (m *Manager) updateOp(ctx context.Context, name string, o *op, fn func(tx Tx, o *op) error) error {
	o.now, o.fn, o.observe = m.now(), fn, m.observer != nil
	var began time.Time
	if m.debug {
		began = time.Now()
	}
	err := m.store.Update(ctx, o.call)
	return m.done(ctx, name, o, began, err)
}

// updateDevice runs fn in one device transaction (Store.UpdateDevice).
func (m *Manager) updateDevice(ctx context.Context, name, deviceID string, o *op, fn func(DeviceTx, *op) error) error {
	o.now, o.dfn, o.observe = m.now(), fn, m.observer != nil
	var began time.Time
	if m.debug {
		began = time.Now()
	}
	err := m.deviceTx(ctx, deviceID, o)
	if err != nil {
		if id, ok := settleFirstOf(err); ok {
			if err = m.settleCampaign(ctx, id); err == nil {
				o.now = m.now()
				err = m.deviceTx(ctx, deviceID, o)
			}
		}
	}
	return m.done(ctx, name, o, began, err)
}

// deviceTx runs o's device transaction: Store.UpdateDevice, or on a
// MemoryStore the same in the transaction the op carries.
func (m *Manager) deviceTx(ctx context.Context, deviceID string, o *op) error {
	if m.mem == nil {
		return m.store.UpdateDevice(ctx, deviceID, o.dcall)
	}
	defer o.dtx.reset()
	return m.mem.updateDevice(ctx, deviceID, o.dcall, &o.dtx)
}

// settleFirstOf returns the campaign a *settleFirst names. (Apart from
// updateDevice, so that the hot path allocates nothing for errors.As.)
func settleFirstOf(err error) (string, bool) {
	var sf *settleFirst
	if errors.As(err, &sf) {
		return sf.campaign, true
	}
	return "", false
}

// done finishes an operation: it logs it, and once it committed delivers
// its changes, wakes Run for an earlier deadline and settles the
// campaigns it left behind.
func (m *Manager) done(ctx context.Context, name string, o *op, began time.Time, err error) error {
	if m.debug {
		m.log.Debug("fota: operation", "op", name, "duration", time.Since(began), "err", err)
	}
	if err != nil {
		return asRequestError(err)
	}
	if m.observer != nil {
		for _, c := range o.changes {
			m.observer.Observe(c)
		}
	}
	m.nudge(o.earliest)
	if o.pushDue && !m.dueSent.Load() && m.dueSent.CompareAndSwap(false, true) {
		// One signal until the transport calls Outbox, which reads what
		// every operation since planned: a busy rollout plans a command
		// in nearly every device call, and a channel send takes a lock.
		select {
		case m.dueCh <- struct{}{}:
		default:
		}
	}
	for _, id := range o.settle {
		if err := m.settleIfDue(ctx, id); err != nil {
			// The operation itself committed; Tick and every later
			// operation on the campaign settle it again.
			m.log.Warn("fota: settling a campaign after an operation failed", "op", name, "campaign", id, "err", err)
		}
	}
	return nil
}

// view runs fn in one View transaction.
func (m *Manager) view(ctx context.Context, fn func(tx Tx, now time.Time) error) error {
	now := m.now()
	return m.store.View(ctx, func(tx Tx) error { return fn(tx, now) })
}

// httpSchedule returns the campaign's compiled schedule, compiling it once
// per revision.
func (m *Manager) httpSchedule(c *Campaign) (*schedule.HTTP, error) {
	if cs := m.lastCompiled.Load(); cs != nil && cs.id == c.ID && cs.revision == c.Revision {
		return cs.http, nil
	}
	if v, ok := m.compiled.Load(c.ID); ok {
		if cs := v.(*compiledSchedule); cs.revision == c.Revision {
			m.lastCompiled.Store(cs)
			return cs.http, nil
		}
	}
	// The stored timing was validated when the campaign was created (and
	// again at every change, which never moves the start before the
	// creation day), so compiling it as of CreatedAt reproduces it exactly.
	h, err := schedule.NewHTTP(c.Timing, c.CreatedAt, m.schedule)
	if err != nil {
		return nil, err
	}
	cs := &compiledSchedule{id: c.ID, revision: c.Revision, http: h}
	m.compiled.Store(c.ID, cs)
	m.lastCompiled.Store(cs)
	return h, nil
}
