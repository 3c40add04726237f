package fota_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
	"pgregory.net/rapid"
)

var errInjected = errors.New("injected store fault")

// faultStore fails the failAt-th call of the first transaction an
// operation runs (when armed). An operation's later transactions (the
// campaign follow-ups after a device operation, Tick's later batches) run
// without faults: the operation has committed by then.
type faultStore struct {
	fota.Store
	failAt int  // 0: no fault
	armed  bool // the next transaction is the operation's first
	active bool // faults apply to the running transaction
	calls  int
	fired  bool
}

// begin starts a transaction: the operation's first one takes the fault.
func (s *faultStore) begin() {
	s.calls, s.active, s.armed = 0, s.armed, false
}

func (s *faultStore) Update(ctx context.Context, fn func(fota.Tx) error) error {
	s.begin()
	return s.Store.Update(ctx, func(tx fota.Tx) error { s.calls = 0; return fn(&faultTx{tx, s}) })
}

func (s *faultStore) View(ctx context.Context, fn func(fota.Tx) error) error {
	return s.Store.View(ctx, fn)
}

type faultTx struct {
	fota.Tx
	s *faultStore
}

func (t *faultTx) fail() error {
	t.s.calls++
	if t.s.active && t.s.failAt > 0 && t.s.calls == t.s.failAt {
		t.s.fired = true
		return errInjected
	}
	return nil
}

func (t *faultTx) Campaign(id string) (fota.Campaign, error) {
	if err := t.fail(); err != nil {
		return fota.Campaign{}, err
	}
	return t.Tx.Campaign(id)
}
func (t *faultTx) PutCampaign(c fota.Campaign) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.PutCampaign(c)
}
func (t *faultTx) Member(c, d string) (fota.Member, error) {
	if err := t.fail(); err != nil {
		return fota.Member{}, err
	}
	return t.Tx.Member(c, d)
}
func (t *faultTx) PutMember(m fota.Member) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.PutMember(m)
}
func (t *faultTx) DeleteMember(c, d string) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.DeleteMember(c, d)
}
func (t *faultTx) Members(c, after string, limit int) ([]fota.Member, error) {
	if err := t.fail(); err != nil {
		return nil, err
	}
	return t.Tx.Members(c, after, limit)
}
func (t *faultTx) Counts(c string) (fota.Counts, error) {
	if err := t.fail(); err != nil {
		return fota.Counts{}, err
	}
	return t.Tx.Counts(c)
}
func (t *faultTx) ActiveCampaign(d string) (string, error) {
	if err := t.fail(); err != nil {
		return "", err
	}
	return t.Tx.ActiveCampaign(d)
}
func (t *faultTx) SetActiveCampaign(d, c string) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.SetActiveCampaign(d, c)
}
func (t *faultTx) Device(d string) (fota.DeviceRecord, error) {
	if err := t.fail(); err != nil {
		return fota.DeviceRecord{}, err
	}
	return t.Tx.Device(d)
}
func (t *faultTx) PutDevice(d fota.DeviceRecord) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.PutDevice(d)
}
func (t *faultTx) AddCheckIn(c verboselog.CheckIn, keep int) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.AddCheckIn(c, keep)
}
func (t *faultTx) PutDeadline(d fota.Deadline) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.PutDeadline(d)
}
func (t *faultTx) DeleteDeadline(k fota.DeadlineKind, key string) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.DeleteDeadline(k, key)
}
func (t *faultTx) Due(now time.Time, limit int) ([]fota.Deadline, error) {
	if err := t.fail(); err != nil {
		return nil, err
	}
	return t.Tx.Due(now, limit)
}
func (t *faultTx) Gate(g pilot.Target) (pilot.Gate, error) {
	if err := t.fail(); err != nil {
		return pilot.Gate{}, err
	}
	return t.Tx.Gate(g)
}
func (t *faultTx) PutGate(g pilot.Gate) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.PutGate(g)
}
func (t *faultTx) Session(d string) (fota.LogSession, error) {
	if err := t.fail(); err != nil {
		return fota.LogSession{}, err
	}
	return t.Tx.Session(d)
}
func (t *faultTx) PutSession(s fota.LogSession) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.PutSession(s)
}
func (t *faultTx) Sessions(a string) ([]fota.LogSession, error) {
	if err := t.fail(); err != nil {
		return nil, err
	}
	return t.Tx.Sessions(a)
}
func (t *faultTx) AddBundle(b verboselog.Bundle) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.AddBundle(b)
}
func (t *faultTx) Bundles(d string) ([]verboselog.Bundle, error) {
	if err := t.fail(); err != nil {
		return nil, err
	}
	return t.Tx.Bundles(d)
}
func (t *faultTx) DeleteBundles(d string, before time.Time) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.DeleteBundles(d, before)
}
func (t *faultTx) NextSeq() (uint64, error) {
	if err := t.fail(); err != nil {
		return 0, err
	}
	return t.Tx.NextSeq()
}

// dump reads everything the store holds about the test's universe.
func dump(t *rapid.T, s fota.Store, devices []string) string {
	var out string
	err := s.View(context.Background(), func(tx fota.Tx) error {
		cs, err := tx.Campaigns("acme", "", -1)
		if err != nil {
			return err
		}
		for _, c := range cs {
			counts, _ := tx.Counts(c.ID)
			ms, _ := tx.Members(c.ID, "", -1)
			out += fmt.Sprintf("campaign %+v\ncounts %v\nmembers %+v\n", c, counts, ms)
			g, _ := tx.Gate(c.Target)
			out += fmt.Sprintf("gate %+v\n", g)
		}
		for _, d := range devices {
			a, _ := tx.ActiveCampaign(d)
			rec, _ := tx.Device(d)
			h, _ := tx.CheckIns(d, time.Time{}, -1)
			ses, _ := tx.Session(d)
			b, _ := tx.Bundles(d)
			out += fmt.Sprintf("device %s active=%q rec=%+v history=%+v session=%+v bundles=%+v\n", d, a, rec, h, ses, b)
		}
		due, _ := tx.Due(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), -1)
		out += fmt.Sprintf("deadlines %+v\n", due)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFaultsChangeNothing drives two Managers with the same operations:
// one over a store that fails at a random point inside a transaction, one
// over a faultless store (the model). An operation that failed must leave
// its store exactly as before and tell the observer nothing; one that
// succeeded must leave both stores equal.
func TestFaultsChangeNothing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		clk := clock.NewMock()
		clk.Set(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		inv := fota.NewMemoryInventory()
		var devs []string
		for i := 1; i <= 6; i++ {
			id := imeiOf(fmt.Sprintf("d%d", i))
			devs = append(devs, id)
			inv.Put(fota.DeviceInfo{DeviceID: id, Account: "acme", Protocol: device.HTTP, Make: "Acme", Model: "Lamp",
				Software: "1.0", FOTACapable: true, ActiveConnected: true})
		}
		fs := &faultStore{Store: fota.NewMemoryStore()}
		ref := fota.NewMemoryStore()
		var seen []fota.Change
		newM := func(s fota.Store, obs fota.Observer) *fota.Manager {
			m, err := fota.New(fota.Config{Store: s, Inventory: inv, Clock: clk, Observer: obs,
				NewID: func(seq uint64) string { return fmt.Sprintf("c%d", seq) }})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		faulty := newM(fs, fota.ObserverFunc(func(c fota.Change) { seen = append(seen, c) }))
		model := newM(ref, nil)
		ctx := context.Background()
		campaigns := []string{"c1", "c2", "c3"}

		ops := []func(m *fota.Manager, pick func(string) int) error{
			func(m *fota.Manager, pick func(string) int) error {
				start := schedule.DateOf(clk.Now()).AddDays(pick("startIn") % 2)
				var list []string
				for i, d := range devs {
					if pick(fmt.Sprintf("dev%d", i))%2 == 0 {
						list = append(list, d)
					}
				}
				if len(list) == 0 {
					list = devs[:1]
				}
				_, err := m.Schedule(ctx, "acme", fota.CampaignRequest{SoftwareName: "fw", SoftwareFrom: "1.0", SoftwareTo: "2.0",
					Timing:     schedule.HTTPRequest{StartDate: start, EndDate: start.AddDays(1 + pick("days")%3)},
					DeviceList: list})
				return err
			},
			func(m *fota.Manager, pick func(string) int) error {
				_, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: devs[pick("device")%len(devs)]})
				return err
			},
			func(m *fota.Manager, pick func(string) int) error {
				_, err := m.Report(ctx, campaigns[pick("campaign")%3], devs[pick("device")%len(devs)], fota.Outcome(1+pick("outcome")%6))
				return err
			},
			func(m *fota.Manager, pick func(string) int) error {
				_, err := m.Delete(ctx, "acme", campaigns[pick("campaign")%3])
				return err
			},
			func(m *fota.Manager, pick func(string) int) error {
				_, err := m.AddDevices(ctx, "acme", campaigns[pick("campaign")%3], []string{devs[pick("device")%len(devs)]})
				return err
			},
			func(m *fota.Manager, pick func(string) int) error {
				_, err := m.RemoveDevices(ctx, "acme", campaigns[pick("campaign")%3], []string{devs[pick("device")%len(devs)]})
				return err
			},
			func(m *fota.Manager, pick func(string) int) error {
				_, err := m.Tick(ctx)
				return err
			},
			func(m *fota.Manager, pick func(string) int) error {
				_, err := m.EnableLogging(ctx, "acme", []string{devs[pick("device")%len(devs)]})
				return err
			},
			func(m *fota.Manager, pick func(string) int) error {
				return m.DisableLogging(ctx, "acme", []string{devs[pick("device")%len(devs)]})
			},
			func(m *fota.Manager, pick func(string) int) error {
				d := devs[pick("device")%len(devs)]
				return m.UploadLog(ctx, verboselog.Bundle{DeviceID: d, LogTime: clk.Now(), LogType: "Event", EventLog: "boot"})
			},
			func(m *fota.Manager, pick func(string) int) error {
				_, err := m.AssignLicenses(ctx, "acme", []string{devs[pick("device")%len(devs)]})
				return err
			},
			func(m *fota.Manager, pick func(string) int) error {
				_, err := m.RemoveLicenses(ctx, "acme", []string{devs[pick("device")%len(devs)]})
				return err
			},
		}
		for step := 0; step < 40; step++ {
			if rapid.Bool().Draw(t, "advance") {
				clk.Add(time.Duration(rapid.IntRange(1, 36).Draw(t, "hours")) * time.Hour)
			}
			k := rapid.IntRange(0, len(ops)-1).Draw(t, "op")
			// Draw the operation's choices once, so both Managers do the same.
			picks := map[string]int{}
			pick := func(name string) int {
				if v, ok := picks[name]; ok {
					return v
				}
				v := rapid.IntRange(0, 99).Draw(t, name)
				picks[name] = v
				return v
			}
			fs.failAt, fs.armed, fs.fired = rapid.IntRange(0, 25).Draw(t, "failAt"), true, false
			before := dump(t, fs, devs)
			seen = seen[:0]
			err := ops[k](faulty, pick)
			if fs.fired {
				if !errors.Is(err, errInjected) {
					t.Fatalf("op %d: injected fault swallowed: %v", k, err)
				}
				if after := dump(t, fs, devs); after != before {
					t.Fatalf("op %d failed but changed the store:\nbefore:\n%s\nafter:\n%s", k, before, after)
				}
				if len(seen) != 0 {
					t.Fatalf("op %d failed but the observer saw %d changes", k, len(seen))
				}
				continue
			}
			merr := ops[k](model, pick)
			if fmt.Sprint(err) != fmt.Sprint(merr) {
				t.Fatalf("op %d: faulty store said %v, model said %v", k, err, merr)
			}
			if err != nil && len(seen) != 0 {
				t.Fatalf("op %d failed (%v) but the observer saw %d changes", k, err, len(seen))
			}
			if a, b := dump(t, fs, devs), dump(t, ref, devs); a != b {
				t.Fatalf("op %d: stores differ:\nfaulty:\n%s\nmodel:\n%s", k, a, b)
			}
		}
	})
}

func (t *faultTx) AddMembers(c string, ms []fota.NewMember) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.Tx.AddMembers(c, ms)
}
func (t *faultTx) AnyMember(c string, states fota.StateSet) (bool, error) {
	if err := t.fail(); err != nil {
		return false, err
	}
	return t.Tx.AnyMember(c, states)
}
func (t *faultTx) DueMembers(now time.Time, limit int) ([]fota.Member, error) {
	if err := t.fail(); err != nil {
		return nil, err
	}
	return t.Tx.DueMembers(now, limit)
}
func (t *faultTx) NextDue() (time.Time, bool, error) {
	if err := t.fail(); err != nil {
		return time.Time{}, false, err
	}
	return t.Tx.NextDue()
}

// UpdateDevice fails the failAt-th call of a device transaction too.
func (s *faultStore) UpdateDevice(ctx context.Context, id string, fn func(fota.DeviceTx) error) error {
	s.begin()
	return s.Store.UpdateDevice(ctx, id, func(tx fota.DeviceTx) error { s.calls = 0; return fn(&faultDevTx{tx, s}) })
}

type faultDevTx struct {
	fota.DeviceTx
	s *faultStore
}

func (t *faultDevTx) fail() error { return (&faultTx{s: t.s}).fail() }

func (t *faultDevTx) Known() (bool, error) {
	if err := t.fail(); err != nil {
		return false, err
	}
	return t.DeviceTx.Known()
}
func (t *faultDevTx) ActiveCampaign() (string, error) {
	if err := t.fail(); err != nil {
		return "", err
	}
	return t.DeviceTx.ActiveCampaign()
}
func (t *faultDevTx) Campaign(id string) (fota.Campaign, error) {
	if err := t.fail(); err != nil {
		return fota.Campaign{}, err
	}
	return t.DeviceTx.Campaign(id)
}
func (t *faultDevTx) Member(c string) (fota.Member, error) {
	if err := t.fail(); err != nil {
		return fota.Member{}, err
	}
	return t.DeviceTx.Member(c)
}
func (t *faultDevTx) Device() (fota.DeviceRecord, error) {
	if err := t.fail(); err != nil {
		return fota.DeviceRecord{}, err
	}
	return t.DeviceTx.Device()
}
func (t *faultDevTx) Session() (fota.LogSession, error) {
	if err := t.fail(); err != nil {
		return fota.LogSession{}, err
	}
	return t.DeviceTx.Session()
}
func (t *faultDevTx) PutMember(m fota.Member) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.DeviceTx.PutMember(m)
}
func (t *faultDevTx) SetActiveCampaign(c string) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.DeviceTx.SetActiveCampaign(c)
}
func (t *faultDevTx) PutDevice(d fota.DeviceRecord) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.DeviceTx.PutDevice(d)
}
func (t *faultDevTx) PutSession(s fota.LogSession) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.DeviceTx.PutSession(s)
}
func (t *faultDevTx) AddCheckIn(c verboselog.CheckIn, keep int) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.DeviceTx.AddCheckIn(c, keep)
}
func (t *faultDevTx) PutDeadline(d fota.Deadline) error {
	if err := t.fail(); err != nil {
		return err
	}
	return t.DeviceTx.PutDeadline(d)
}

// failNth fails the nth Update it runs (counting from 1) before its
// function runs.
type failNth struct {
	fota.Store
	n, calls int
}

func (s *failNth) Update(ctx context.Context, fn func(fota.Tx) error) error {
	s.calls++
	if s.calls == s.n {
		return errInjected
	}
	return s.Store.Update(ctx, fn)
}

// Tick commits in batches: when one fails, the batches before it stay
// committed and the error says how many; the failed one changed nothing,
// and the next Tick carries on.
func TestTickBatches(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := &failNth{Store: fota.NewMemoryStore()}
	m, ids := fleet(t, 3, store, clk)
	var ended []string
	m2, err := fota.New(fota.Config{Store: store, Inventory: inventoryOf(ids), Clock: clk,
		Observer: fota.ObserverFunc(func(c fota.Change) {
			if c.Kind == fota.CampaignChanged && c.Campaign.String() == "CampaignEnded" {
				ended = append(ended, c.CampaignID)
			}
		})})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		r := onDemand(clk, []string{id})
		if _, err := m.Schedule(ctx, "acme", r); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(9 * 24 * time.Hour) // past every end
	store.calls, store.n = 0, 2 // the second batch fails
	_, err = m2.Tick(ctx)
	var te *fota.TickError
	if !errors.As(err, &te) || te.Committed != 1 || !errors.Is(err, errInjected) {
		t.Fatalf("Tick: %v, want a TickError after 1 committed batch", err)
	}
	if len(ended) != 1 {
		t.Fatalf("after the failed Tick the observer heard %d campaigns end, want 1: %v", len(ended), ended)
	}
	store.n = 0
	if _, err := m2.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ended) != 3 {
		t.Fatalf("after the next Tick %d campaigns ended, want 3: %v", len(ended), ended)
	}
}

func inventoryOf(ids []string) *fota.MemoryInventory {
	inv := fota.NewMemoryInventory()
	for _, id := range ids {
		inv.Put(fota.DeviceInfo{DeviceID: id, Account: "acme", Protocol: device.HTTP, Make: "Acme", Model: "Lamp",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	return inv
}
