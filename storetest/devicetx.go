package storetest

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/verboselog"
	"pgregory.net/rapid"
)

var deviceTxCases = []testCase{
	{"Model", testDeviceTxModel},
	{"Refusals", testDeviceTxRefusals},
	{"Concurrent", testDeviceTxConcurrent},
	{"Atomic", testDeviceTxAtomic},
}

// testDeviceTxConcurrent: device transactions on shared and distinct
// devices, some of which also move the device's member, run beside
// Updates and Views. Every check-in lands exactly once, every member move
// lands, and Views see whole transactions.
func testDeviceTxConcurrent(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	putCampaigns(t, s, "c1")
	devices := deviceIDs[:4]
	const workers, rounds = 8, 40
	at := func(w, r int) time.Time { return base.Add(time.Duration(w*rounds+r+1) * time.Microsecond) }
	// Every device is a member of c1 before the check-ins start.
	update(t, ctx, s, func(tx fota.Tx) error {
		for _, d := range devices {
			if err := tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: d, State: device.StateAccepted, UpdatedAt: base}); err != nil {
				return err
			}
			if err := tx.SetActiveCampaign(d, "c1"); err != nil {
				return err
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				d := devices[(w+r)%len(devices)]
				withMember := r%5 == 0
				err := s.UpdateDevice(ctx, d, func(tx fota.DeviceTx) error {
					if tx.DeviceID() != d {
						return fmt.Errorf("DeviceID() = %q, want %q", tx.DeviceID(), d)
					}
					if _, err := tx.ActiveCampaign(); err != nil {
						return err
					}
					if err := tx.AddCheckIn(verboselog.CheckIn{DeviceID: d, Result: "ok", TimeCompleted: at(w, r)}, 1_000_000); err != nil {
						return err
					}
					if !withMember {
						return nil
					}
					m, err := tx.Member("c1")
					if err != nil {
						return err
					}
					m.Push.Attempt++ // a counter: lost updates would show
					return tx.PutMember(m)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range rounds {
			err := s.View(ctx, func(tx fota.Tx) error {
				total, moves := 0, 0
				for _, d := range devices {
					h, err := tx.CheckIns(d, time.Time{}, page)
					if err != nil {
						return err
					}
					total += len(h)
					m, err := tx.Member("c1", d)
					if err != nil {
						return err
					}
					moves += int(m.Push.Attempt)
				}
				if moves*5 > total+4*workers {
					return fmt.Errorf("a View saw %d member moves beside only %d check-ins", moves, total)
				}
				return nil
			})
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	view(t, ctx, s, func(tx fota.Tx) error {
		total, moves := 0, 0
		for _, d := range devices {
			h, err := tx.CheckIns(d, time.Time{}, page)
			if err != nil {
				return err
			}
			total += len(h)
			m, err := tx.Member("c1", d)
			if err != nil {
				return err
			}
			moves += int(m.Push.Attempt)
		}
		if total != workers*rounds {
			t.Fatalf("%d check-ins landed, want %d", total, workers*rounds)
		}
		if moves != workers*rounds/5 {
			t.Fatalf("%d member moves landed, want %d", moves, workers*rounds/5)
		}
		return nil
	})
}

// testDeviceTxAtomic: a device transaction whose function fails writes
// nothing, however many writes it made first; one that succeeds writes
// them all; reads see the transaction's own writes.
func testDeviceTxAtomic(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	c1 := campaignIDs[0]
	putCampaigns(t, s, c1)
	d := deviceIDs[0]
	update(t, ctx, s, func(tx fota.Tx) error {
		return tx.PutMember(fota.Member{CampaignID: c1, DeviceID: d, State: device.StateAccepted, UpdatedAt: base})
	})
	before := readAll(t, ctx, s)
	boom := errors.New("boom")
	writes := func(tx fota.DeviceTx) error {
		m, err := tx.Member(c1)
		if err != nil {
			return err
		}
		m.State, m.UpdatedAt = device.StateDownloading, base.Add(time.Second)
		if err := tx.PutMember(m); err != nil {
			return err
		}
		if got, err := tx.Member(c1); err != nil || got.State != device.StateDownloading {
			return fmt.Errorf("the transaction does not see its own member write: %+v, %v", got, err)
		}
		if err := tx.SetActiveCampaign(c1); err != nil {
			return err
		}
		if a, err := tx.ActiveCampaign(); err != nil || a != c1 {
			return fmt.Errorf("the transaction does not see its own active campaign: %q, %v", a, err)
		}
		if err := tx.AddCheckIn(verboselog.CheckIn{DeviceID: d, Result: "ok", TimeCompleted: base}, 10); err != nil {
			return err
		}
		if err := tx.PutDevice(fota.DeviceRecord{DeviceID: d, Account: accounts[0], LastCampaign: c1}); err != nil {
			return err
		}
		if known, err := tx.Known(); err != nil || !known {
			return fmt.Errorf("Known() after writes = %v, %v", known, err)
		}
		return tx.PutDeadline(fota.Deadline{Kind: fota.DeadlineLogPurge, Key: d, At: base})
	}
	err := s.UpdateDevice(ctx, d, func(tx fota.DeviceTx) error {
		if err := writes(tx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateDevice returned %v, want the function's error", err)
	}
	if got := readAll(t, ctx, s); diff(got, before) != "" {
		t.Fatalf("a failed device transaction changed the store: %s", diff(got, before))
	}
	if err := s.UpdateDevice(ctx, d, writes); err != nil {
		t.Fatal(err)
	}
	view(t, ctx, s, func(tx fota.Tx) error {
		m, err := tx.Member(c1, d)
		if err != nil || m.State != device.StateDownloading {
			t.Fatalf("member after commit: %+v, %v", m, err)
		}
		if a, err := tx.ActiveCampaign(d); err != nil || a != c1 {
			t.Fatalf("active campaign after commit: %q, %v", a, err)
		}
		rec, err := tx.Device(d)
		if err != nil || rec.LastCampaign != c1 {
			t.Fatalf("device record after commit: %+v, %v", rec, err)
		}
		due, err := tx.Due(farFuture, page)
		if err != nil || len(due) != 1 {
			t.Fatalf("deadlines after commit: %+v, %v", due, err)
		}
		return nil
	})
}

// devOp is one write of a device transaction, to a store through apply
// and to the model through model.
type devOp struct {
	name  string
	apply func(fota.DeviceTx) error
	model func(*model)
}

// deviceWriteKinds names every kind of write a DeviceTx offers.
var deviceWriteKinds = []string{
	"PutMember", "SetActiveCampaign", "PutDevice", "PutSession", "AddCheckIn",
	"AddBundle", "DeleteBundles", "PutDeadline",
}

// genDeviceOp draws a write of device d's transaction valid against m
// (members only where d is one, active campaigns only existing ones).
func genDeviceOp(t *rapid.T, m *model, clk *clock, d string) devOp {
	kind := rapid.SampledFrom(deviceWriteKinds).Draw(t, "deviceWrite")
	mine := m.deviceMembers(d)
	if kind == "PutMember" && len(mine) == 0 {
		kind = "AddCheckIn"
	}
	switch kind {
	case "PutMember":
		mem := genMember(t, rapid.SampledFrom(mine).Draw(t, "member").CampaignID, d)
		return devOp{fmt.Sprintf("PutMember(%s, %s)", mem.CampaignID, mem.State), func(tx fota.DeviceTx) error { return tx.PutMember(mem) }, func(m *model) {
			m.members[mem.CampaignID][d] = mem
		}}
	case "SetActiveCampaign":
		c := rapid.SampledFrom(append([]string{""}, slices.Sorted(maps.Keys(m.campaigns))...)).Draw(t, "campaign")
		return devOp{fmt.Sprintf("SetActiveCampaign(%q)", c), func(tx fota.DeviceTx) error { return tx.SetActiveCampaign(c) }, func(m *model) {
			if c == "" {
				delete(m.active, d)
			} else {
				m.active[d] = c
			}
		}}
	case "PutDevice":
		r := genDevice(t, d)
		return devOp{"PutDevice", func(tx fota.DeviceTx) error { return tx.PutDevice(r) }, func(m *model) { m.devices[d] = r }}
	case "PutSession":
		ls := genSession(t, d)
		return devOp{"PutSession", func(tx fota.DeviceTx) error { return tx.PutSession(ls) }, func(m *model) { m.sessions[d] = ls }}
	case "AddCheckIn":
		c := genCheckIn(t, d, clk.next(t, "checkInAt"))
		keep := m.keep
		return devOp{"AddCheckIn", func(tx fota.DeviceTx) error { return tx.AddCheckIn(c, keep) }, func(m *model) {
			h := append(slices.Clone(m.checkIns[d]), c)
			m.checkIns[d] = h[max(0, len(h)-keep):]
		}}
	case "AddBundle":
		b := genBundle(t, d, clk.next(t, "uploadedAt"))
		return devOp{"AddBundle", func(tx fota.DeviceTx) error { return tx.AddBundle(b) }, func(m *model) {
			m.bundles[d] = append(slices.Clone(m.bundles[d]), b)
		}}
	case "DeleteBundles":
		o := deleteBundlesOp(t, m, clk, d)
		_, at, _ := strings.Cut(o.name, ", ")
		before, _ := time.Parse(time.RFC3339Nano, strings.TrimSuffix(at, ")"))
		return devOp{o.name, func(tx fota.DeviceTx) error { return tx.DeleteBundles(before) }, o.model}
	case "PutDeadline":
		dl := genDeadline(t)
		return devOp{fmt.Sprintf("PutDeadline(%s, %s)", dl.Kind, dl.Key), func(tx fota.DeviceTx) error { return tx.PutDeadline(dl) }, func(m *model) {
			m.deadlines[deadlineKey{dl.Kind, dl.Key}] = dl
		}}
	}
	panic("storetest: unknown device write " + kind)
}

// checkDevice compares what a device transaction reads of its device with
// want: whether it is known, its active campaign, its member records, the
// campaigns, its device record, session and bundles.
func checkDevice(tx fota.DeviceTx, want *model) error {
	d := tx.DeviceID()
	must, may := want.known(d)
	known, err := tx.Known()
	if err != nil {
		return err
	}
	if known && !may || !known && must {
		return fmt.Errorf("Known() = %v, want %v", known, must)
	}
	if a, err := tx.ActiveCampaign(); err != nil || a != want.active[d] {
		return fmt.Errorf("ActiveCampaign() = %q, %v; want %q", a, err, want.active[d])
	}
	for _, cid := range campaignIDs {
		c, err := tx.Campaign(cid)
		w, ok := want.campaigns[cid]
		switch {
		case !ok && !errors.Is(err, fota.ErrNotFound):
			return fmt.Errorf("Campaign(%s) of a missing campaign: %v, want not found", cid, err)
		case ok && err != nil:
			return fmt.Errorf("Campaign(%s): %w", cid, err)
		case ok && !reflect.DeepEqual(normCampaign(c), normCampaign(w)):
			return fmt.Errorf("Campaign(%s) = %+v, want %+v", cid, c, w)
		}
		if !ok {
			continue
		}
		mem, err := tx.Member(cid)
		wm, ok := want.members[cid][d]
		switch {
		case !ok && !errors.Is(err, fota.ErrNotFound):
			return fmt.Errorf("Member(%s) of a device not in it: %v, want not found", cid, err)
		case ok && err != nil:
			return fmt.Errorf("Member(%s): %w", cid, err)
		case ok && normMember(mem) != normMember(wm):
			return fmt.Errorf("Member(%s) = %+v, want %+v", cid, mem, wm)
		}
	}
	rec, err := tx.Device()
	wr, ok := want.devices[d]
	if !ok {
		wr = fota.DeviceRecord{DeviceID: d}
	}
	if err != nil || normDevice(rec) != normDevice(wr) {
		return fmt.Errorf("Device() = %+v, %v; want %+v", rec, err, wr)
	}
	ls, err := tx.Session()
	wl, ok := want.sessions[d]
	if !ok {
		wl = fota.LogSession{Session: verboselog.Session{DeviceID: d}}
	}
	if err != nil || normSession(ls) != normSession(wl) {
		return fmt.Errorf("Session() = %+v, %v; want %+v", ls, err, wl)
	}
	bs, err := tx.Bundles()
	if err != nil {
		return err
	}
	if g, w := normList(bs, normBundle), normList(want.bundles[d], normBundle); !reflect.DeepEqual(g, w) {
		return fmt.Errorf("Bundles() = %+v, want %+v", g, w)
	}
	return nil
}

// testDeviceTxModel checks device transactions against the model: random
// writes of every kind a DeviceTx offers, on one device at a time, beside
// Updates of everything; every read a DeviceTx offers, before and after
// each write, sees the transaction's own writes; a transaction that
// commits is visible to the next View whole, one whose function returns
// an error leaves the store exactly as it was and UpdateDevice returns
// that error.
func testDeviceTxModel(t *testing.T, h *harness) {
	ctx, _ := h.env(t)
	rapid.Check(t, func(rt *rapid.T) {
		s := h.newStore(t)
		m := newModel(rapid.IntRange(1, 4).Draw(rt, "keep"))
		clk := &clock{now: base}
		rt.Repeat(map[string]func(*rapid.T){
			"update": func(rt *rapid.T) {
				next := m.clone()
				var ops []op
				for range rapid.IntRange(1, 4).Draw(rt, "writes") {
					o := genOp(rt, next, clk)
					o.model(next)
					ops = append(ops, o)
				}
				update(rt, ctx, s, func(tx fota.Tx) error {
					for _, o := range ops {
						if err := o.apply(tx); err != nil {
							return fmt.Errorf("%s: %w", o.name, err)
						}
					}
					return nil
				})
				m = next
			},
			"device": func(rt *rapid.T) {
				d := rapid.SampledFrom(deviceIDs).Draw(rt, "device")
				commit := rapid.Bool().Draw(rt, "commit")
				checkFirst := rapid.Bool().Draw(rt, "checkFirst")
				next := m.clone()
				var ops []devOp
				var after []*model // the model after each op, when checked there
				for range rapid.IntRange(1, 5).Draw(rt, "writes") {
					o := genDeviceOp(rt, next, clk, d)
					o.model(next)
					ops = append(ops, o)
					var snap *model
					if rapid.Bool().Draw(rt, "checkAfter") {
						snap = next.clone()
					}
					after = append(after, snap)
				}
				names := make([]string, len(ops))
				for i, o := range ops {
					names[i] = o.name
				}
				err := s.UpdateDevice(ctx, d, func(tx fota.DeviceTx) error {
					if id := tx.DeviceID(); id != d {
						return fmt.Errorf("DeviceID() = %q, want %q", id, d)
					}
					if checkFirst {
						if err := checkDevice(tx, m); err != nil {
							return fmt.Errorf("before any write: %w", err)
						}
					}
					for i, o := range ops {
						if err := o.apply(tx); err != nil {
							return fmt.Errorf("%s: %w", o.name, err)
						}
						if after[i] != nil {
							if err := checkDevice(tx, after[i]); err != nil {
								return fmt.Errorf("after %s: %w", strings.Join(names[:i+1], ", "), err)
							}
						}
					}
					if !commit {
						return errAbort
					}
					return nil
				})
				switch {
				case commit && err != nil:
					rt.Fatalf("device %s committing %s: %v", d, strings.Join(names, ", "), err)
				case !commit && !errors.Is(err, errAbort):
					rt.Fatalf("UpdateDevice returned %v, want the function's error", err)
				case commit:
					m = next
				}
				where := fmt.Sprintf("after device %s committed %s", d, strings.Join(names, ", "))
				if !commit {
					where = fmt.Sprintf("after device %s rolled back %s", d, strings.Join(names, ", "))
				}
				view(rt, ctx, s, func(tx fota.Tx) error { return compare(where, tx, m, false) })
			},
		})
	})
}

// testDeviceTxRefusals: a device transaction refuses to write another
// device's records (fota.ErrBadRequest) and to put a member record that
// does not exist (fota.ErrNotFound); the transaction that saw the refusal
// changes nothing, its earlier writes included.
func testDeviceTxRefusals(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	c1, d1, d2 := campaignIDs[0], deviceIDs[0], deviceIDs[1]
	putCampaigns(t, s, c1, campaignIDs[1])
	update(t, ctx, s, func(tx fota.Tx) error {
		return tx.PutMember(fota.Member{CampaignID: c1, DeviceID: d2, State: device.StateAccepted, UpdatedAt: base})
	})
	before := readAll(t, ctx, s)
	for _, c := range []struct {
		name  string
		write func(fota.DeviceTx) error
		check func(tb, error)
	}{
		{"PutMember of another device", func(tx fota.DeviceTx) error {
			return tx.PutMember(fota.Member{CampaignID: c1, DeviceID: d2, State: device.StateDownloading, UpdatedAt: base})
		}, func(t tb, err error) { checkRequestError(t, err, d2) }},
		{"PutMember of a missing member", func(tx fota.DeviceTx) error {
			return tx.PutMember(fota.Member{CampaignID: c1, DeviceID: d1, State: device.StateDownloading, UpdatedAt: base})
		}, func(t tb, err error) { checkNotFound(t, err, "device", d1, c1) }},
		{"PutMember into a missing campaign", func(tx fota.DeviceTx) error {
			return tx.PutMember(fota.Member{CampaignID: "ghost", DeviceID: d1, State: device.StateDownloading, UpdatedAt: base})
		}, func(t tb, err error) {
			if !errors.Is(err, fota.ErrNotFound) {
				t.Fatalf("%v: want an error matching fota.ErrNotFound", err)
			}
		}},
		{"PutDevice of another device", func(tx fota.DeviceTx) error {
			return tx.PutDevice(fota.DeviceRecord{DeviceID: d2, Account: accounts[0]})
		}, func(t tb, err error) { checkRequestError(t, err, d2) }},
		{"PutSession of another device", func(tx fota.DeviceTx) error {
			return tx.PutSession(fota.LogSession{Account: accounts[0], Session: verboselog.Session{DeviceID: d2, State: verboselog.Enabled, EnabledAt: base}})
		}, func(t tb, err error) { checkRequestError(t, err, d2) }},
		{"AddCheckIn of another device", func(tx fota.DeviceTx) error {
			return tx.AddCheckIn(verboselog.CheckIn{DeviceID: d2, TimeCompleted: base}, 5)
		}, func(t tb, err error) { checkRequestError(t, err, d2) }},
		{"AddBundle of another device", func(tx fota.DeviceTx) error {
			return tx.AddBundle(verboselog.Bundle{DeviceID: d2, LogType: verboselog.LogTypes[0], UploadedAt: base})
		}, func(t tb, err error) { checkRequestError(t, err, d2) }},
	} {
		err := s.UpdateDevice(ctx, d1, func(tx fota.DeviceTx) error {
			if err := tx.AddCheckIn(verboselog.CheckIn{DeviceID: d1, Result: "ok", TimeCompleted: base}, 5); err != nil {
				return err
			}
			if err := tx.PutDevice(fota.DeviceRecord{DeviceID: d1, Account: accounts[0]}); err != nil {
				return err
			}
			return c.write(tx)
		})
		if err == nil {
			t.Fatalf("%s: accepted", c.name)
		}
		c.check(t, err)
		if d := diff(readAll(t, ctx, s), before); d != "" {
			t.Fatalf("%s: the refused transaction changed the store: %s", c.name, d)
		}
	}
}
