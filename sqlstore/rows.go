package sqlstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/verboselog"
	"github.com/jackc/pgx/v5/pgtype"
)

// limitArg turns a negative limit ("no limit") into NULL, which LIMIT
// reads as none.
func limitArg(limit int) any {
	if limit < 0 {
		return nil
	}
	return int64(limit)
}

// optTime stores the zero time as NULL: an unset instant.
func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromOpt reads an optional instant back, NULL as the zero time.
func fromOpt(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// microUTC is t as the store keeps it: to the microsecond, in UTC, the
// zero time kept zero.
func microUTC(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// byteOf checks that a stored enumeration fits its uint8 type.
func byteOf(what string, v int64) (uint8, error) {
	if v < 0 || v > 255 {
		return 0, fmt.Errorf("sqlstore: stored %s %d out of range", what, v)
	}
	return uint8(v), nil
}

// maxText bounds the text the store takes in one field: an id is a key of
// a btree index, whose entries PostgreSQL caps near 2,700 bytes.
const maxKeyText = 1024

// checkText refuses text PostgreSQL cannot hold (NUL, invalid UTF-8) or
// an index cannot key, as a bad request naming the field: whatever a
// caller passes, a statement never fails on it.
func checkText(field, value string, max int) error {
	switch {
	case max > 0 && len(value) > max:
		return &fota.RequestError{Field: field, Value: value, Reason: fmt.Sprintf("longer than the store's %d bytes", max)}
	case !utf8.ValidString(value):
		return &fota.RequestError{Field: field, Value: strings.ToValidUTF8(value, "\uFFFD"), Reason: "not valid UTF-8"}
	case strings.IndexByte(value, 0) >= 0:
		return &fota.RequestError{Field: field, Value: strings.ReplaceAll(value, "\x00", `\0`), Reason: "holds a NUL byte, which PostgreSQL's text cannot"}
	}
	return nil
}

// minTime and maxTime bound the instants the store takes: PostgreSQL's
// timestamptz holds 4713 BC to 294276 AD; years 1 to 9999 are kept.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// checkTime refuses an instant outside years 1..9999 (the zero time is
// unset, and allowed).
func checkTime(field string, t time.Time) error {
	if t.IsZero() || (!t.Before(minTime) && !t.After(maxTime)) {
		return nil
	}
	return &fota.RequestError{Field: field, Value: t.String(), Reason: "outside the years 1..9999 the store keeps"}
}

// checkAll returns the first error.
func checkAll(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// campaignRow holds a campaign's columns (as campaignColumns lists them)
// as scanned, before they are checked.
type campaignRow struct {
	c                          fota.Campaign
	seq                        int64
	family, protocol, status   int64
	pkg, timing                []byte
	startsAt, endsAt           pgtype.Timestamptz
	revision                   int64
	createdAt, updatedAt       time.Time
	targetAccount, name, from  string
	to, makeCol, model, cursor string
}

// dest lists where Scan puts the columns, in campaignColumns' order.
func (r *campaignRow) dest() []any {
	c := &r.c
	return []any{&c.ID, &r.seq, &c.Account, &c.Name, &r.family, &r.protocol, &r.status, &r.targetAccount,
		&r.name, &r.from, &r.to, &r.makeCol, &r.model, &r.pkg, &r.timing, &r.startsAt, &r.endsAt,
		&c.OnDemand, &c.Pilot, &r.cursor, &c.Swept, &r.revision, &r.createdAt, &r.updatedAt}
}

// campaign checks and converts what was scanned.
func (r *campaignRow) campaign() (fota.Campaign, error) {
	c := r.c
	f, err := byteOf("family", r.family)
	if err != nil {
		return fota.Campaign{}, err
	}
	p, err := byteOf("protocol", r.protocol)
	if err != nil {
		return fota.Campaign{}, err
	}
	st, err := byteOf("status", r.status)
	if err != nil {
		return fota.Campaign{}, err
	}
	if c.Timing, err = decodeTiming(c.ID, r.timing); err != nil {
		return fota.Campaign{}, err
	}
	if err := json.Unmarshal(r.pkg, &c.Package); err != nil {
		return fota.Campaign{}, &TimingError{Campaign: c.ID, Value: string(r.pkg), Err: err}
	}
	c.Seq = uint64(r.seq)
	c.Family, c.Protocol, c.Status = device.Family(f), device.Protocol(p), campaign.Status(st)
	c.Target = pilot.Target{Account: r.targetAccount, SoftwareName: r.name, SoftwareFrom: r.from, SoftwareTo: r.to}
	c.Make, c.Model, c.Cursor = r.makeCol, r.model, r.cursor
	c.StartsAt, c.EndsAt = fromOpt(r.startsAt), fromOpt(r.endsAt)
	c.Revision = uint64(r.revision) // stored bit for bit: a revision past 2^63 reads back as written
	c.CreatedAt, c.UpdatedAt = r.createdAt.UTC(), r.updatedAt.UTC()
	return c, nil
}

// checkCampaign refuses a campaign record holding text or instants the
// database cannot keep.
func checkCampaign(c *fota.Campaign) error {
	p := &c.Package
	return checkAll(
		checkText("campaign.ID", c.ID, maxKeyText), checkText("campaign.Account", c.Account, maxKeyText),
		checkText("campaign.Name", c.Name, 0), checkText("campaign.Target.Account", c.Target.Account, 0),
		checkText("campaign.Target.SoftwareName", c.Target.SoftwareName, 0),
		checkText("campaign.Target.SoftwareFrom", c.Target.SoftwareFrom, 0),
		checkText("campaign.Target.SoftwareTo", c.Target.SoftwareTo, 0),
		checkText("campaign.Make", c.Make, 0), checkText("campaign.Model", c.Model, 0),
		checkText("campaign.Cursor", c.Cursor, maxKeyText), checkText("campaign.Timing.TimeZone", c.Timing.TimeZone, 0),
		checkText("campaign.Package.Name", p.Name, 0), checkText("campaign.Package.Make", p.Make, 0),
		checkText("campaign.Package.Model", p.Model, 0), checkText("campaign.Package.From", p.From, 0),
		checkText("campaign.Package.To", p.To, 0), checkText("campaign.Package.URL", p.URL, 0),
		checkText("campaign.Package.SHA256", p.SHA256, 0),
		checkTime("campaign.StartsAt", c.StartsAt), checkTime("campaign.EndsAt", c.EndsAt),
		checkTime("campaign.CreatedAt", c.CreatedAt), checkTime("campaign.UpdatedAt", c.UpdatedAt),
	)
}

// campaignArgs are a campaign's columns in campaignColumns' order.
func campaignArgs(c *fota.Campaign) []any {
	pkg, _ := json.Marshal(c.Package) // strings and an int: cannot fail
	return []any{c.ID, int64(c.Seq), c.Account, c.Name, int64(c.Family), int64(c.Protocol), int64(c.Status),
		c.Target.Account, c.Target.SoftwareName, c.Target.SoftwareFrom, c.Target.SoftwareTo, c.Make, c.Model,
		string(pkg), string(encodeTiming(c.Timing)), optTime(c.StartsAt), optTime(c.EndsAt), c.OnDemand, c.Pilot,
		c.Cursor, c.Swept, int64(c.Revision), c.CreatedAt, c.UpdatedAt}
}

// Push flags, packed in members.push_flags.
const (
	flagObserving = 1 << iota
	flagSpent
	flagLeased
)

// memberRow holds a member's columns (memberColumns) as scanned.
type memberRow struct {
	state, reason            int64
	updatedAt                time.Time
	protocol, attempt, flags int64
	machine, result          int64
	dueAt                    pgtype.Timestamptz
	lease                    int64
}

func (r *memberRow) dest() []any {
	return []any{&r.state, &r.reason, &r.updatedAt, &r.protocol, &r.attempt, &r.flags, &r.machine, &r.result, &r.dueAt, &r.lease}
}

func (r *memberRow) member(campaignID, deviceID string) (fota.Member, error) {
	st, err := byteOf("device state", r.state)
	if err != nil {
		return fota.Member{}, err
	}
	rs, err := byteOf("reason", r.reason)
	if err != nil {
		return fota.Member{}, err
	}
	p, err := byteOf("push protocol", r.protocol)
	if err != nil {
		return fota.Member{}, err
	}
	a, err := byteOf("push attempt", r.attempt)
	if err != nil {
		return fota.Member{}, err
	}
	if r.machine < 0 || r.machine > 0xffff || r.result < 0 || r.result > 0xffff {
		return fota.Member{}, fmt.Errorf("sqlstore: stored push machine %d or result %d out of range", r.machine, r.result)
	}
	return fota.Member{
		CampaignID: campaignID, DeviceID: deviceID, State: device.State(st), Reason: device.Reason(rs),
		UpdatedAt: r.updatedAt.UTC(),
		Push: fota.Push{
			Protocol: device.Protocol(p), Attempt: a,
			Observing: r.flags&flagObserving != 0, Spent: r.flags&flagSpent != 0, Leased: r.flags&flagLeased != 0,
			Machine: uint16(r.machine), Result: uint16(r.result), DueAt: fromOpt(r.dueAt), Lease: uint64(r.lease),
		},
	}, nil
}

// pushFlags packs a member's flags.
func pushFlags(p fota.Push) int16 {
	var f int16
	if p.Observing {
		f |= flagObserving
	}
	if p.Spent {
		f |= flagSpent
	}
	if p.Leased {
		f |= flagLeased
	}
	return f
}

// checkMember refuses a member the store cannot hold: a state Counts has
// no slot for (as MemoryStore), text or instants PostgreSQL cannot keep.
func checkMember(m *fota.Member) error {
	if m.State == 0 || int(m.State) >= len(fota.Counts{}) {
		return &fota.NotFoundError{Kind: "device state", ID: m.State.String()}
	}
	return checkAll(
		checkText("member.CampaignID", m.CampaignID, maxKeyText), checkText("member.DeviceID", m.DeviceID, maxKeyText),
		checkTime("member.UpdatedAt", m.UpdatedAt), checkTime("member.Push.DueAt", m.Push.DueAt),
	)
}

// normMember is m as a read gives it back.
func normMember(m fota.Member) fota.Member {
	m.UpdatedAt = microUTC(m.UpdatedAt)
	m.Push.DueAt = microUTC(m.Push.DueAt)
	return m
}

// devRow is a devices row: the device's active campaign and the
// Manager's record of it.
type devRow struct {
	exists   bool
	ver      string // xmin as read, for a device transaction's write
	active   string
	recorded bool
	rec      fota.DeviceRecord
}

// record is the DeviceRecord the row holds (a zero one with the id when
// none was put).
func (d *devRow) record(id string) fota.DeviceRecord {
	if !d.recorded {
		return fota.DeviceRecord{DeviceID: id}
	}
	r := d.rec
	r.DeviceID = id
	return r
}

// devScan scans deviceColumns.
type devScan struct {
	active, account, last string
	recorded, ever        bool
	license               int64
	licensedAt            pgtype.Timestamptz
}

func (s *devScan) dest() []any {
	return []any{&s.active, &s.recorded, &s.account, &s.license, &s.licensedAt, &s.ever, &s.last}
}

func (s *devScan) row(id string) (devRow, error) {
	l, err := byteOf("license", s.license)
	if err != nil {
		return devRow{}, err
	}
	return devRow{exists: true, active: s.active, recorded: s.recorded, rec: fota.DeviceRecord{
		DeviceID: id, Account: s.account, License: device.License(l), LicensedAt: fromOpt(s.licensedAt),
		EverUpgraded: s.ever, LastCampaign: s.last,
	}}, nil
}

// checkDevice refuses a device record the store cannot hold.
func checkDevice(d *fota.DeviceRecord) error {
	return checkAll(checkText("device.DeviceID", d.DeviceID, maxKeyText), checkText("device.Account", d.Account, maxKeyText),
		checkText("device.LastCampaign", d.LastCampaign, maxKeyText), checkTime("device.LicensedAt", d.LicensedAt))
}

// scanSession reads account, state and the three instants into s.
func scanSession(scan func(...any) error, dest ...any) (fota.LogSession, error) {
	var s fota.LogSession
	var state int64
	var enabled, collecting, ended pgtype.Timestamptz
	if err := scan(append(dest, &s.Account, &state, &enabled, &collecting, &ended)...); err != nil {
		return fota.LogSession{}, err
	}
	st, err := byteOf("session state", state)
	if err != nil {
		return fota.LogSession{}, err
	}
	s.State = verboselog.State(st)
	s.EnabledAt, s.CollectingAt, s.EndedAt = fromOpt(enabled), fromOpt(collecting), fromOpt(ended)
	return s, nil
}

// checkSession refuses a session the store cannot hold.
func checkSession(s *fota.LogSession) error {
	return checkAll(checkText("session.DeviceID", s.DeviceID, maxKeyText), checkText("session.Account", s.Account, maxKeyText),
		checkTime("session.EnabledAt", s.EnabledAt), checkTime("session.CollectingAt", s.CollectingAt),
		checkTime("session.EndedAt", s.EndedAt))
}

// normSession is s as a read gives it back.
func normSession(s fota.LogSession) fota.LogSession {
	s.EnabledAt, s.CollectingAt, s.EndedAt = microUTC(s.EnabledAt), microUTC(s.CollectingAt), microUTC(s.EndedAt)
	return s
}

// checkCheckIn refuses a check-in the store cannot hold.
func checkCheckIn(c *verboselog.CheckIn) error {
	return checkAll(checkText("checkIn.DeviceID", c.DeviceID, maxKeyText), checkText("checkIn.Result", c.Result, 0),
		checkText("checkIn.FailureType", c.FailureType, 0), checkTime("checkIn.TimeCompleted", c.TimeCompleted))
}

// checkBundle refuses a bundle the store cannot hold.
func checkBundle(b *verboselog.Bundle) error {
	return checkAll(checkText("bundle.DeviceID", b.DeviceID, maxKeyText), checkText("bundle.LogType", b.LogType, 0),
		checkText("bundle.EventLog", b.EventLog, 0), checkText("bundle.BinaryLogFileBase64", b.BinaryLogFileBase64, 0),
		checkText("bundle.BinaryLogFilename", b.BinaryLogFilename, 0), checkTime("bundle.LogTime", b.LogTime),
		checkTime("bundle.UploadedAt", b.UploadedAt))
}
