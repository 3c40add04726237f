package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/verboselog"
)

// tx is one database transaction seen as a fota.Tx.
type tx struct {
	s    *Store
	ctx  context.Context
	tx   *sql.Tx
	ro   bool
	done bool
	// failed is the first database error: PostgreSQL refuses every
	// statement after one failed, so later calls return it again, and
	// attempt hands it to the retry loop whatever fn returned.
	failed error
	// dev caches what ActiveCampaign learnt of its device, for the
	// reads a check-in makes next; every write to a cached record
	// invalidates its part.
	dev devCache
}

// devCache is one device's context: its active campaign, its logging
// session, the active campaign's record and the device's member in it.
// Each part is valid until this transaction writes that record.
type devCache struct {
	id       string
	activeOK bool
	active   string

	sessionOK  bool
	hasSession bool
	session    fota.LogSession

	campaignOK bool // the record of active
	campFound  bool
	camp       fota.Campaign

	memberOK bool // the device in active
	memFound bool
	mem      fota.Member
}

// cached returns the cache if it is of deviceID.
func (t *tx) cached(deviceID string) (*devCache, bool) {
	return &t.dev, t.dev.activeOK && t.dev.id == deviceID
}

// cachedCampaign returns the cache if it holds campaign id's record.
func (t *tx) cachedCampaign(id string) (*devCache, bool) {
	return &t.dev, t.dev.activeOK && t.dev.campaignOK && t.dev.active == id && id != ""
}

// check is called first by every method.
func (t *tx) check() error {
	if t.done {
		return ErrTxDone
	}
	return t.failed
}

// write is check for methods that write.
func (t *tx) write() error {
	if err := t.check(); err != nil {
		return err
	}
	if t.ro {
		return fota.ErrReadOnly
	}
	return nil
}

// fail records a database error.
func (t *tx) fail(err error) error {
	if err != nil && t.failed == nil {
		t.failed = err
	}
	return err
}

func (t *tx) exec(q string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(t.ctx, q, args...)
	if err != nil {
		return 0, t.fail(err)
	}
	n, err := res.RowsAffected()
	return n, t.fail(err)
}

func (t *tx) queryRow(q string, args []any, dest ...any) (bool, error) {
	err := t.tx.QueryRowContext(t.ctx, q, args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, t.fail(err)
	}
	return true, nil
}

// query runs q and calls scan for each row.
func (t *tx) query(q string, args []any, scan func(*sql.Rows) error) error {
	rows, err := t.tx.QueryContext(t.ctx, q, args...)
	if err != nil {
		return t.fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return t.fail(err)
		}
	}
	return t.fail(rows.Err())
}

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
func fromOpt(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// byteOf checks that a stored enumeration fits its uint8 type.
func byteOf(what string, v int64) (uint8, error) {
	if v < 0 || v > 255 {
		return 0, fmt.Errorf("sqlstore: stored %s %d out of range", what, v)
	}
	return uint8(v), nil
}

func (t *tx) campaignExists(id string) (bool, error) {
	var ok bool
	_, err := t.queryRow(t.s.q.campaignExists, []any{id}, &ok)
	return ok, err
}

// missingCampaign returns the NotFoundError of a campaign, or the error
// that looking for it met.
func (t *tx) missingCampaign(id string) error {
	ok, err := t.campaignExists(id)
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	}
	return &fota.NotFoundError{Kind: "campaign", ID: id}
}

// campaignRow holds a campaign's columns (as campaignColumns lists them)
// as scanned, before they are checked.
type campaignRow struct {
	c                    fota.Campaign
	protocol, status     int64
	timing               []byte
	startsAt, endsAt     sql.NullTime
	revision             int64
	createdAt, updatedAt time.Time
	make, model          string
	from, to             string
}

// dest lists where Scan puts the columns, in campaignColumns' order.
func (r *campaignRow) dest() []any {
	c := &r.c
	return []any{&c.ID, &c.Account, &c.Name, &r.protocol, &r.status, &r.make, &r.model, &r.from, &r.to,
		&c.SoftwareName, &r.timing, &r.startsAt, &r.endsAt, &c.OnDemand, &c.Pilot, &r.revision, &r.createdAt, &r.updatedAt}
}

// campaign checks and converts what was scanned.
func (r *campaignRow) campaign() (fota.Campaign, error) {
	c := r.c
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
	c.Protocol, c.Status = device.Protocol(p), campaign.Status(st)
	c.Target = pilot.Target{Make: r.make, Model: r.model, SoftwareFrom: r.from, SoftwareTo: r.to}
	c.StartsAt, c.EndsAt = fromOpt(r.startsAt), fromOpt(r.endsAt)
	c.Revision = uint64(r.revision) // stored bit for bit: a revision past 2^63 reads back as written
	c.CreatedAt, c.UpdatedAt = r.createdAt.UTC(), r.updatedAt.UTC()
	return c, nil
}

// scanCampaign reads the columns campaignColumns lists.
func scanCampaign(scan func(...any) error) (fota.Campaign, error) {
	var r campaignRow
	if err := scan(r.dest()...); err != nil {
		return fota.Campaign{}, err
	}
	return r.campaign()
}

func (t *tx) Campaign(id string) (fota.Campaign, error) {
	if err := t.check(); err != nil {
		return fota.Campaign{}, err
	}
	if d, ok := t.cachedCampaign(id); ok {
		if !d.campFound {
			return fota.Campaign{}, &fota.NotFoundError{Kind: "campaign", ID: id}
		}
		c := d.camp
		c.Timing = cloneTiming(c.Timing) // the caller may change its window lists
		return c, nil
	}
	var c fota.Campaign
	found := false
	err := t.query(t.s.q.campaign, []any{id}, func(r *sql.Rows) (err error) {
		c, err = scanCampaign(r.Scan)
		found = true
		return err
	})
	if err != nil {
		return fota.Campaign{}, err
	}
	if !found {
		return fota.Campaign{}, &fota.NotFoundError{Kind: "campaign", ID: id}
	}
	return c, nil
}

func (t *tx) PutCampaign(c fota.Campaign) error {
	if err := t.write(); err != nil {
		return err
	}
	if d, ok := t.cachedCampaign(c.ID); ok {
		d.campaignOK = false
	}
	_, err := t.exec(t.s.q.putCampaign, c.ID, c.Account, c.Name, int64(c.Protocol), int64(c.Status),
		c.Target.Make, c.Target.Model, c.Target.SoftwareFrom, c.Target.SoftwareTo, c.SoftwareName,
		string(encodeTiming(c.Timing)), optTime(c.StartsAt), optTime(c.EndsAt), c.OnDemand, c.Pilot,
		int64(c.Revision), c.CreatedAt, c.UpdatedAt)
	return err
}

func (t *tx) Campaigns(account, afterID string, limit int) ([]fota.Campaign, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var out []fota.Campaign
	err := t.query(t.s.q.campaigns, []any{account, afterID, limitArg(limit)}, func(r *sql.Rows) error {
		c, err := scanCampaign(r.Scan)
		out = append(out, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) Member(campaignID, deviceID string) (fota.Member, error) {
	if err := t.check(); err != nil {
		return fota.Member{}, err
	}
	if d, ok := t.cached(deviceID); ok && d.memberOK && d.memFound && d.active == campaignID {
		return d.mem, nil
	}
	var state, reason int64
	var at time.Time
	found, err := t.queryRow(t.s.q.member, []any{campaignID, deviceID}, &state, &reason, &at)
	if err != nil {
		return fota.Member{}, err
	}
	if !found {
		// The one extra query runs only on a miss, so that a found
		// member costs one statement and no read of the campaign.
		if err := t.missingCampaign(campaignID); err != nil {
			return fota.Member{}, err
		}
		return fota.Member{}, &fota.NotFoundError{Kind: "device", ID: deviceID, Campaign: campaignID}
	}
	return member(campaignID, deviceID, state, reason, at)
}

// forgetMember drops the cached member (campaignID, deviceID), about to
// be written.
func (t *tx) forgetMember(campaignID, deviceID string) {
	if d, ok := t.cached(deviceID); ok && d.active == campaignID {
		d.memberOK = false
	}
}

func member(campaignID, deviceID string, state, reason int64, at time.Time) (fota.Member, error) {
	st, err := byteOf("device state", state)
	if err != nil {
		return fota.Member{}, err
	}
	rs, err := byteOf("reason", reason)
	if err != nil {
		return fota.Member{}, err
	}
	return fota.Member{CampaignID: campaignID, DeviceID: deviceID, State: device.State(st), Reason: device.Reason(rs), UpdatedAt: at.UTC()}, nil
}

func (t *tx) PutMember(m fota.Member) error {
	if err := t.write(); err != nil {
		return err
	}
	if int(m.State) >= len(fota.Counts{}) {
		// As MemoryStore: Counts has no slot for it.
		return &fota.NotFoundError{Kind: "device state", ID: m.State.String()}
	}
	t.forgetMember(m.CampaignID, m.DeviceID)
	n, err := t.exec(t.s.q.putMember, m.CampaignID, m.DeviceID, int64(m.State), int64(m.Reason), m.UpdatedAt)
	if err != nil {
		return err
	}
	if n == 0 {
		return &fota.NotFoundError{Kind: "campaign", ID: m.CampaignID}
	}
	return nil
}

func (t *tx) DeleteMember(campaignID, deviceID string) error {
	if err := t.write(); err != nil {
		return err
	}
	t.forgetMember(campaignID, deviceID)
	n, err := t.exec(t.s.q.deleteMember, campaignID, deviceID)
	if err != nil || n > 0 {
		return err
	}
	if err := t.missingCampaign(campaignID); err != nil {
		return err
	}
	return &fota.NotFoundError{Kind: "device", ID: deviceID, Campaign: campaignID}
}

func (t *tx) Members(campaignID, afterDeviceID string, limit int) ([]fota.Member, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var out []fota.Member
	err := t.query(t.s.q.members, []any{campaignID, afterDeviceID, limitArg(limit)}, func(r *sql.Rows) error {
		var id string
		var state, reason int64
		var at time.Time
		if err := r.Scan(&id, &state, &reason, &at); err != nil {
			return err
		}
		m, err := member(campaignID, id, state, reason, at)
		out = append(out, m)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if err := t.missingCampaign(campaignID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Counts is derived: one GROUP BY over the campaign's members, read from
// the primary key's range of the campaign. No count is stored.
func (t *tx) Counts(campaignID string) (fota.Counts, error) {
	if err := t.check(); err != nil {
		return fota.Counts{}, err
	}
	var c fota.Counts
	seen := false
	err := t.query(t.s.q.counts, []any{campaignID}, func(r *sql.Rows) error {
		var state, n int64
		if err := r.Scan(&state, &n); err != nil {
			return err
		}
		if state < 0 || int(state) >= len(c) {
			return fmt.Errorf("sqlstore: stored device state %d out of range", state)
		}
		c[state] = int(n)
		seen = true
		return nil
	})
	if err != nil {
		return fota.Counts{}, err
	}
	if !seen {
		if err := t.missingCampaign(campaignID); err != nil {
			return fota.Counts{}, err
		}
	}
	return c, nil
}

// ActiveCampaign reads the device's whole context in one statement and
// keeps it (see devCache): a check-in asks next for the session, the
// campaign and the member.
func (t *tx) ActiveCampaign(deviceID string) (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	if d, ok := t.cached(deviceID); ok {
		return d.active, nil
	}
	t.dev = devCache{}
	var (
		d                          = devCache{id: deviceID}
		sessionState               int64
		enabled, collecting, ended sql.NullTime
		camp                       campaignRow
		memState, memReason        int64
		memAt                      time.Time
	)
	dest := append([]any{&d.active, &d.hasSession, &d.session.Account, &sessionState, &enabled, &collecting, &ended, &d.campFound},
		camp.dest()...)
	dest = append(dest, &d.memFound, &memState, &memReason, &memAt)
	if _, err := t.queryRow(t.s.q.deviceContext, []any{deviceID}, dest...); err != nil {
		return "", err
	}
	d.session.DeviceID = deviceID
	if d.hasSession {
		st, err := byteOf("session state", sessionState)
		if err != nil {
			return "", t.fail(err)
		}
		d.session.State = verboselog.State(st)
		d.session.EnabledAt, d.session.CollectingAt, d.session.EndedAt = fromOpt(enabled), fromOpt(collecting), fromOpt(ended)
	}
	if d.campFound {
		c, err := camp.campaign()
		if err != nil {
			return "", t.fail(err)
		}
		d.camp = c
	}
	if d.memFound {
		m, err := member(d.active, deviceID, memState, memReason, memAt)
		if err != nil {
			return "", t.fail(err)
		}
		d.mem = m
	}
	d.activeOK, d.sessionOK, d.campaignOK, d.memberOK = true, true, true, true
	t.dev = d
	return d.active, nil
}

func (t *tx) SetActiveCampaign(deviceID, campaignID string) error {
	if err := t.write(); err != nil {
		return err
	}
	var err error
	if campaignID == "" {
		// Releasing a device never seen creates no row.
		_, err = t.exec(t.s.q.release, deviceID)
	} else {
		_, err = t.exec(t.s.q.setActive, deviceID, campaignID)
	}
	if d, ok := t.cached(deviceID); ok {
		d.active, d.campaignOK, d.memberOK = campaignID, false, false
		d.activeOK = err == nil
	}
	return err
}

func (t *tx) Device(deviceID string) (fota.DeviceRecord, error) {
	if err := t.check(); err != nil {
		return fota.DeviceRecord{}, err
	}
	d := fota.DeviceRecord{DeviceID: deviceID}
	var license int64
	found, err := t.queryRow(t.s.q.device, []any{deviceID}, &d.Account, &license, &d.EverUpgraded)
	if err != nil || !found {
		return fota.DeviceRecord{DeviceID: deviceID}, err
	}
	l, err := byteOf("license", license)
	if err != nil {
		return fota.DeviceRecord{DeviceID: deviceID}, err
	}
	d.License = device.License(l)
	return d, nil
}

func (t *tx) PutDevice(d fota.DeviceRecord) error {
	if err := t.write(); err != nil {
		return err
	}
	_, err := t.exec(t.s.q.putDevice, d.DeviceID, d.Account, int64(d.License), d.EverUpgraded)
	return err
}

func (t *tx) AddCheckIn(c verboselog.CheckIn, keep int) error {
	if err := t.write(); err != nil {
		return err
	}
	if keep <= 0 {
		return nil // as MemoryStore: a history of none keeps nothing
	}
	// The devices row's history count changes; nothing the cache holds.
	_, err := t.exec(t.s.q.addCheckIn, c.DeviceID, c.TimeCompleted, int64(c.ClientType), c.Result, c.FailureType, int64(keep))
	return err
}

func (t *tx) CheckIns(deviceID string, before time.Time, limit int) ([]verboselog.CheckIn, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var out []verboselog.CheckIn
	err := t.query(t.s.q.checkIns, []any{deviceID, optTime(before), limitArg(limit)}, func(r *sql.Rows) error {
		c := verboselog.CheckIn{DeviceID: deviceID}
		var ct int64
		if err := r.Scan(&ct, &c.Result, &c.FailureType, &c.TimeCompleted); err != nil {
			return err
		}
		c.ClientType, c.TimeCompleted = verboselog.ClientType(ct), c.TimeCompleted.UTC()
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) PutDeadline(d fota.Deadline) error {
	if err := t.write(); err != nil {
		return err
	}
	_, err := t.exec(t.s.q.putDeadline, int64(d.Kind), d.Key, d.At)
	return err
}

func (t *tx) DeleteDeadline(kind fota.DeadlineKind, key string) error {
	if err := t.write(); err != nil {
		return err
	}
	_, err := t.exec(t.s.q.deleteDeadline, int64(kind), key)
	return err
}

func (t *tx) Due(now time.Time, limit int) ([]fota.Deadline, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var out []fota.Deadline
	err := t.query(t.s.q.due, []any{now, limitArg(limit)}, func(r *sql.Rows) error {
		var d fota.Deadline
		var kind int64
		if err := r.Scan(&kind, &d.Key, &d.At); err != nil {
			return err
		}
		k, err := byteOf("deadline kind", kind)
		d.Kind, d.At = fota.DeadlineKind(k), d.At.UTC()
		out = append(out, d)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) NextDeadline() (time.Time, bool, error) {
	if err := t.check(); err != nil {
		return time.Time{}, false, err
	}
	var at time.Time
	found, err := t.queryRow(t.s.q.nextDeadline, nil, &at)
	if err != nil || !found {
		return time.Time{}, false, err
	}
	return at.UTC(), true, nil
}

func (t *tx) Gate(tg pilot.Target) (pilot.Gate, error) {
	if err := t.check(); err != nil {
		return pilot.Gate{}, err
	}
	g := pilot.Gate{Target: tg}
	var state, pilots int64
	var lifted sql.NullTime
	found, err := t.queryRow(t.s.q.gate, []any{tg.Make, tg.Model, tg.SoftwareFrom, tg.SoftwareTo}, &state, &pilots, &lifted)
	if err != nil || !found {
		return pilot.Gate{Target: tg}, err
	}
	st, err := byteOf("gate state", state)
	if err != nil {
		return pilot.Gate{Target: tg}, err
	}
	g.State, g.Pilots, g.LiftedAt = pilot.State(st), int(pilots), fromOpt(lifted)
	return g, nil
}

func (t *tx) PutGate(g pilot.Gate) error {
	if err := t.write(); err != nil {
		return err
	}
	tg := g.Target
	_, err := t.exec(t.s.q.putGate, tg.Make, tg.Model, tg.SoftwareFrom, tg.SoftwareTo, int64(g.State), int64(g.Pilots), optTime(g.LiftedAt))
	return err
}

// scanSession reads account, state and the three instants into s.
func scanSession(scan func(...any) error, dest ...any) (fota.LogSession, error) {
	var s fota.LogSession
	var state int64
	var enabled, collecting, ended sql.NullTime
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

func (t *tx) Session(deviceID string) (fota.LogSession, error) {
	if err := t.check(); err != nil {
		return fota.LogSession{}, err
	}
	zero := fota.LogSession{Session: verboselog.Session{DeviceID: deviceID}}
	if d, ok := t.cached(deviceID); ok && d.sessionOK {
		if !d.hasSession {
			return zero, nil
		}
		return d.session, nil
	}
	var s fota.LogSession
	found := false
	err := t.query(t.s.q.session, []any{deviceID}, func(r *sql.Rows) (err error) {
		s, err = scanSession(r.Scan)
		found = true
		return err
	})
	if err != nil || !found {
		return zero, err
	}
	s.DeviceID = deviceID
	return s, nil
}

func (t *tx) PutSession(s fota.LogSession) error {
	if err := t.write(); err != nil {
		return err
	}
	_, err := t.exec(t.s.q.putSession, s.DeviceID, s.Account, int64(s.State),
		optTime(s.EnabledAt), optTime(s.CollectingAt), optTime(s.EndedAt))
	if d, ok := t.cached(s.DeviceID); ok {
		d.sessionOK = false // read back as stored: UTC, to the microsecond
	}
	return err
}

func (t *tx) Sessions(account string) ([]fota.LogSession, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var out []fota.LogSession
	err := t.query(t.s.q.sessions, []any{account}, func(r *sql.Rows) error {
		var id string
		s, err := scanSession(r.Scan, &id)
		s.DeviceID = id
		out = append(out, s)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) AddBundle(b verboselog.Bundle) error {
	if err := t.write(); err != nil {
		return err
	}
	_, err := t.exec(t.s.q.addBundle, b.DeviceID, b.LogTime, b.LogType, b.EventLog, b.BinaryLogFileBase64, b.BinaryLogFilename, b.UploadedAt)
	return err
}

func (t *tx) Bundles(deviceID string) ([]verboselog.Bundle, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var out []verboselog.Bundle
	err := t.query(t.s.q.bundles, []any{deviceID}, func(r *sql.Rows) error {
		b := verboselog.Bundle{DeviceID: deviceID}
		if err := r.Scan(&b.LogTime, &b.LogType, &b.EventLog, &b.BinaryLogFileBase64, &b.BinaryLogFilename, &b.UploadedAt); err != nil {
			return err
		}
		b.LogTime, b.UploadedAt = b.LogTime.UTC(), b.UploadedAt.UTC()
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) DeleteBundles(deviceID string, before time.Time) error {
	if err := t.write(); err != nil {
		return err
	}
	_, err := t.exec(t.s.q.deleteBundles, deviceID, before)
	return err
}

func (t *tx) NextSeq() (uint64, error) {
	if err := t.write(); err != nil {
		return 0, err
	}
	var v int64
	if _, err := t.queryRow(t.s.q.nextSeq, []any{t.s.q.seqName}, &v); err != nil {
		return 0, err
	}
	return uint64(v), nil
}
