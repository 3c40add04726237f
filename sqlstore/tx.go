package sqlstore

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/verboselog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// tx is an Update's or a View's transaction seen as a fota.Tx.
//
// It keeps what it read (the snapshot does not move under SERIALIZABLE or
// REPEATABLE READ, so a record read once reads the same again) and holds
// back the writes of members, device rows and deadlines, which go to the
// database in bulk and in the lock order (campaign rows, then members in
// device-id order, then device rows, then deadlines) when the transaction
// commits, or before a read that needs them. Campaign rows, sessions,
// gates, check-ins and bundles are written at once.
type tx struct {
	s    *Store
	c    *pgtx
	ro   bool
	done bool
	// wrote says a statement that writes was sent, so the transaction
	// must commit; one that only read rolls back, which cannot fail.
	wrote bool

	camps map[string]*campState

	mems    map[memKey]memEntry // members as this transaction knows them
	pendMem map[memKey]bool     // members to write: true put, false delete

	devs    devCache
	pendDev map[string]bool // device rows to write (their values in devs)

	pendDl map[dlKey]dlEntry

	// added counts the members AddMembers wrote: a transaction that
	// filled a large campaign refreshes the planner's statistics before
	// it commits (see commit).
	added int
}

// analyzeAfter is how many members one transaction adds before it
// refreshes the statistics of members and devices: a campaign just filled
// is otherwise planned as if it were empty, and its pages are read by a
// bitmap scan and a sort of every remaining member instead of in index
// order.
const analyzeAfter = 10_000

type memKey struct{ c, d string }

type memEntry struct {
	found bool
	m     fota.Member
}

type dlKey struct {
	kind fota.DeadlineKind
	key  string
}

type dlEntry struct {
	put bool
	at  time.Time
}

// campState is what the transaction knows of one campaign.
type campState struct {
	known, exists bool
	rec           *fota.Campaign // as read; nil when unread or written since
	locked        bool           // this transaction holds its row lock
	created       bool           // inserted by this transaction: no member predates it
}

func newTx(s *Store, c *pgtx, ro bool) *tx {
	return &tx{s: s, c: c, ro: ro}
}

// close ends the Tx's use: later calls fail with ErrTxDone.
func (t *tx) close() { t.done = true }

// result is what the transaction function's run comes to: a database
// failure wins over whatever fn made of it, so that a serialization
// failure reaches the retry loop even when fn swallowed it.
func (t *tx) result(err error) error {
	if f := t.c.failed; f != nil {
		if _, retry := retryable(f); retry || err == nil {
			return f
		}
	}
	return err
}

func (t *tx) check() error {
	if t.done {
		return ErrTxDone
	}
	return t.c.failed
}

func (t *tx) write() error {
	if err := t.check(); err != nil {
		return err
	}
	if t.ro {
		return fota.ErrReadOnly
	}
	return nil
}

// commit sends the held-back writes and COMMIT in one round trip; a
// transaction that wrote nothing rolls back instead.
func (t *tx) commit() error {
	var b pgx.Batch
	t.queueMembers(&b, "")
	t.queueDevices(&b)
	t.queueDeadlines(&b)
	if t.added >= analyzeAfter {
		b.Queue(t.s.q.analyze)
	}
	if !t.wrote && b.Len() == 0 {
		return nil // the deferred rollback ends it
	}
	return t.c.commit(&b)
}

// flush sends held-back writes in one round trip, before a read that
// needs them: the members of campaign c ("" all), devices, deadlines.
func (t *tx) flush(members bool, campaign string, devices, deadlines bool) error {
	var b pgx.Batch
	if members {
		t.queueMembers(&b, campaign)
	}
	if devices {
		t.queueDevices(&b)
	}
	if deadlines {
		t.queueDeadlines(&b)
	}
	if b.Len() == 0 {
		return t.c.failed
	}
	t.wrote = true
	br, err := t.c.send(&b)
	if err != nil {
		return err
	}
	for range b.Len() {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return t.c.fail(err)
}

// queueMembers queues the held-back member writes of campaign c ("" all):
// first the lock of each campaign row not yet held, then the members in
// device-id order.
func (t *tx) queueMembers(b *pgx.Batch, campaign string) {
	if len(t.pendMem) == 0 {
		return
	}
	keys := make([]memKey, 0, len(t.pendMem))
	for k := range t.pendMem {
		if campaign == "" || k.c == campaign {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	slices.SortFunc(keys, func(a, b memKey) int {
		if c := strings.Compare(a.d, b.d); c != 0 {
			return c
		}
		return strings.Compare(a.c, b.c)
	})
	var lock []string
	for _, k := range keys {
		if cs := t.camp(k.c); !cs.locked {
			cs.locked = true
			lock = append(lock, k.c)
		}
	}
	if len(lock) > 0 {
		b.Queue(t.s.q.lockCampaigns, lock)
	}
	var up memberArrays
	var delC, delD []string
	for _, k := range keys {
		if t.pendMem[k] {
			up.add(t.mems[k].m)
		} else {
			delC, delD = append(delC, k.c), append(delD, k.d)
		}
		delete(t.pendMem, k)
	}
	if len(up.c) > 0 {
		b.Queue(t.s.q.upsertMembers, up.args()...)
	}
	if len(delC) > 0 {
		b.Queue(t.s.q.deleteMembers, delC, delD)
	}
}

// memberArrays are members as column arrays, for unnest.
type memberArrays struct {
	c, d              []string
	st, r, pp, pa, pf []int16
	pm, pr            []int32
	u                 []time.Time
	du                []pgtype.Timestamptz
	l                 []int64
}

func (a *memberArrays) add(m fota.Member) {
	a.c, a.d = append(a.c, m.CampaignID), append(a.d, m.DeviceID)
	a.st, a.r = append(a.st, int16(m.State)), append(a.r, int16(m.Reason))
	a.u = append(a.u, m.UpdatedAt)
	a.pp, a.pa, a.pf = append(a.pp, int16(m.Push.Protocol)), append(a.pa, int16(m.Push.Attempt)), append(a.pf, pushFlags(m.Push))
	a.pm, a.pr = append(a.pm, int32(m.Push.Machine)), append(a.pr, int32(m.Push.Result))
	a.du = append(a.du, pgtype.Timestamptz{Time: m.Push.DueAt, Valid: !m.Push.DueAt.IsZero()})
	a.l = append(a.l, int64(m.Push.Lease))
}

func (a *memberArrays) args() []any {
	return []any{a.c, a.d, a.st, a.r, a.u, a.pp, a.pa, a.pf, a.pm, a.pr, a.du, a.l}
}

// queueDevices queues the held-back device rows, in id order.
func (t *tx) queueDevices(b *pgx.Batch) {
	if len(t.pendDev) == 0 {
		return
	}
	ids := make([]string, 0, len(t.pendDev))
	for id := range t.pendDev {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var (
		active, account, last []string
		recorded, ever        []bool
		license               []int16
		licensedAt            []pgtype.Timestamptz
	)
	for _, id := range ids {
		d := t.devs.rows[id]
		active, account, last = append(active, d.active), append(account, d.rec.Account), append(last, d.rec.LastCampaign)
		recorded, ever = append(recorded, d.recorded), append(ever, d.rec.EverUpgraded)
		license = append(license, int16(d.rec.License))
		licensedAt = append(licensedAt, pgtype.Timestamptz{Time: d.rec.LicensedAt, Valid: !d.rec.LicensedAt.IsZero()})
	}
	clear(t.pendDev)
	b.Queue(t.s.q.upsertDevices, ids, active, recorded, account, license, licensedAt, ever, last)
}

// queueDeadlines queues the held-back deadline writes, in key order.
func (t *tx) queueDeadlines(b *pgx.Batch) {
	if len(t.pendDl) == 0 {
		return
	}
	keys := make([]dlKey, 0, len(t.pendDl))
	for k := range t.pendDl {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b dlKey) int {
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		return strings.Compare(a.key, b.key)
	})
	var pk, dk []int16
	var pKey, dKey []string
	var at []time.Time
	for _, k := range keys {
		if e := t.pendDl[k]; e.put {
			pk, pKey, at = append(pk, int16(k.kind)), append(pKey, k.key), append(at, e.at)
		} else {
			dk, dKey = append(dk, int16(k.kind)), append(dKey, k.key)
		}
	}
	clear(t.pendDl)
	if len(pk) > 0 {
		b.Queue(t.s.q.upsertDeadlines, pk, pKey, at)
	}
	if len(dk) > 0 {
		b.Queue(t.s.q.deleteDeadlines, dk, dKey)
	}
}

// camp returns what the transaction knows of campaign id.
func (t *tx) camp(id string) *campState {
	if t.camps == nil {
		t.camps = make(map[string]*campState)
	}
	cs := t.camps[id]
	if cs == nil {
		cs = &campState{}
		t.camps[id] = cs
	}
	return cs
}

// campaignExists reports whether campaign id exists, asking at most once.
func (t *tx) campaignExists(id string) (bool, error) {
	cs := t.camp(id)
	if cs.known {
		return cs.exists, nil
	}
	var ok bool
	err := t.c.query(t.s.q.campaignExists, []any{id}, func(r pgx.Rows) error { return r.Scan(&ok) })
	if err != nil {
		return false, err
	}
	cs.known, cs.exists = true, ok
	return ok, nil
}

// missingCampaign returns the NotFoundError of a missing campaign, nil
// for one that exists, or the error that looking met.
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

func (t *tx) Campaign(id string) (fota.Campaign, error) {
	if err := t.check(); err != nil {
		return fota.Campaign{}, err
	}
	cs := t.camp(id)
	if cs.known && !cs.exists {
		return fota.Campaign{}, &fota.NotFoundError{Kind: "campaign", ID: id}
	}
	if cs.rec != nil {
		c := *cs.rec
		c.Timing = cloneTiming(c.Timing) // the caller may change its window lists
		return c, nil
	}
	var c fota.Campaign
	found := false
	err := t.c.query(t.s.q.campaign, []any{id}, func(r pgx.Rows) error {
		var row campaignRow
		if err := r.Scan(row.dest()...); err != nil {
			return err
		}
		var err error
		c, err = row.campaign()
		found = true
		return err
	})
	if err != nil {
		return fota.Campaign{}, err
	}
	cs.known, cs.exists = true, found
	if !found {
		return fota.Campaign{}, &fota.NotFoundError{Kind: "campaign", ID: id}
	}
	kept := c
	kept.Timing = cloneTiming(c.Timing)
	cs.rec = &kept
	return c, nil
}

func (t *tx) PutCampaign(c fota.Campaign) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := checkCampaign(&c); err != nil {
		return err
	}
	cs := t.camp(c.ID)
	var inserted bool
	t.wrote = true
	if err := t.c.query(t.s.q.putCampaign, campaignArgs(&c), func(r pgx.Rows) error { return r.Scan(&inserted) }); err != nil {
		return err
	}
	if inserted && !(cs.known && cs.exists) {
		cs.created = true
	}
	cs.known, cs.exists, cs.locked, cs.rec = true, true, true, nil
	return nil
}

func (t *tx) Campaigns(account, afterID string, limit int) ([]fota.Campaign, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var out []fota.Campaign
	err := t.c.query(t.s.q.campaigns, []any{account, afterID, limitArg(limit)}, func(r pgx.Rows) error {
		var row campaignRow
		if err := r.Scan(row.dest()...); err != nil {
			return err
		}
		c, err := row.campaign()
		out = append(out, c)
		return err
	})
	return out, err
}

// member returns what the transaction knows of one member, reading it
// once.
func (t *tx) member(campaignID, deviceID string) (memEntry, error) {
	k := memKey{campaignID, deviceID}
	if e, ok := t.mems[k]; ok {
		return e, nil
	}
	var row memberRow
	found := false
	err := t.c.query(t.s.q.member, []any{campaignID, deviceID}, func(r pgx.Rows) error {
		found = true
		return r.Scan(row.dest()...)
	})
	if err != nil {
		return memEntry{}, err
	}
	e := memEntry{found: found}
	if found {
		if e.m, err = row.member(campaignID, deviceID); err != nil {
			return memEntry{}, t.c.fail(err)
		}
	}
	t.remember(k, e)
	return e, nil
}

func (t *tx) remember(k memKey, e memEntry) {
	if t.mems == nil {
		t.mems = make(map[memKey]memEntry)
	}
	t.mems[k] = e
}

func (t *tx) Member(campaignID, deviceID string) (fota.Member, error) {
	if err := t.check(); err != nil {
		return fota.Member{}, err
	}
	e, err := t.member(campaignID, deviceID)
	if err != nil {
		return fota.Member{}, err
	}
	if !e.found {
		if err := t.missingCampaign(campaignID); err != nil {
			return fota.Member{}, err
		}
		return fota.Member{}, &fota.NotFoundError{Kind: "device", ID: deviceID, Campaign: campaignID}
	}
	return e.m, nil
}

func (t *tx) PutMember(m fota.Member) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := checkMember(&m); err != nil {
		return err
	}
	if err := t.missingCampaign(m.CampaignID); err != nil {
		return err
	}
	t.hold(normMember(m))
	return nil
}

// hold keeps a member write back until the transaction commits.
func (t *tx) hold(m fota.Member) {
	k := memKey{m.CampaignID, m.DeviceID}
	t.remember(k, memEntry{found: true, m: m})
	if t.pendMem == nil {
		t.pendMem = make(map[memKey]bool)
	}
	t.pendMem[k] = true
}

func (t *tx) DeleteMember(campaignID, deviceID string) error {
	if err := t.write(); err != nil {
		return err
	}
	if _, err := t.Member(campaignID, deviceID); err != nil {
		return err
	}
	k := memKey{campaignID, deviceID}
	t.remember(k, memEntry{})
	if t.pendMem == nil {
		t.pendMem = make(map[memKey]bool)
	}
	t.pendMem[k] = false
	return nil
}

// AddMembers checks that none of the members is in the campaign (for a
// campaign this transaction created, from what it wrote; else with one
// query), then writes them at once with COPY, after the campaign's row
// lock.
func (t *tx) AddMembers(campaignID string, ms []fota.NewMember) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := t.missingCampaign(campaignID); err != nil {
		return err
	}
	dup := func(id string) error {
		return &fota.RequestError{Field: "deviceList", Value: id, Reason: "already in campaign " + campaignID}
	}
	seen := make(map[string]struct{}, len(ms))
	var ask []string
	cs := t.camp(campaignID)
	for i := range ms {
		m := &ms[i].Member
		m.CampaignID = campaignID
		if err := checkMember(m); err != nil {
			return err
		}
		if _, ok := seen[m.DeviceID]; ok {
			return dup(m.DeviceID)
		}
		seen[m.DeviceID] = struct{}{}
		if e, ok := t.mems[memKey{campaignID, m.DeviceID}]; ok {
			if e.found {
				return dup(m.DeviceID)
			}
			continue
		}
		if !cs.created {
			ask = append(ask, m.DeviceID)
		}
	}
	if len(ask) > 0 {
		there := map[string]bool{}
		err := t.c.query(t.s.q.existingMembers, []any{campaignID, ask}, func(r pgx.Rows) error {
			var id string
			err := r.Scan(&id)
			there[id] = true
			return err
		})
		if err != nil {
			return err
		}
		for _, nm := range ms {
			if there[nm.DeviceID] {
				return dup(nm.DeviceID)
			}
		}
	}
	// Members held back for this campaign go first, after its lock.
	if err := t.flush(true, campaignID, false, false); err != nil {
		return err
	}
	if !cs.locked {
		t.wrote = true
		if err := t.c.query(t.s.q.lockCampaigns, []any{[]string{campaignID}}, func(pgx.Rows) error { return nil }); err != nil {
			return err
		}
		cs.locked = true
	}
	sorted := slices.Clone(ms)
	slices.SortFunc(sorted, func(a, b fota.NewMember) int { return strings.Compare(a.DeviceID, b.DeviceID) })
	rows := make([][]any, len(sorted))
	for i := range sorted {
		m := normMember(sorted[i].Member)
		p := m.Push
		rows[i] = []any{m.CampaignID, m.DeviceID, int16(m.State), int16(m.Reason), m.UpdatedAt, int16(p.Protocol),
			int16(p.Attempt), pushFlags(p), int32(p.Machine), int32(p.Result), optTime(p.DueAt), int64(p.Lease)}
	}
	if err := t.c.ensureBegun(); err != nil {
		return err
	}
	t.wrote = true
	_, err := t.c.conn.CopyFrom(t.c.ctx, pgx.Identifier{t.s.schema, "members"},
		[]string{"campaign_id", "device_id", "state", "reason", "updated_at", "push_protocol", "push_attempt",
			"push_flags", "push_machine", "push_result", "due_at", "lease"}, pgx.CopyFromRows(rows))
	if err != nil {
		return t.c.fail(err)
	}
	t.added += len(sorted)
	for _, nm := range sorted {
		m := normMember(nm.Member)
		t.remember(memKey{campaignID, m.DeviceID}, memEntry{found: true, m: m})
		if nm.Hold {
			if err := t.SetActiveCampaign(m.DeviceID, campaignID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *tx) Members(campaignID, afterDeviceID string, limit int) ([]fota.Member, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := t.flush(true, campaignID, false, false); err != nil {
		return nil, err
	}
	var out []fota.Member
	if t.ro {
		// A View releases no device: the members alone.
		err := t.c.query(t.s.q.membersPlain, []any{campaignID, afterDeviceID, limitArg(limit)}, func(r pgx.Rows) error {
			var id string
			var mr memberRow
			if err := r.Scan(append([]any{&id}, mr.dest()...)...); err != nil {
				return err
			}
			m, err := mr.member(campaignID, id)
			out = append(out, m)
			return err
		})
		if err == nil && len(out) == 0 {
			err = t.missingCampaign(campaignID)
		}
		return out, err
	}
	err := t.c.query(t.s.q.members, []any{campaignID, afterDeviceID, limitArg(limit)}, func(r pgx.Rows) error {
		var id string
		var mr memberRow
		var ds devScan
		var hasDev bool
		dest := append([]any{&id}, mr.dest()...)
		dest = append(dest, &hasDev)
		if err := r.Scan(append(dest, ds.dest()...)...); err != nil {
			return err
		}
		m, err := mr.member(campaignID, id)
		if err != nil {
			return err
		}
		out = append(out, m)
		t.remember(memKey{campaignID, id}, memEntry{found: true, m: m})
		if _, ok := t.devs.rows[id]; !ok {
			row := devRow{}
			if hasDev {
				if row, err = ds.row(id); err != nil {
					return err
				}
			}
			t.devs.put(id, row)
		}
		return nil
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

// Counts is derived: a GROUP BY over the campaign's entries in the
// (campaign_id, state) index, an index-only scan. No count is stored.
func (t *tx) Counts(campaignID string) (fota.Counts, error) {
	if err := t.check(); err != nil {
		return fota.Counts{}, err
	}
	if err := t.flush(true, campaignID, false, false); err != nil {
		return fota.Counts{}, err
	}
	var c fota.Counts
	seen := false
	err := t.c.query(t.s.q.counts, []any{campaignID}, func(r pgx.Rows) error {
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

// AnyMember probes the (campaign_id, state) index once per state in the
// set: it never counts members.
func (t *tx) AnyMember(campaignID string, states fota.StateSet) (bool, error) {
	if err := t.check(); err != nil {
		return false, err
	}
	if err := t.flush(true, campaignID, false, false); err != nil {
		return false, err
	}
	var list []int16
	for s := range 32 {
		if states&(1<<s) != 0 {
			list = append(list, int16(s))
		}
	}
	var exists, found bool
	if err := t.c.query(t.s.q.anyMember, []any{campaignID, list}, func(r pgx.Rows) error { return r.Scan(&exists, &found) }); err != nil {
		return false, err
	}
	cs := t.camp(campaignID)
	cs.known, cs.exists = true, exists
	if !exists {
		return false, &fota.NotFoundError{Kind: "campaign", ID: campaignID}
	}
	return found, nil
}

func (t *tx) DeviceMembers(deviceID string) ([]fota.Member, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := t.flush(true, "", false, false); err != nil {
		return nil, err
	}
	var out []fota.Member
	err := t.c.query(t.s.q.deviceMembers, []any{deviceID}, func(r pgx.Rows) error {
		var cid string
		var mr memberRow
		if err := r.Scan(append([]any{&cid}, mr.dest()...)...); err != nil {
			return err
		}
		m, err := mr.member(cid, deviceID)
		out = append(out, m)
		return err
	})
	return out, err
}

// DueMembers locks the members it returns and skips those another
// transaction holds (FOR NO KEY UPDATE SKIP LOCKED over the due_at
// index).
func (t *tx) DueMembers(now time.Time, limit int) ([]fota.Member, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := t.flush(true, "", false, false); err != nil {
		return nil, err
	}
	var out []fota.Member
	err := t.c.query(t.s.q.dueMembers, []any{now, limitArg(limit)}, func(r pgx.Rows) error {
		var cid, did string
		var mr memberRow
		if err := r.Scan(append([]any{&cid, &did}, mr.dest()...)...); err != nil {
			return err
		}
		m, err := mr.member(cid, did)
		out = append(out, m)
		t.remember(memKey{cid, did}, memEntry{found: true, m: m})
		return err
	})
	return out, err
}

func (t *tx) NextDue() (time.Time, bool, error) {
	if err := t.check(); err != nil {
		return time.Time{}, false, err
	}
	if err := t.flush(true, "", false, false); err != nil {
		return time.Time{}, false, err
	}
	var at time.Time
	found := false
	err := t.c.query(t.s.q.nextDue, nil, func(r pgx.Rows) error { found = true; return r.Scan(&at) })
	if err != nil || !found {
		return time.Time{}, false, err
	}
	return at.UTC(), true, nil
}

// devRow returns the device's row as this transaction knows it, reading
// ahead in id order (see devCache).
func (t *tx) devRow(id string) (devRow, error) {
	if d, ok := t.devs.get(id); ok {
		return d, nil
	}
	n := t.devs.nextRead()
	var ids []string
	var rows []devRow
	err := t.c.query(t.s.q.devicesFrom, []any{id, n}, func(r pgx.Rows) error {
		var did string
		var ds devScan
		if err := r.Scan(append([]any{&did}, ds.dest()...)...); err != nil {
			return err
		}
		d, err := ds.row(did)
		ids, rows = append(ids, did), append(rows, d)
		return err
	})
	if err != nil {
		return devRow{}, err
	}
	t.devs.learn(id, ids, rows, len(ids) < n)
	d, _ := t.devs.get(id)
	return d, nil
}

func (t *tx) ActiveCampaign(deviceID string) (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	d, err := t.devRow(deviceID)
	return d.active, err
}

func (t *tx) SetActiveCampaign(deviceID, campaignID string) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := checkAll(checkText("deviceId", deviceID, maxKeyText), checkText("campaignId", campaignID, maxKeyText)); err != nil {
		return err
	}
	d, err := t.devRow(deviceID)
	if err != nil {
		return err
	}
	if !d.exists && campaignID == "" {
		return nil // releasing a device never seen creates no row
	}
	d.exists, d.active = true, campaignID
	t.holdDevice(deviceID, d)
	return nil
}

func (t *tx) holdDevice(id string, d devRow) {
	t.devs.put(id, d)
	if t.pendDev == nil {
		t.pendDev = make(map[string]bool)
	}
	t.pendDev[id] = true
}

func (t *tx) Device(deviceID string) (fota.DeviceRecord, error) {
	if err := t.check(); err != nil {
		return fota.DeviceRecord{DeviceID: deviceID}, err
	}
	d, err := t.devRow(deviceID)
	if err != nil {
		return fota.DeviceRecord{DeviceID: deviceID}, err
	}
	return d.record(deviceID), nil
}

func (t *tx) PutDevice(rec fota.DeviceRecord) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := checkDevice(&rec); err != nil {
		return err
	}
	d, err := t.devRow(rec.DeviceID)
	if err != nil {
		return err
	}
	rec.LicensedAt = microUTC(rec.LicensedAt)
	d.exists, d.recorded, d.rec = true, true, rec
	t.holdDevice(rec.DeviceID, d)
	return nil
}

func (t *tx) DeviceRecords(account, afterID string, limit int) ([]fota.DeviceRecord, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := t.flush(false, "", true, false); err != nil {
		return nil, err
	}
	var out []fota.DeviceRecord
	err := t.c.query(t.s.q.deviceRecords, []any{account, afterID, limitArg(limit)}, func(r pgx.Rows) error {
		var id string
		var ds devScan
		if err := r.Scan(append([]any{&id}, ds.dest()...)...); err != nil {
			return err
		}
		d, err := ds.row(id)
		out = append(out, d.record(id))
		return err
	})
	return out, err
}

func (t *tx) AddCheckIn(c verboselog.CheckIn, keep int) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := checkCheckIn(&c); err != nil {
		return err
	}
	if keep <= 0 {
		return nil // as MemoryStore: a history of none keeps nothing
	}
	t.wrote = true
	_, err := t.c.exec(t.s.q.addCheckIn, checkInArgs(&c, keep)...)
	return err
}

func checkInArgs(c *verboselog.CheckIn, keep int) []any {
	return []any{c.DeviceID, c.TimeCompleted, int64(c.ClientType), c.Result, c.FailureType, int64(keep)}
}

func (t *tx) CheckIns(deviceID string, before time.Time, limit int) ([]verboselog.CheckIn, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return readCheckIns(t.c, t.s.q.checkIns, deviceID, before, limit)
}

func readCheckIns(c *pgtx, q, deviceID string, before time.Time, limit int) ([]verboselog.CheckIn, error) {
	var out []verboselog.CheckIn
	err := c.query(q, []any{deviceID, optTime(before), limitArg(limit)}, func(r pgx.Rows) error {
		ci := verboselog.CheckIn{DeviceID: deviceID}
		var ct int64
		if err := r.Scan(&ct, &ci.Result, &ci.FailureType, &ci.TimeCompleted); err != nil {
			return err
		}
		ci.ClientType, ci.TimeCompleted = verboselog.ClientType(ct), ci.TimeCompleted.UTC()
		out = append(out, ci)
		return nil
	})
	return out, err
}

func (t *tx) PutDeadline(d fota.Deadline) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := checkAll(checkText("deadline.Key", d.Key, maxKeyText), checkTime("deadline.At", d.At)); err != nil {
		return err
	}
	t.holdDeadline(dlKey{d.Kind, d.Key}, dlEntry{put: true, at: microUTC(d.At)})
	return nil
}

func (t *tx) holdDeadline(k dlKey, e dlEntry) {
	if t.pendDl == nil {
		t.pendDl = make(map[dlKey]dlEntry)
	}
	t.pendDl[k] = e
}

func (t *tx) DeleteDeadline(kind fota.DeadlineKind, key string) error {
	if err := t.write(); err != nil {
		return err
	}
	t.holdDeadline(dlKey{kind, key}, dlEntry{})
	return nil
}

// Due skips deadlines another transaction is applying (see the package
// doc).
func (t *tx) Due(now time.Time, limit int) ([]fota.Deadline, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := t.flush(false, "", false, true); err != nil {
		return nil, err
	}
	var out []fota.Deadline
	err := t.c.query(t.s.q.due, []any{now, limitArg(limit), t.s.lockClass}, func(r pgx.Rows) error {
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
	return out, err
}

func (t *tx) NextDeadline() (time.Time, bool, error) {
	if err := t.check(); err != nil {
		return time.Time{}, false, err
	}
	if err := t.flush(false, "", false, true); err != nil {
		return time.Time{}, false, err
	}
	var at time.Time
	found := false
	err := t.c.query(t.s.q.nextDeadline, nil, func(r pgx.Rows) error { found = true; return r.Scan(&at) })
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
	var lifted pgtype.Timestamptz
	found := false
	err := t.c.query(t.s.q.gate, []any{tg.Account, tg.SoftwareName, tg.SoftwareFrom, tg.SoftwareTo}, func(r pgx.Rows) error {
		found = true
		return r.Scan(&state, &pilots, &lifted)
	})
	if err != nil || !found {
		return pilot.Gate{Target: tg}, err
	}
	st, err := byteOf("gate state", state)
	if err != nil {
		return pilot.Gate{Target: tg}, t.c.fail(err)
	}
	g.State, g.Pilots, g.LiftedAt = pilot.State(st), int(pilots), fromOpt(lifted)
	return g, nil
}

func (t *tx) PutGate(g pilot.Gate) error {
	if err := t.write(); err != nil {
		return err
	}
	tg := g.Target
	if err := checkAll(checkText("gate.Account", tg.Account, maxKeyText), checkText("gate.SoftwareName", tg.SoftwareName, maxKeyText),
		checkText("gate.SoftwareFrom", tg.SoftwareFrom, maxKeyText), checkText("gate.SoftwareTo", tg.SoftwareTo, maxKeyText),
		checkTime("gate.LiftedAt", g.LiftedAt)); err != nil {
		return err
	}
	t.wrote = true
	_, err := t.c.exec(t.s.q.putGate, tg.Account, tg.SoftwareName, tg.SoftwareFrom, tg.SoftwareTo, int64(g.State), int64(g.Pilots), optTime(g.LiftedAt))
	return err
}

func (t *tx) Session(deviceID string) (fota.LogSession, error) {
	if err := t.check(); err != nil {
		return fota.LogSession{}, err
	}
	zero := fota.LogSession{Session: verboselog.Session{DeviceID: deviceID}}
	var s fota.LogSession
	found := false
	err := t.c.query(t.s.q.session, []any{deviceID}, func(r pgx.Rows) (err error) {
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
	if err := checkSession(&s); err != nil {
		return err
	}
	t.wrote = true
	_, err := t.c.exec(t.s.q.putSession, s.DeviceID, s.Account, int64(s.State),
		optTime(s.EnabledAt), optTime(s.CollectingAt), optTime(s.EndedAt))
	return err
}

func (t *tx) Sessions(account string) ([]fota.LogSession, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var out []fota.LogSession
	err := t.c.query(t.s.q.sessions, []any{account}, func(r pgx.Rows) error {
		var id string
		s, err := scanSession(r.Scan, &id)
		s.DeviceID = id
		out = append(out, s)
		return err
	})
	return out, err
}

func (t *tx) AddBundle(b verboselog.Bundle) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := checkBundle(&b); err != nil {
		return err
	}
	t.wrote = true
	_, err := t.c.exec(t.s.q.addBundle, bundleArgs(&b)...)
	return err
}

func bundleArgs(b *verboselog.Bundle) []any {
	return []any{b.DeviceID, b.LogTime, b.LogType, b.EventLog, b.BinaryLogFileBase64, b.BinaryLogFilename, b.UploadedAt}
}

func (t *tx) Bundles(deviceID string) ([]verboselog.Bundle, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return readBundles(t.c, t.s.q.bundles, deviceID)
}

func readBundles(c *pgtx, q, deviceID string) ([]verboselog.Bundle, error) {
	var out []verboselog.Bundle
	err := c.query(q, []any{deviceID}, func(r pgx.Rows) error {
		b := verboselog.Bundle{DeviceID: deviceID}
		if err := r.Scan(&b.LogTime, &b.LogType, &b.EventLog, &b.BinaryLogFileBase64, &b.BinaryLogFilename, &b.UploadedAt); err != nil {
			return err
		}
		b.LogTime, b.UploadedAt = b.LogTime.UTC(), b.UploadedAt.UTC()
		out = append(out, b)
		return nil
	})
	return out, err
}

func (t *tx) DeleteBundles(deviceID string, before time.Time) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := checkTime("before", before); err != nil {
		return err
	}
	t.wrote = true
	_, err := t.c.exec(t.s.q.deleteBundles, deviceID, before)
	return err
}

func (t *tx) NextSeq() (uint64, error) {
	if err := t.write(); err != nil {
		return 0, err
	}
	var v int64
	if err := t.c.query(t.s.q.nextSeq, []any{t.s.q.seqName}, func(r pgx.Rows) error { return r.Scan(&v) }); err != nil {
		return 0, err
	}
	return uint64(v), nil
}

// devCache holds the device rows a transaction read or wrote, and the
// ranges of ids it knows to have no row besides those. A miss reads the
// rows from the id on, in id order, up to a bound that doubles with every
// miss (1, 2, 4, ... 1,024): the rows found are kept, and the range from
// the id to the last row found (to the end, when fewer than the bound
// came back) is known. Scheduling a campaign reads every device of its
// list, and lists are mostly in id order, or of devices never seen: a
// campaign of 100,000 devices costs a few hundred reads, not 100,000.
type devCache struct {
	rows   map[string]devRow
	ranges []idRange // sorted by lo, disjoint
	misses int
}

// idRange is a range of ids [lo, hi] (hi "" with open: to the end) whose
// rows are all in the cache.
type idRange struct {
	lo, hi string
	open   bool
}

func (r idRange) has(id string) bool { return id >= r.lo && (r.open || id <= r.hi) }

func (c *devCache) put(id string, d devRow) {
	if c.rows == nil {
		c.rows = make(map[string]devRow)
	}
	c.rows[id] = d
}

func (c *devCache) get(id string) (devRow, bool) {
	if d, ok := c.rows[id]; ok {
		return d, true
	}
	i := sort.Search(len(c.ranges), func(i int) bool { return c.ranges[i].lo > id }) - 1
	if i >= 0 && c.ranges[i].has(id) {
		return devRow{}, true
	}
	return devRow{}, false
}

func (c *devCache) nextRead() int {
	n := 1 << min(c.misses, 10)
	c.misses++
	return n
}

// learn keeps the rows read from id on, and the range they cover.
func (c *devCache) learn(id string, ids []string, rows []devRow, toEnd bool) {
	for i, did := range ids {
		if _, ok := c.rows[did]; !ok { // what this transaction wrote wins
			c.put(did, rows[i])
		}
	}
	r := idRange{lo: id, open: toEnd}
	if !toEnd {
		r.hi = ids[len(ids)-1]
	}
	c.addRange(r)
}

// addRange merges r into the sorted ranges.
func (c *devCache) addRange(r idRange) {
	out := c.ranges[:0:0]
	for _, x := range c.ranges {
		if overlaps(x, r) {
			r = merge(x, r)
		} else {
			out = append(out, x)
		}
	}
	i := sort.Search(len(out), func(i int) bool { return out[i].lo > r.lo })
	c.ranges = slices.Insert(out, i, r)
}

func overlaps(a, b idRange) bool {
	return (a.open || b.lo <= a.hi) && (b.open || a.lo <= b.hi)
}

func merge(a, b idRange) idRange {
	r := idRange{lo: min(a.lo, b.lo)}
	switch {
	case a.open || b.open:
		r.open = true
	default:
		r.hi = max(a.hi, b.hi)
	}
	return r
}
