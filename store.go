package fota

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// Store persists everything the Manager decides. Every Manager operation
// runs inside exactly one Update (or View, for queries): an error returned
// by fn rolls back every write fn made, so a failed operation changes
// nothing.
//
// Isolation: an implementation must make each Update serializable with
// respect to every other Update that touches the same campaign, device,
// pilot gate or logging account, and must give View a consistent snapshot.
// On PostgreSQL that is SERIALIZABLE (retrying serialization failures), or
// READ COMMITTED with row locks (SELECT ... FOR UPDATE) on the rows an
// operation reads before writing. Several server replicas may share one
// store; the Manager keeps no state between calls that a replica could get
// wrong (its schedule cache is keyed by the campaign's revision).
//
// Scale: the Manager never writes one row on every device transition.
// Campaign counts are derived by the store from member states (Counts), so
// an implementation is free to derive them on read or to shard them.
type Store interface {
	// Update runs fn in a read-write transaction.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction; writes through its Tx fail
	// with ErrReadOnly.
	View(ctx context.Context, fn func(Tx) error) error
}

// DeviceUpdater is an optional Store extension for the hot path. The
// Manager runs each check-in through UpdateDevice when its store has it:
// a transaction that usually writes only the device's own records, which
// a store may run beside other devices' check-ins. UpdateDevice has
// Update's guarantees, except that it may run fn more than once (fn must
// tolerate it, as the Manager's do).
type DeviceUpdater interface {
	UpdateDevice(ctx context.Context, deviceID string, fn func(Tx) error) error
}

// Tx is one transaction's view of the store. A Tx must not be used after
// the function it was passed to returns. Lookups of missing records return
// an error matching ErrNotFound.
//
// What every implementation keeps (storetest checks each): instants to the
// microsecond, the zero time as zero; ids ordered bytewise (COLLATE "C" on
// PostgreSQL); a limit is positive, and a negative one means no limit;
// "newest" and "oldest" are by the record's own time.
type Tx interface {
	// Campaign returns the campaign with this id.
	Campaign(id string) (Campaign, error)
	// PutCampaign inserts or replaces a campaign.
	PutCampaign(c Campaign) error
	// Campaigns returns up to limit campaigns of the account with ids
	// greater than afterID, ordered by id.
	Campaigns(account, afterID string, limit int) ([]Campaign, error)

	// Member returns one device's record in one campaign.
	Member(campaignID, deviceID string) (Member, error)
	// PutMember inserts or replaces a device's record in a campaign.
	PutMember(m Member) error
	// DeleteMember removes a device from a campaign; a missing member is
	// an error matching ErrNotInCampaign.
	DeleteMember(campaignID, deviceID string) error
	// Members returns up to limit members of the campaign with device ids
	// greater than afterDeviceID, ordered by device id.
	Members(campaignID, afterDeviceID string, limit int) ([]Member, error)
	// Counts returns how many members of the campaign are in each state,
	// derived from the members as they are in this transaction.
	Counts(campaignID string) (Counts, error)

	// ActiveCampaign returns the id of the active campaign holding the
	// device, or "" when it is in none.
	ActiveCampaign(deviceID string) (string, error)
	// SetActiveCampaign records that the device is held by campaignID;
	// "" releases it. The campaign need not exist in this transaction.
	SetActiveCampaign(deviceID, campaignID string) error

	// Device returns what the Manager itself records about a device
	// (licence, upgrade history flag); a device never seen returns a zero
	// record with its id and no error.
	Device(deviceID string) (DeviceRecord, error)
	// PutDevice inserts or replaces a device record.
	PutDevice(d DeviceRecord) error

	// AddCheckIn appends to the device's check-in history, keeping at most
	// keep entries (the newest). keep applies to that device's history as
	// it is after this call; a later call may pass another keep.
	AddCheckIn(c verboselog.CheckIn, keep int) error
	// CheckIns returns up to limit of the device's check-ins, newest first,
	// strictly older than before (zero: from the newest).
	CheckIns(deviceID string, before time.Time, limit int) ([]verboselog.CheckIn, error)

	// PutDeadline inserts or replaces the deadline (Kind, Key).
	PutDeadline(d Deadline) error
	// DeleteDeadline removes the deadline (kind, key) if present.
	DeleteDeadline(kind DeadlineKind, key string) error
	// Due returns up to limit deadlines at or before now, earliest first.
	Due(now time.Time, limit int) ([]Deadline, error)
	// NextDeadline returns the earliest deadline, if any.
	NextDeadline() (time.Time, bool, error)

	// Gate returns the pilot gate of a software target; a target never
	// seen returns a standing gate and no error.
	Gate(t pilot.Target) (pilot.Gate, error)
	// PutGate stores a gate.
	PutGate(g pilot.Gate) error

	// Session returns the device's logging session; a device never
	// enabled returns a zero session with its id and no error.
	Session(deviceID string) (LogSession, error)
	// PutSession stores a logging session.
	PutSession(s LogSession) error
	// Sessions returns every logging session of the account, ordered by
	// device id.
	Sessions(account string) ([]LogSession, error)
	// AddBundle stores a log bundle a device uploaded.
	AddBundle(b verboselog.Bundle) error
	// Bundles returns the device's stored bundles, oldest first.
	Bundles(deviceID string) ([]verboselog.Bundle, error)
	// DeleteBundles removes the device's bundles uploaded before t.
	DeleteBundles(deviceID string, before time.Time) error

	// NextSeq returns a number greater than any a committed transaction
	// received; a rolled-back transaction's number may be handed out again.
	NextSeq() (uint64, error)
}

// Campaign is the stored record of one campaign.
type Campaign struct {
	ID           string
	Account      string
	Name         string
	Protocol     device.Protocol
	Status       campaign.Status
	Target       pilot.Target // make, model, software from and to
	SoftwareName string
	Timing       schedule.HTTPRequest // HTTP family: the normalised timing request
	StartsAt     time.Time
	EndsAt       time.Time // exclusive
	OnDemand     bool
	Pilot        bool   // a pilot: admitted while its target's gate stood
	Revision     uint64 // incremented on every write; keys derived caches
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Member is one device's record in one campaign.
type Member struct {
	CampaignID string
	DeviceID   string
	State      device.State
	Reason     device.Reason // why it was rejected; other states carry their own
	UpdatedAt  time.Time
}

// Counts holds how many members of a campaign are in each device state.
type Counts [32]int

// Of returns the count of state s.
func (c Counts) Of(s device.State) int {
	if int(s) >= len(c) {
		return 0
	}
	return c[s]
}

// Accepted is the number of members that were not rejected.
func (c Counts) Accepted() int {
	n := 0
	for s, k := range c {
		if device.State(s) != device.StateRejected {
			n += k
		}
	}
	return n
}

// DeviceRecord is what the Manager records about a device across
// campaigns.
type DeviceRecord struct {
	DeviceID     string
	Account      string
	License      device.License
	EverUpgraded bool // LicenseRemoveFailed once true
}

// LogSession is a verbose-logging session with the account it counts
// against.
type LogSession struct {
	Account string
	verboselog.Session
}

// DeadlineKind says what falls due at a deadline.
type DeadlineKind uint8

// The deadlines the Manager keeps.
const (
	DeadlineCampaignStart DeadlineKind = iota + 1 // Key: campaign id
	DeadlineCampaignEnd                           // Key: campaign id
	DeadlineLoggingExpiry                         // Key: device id
	DeadlineLogPurge                              // Key: device id
)

// String names the deadline kind, e.g. "campaignEnd".
func (k DeadlineKind) String() string {
	switch k {
	case DeadlineCampaignStart:
		return "campaignStart"
	case DeadlineCampaignEnd:
		return "campaignEnd"
	case DeadlineLoggingExpiry:
		return "loggingExpiry"
	case DeadlineLogPurge:
		return "logPurge"
	}
	return fmt.Sprintf("DeadlineKind(%d)", uint8(k))
}

// Deadline is a moment at which Tick has work to do.
type Deadline struct {
	Kind DeadlineKind
	Key  string
	At   time.Time
}

// ErrReadOnly is returned by writes attempted in a View transaction.
var ErrReadOnly = errors.New("fota: write in a read-only transaction")
