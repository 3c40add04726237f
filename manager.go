package fota

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"
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
	// Clock is read once per operation. Default: the system clock.
	Clock Clock
	// Observer receives every status change after it commits. Optional.
	Observer Observer
	// Logger receives one debug record per operation. Default: discard.
	Logger *slog.Logger
	// Schedule, Pilot and Logging are the policies of the pure packages.
	// A zero policy means that package's DefaultPolicy (ThingSpace's values).
	Schedule schedule.Policy
	Pilot    pilot.Policy
	Logging  verboselog.Policy
	// LicenseRequired makes a licence one of the eligibility checks, as for
	// ThingSpace accounts with only an MRC subscription.
	LicenseRequired bool
	// NewID names a new campaign from a number the store never returned
	// before. Default: a random UUID (version 4). Simulations pass a
	// deterministic function.
	NewID func(seq uint64) string
}

// Manager runs campaigns over a Store: the one place where the pure
// packages meet storage, the inventory and the clock. It is safe for
// concurrent use; every operation is one Store transaction.
type Manager struct {
	store           Store
	inventory       Inventory
	clock           Clock
	observer        Observer
	log             *slog.Logger
	schedule        schedule.Policy
	pilot           pilot.Policy
	logging         verboselog.Policy
	newID           func(uint64) string
	licenseRequired bool

	// compiled caches each campaign's compiled schedule by revision, so a
	// check-in does not re-parse dates or reload time zones.
	compiled sync.Map // campaign id -> *compiledSchedule

	checkInTx func(Tx, *op) error // m.checkIn, bound once
}

type compiledSchedule struct {
	revision uint64
	http     *schedule.HTTP
}

// New builds a Manager, filling defaults and validating the policies.
func New(cfg Config) (*Manager, error) {
	m := &Manager{
		store:           cfg.Store,
		inventory:       cfg.Inventory,
		clock:           cfg.Clock,
		observer:        cfg.Observer,
		log:             cfg.Logger,
		schedule:        cfg.Schedule,
		pilot:           cfg.Pilot,
		logging:         cfg.Logging,
		newID:           cfg.NewID,
		licenseRequired: cfg.LicenseRequired,
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
	if m.schedule == (schedule.Policy{}) {
		m.schedule = schedule.DefaultPolicy()
	}
	if m.pilot == (pilot.Policy{}) {
		m.pilot = pilot.DefaultPolicy()
	}
	if m.logging == (verboselog.Policy{}) {
		m.logging = verboselog.DefaultPolicy()
	}
	if m.newID == nil {
		m.newID = randomUUID
	}
	m.checkInTx = m.checkIn
	if err := m.schedule.Validate(); err != nil {
		return nil, err
	}
	if err := m.pilot.Validate(); err != nil {
		return nil, err
	}
	if err := m.logging.Validate(); err != nil {
		return nil, err
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
	fn      func(Tx, *op) error
	call    func(Tx) error // runs fn; bound once per pooled op, so passing it allocates nothing

	checkIn CheckInRequest // CheckIn's request and answer
	answer  Instruction
	known   bool // the inventory knows the device checking in
}

func (o *op) campaign(c *Campaign) {
	if !o.observe {
		return
	}
	o.changes = append(o.changes, Change{
		Kind: CampaignChanged, Time: o.now, Account: c.Account, CampaignID: c.ID,
		Family: c.Protocol.Family(), Campaign: c.Status,
	})
}

func (o *op) device(c *Campaign, deviceID string, s device.State, r device.Reason) {
	if !o.observe {
		return
	}
	if r == 0 {
		r = s.Reason()
	}
	o.changes = append(o.changes, Change{
		Kind: DeviceChanged, Time: o.now, Account: c.Account, CampaignID: c.ID, DeviceID: deviceID,
		Family: c.Protocol.Family(), State: s, Reason: r,
	})
}

// update runs fn in one Update transaction and, once it committed,
// delivers the changes it gathered.
func (m *Manager) update(ctx context.Context, name string, fn func(tx Tx, o *op) error) error {
	o := opPool.Get().(*op)
	defer o.release()
	return m.updateOp(ctx, name, o, fn)
}

// updateOp is update with an op the caller took from the pool; a
// non-empty deviceID marks a check-in, which goes through the store's
// DeviceUpdater when it has one.
func (m *Manager) updateOp(ctx context.Context, name string, o *op, fn func(tx Tx, o *op) error, deviceID ...string) error {
	// Stores keep instants to the microsecond: so does every decision, so
	// that what an operation returns equals what a query reads back.
	o.now, o.fn, o.observe = m.clock.Now().UTC().Truncate(time.Microsecond), fn, m.observer != nil
	var err error
	if du, ok := m.store.(DeviceUpdater); ok && len(deviceID) == 1 {
		err = du.UpdateDevice(ctx, deviceID[0], o.call)
	} else {
		err = m.store.Update(ctx, o.call)
	}
	if err != nil {
		m.log.Debug("fota: operation failed", "op", name, "err", err)
		return err
	}
	if m.observer != nil {
		for _, c := range o.changes {
			m.observer.Observe(c)
		}
	}
	return nil
}

// opPool recycles ops: a check-in should not allocate one.
var opPool = sync.Pool{New: func() any {
	o := new(op)
	o.call = func(tx Tx) error {
		o.changes = o.changes[:0] // a store may retry fn
		return o.fn(tx, o)
	}
	return o
}}

func (o *op) release() {
	o.fn, o.checkIn, o.answer, o.known = nil, CheckInRequest{}, Instruction{}, false
	clear(o.changes)
	o.changes = o.changes[:0]
	if cap(o.changes) > 1024 { // a campaign's worth of changes: let it go
		o.changes = nil
	}
	opPool.Put(o)
}

// view runs fn in one View transaction.
func (m *Manager) view(ctx context.Context, fn func(tx Tx, now time.Time) error) error {
	now := m.clock.Now().UTC().Truncate(time.Microsecond)
	return m.store.View(ctx, func(tx Tx) error { return fn(tx, now) })
}

// httpSchedule returns the campaign's compiled schedule, compiling it once
// per revision.
func (m *Manager) httpSchedule(c *Campaign) (*schedule.HTTP, error) {
	if v, ok := m.compiled.Load(c.ID); ok {
		if cs := v.(*compiledSchedule); cs.revision == c.Revision {
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
	m.compiled.Store(c.ID, &compiledSchedule{revision: c.Revision, http: h})
	return h, nil
}
