package storetest_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/storetest"
	"github.com/fotakit/fota/verboselog"
)

// TestRerun runs the suite against a store that runs every transaction
// function twice, as a database store retrying a serialization failure
// does: the first run is rolled back, the second counts. The suite's
// functions must take the same actions both times (they draw from rapid
// before the transaction, not inside it), so the store checks that the
// second run made the same calls with the same arguments as the first, up
// to the first call whose answer differs (another transaction committed in
// between), and fails the transaction when it did not.
func TestRerun(t *testing.T) {
	// Every transaction runs twice and is compared call by call: a few
	// rapid checks per property find a function that draws inside.
	if f := flag.Lookup("rapid.checks"); f != nil {
		if n, err := strconv.Atoi(f.Value.String()); err == nil && n > rerunChecks {
			if err := f.Value.Set(strconv.Itoa(rerunChecks)); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = f.Value.Set(strconv.Itoa(n)) })
		}
	}
	storetest.Run(t, func(*testing.T) fota.Store { return &rerunStore{inner: fota.NewMemoryStore()} })
}

// rerunChecks caps the rapid checks of each property under TestRerun.
const rerunChecks = 20

// errRerun rolls the first run back.
var errRerun = errors.New("storetest: first run, rolled back")

type rerunStore struct{ inner *fota.MemoryStore }

func (s *rerunStore) Update(ctx context.Context, fn func(fota.Tx) error) error {
	var first callLog
	var firstErr error
	if err := s.inner.Update(ctx, func(tx fota.Tx) error {
		firstErr = fn(&logTx{tx, &first})
		return errRerun
	}); !errors.Is(err, errRerun) {
		return err
	}
	return s.inner.Update(ctx, func(tx fota.Tx) error {
		var second callLog
		err := fn(&logTx{tx, &second})
		if d := diverged(first.end(firstErr), second.end(err)); d != "" {
			return errors.New(d)
		}
		return err
	})
}

func (s *rerunStore) View(ctx context.Context, fn func(fota.Tx) error) error {
	var first, second callLog
	firstErr := s.inner.View(ctx, func(tx fota.Tx) error { return fn(&logTx{tx, &first}) })
	err := s.inner.View(ctx, func(tx fota.Tx) error { return fn(&logTx{tx, &second}) })
	if d := diverged(first.end(firstErr), second.end(err)); d != "" {
		return errors.New(d)
	}
	return err
}

func (s *rerunStore) UpdateDevice(ctx context.Context, id string, fn func(fota.DeviceTx) error) error {
	var first callLog
	var firstErr error
	if err := s.inner.UpdateDevice(ctx, id, func(tx fota.DeviceTx) error {
		firstErr = fn(&logDeviceTx{tx, &first})
		return errRerun
	}); !errors.Is(err, errRerun) {
		return err
	}
	return s.inner.UpdateDevice(ctx, id, func(tx fota.DeviceTx) error {
		var second callLog
		err := fn(&logDeviceTx{tx, &second})
		if d := diverged(first.end(firstErr), second.end(err)); d != "" {
			return errors.New(d)
		}
		return err
	})
}

// call is one call a transaction function made and what it got, kept as
// values (formatting every call would cost more than the suite itself).
type call struct {
	name   string
	args   []any
	result []any
}

func (c call) String() string { return fmt.Sprintf("%s%+v", c.name, c.args) }

type callLog []call

func (l *callLog) add(name string, args ...any) *call {
	*l = append(*l, call{name: name, args: args})
	return &(*l)[len(*l)-1]
}

// end closes the log with what the function returned.
func (l callLog) end(err error) callLog {
	var msg any
	if err != nil {
		msg = err.Error()
	}
	return append(l, call{name: "return", args: []any{msg}})
}

// diverged describes where the second run took another action than the
// first although every answer before it was the same, or returns "".
func diverged(first, second callLog) string {
	for i := range min(len(first), len(second)) {
		a, b := first[i], second[i]
		if a.name != b.name || !reflect.DeepEqual(a.args, b.args) {
			return fmt.Sprintf("storetest rerun: call %d was %s in the first run, %s in the second, after the same answers", i, a, b)
		}
		if !reflect.DeepEqual(a.result, b.result) {
			return "" // the store changed in between: the runs may differ from here
		}
	}
	if len(first) != len(second) {
		return fmt.Sprintf("storetest rerun: %d calls in the first run, %d in the second, after the same answers", len(first), len(second))
	}
	return ""
}

// errText is an error as a comparable value.
func errText(err error) any {
	if err == nil {
		return nil
	}
	return err.Error()
}

// logTx logs every call and its answer.
type logTx struct {
	tx  fota.Tx
	log *callLog
}

func (l *logTx) Campaign(id string) (fota.Campaign, error) {
	c, err := l.tx.Campaign(id)
	l.log.add("Campaign", id).result = []any{c, errText(err)}
	return c, err
}

func (l *logTx) PutCampaign(c fota.Campaign) error {
	err := l.tx.PutCampaign(c)
	l.log.add("PutCampaign", c).result = []any{errText(err)}
	return err
}

func (l *logTx) Campaigns(account, afterID string, limit int) ([]fota.Campaign, error) {
	cs, err := l.tx.Campaigns(account, afterID, limit)
	l.log.add("Campaigns", account, afterID, limit).result = []any{cs, errText(err)}
	return cs, err
}

func (l *logTx) Member(campaignID, deviceID string) (fota.Member, error) {
	m, err := l.tx.Member(campaignID, deviceID)
	l.log.add("Member", campaignID, deviceID).result = []any{m, errText(err)}
	return m, err
}

func (l *logTx) PutMember(m fota.Member) error {
	err := l.tx.PutMember(m)
	l.log.add("PutMember", m).result = []any{errText(err)}
	return err
}

func (l *logTx) AddMembers(campaignID string, ms []fota.NewMember) error {
	err := l.tx.AddMembers(campaignID, ms)
	l.log.add("AddMembers", campaignID, slices.Clone(ms)).result = []any{errText(err)}
	return err
}

func (l *logTx) DeleteMember(campaignID, deviceID string) error {
	err := l.tx.DeleteMember(campaignID, deviceID)
	l.log.add("DeleteMember", campaignID, deviceID).result = []any{errText(err)}
	return err
}

func (l *logTx) Members(campaignID, after string, limit int) ([]fota.Member, error) {
	ms, err := l.tx.Members(campaignID, after, limit)
	l.log.add("Members", campaignID, after, limit).result = []any{ms, errText(err)}
	return ms, err
}

func (l *logTx) Counts(campaignID string) (fota.Counts, error) {
	c, err := l.tx.Counts(campaignID)
	l.log.add("Counts", campaignID).result = []any{c, errText(err)}
	return c, err
}

func (l *logTx) AnyMember(campaignID string, states fota.StateSet) (bool, error) {
	yes, err := l.tx.AnyMember(campaignID, states)
	l.log.add("AnyMember", campaignID, states).result = []any{yes, errText(err)}
	return yes, err
}

func (l *logTx) DeviceMembers(deviceID string) ([]fota.Member, error) {
	ms, err := l.tx.DeviceMembers(deviceID)
	l.log.add("DeviceMembers", deviceID).result = []any{ms, errText(err)}
	return ms, err
}

func (l *logTx) DueMembers(now time.Time, limit int) ([]fota.Member, error) {
	ms, err := l.tx.DueMembers(now, limit)
	l.log.add("DueMembers", now, limit).result = []any{ms, errText(err)}
	return ms, err
}

func (l *logTx) NextDue() (time.Time, bool, error) {
	at, ok, err := l.tx.NextDue()
	l.log.add("NextDue").result = []any{at, ok, errText(err)}
	return at, ok, err
}

func (l *logTx) ActiveCampaign(deviceID string) (string, error) {
	c, err := l.tx.ActiveCampaign(deviceID)
	l.log.add("ActiveCampaign", deviceID).result = []any{c, errText(err)}
	return c, err
}

func (l *logTx) SetActiveCampaign(deviceID, campaignID string) error {
	err := l.tx.SetActiveCampaign(deviceID, campaignID)
	l.log.add("SetActiveCampaign", deviceID, campaignID).result = []any{errText(err)}
	return err
}

func (l *logTx) Device(deviceID string) (fota.DeviceRecord, error) {
	d, err := l.tx.Device(deviceID)
	l.log.add("Device", deviceID).result = []any{d, errText(err)}
	return d, err
}

func (l *logTx) PutDevice(d fota.DeviceRecord) error {
	err := l.tx.PutDevice(d)
	l.log.add("PutDevice", d).result = []any{errText(err)}
	return err
}

func (l *logTx) DeviceRecords(account, afterID string, limit int) ([]fota.DeviceRecord, error) {
	ds, err := l.tx.DeviceRecords(account, afterID, limit)
	l.log.add("DeviceRecords", account, afterID, limit).result = []any{ds, errText(err)}
	return ds, err
}

func (l *logTx) AddCheckIn(c verboselog.CheckIn, keep int) error {
	err := l.tx.AddCheckIn(c, keep)
	l.log.add("AddCheckIn", c, keep).result = []any{errText(err)}
	return err
}

func (l *logTx) CheckIns(deviceID string, before time.Time, limit int) ([]verboselog.CheckIn, error) {
	cs, err := l.tx.CheckIns(deviceID, before, limit)
	l.log.add("CheckIns", deviceID, before, limit).result = []any{cs, errText(err)}
	return cs, err
}

func (l *logTx) PutDeadline(d fota.Deadline) error {
	err := l.tx.PutDeadline(d)
	l.log.add("PutDeadline", d).result = []any{errText(err)}
	return err
}

func (l *logTx) DeleteDeadline(kind fota.DeadlineKind, key string) error {
	err := l.tx.DeleteDeadline(kind, key)
	l.log.add("DeleteDeadline", kind, key).result = []any{errText(err)}
	return err
}

func (l *logTx) Due(now time.Time, limit int) ([]fota.Deadline, error) {
	ds, err := l.tx.Due(now, limit)
	l.log.add("Due", now, limit).result = []any{ds, errText(err)}
	return ds, err
}

func (l *logTx) NextDeadline() (time.Time, bool, error) {
	at, ok, err := l.tx.NextDeadline()
	l.log.add("NextDeadline").result = []any{at, ok, errText(err)}
	return at, ok, err
}

func (l *logTx) Gate(t pilot.Target) (pilot.Gate, error) {
	g, err := l.tx.Gate(t)
	l.log.add("Gate", t).result = []any{g, errText(err)}
	return g, err
}

func (l *logTx) PutGate(g pilot.Gate) error {
	err := l.tx.PutGate(g)
	l.log.add("PutGate", g).result = []any{errText(err)}
	return err
}

func (l *logTx) Session(deviceID string) (fota.LogSession, error) {
	s, err := l.tx.Session(deviceID)
	l.log.add("Session", deviceID).result = []any{s, errText(err)}
	return s, err
}

func (l *logTx) PutSession(s fota.LogSession) error {
	err := l.tx.PutSession(s)
	l.log.add("PutSession", s).result = []any{errText(err)}
	return err
}

func (l *logTx) Sessions(account string) ([]fota.LogSession, error) {
	ss, err := l.tx.Sessions(account)
	l.log.add("Sessions", account).result = []any{ss, errText(err)}
	return ss, err
}

func (l *logTx) AddBundle(b verboselog.Bundle) error {
	err := l.tx.AddBundle(b)
	l.log.add("AddBundle", b).result = []any{errText(err)}
	return err
}

func (l *logTx) Bundles(deviceID string) ([]verboselog.Bundle, error) {
	bs, err := l.tx.Bundles(deviceID)
	l.log.add("Bundles", deviceID).result = []any{bs, errText(err)}
	return bs, err
}

func (l *logTx) DeleteBundles(deviceID string, before time.Time) error {
	err := l.tx.DeleteBundles(deviceID, before)
	l.log.add("DeleteBundles", deviceID, before).result = []any{errText(err)}
	return err
}

func (l *logTx) NextSeq() (uint64, error) {
	n, err := l.tx.NextSeq()
	l.log.add("NextSeq").result = []any{n, errText(err)}
	return n, err
}

// logDeviceTx logs every call of a device transaction and its answer.
type logDeviceTx struct {
	tx  fota.DeviceTx
	log *callLog
}

func (l *logDeviceTx) DeviceID() string {
	id := l.tx.DeviceID()
	l.log.add("DeviceID").result = []any{id}
	return id
}

func (l *logDeviceTx) Known() (bool, error) {
	k, err := l.tx.Known()
	l.log.add("Known").result = []any{k, errText(err)}
	return k, err
}

func (l *logDeviceTx) ActiveCampaign() (string, error) {
	c, err := l.tx.ActiveCampaign()
	l.log.add("ActiveCampaign").result = []any{c, errText(err)}
	return c, err
}

func (l *logDeviceTx) Campaign(id string) (fota.Campaign, error) {
	c, err := l.tx.Campaign(id)
	l.log.add("Campaign", id).result = []any{c, errText(err)}
	return c, err
}

func (l *logDeviceTx) Member(campaignID string) (fota.Member, error) {
	m, err := l.tx.Member(campaignID)
	l.log.add("Member", campaignID).result = []any{m, errText(err)}
	return m, err
}

func (l *logDeviceTx) Device() (fota.DeviceRecord, error) {
	d, err := l.tx.Device()
	l.log.add("Device").result = []any{d, errText(err)}
	return d, err
}

func (l *logDeviceTx) Session() (fota.LogSession, error) {
	s, err := l.tx.Session()
	l.log.add("Session").result = []any{s, errText(err)}
	return s, err
}

func (l *logDeviceTx) Bundles() ([]verboselog.Bundle, error) {
	bs, err := l.tx.Bundles()
	l.log.add("Bundles").result = []any{bs, errText(err)}
	return bs, err
}

func (l *logDeviceTx) PutMember(m fota.Member) error {
	err := l.tx.PutMember(m)
	l.log.add("PutMember", m).result = []any{errText(err)}
	return err
}

func (l *logDeviceTx) SetActiveCampaign(campaignID string) error {
	err := l.tx.SetActiveCampaign(campaignID)
	l.log.add("SetActiveCampaign", campaignID).result = []any{errText(err)}
	return err
}

func (l *logDeviceTx) PutDevice(d fota.DeviceRecord) error {
	err := l.tx.PutDevice(d)
	l.log.add("PutDevice", d).result = []any{errText(err)}
	return err
}

func (l *logDeviceTx) PutSession(s fota.LogSession) error {
	err := l.tx.PutSession(s)
	l.log.add("PutSession", s).result = []any{errText(err)}
	return err
}

func (l *logDeviceTx) AddCheckIn(c verboselog.CheckIn, keep int) error {
	err := l.tx.AddCheckIn(c, keep)
	l.log.add("AddCheckIn", c, keep).result = []any{errText(err)}
	return err
}

func (l *logDeviceTx) AddBundle(b verboselog.Bundle) error {
	err := l.tx.AddBundle(b)
	l.log.add("AddBundle", b).result = []any{errText(err)}
	return err
}

func (l *logDeviceTx) DeleteBundles(before time.Time) error {
	err := l.tx.DeleteBundles(before)
	l.log.add("DeleteBundles", before).result = []any{errText(err)}
	return err
}

func (l *logDeviceTx) PutDeadline(d fota.Deadline) error {
	err := l.tx.PutDeadline(d)
	l.log.add("PutDeadline", d).result = []any{errText(err)}
	return err
}
