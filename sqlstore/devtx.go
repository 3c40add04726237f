package sqlstore

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/verboselog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// devTx is one device's transaction (Store.UpdateDevice), READ COMMITTED.
//
// Its first call reads the device's whole context in one statement, sent
// with the BEGIN (see deviceContext), locking the device's member record
// in the campaign the operation is about; later reads are answered from
// what that statement returned, and writes are held back and sent with
// the COMMIT. A steady check-in is then BEGIN, the context, the
// check-in's history write and COMMIT: four statements in two round
// trips.
type devTx struct {
	s    *Store
	c    *pgtx
	id   string
	done bool

	loaded bool
	dev    devRow // the devices row, as this transaction knows it
	devOld devRow // as read: a write checks it is still the stored one
	devSet bool   // dev to write
	hist   bool   // the device has a check-in history

	sess    fota.LogSession
	hasSess bool
	sessVer string // xmin of the session as read; "" none
	sessSet bool

	ctxCamp  string                    // the campaign the context read
	camps    map[string]*fota.Campaign // campaigns read (nil: missing)
	mems     map[string]memEntry       // members read (locked) or written
	pendMem  map[string]bool
	checkIns []verboselog.CheckIn
	keeps    []int
	pendDl   map[dlKey]dlEntry
}

func newDevTx(s *Store, c *pgtx, id string) *devTx { return &devTx{s: s, c: c, id: id} }

func (d *devTx) close() { d.done = true }

func (d *devTx) result(err error) error {
	if f := d.c.failed; f != nil {
		if _, retry := retryable(f); retry || err == nil {
			return f
		}
	}
	return err
}

func (d *devTx) check() error {
	if d.done {
		return ErrTxDone
	}
	return d.c.failed
}

// mine refuses a record of another device, as MemoryStore does.
func (d *devTx) mine(id string) error {
	if id != d.id {
		return &fota.RequestError{Field: "deviceId", Value: id, Reason: "not the transaction's device " + d.id}
	}
	return nil
}

// load reads the device's context, about campaign (nil: the device's
// active campaign), once. The member row is locked NOWAIT: when another
// transaction holds it, the transaction begins again, waits for the lock
// in a statement of its own and reads the context after it, so that
// everything read is as the holder left it. Nothing had run yet, so fn
// does not run again.
func (d *devTx) load(campaign *string) error {
	if d.loaded {
		return d.c.failed
	}
	if err := d.check(); err != nil {
		return err
	}
	var arg any
	if campaign != nil {
		arg = *campaign
	}
	args := []any{d.id, arg}
	var b pgx.Batch
	b.Queue(d.s.q.deviceContextNoWait, args...)
	err := d.readContext(&b, false)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55P03" {
		d.s.lockWaits.Add(1)
		if err := d.c.restart(); err != nil {
			return err
		}
		var b pgx.Batch
		b.Queue(d.s.q.lockDeviceMember, args...)
		b.Queue(d.s.q.deviceContextWait, args...)
		err = d.readContext(&b, true)
	}
	if err != nil {
		return err
	}
	d.loaded = true
	return nil
}

// readContext sends b (the context read, after a lock when locked) and
// scans the context.
func (d *devTx) readContext(b *pgx.Batch, locked bool) error {
	br, err := d.c.send(b)
	if err != nil {
		return err
	}
	if locked {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return d.c.fail(err)
		}
	}
	rows, _ := br.Query()
	err = func() error {
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return err
			}
			return errors.New("sqlstore: device context returned no row")
		}
		return d.scanContext(rows)
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "55P03" {
			return err // not recorded: load begins again
		}
		return d.c.fail(err)
	}
	return nil
}

func (d *devTx) scanContext(r pgx.Rows) error {
	var (
		devExists bool
		ds        devScan
		ver       string
		sessState int64
		en, co, e pgtype.Timestamptz
		campFound bool
		camp      campaignRow
		memFound  bool
		mr        memberRow
	)
	dest := []any{&devExists, &ver}
	dest = append(dest, ds.dest()...)
	dest = append(dest, &d.hist, &d.hasSess, &d.sessVer, &d.sess.Account, &sessState, &en, &co, &e, &d.ctxCamp, &campFound)
	dest = append(dest, camp.dest()...)
	dest = append(dest, &memFound)
	dest = append(dest, mr.dest()...)
	if err := r.Scan(dest...); err != nil {
		return err
	}
	if devExists {
		row, err := ds.row(d.id)
		if err != nil {
			return err
		}
		row.ver = ver
		d.dev = row
	}
	d.devOld = d.dev
	d.sess.DeviceID = d.id
	if d.hasSess {
		st, err := byteOf("session state", sessState)
		if err != nil {
			return err
		}
		d.sess.State = verboselog.State(st)
		d.sess.EnabledAt, d.sess.CollectingAt, d.sess.EndedAt = fromOpt(en), fromOpt(co), fromOpt(e)
	}
	if d.ctxCamp == "" {
		return nil
	}
	d.camps = map[string]*fota.Campaign{d.ctxCamp: nil}
	if campFound {
		c, err := camp.campaign()
		if err != nil {
			return err
		}
		d.camps[d.ctxCamp] = &c
	}
	e2 := memEntry{found: memFound}
	if memFound {
		m, err := mr.member(d.ctxCamp, d.id)
		if err != nil {
			return err
		}
		e2.m = m
	}
	d.mems = map[string]memEntry{d.ctxCamp: e2}
	return nil
}

func (d *devTx) DeviceID() string { return d.id }

func (d *devTx) Known() (bool, error) {
	if err := d.load(nil); err != nil {
		return false, err
	}
	if d.dev.recorded || d.dev.active != "" || d.hist || d.hasSess || len(d.checkIns) > 0 {
		return true, nil
	}
	for _, e := range d.mems {
		if e.found {
			return true, nil
		}
	}
	var ok bool
	err := d.c.query(d.s.q.memberKnown, []any{d.id}, func(r pgx.Rows) error { return r.Scan(&ok) })
	return ok, err
}

func (d *devTx) ActiveCampaign() (string, error) {
	if err := d.load(nil); err != nil {
		return "", err
	}
	return d.dev.active, nil
}

func (d *devTx) Campaign(id string) (fota.Campaign, error) {
	if err := d.load(&id); err != nil {
		return fota.Campaign{}, err
	}
	c, ok := d.camps[id]
	if !ok {
		var found bool
		var got fota.Campaign
		err := d.c.query(d.s.q.campaign, []any{id}, func(r pgx.Rows) error {
			var row campaignRow
			if err := r.Scan(row.dest()...); err != nil {
				return err
			}
			var err error
			got, err = row.campaign()
			found = true
			return err
		})
		if err != nil {
			return fota.Campaign{}, err
		}
		if found {
			c = &got
		}
		if d.camps == nil {
			d.camps = map[string]*fota.Campaign{}
		}
		d.camps[id] = c
	}
	if c == nil {
		return fota.Campaign{}, &fota.NotFoundError{Kind: "campaign", ID: id}
	}
	out := *c
	out.Timing = cloneTiming(c.Timing) // the caller may change its window lists
	return out, nil
}

// member returns the device's member in a campaign, reading it locked
// once.
func (d *devTx) member(campaignID string) (memEntry, error) {
	if err := d.load(&campaignID); err != nil {
		return memEntry{}, err
	}
	if e, ok := d.mems[campaignID]; ok {
		return e, nil
	}
	var mr memberRow
	found := false
	err := d.c.query(d.s.q.memberLocked, []any{campaignID, d.id}, func(r pgx.Rows) error {
		found = true
		return r.Scan(mr.dest()...)
	})
	if err != nil {
		return memEntry{}, err
	}
	e := memEntry{found: found}
	if found {
		if e.m, err = mr.member(campaignID, d.id); err != nil {
			return memEntry{}, d.c.fail(err)
		}
	}
	if d.mems == nil {
		d.mems = map[string]memEntry{}
	}
	d.mems[campaignID] = e
	return e, nil
}

func (d *devTx) Member(campaignID string) (fota.Member, error) {
	e, err := d.member(campaignID)
	if err != nil {
		return fota.Member{}, err
	}
	if !e.found {
		if _, err := d.Campaign(campaignID); err != nil {
			return fota.Member{}, err
		}
		return fota.Member{}, &fota.NotFoundError{Kind: "device", ID: d.id, Campaign: campaignID}
	}
	return e.m, nil
}

func (d *devTx) Device() (fota.DeviceRecord, error) {
	if err := d.load(nil); err != nil {
		return fota.DeviceRecord{DeviceID: d.id}, err
	}
	return d.dev.record(d.id), nil
}

func (d *devTx) Session() (fota.LogSession, error) {
	if err := d.load(nil); err != nil {
		return fota.LogSession{}, err
	}
	if !d.hasSess {
		return fota.LogSession{Session: verboselog.Session{DeviceID: d.id}}, nil
	}
	return d.sess, nil
}

func (d *devTx) Bundles() ([]verboselog.Bundle, error) {
	if err := d.load(nil); err != nil {
		return nil, err
	}
	return readBundles(d.c, d.s.q.bundles, d.id)
}

func (d *devTx) PutMember(m fota.Member) error {
	if err := d.check(); err != nil {
		return err
	}
	if err := d.mine(m.DeviceID); err != nil {
		return err
	}
	if err := checkMember(&m); err != nil {
		return err
	}
	if _, err := d.Member(m.CampaignID); err != nil {
		return err // missing, or the campaign is
	}
	d.mems[m.CampaignID] = memEntry{found: true, m: normMember(m)}
	if d.pendMem == nil {
		d.pendMem = map[string]bool{}
	}
	d.pendMem[m.CampaignID] = true
	return nil
}

func (d *devTx) SetActiveCampaign(campaignID string) error {
	if err := d.load(nil); err != nil {
		return err
	}
	if err := checkText("campaignId", campaignID, maxKeyText); err != nil {
		return err
	}
	if !d.dev.exists && campaignID == "" {
		return nil // releasing a device never seen creates no row
	}
	d.dev.exists, d.dev.active, d.devSet = true, campaignID, true
	return nil
}

func (d *devTx) PutDevice(r fota.DeviceRecord) error {
	if err := d.load(nil); err != nil {
		return err
	}
	if err := d.mine(r.DeviceID); err != nil {
		return err
	}
	if err := checkDevice(&r); err != nil {
		return err
	}
	r.LicensedAt = microUTC(r.LicensedAt)
	d.dev.exists, d.dev.recorded, d.dev.rec, d.devSet = true, true, r, true
	return nil
}

func (d *devTx) PutSession(s fota.LogSession) error {
	if err := d.load(nil); err != nil {
		return err
	}
	if err := d.mine(s.DeviceID); err != nil {
		return err
	}
	if err := checkSession(&s); err != nil {
		return err
	}
	d.sess, d.hasSess, d.sessSet = normSession(s), true, true
	return nil
}

func (d *devTx) AddCheckIn(c verboselog.CheckIn, keep int) error {
	if err := d.check(); err != nil {
		return err
	}
	if err := d.mine(c.DeviceID); err != nil {
		return err
	}
	if err := checkCheckIn(&c); err != nil {
		return err
	}
	if keep <= 0 {
		return nil
	}
	d.checkIns, d.keeps = append(d.checkIns, c), append(d.keeps, keep)
	return nil
}

func (d *devTx) AddBundle(b verboselog.Bundle) error {
	if err := d.load(nil); err != nil {
		return err
	}
	if err := d.mine(b.DeviceID); err != nil {
		return err
	}
	if err := checkBundle(&b); err != nil {
		return err
	}
	_, err := d.c.exec(d.s.q.addBundle, bundleArgs(&b)...)
	return err
}

func (d *devTx) DeleteBundles(before time.Time) error {
	if err := d.load(nil); err != nil {
		return err
	}
	if err := checkTime("before", before); err != nil {
		return err
	}
	_, err := d.c.exec(d.s.q.deleteBundles, d.id, before)
	return err
}

func (d *devTx) PutDeadline(dl fota.Deadline) error {
	if err := d.check(); err != nil {
		return err
	}
	if err := checkAll(checkText("deadline.Key", dl.Key, maxKeyText), checkTime("deadline.At", dl.At)); err != nil {
		return err
	}
	if d.pendDl == nil {
		d.pendDl = map[dlKey]dlEntry{}
	}
	d.pendDl[dlKey{dl.Kind, dl.Key}] = dlEntry{put: true, at: microUTC(dl.At)}
	return nil
}

// commit sends the held-back writes in the lock order (members, the
// device's rows, deadlines) with COMMIT, in one round trip.
func (d *devTx) commit() error {
	var b pgx.Batch
	if len(d.pendMem) > 0 {
		ids := make([]string, 0, len(d.pendMem))
		for c := range d.pendMem {
			ids = append(ids, c)
		}
		slices.Sort(ids)
		for _, c := range ids {
			m := d.mems[c].m
			p := m.Push
			b.Queue(d.s.q.putMemberDev, m.CampaignID, m.DeviceID, int16(m.State), int16(m.Reason), m.UpdatedAt,
				int16(p.Protocol), int16(p.Attempt), pushFlags(p), int32(p.Machine), int32(p.Result),
				pgtype.Timestamptz{Time: p.DueAt, Valid: !p.DueAt.IsZero()}, int64(p.Lease))
		}
	}
	if d.devSet {
		q := d.s.q.casDevice
		if !d.devOld.exists {
			q = d.s.q.insDevice
		}
		r := d.dev.rec
		b.Queue(q, d.id, d.devOld.ver, d.dev.active, d.dev.recorded, r.Account, int16(r.License),
			pgtype.Timestamptz{Time: r.LicensedAt, Valid: !r.LicensedAt.IsZero()}, r.EverUpgraded, r.LastCampaign)
	}
	if d.sessSet {
		q := d.s.q.casSession
		if d.sessVer == "" {
			q = d.s.q.insSession
		}
		s := d.sess
		b.Queue(q, d.id, d.sessVer, s.Account, int16(s.State), optTime(s.EnabledAt), optTime(s.CollectingAt), optTime(s.EndedAt))
	}
	for i := range d.checkIns {
		b.Queue(d.s.q.addCheckIn, checkInArgs(&d.checkIns[i], d.keeps[i])...)
	}
	if len(d.pendDl) > 0 {
		keys := make([]dlKey, 0, len(d.pendDl))
		for k := range d.pendDl {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b dlKey) int {
			if a.kind != b.kind {
				return int(a.kind) - int(b.kind)
			}
			return strings.Compare(a.key, b.key)
		})
		var kinds []int16
		var ks []string
		var ats []time.Time
		for _, k := range keys {
			kinds, ks, ats = append(kinds, int16(k.kind)), append(ks, k.key), append(ats, d.pendDl[k].at)
		}
		b.Queue(d.s.q.upsertDeadlines, kinds, ks, ats)
	}
	return d.c.commit(&b)
}
