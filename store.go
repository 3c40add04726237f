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

// Store persists everything the Manager decides. It has three kinds of
// transaction:
//
//   - Update runs campaign- and account-wide work: scheduling, device
//     changes, date changes, a campaign's start, its end, cancel and abort
//     (their status change, then the sweep of their devices in bounded
//     batches), Tick's deadlines and the push outbox.
//   - UpdateDevice runs one device's operation: a check-in, a report, a
//     push confirmation, observation, alert or connection, a log upload.
//     It reads and writes that device's records only (and may add
//     deadlines); it never writes a campaign record.
//   - View runs queries on a consistent snapshot.
//
// In every kind, an error returned by fn rolls back every write fn made, so
// a failed operation changes nothing.
//
// Isolation: Updates are serializable with respect to one another. A
// device transaction and an Update never both change the same member or
// device record: a store locks rows (or runs device transactions alone);
// inside UpdateDevice, Member reads the latest committed version of the
// device's member record, while a campaign record it reads may be any
// version committed before the transaction began (the Manager decides from
// the campaign's stored status and the clock, and the member record is the
// point where the two meet). Locks are taken in one order everywhere:
// campaign record, then member records in device-id order, then device
// records, then deadlines. On PostgreSQL: SERIALIZABLE (or READ COMMITTED
// with SELECT ... FOR UPDATE in that order) for Update, READ COMMITTED with
// the member row locked for UpdateDevice, REPEATABLE READ for View.
//
// Retries: a store may run fn more than once (after a serialization
// failure or deadlock); the Manager's functions decide from what they read
// and draw nothing from outside, so a rerun decides the same way. The
// memory store runs each fn exactly once.
//
// Scale: the Manager never writes one record on every device transition.
// Campaign counts are derived by the store from member states (Counts and
// AnyMember), so a store derives them on read or shards them. Device
// transactions touch one device, so a store may run those of different
// devices side by side.
type Store interface {
	// Update runs fn in a read-write transaction.
	Update(ctx context.Context, fn func(Tx) error) error
	// UpdateDevice runs fn in a read-write transaction over the records of
	// one device (see DeviceTx).
	UpdateDevice(ctx context.Context, deviceID string, fn func(DeviceTx) error) error
	// View runs fn in a read-only transaction; writes through its Tx fail
	// with ErrReadOnly.
	View(ctx context.Context, fn func(Tx) error) error
}

// DeviceTx is one device's transaction (Store.UpdateDevice): what the store
// holds about the device, the campaigns it reads, and writes to the
// device's own records. Writes apply together when fn returns nil, or not at
// all; reads see the transaction's own writes. Lookups of missing records
// return an error matching ErrNotFound, as Tx's do.
type DeviceTx interface {
	// DeviceID is the device the transaction is about.
	DeviceID() string
	// Known reports whether the store holds anything about the device: a
	// check-in, a device record, a logging session or a campaign's member.
	Known() (bool, error)
	// ActiveCampaign returns the id of the active campaign holding the
	// device, or "".
	ActiveCampaign() (string, error)
	// Campaign returns a campaign record (read-only here).
	Campaign(id string) (Campaign, error)
	// Member returns the device's record in the campaign, the latest
	// committed version.
	Member(campaignID string) (Member, error)
	// Device returns the Manager's record of the device (a zero record
	// with its id when there is none).
	Device() (DeviceRecord, error)
	// Session returns the device's logging session (a zero session with
	// its id when there is none).
	Session() (LogSession, error)
	// Bundles returns the device's stored log bundles, oldest first.
	Bundles() ([]verboselog.Bundle, error)

	// PutMember replaces the device's record in a campaign; m.DeviceID
	// must be the transaction's device and the member must exist.
	PutMember(m Member) error
	// SetActiveCampaign records the campaign holding the device; ""
	// releases it.
	SetActiveCampaign(campaignID string) error
	// PutDevice stores the device's record; d.DeviceID must be the
	// transaction's device.
	PutDevice(d DeviceRecord) error
	// PutSession stores the device's logging session.
	PutSession(s LogSession) error
	// AddCheckIn appends to the device's check-in history, as Tx.AddCheckIn.
	AddCheckIn(c verboselog.CheckIn, keep int) error
	// AddBundle stores a log bundle the device uploaded.
	AddBundle(b verboselog.Bundle) error
	// DeleteBundles removes the device's bundles uploaded before t.
	DeleteBundles(before time.Time) error
	// PutDeadline inserts or replaces a deadline.
	PutDeadline(d Deadline) error
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
	// AddMembers inserts new members into one campaign, none of which may
	// be in it already (a *RequestError names the first that is), and for
	// each with hold set makes the campaign the device's active one. It is
	// how a campaign is filled at scheduling: a store writes them in bulk,
	// and may undo the whole campaign rather than each member should the
	// transaction fail.
	AddMembers(campaignID string, ms []NewMember) error
	// DeleteMember removes a device from a campaign; a missing member is
	// an error matching ErrNotInCampaign.
	DeleteMember(campaignID, deviceID string) error
	// Members returns up to limit members of the campaign with device ids
	// greater than afterDeviceID, ordered by device id.
	Members(campaignID, afterDeviceID string, limit int) ([]Member, error)
	// Counts returns how many members of the campaign are in each state,
	// derived from the members as they are in this transaction.
	Counts(campaignID string) (Counts, error)
	// AnyMember reports whether some member of the campaign is in one of
	// the states; a store answers it without counting every member.
	AnyMember(campaignID string, states StateSet) (bool, error)
	// DeviceMembers returns the device's member records in every campaign
	// that ever held it, ordered by campaign id.
	DeviceMembers(deviceID string) ([]Member, error)
	// DueMembers returns up to limit push members whose Push.DueAt is set
	// and at or before now, earliest first (ties by campaign and device
	// id). A member another transaction holds is skipped, not waited for
	// (PostgreSQL: FOR UPDATE SKIP LOCKED), so two replicas leasing due
	// commands at once get disjoint sets; the returned members stay locked
	// until the transaction ends.
	DueMembers(now time.Time, limit int) ([]Member, error)
	// NextDue returns the earliest Push.DueAt of any member, if any.
	NextDue() (time.Time, bool, error)

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
	// DeviceRecords returns up to limit device records of the account with
	// ids greater than afterID, ordered by id.
	DeviceRecords(account, afterID string, limit int) ([]DeviceRecord, error)

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
	ID      string
	Seq     uint64 // the NextSeq number the campaign was created with: its /v1 upgrade index
	Account string
	Name    string
	Family  device.Family
	// Protocol is the campaign's protocol: HTTP, or for the push family the
	// one protocol all its devices must have, or zero when a /v1 campaign
	// takes LwM2M and OMA-DM devices alike (each member keeps its own).
	Protocol device.Protocol
	Status   campaign.Status
	// Target is the software the campaign installs (account, name, from,
	// to): the pilot gate's key.
	Target pilot.Target
	Make   string // prerequisite make ("" any)
	Model  string // prerequisite model ("" any)
	// Package is where devices fetch the software, from the host's catalog
	// when it knows the software (zero otherwise).
	Package  Package
	Timing   schedule.HTTPRequest // the normalised dates (and, HTTP, windows)
	StartsAt time.Time
	EndsAt   time.Time // exclusive
	OnDemand bool
	Pilot    bool // a pilot: admitted while its target's gate stood
	// Cursor is the last device id a pass over the campaign's devices in
	// batches reached: the push give-up pass while the campaign runs, the
	// sweep once it finished. Swept says the sweep is done; a campaign in
	// a final status whose sweep is not reports its devices as the sweep
	// will leave them.
	Cursor    string
	Swept     bool
	Revision  uint64 // incremented on every write; keys derived caches
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Member is one device's record in one campaign.
type Member struct {
	CampaignID string
	DeviceID   string
	State      device.State
	Reason     device.Reason // why it was rejected; other states carry their own
	UpdatedAt  time.Time
	Push       Push // push family only; zero for HTTP members
}

// Push is what the Manager keeps of a push-family device's delivery: its
// protocol, where its protocol machine stands as far as the server knows,
// the protocol's own result, and when the Manager acts on it next. It
// packs into a few dozen bytes.
type Push struct {
	Protocol device.Protocol // LWM2M or OMADM: the device's client type when it joined
	// Attempt counts the attempts the device did not answer (LwM2M: of the
	// daily retry plan).
	Attempt uint8
	// Observing: the host confirmed an observation of /5/0/3 and /5/0/5
	// since the device last registered (LwM2M).
	Observing bool
	// Spent: the LwM2M retry plan ran out without an answer; the device
	// fails at the plan's give-up time unless it connects first.
	Spent bool
	// Leased: a command is handed out and unconfirmed; DueAt is when its
	// lease expires.
	Leased bool
	// Machine is the device's protocol machine as the server knows it:
	// an lwm2m.Tracker's Pack, or the FUMO step (OMA-DM).
	Machine uint16
	// Result is the protocol's own result, beside ThingSpace's reason: the
	// LwM2M Update Result (/5/0/5) or the FUMO result code; 0 for none.
	Result uint16
	// DueAt is when the Manager acts on the device next: its next command
	// is handed out (or, while Leased, handed out again because the lease
	// expired). Zero: nothing is planned; the device's answer, its next
	// connection or the campaign's end moves it on.
	DueAt time.Time
	// Lease counts the commands handed out to the device; the last one's
	// number identifies it when the host confirms it.
	Lease uint64
}

// NewMember is a member to add at scheduling: its record, and whether the
// campaign holds the device (an accepted member).
type NewMember struct {
	Member
	Hold bool
}

// StateSet is a set of device states, one bit per state.
type StateSet uint32

// States returns the set of the given states.
func States(ss ...device.State) StateSet {
	var set StateSet
	for _, s := range ss {
		set |= 1 << s
	}
	return set
}

// Has reports whether s is in the set.
func (set StateSet) Has(s device.State) bool { return s < 32 && set&(1<<s) != 0 }

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

// Total is the number of members.
func (c Counts) Total() int {
	n := 0
	for _, k := range c {
		n += k
	}
	return n
}

// DeviceRecord is what the Manager records about a device across
// campaigns.
type DeviceRecord struct {
	DeviceID     string
	Account      string
	License      device.License
	LicensedAt   time.Time // when the licence was last assigned
	EverUpgraded bool      // LicenseRemoveFailed once true
	// LastCampaign is the campaign that held the device last, kept when
	// it finished there, so a late or repeated answer is recognised.
	LastCampaign string
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
	DeadlineCampaignSweep                         // Key: campaign id: move a finished campaign's devices
	DeadlinePushGiveUp                            // Key: campaign id: LwM2M devices never reached fail
)

var deadlineNames = [...]string{
	DeadlineCampaignStart: "campaignStart",
	DeadlineCampaignEnd:   "campaignEnd",
	DeadlineLoggingExpiry: "loggingExpiry",
	DeadlineLogPurge:      "logPurge",
	DeadlineCampaignSweep: "campaignSweep",
	DeadlinePushGiveUp:    "pushGiveUp",
}

// String names the deadline kind, e.g. "campaignEnd".
func (k DeadlineKind) String() string {
	if k > 0 && int(k) < len(deadlineNames) {
		return deadlineNames[k]
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
