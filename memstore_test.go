package fota_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/storetest"
	"github.com/fotakit/fota/verboselog"
	"pgregory.net/rapid"
)

// TestMemoryStore runs the Store conformance suite against the in-memory
// reference store.
func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) fota.Store { return fota.NewMemoryStore() })
}

var memBase = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

// TestMemoryStoreAddsADeviceOnce: a transaction that looks a device up
// before it exists, looks up others, then adds it through another call,
// finds that device again when adding members in the order it looked them
// up (the store remembers recent lookups), and holds it once.
func TestMemoryStoreAddsADeviceOnce(t *testing.T) {
	ctx := context.Background()
	s := fota.NewMemoryStore()
	const a, b, c = "350000000000001", "350000000000002", "350000000000003"
	err := s.Update(ctx, func(tx fota.Tx) error {
		if err := tx.PutCampaign(fota.Campaign{ID: "c1", Account: "acme"}); err != nil {
			return err
		}
		if err := tx.SetActiveCampaign(a, "c1"); err != nil {
			return err
		}
		if err := tx.SetActiveCampaign(b, ""); err != nil { // looked up, not added
			return err
		}
		if err := tx.PutDevice(fota.DeviceRecord{DeviceID: c}); err != nil {
			return err
		}
		if err := tx.PutDevice(fota.DeviceRecord{DeviceID: b, Account: "acme"}); err != nil { // added now
			return err
		}
		return tx.AddMembers("c1", []fota.NewMember{
			{Member: fota.Member{CampaignID: "c1", DeviceID: a, State: device.StateAccepted, UpdatedAt: memBase}},
			{Member: fota.Member{CampaignID: "c1", DeviceID: b, State: device.StateAccepted, UpdatedAt: memBase}, Hold: true},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx fota.Tx) error {
		if _, err := tx.Member("c1", b); err != nil {
			return fmt.Errorf("member b: %w", err)
		}
		rec, err := tx.Device(b)
		if err != nil || rec.Account != "acme" {
			return fmt.Errorf("device b's record %+v, %v: b held twice", rec, err)
		}
		if act, err := tx.ActiveCampaign(b); err != nil || act != "c1" {
			return fmt.Errorf("device b held by %q, %v", act, err)
		}
		ds, err := tx.DeviceRecords("acme", "", 10)
		if err != nil || len(ds) != 1 || ds[0].DeviceID != b {
			return fmt.Errorf("acme's devices %+v, %v", ds, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMemoryStoreNewDevicesBesideOthers: device transactions that add
// devices the store does not hold (they stop the store) run beside device
// transactions of held devices and Updates; every check-in lands once.
func TestMemoryStoreNewDevicesBesideOthers(t *testing.T) {
	ctx := context.Background()
	s := fota.NewMemoryStore()
	const workers, rounds = 8, 50
	held := make([]string, workers)
	for i := range held {
		held[i] = fmt.Sprintf("held-%d", i)
	}
	if err := s.Update(ctx, func(tx fota.Tx) error {
		for _, id := range held {
			if err := tx.AddCheckIn(verboselog.CheckIn{DeviceID: id, TimeCompleted: memBase}, 1_000); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*2)
	at := func(w, r int) time.Time { return memBase.Add(time.Duration(w*rounds+r+1) * time.Microsecond) }
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for r := range rounds {
				id := fmt.Sprintf("new-%d-%d", w, r)
				if err := s.UpdateDevice(ctx, id, func(tx fota.DeviceTx) error {
					if known, err := tx.Known(); err != nil || known {
						return fmt.Errorf("%s known (%v) before its first check-in", id, err)
					}
					return tx.AddCheckIn(verboselog.CheckIn{DeviceID: id, TimeCompleted: at(w, r)}, 1_000)
				}); err != nil {
					errs <- err
					return
				}
				if err := s.UpdateDevice(ctx, held[(w+r)%workers], func(tx fota.DeviceTx) error {
					return tx.AddCheckIn(verboselog.CheckIn{DeviceID: tx.DeviceID(), TimeCompleted: at(w, r)}, 1_000)
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for r := range rounds {
				if err := s.Update(ctx, func(tx fota.Tx) error {
					_, err := tx.NextSeq()
					if err == nil && r%5 == 0 {
						_, err = tx.CheckIns(held[w], time.Time{}, 1)
					}
					return err
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx fota.Tx) error {
		total := 0
		for _, id := range held {
			cs, err := tx.CheckIns(id, time.Time{}, 10_000)
			if err != nil {
				return err
			}
			total += len(cs)
		}
		if total != workers+workers*rounds {
			return fmt.Errorf("%d check-ins of held devices, want %d", total, workers+workers*rounds)
		}
		for w := range workers {
			for r := range rounds {
				if cs, err := tx.CheckIns(fmt.Sprintf("new-%d-%d", w, r), time.Time{}, 10); err != nil || len(cs) != 1 {
					return fmt.Errorf("new device %d-%d: %d check-ins, %v", w, r, len(cs), err)
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryStoreLightUpdates: an Update that reads and writes campaign
// records, counts, gates and sequence numbers runs while a device
// transaction is under way; it does not stop device transactions. (Were it
// to wait for the device's shard, this test would deadlock and fail at its
// guard.)
func TestMemoryStoreLightUpdates(t *testing.T) {
	ctx := context.Background()
	s := fota.NewMemoryStore()
	const id = "350000000000001"
	if err := s.Update(ctx, func(tx fota.Tx) error {
		if err := tx.PutCampaign(fota.Campaign{ID: "c1", Account: "acme", Revision: 1}); err != nil {
			return err
		}
		return tx.AddMembers("c1", []fota.NewMember{{Member: fota.Member{CampaignID: "c1", DeviceID: id, State: device.StateAccepted, UpdatedAt: memBase}, Hold: true}})
	}); err != nil {
		t.Fatal(err)
	}
	inside, release := make(chan struct{}), make(chan struct{})
	deviceDone := make(chan error, 1)
	go func() {
		deviceDone <- s.UpdateDevice(ctx, id, func(tx fota.DeviceTx) error {
			m, err := tx.Member("c1")
			if err != nil {
				return err
			}
			close(inside)
			<-release
			m.State = device.StateDownloading
			return tx.PutMember(m)
		})
	}()
	<-inside
	updateDone := make(chan error, 1)
	go func() {
		updateDone <- s.Update(ctx, func(tx fota.Tx) error {
			c, err := tx.Campaign("c1")
			if err != nil {
				return err
			}
			if any, err := tx.AnyMember("c1", fota.States(device.StateAccepted)); err != nil || !any {
				return fmt.Errorf("AnyMember(accepted) = %v, %v", any, err)
			}
			if _, err := tx.Counts("c1"); err != nil {
				return err
			}
			if _, err := tx.NextSeq(); err != nil {
				return err
			}
			c.Revision++
			return tx.PutCampaign(c)
		})
	}()
	select {
	case err := <-updateDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("an Update of campaign records and counts waited for a device transaction")
	}
	close(release)
	if err := <-deviceDone; err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx fota.Tx) error {
		c, err := tx.Campaign("c1")
		if err != nil || c.Revision != 2 {
			return fmt.Errorf("campaign revision %d, %v", c.Revision, err)
		}
		n, err := tx.Counts("c1")
		if err != nil || n.Of(device.StateDownloading) != 1 || n.Total() != 1 {
			return fmt.Errorf("counts %v, %v", n, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryStoreRefusesBadStates: a member state the store cannot keep is
// refused with a request error naming it, in both kinds of transaction.
func TestMemoryStoreRefusesBadStates(t *testing.T) {
	ctx := context.Background()
	s := fota.NewMemoryStore()
	const id = "350000000000001"
	if err := s.Update(ctx, func(tx fota.Tx) error {
		if err := tx.PutCampaign(fota.Campaign{ID: "c1"}); err != nil {
			return err
		}
		return tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: id, State: device.StateAccepted})
	}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []device.State{0, 200} {
		var re *fota.RequestError
		err := s.Update(ctx, func(tx fota.Tx) error {
			return tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: id, State: st})
		})
		if !errors.As(err, &re) || re.Field != "state" {
			t.Errorf("Update with state %d: %v, want a RequestError naming the state", st, err)
		}
		err = s.UpdateDevice(ctx, id, func(tx fota.DeviceTx) error {
			return tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: id, State: st})
		})
		if !errors.As(err, &re) || re.Field != "state" {
			t.Errorf("UpdateDevice with state %d: %v, want a RequestError naming the state", st, err)
		}
	}
}

// TestMemoryStoreHistoryRings: a device's history keeps the newest keep
// check-ins whatever keep each call passes (rings grow, move and shrink
// with it), through Updates and device transactions, committed or rolled
// back, beside another device's history in the same shard's slab.
func TestMemoryStoreHistoryRings(t *testing.T) {
	ctx := context.Background()
	rapid.Check(t, func(rt *rapid.T) {
		s := fota.NewMemoryStore()
		devices := []string{"350000000000001", "350000000000002", "D-1"}
		model := map[string][]time.Time{} // oldest first
		at := memBase
		rt.Repeat(map[string]func(*rapid.T){
			"add": func(rt *rapid.T) {
				id := rapid.SampledFrom(devices).Draw(rt, "device")
				n := rapid.IntRange(1, 40).Draw(rt, "checkIns")
				keep := rapid.SampledFrom([]int{1, 2, 3, 5, 17, 40, 100}).Draw(rt, "keep")
				commit := rapid.Bool().Draw(rt, "commit")
				viaDevice := rapid.Bool().Draw(rt, "viaDevice")
				var cs []verboselog.CheckIn
				h := model[id]
				for range n {
					at = at.Add(time.Second)
					cs = append(cs, verboselog.CheckIn{DeviceID: id, Result: "ok", TimeCompleted: at})
					h = append(h, at)
					h = h[max(0, len(h)-keep):]
				}
				add := func(add func(verboselog.CheckIn, int) error) error {
					for _, c := range cs {
						if err := add(c, keep); err != nil {
							return err
						}
					}
					if !commit {
						return errors.New("roll back")
					}
					return nil
				}
				var err error
				if viaDevice {
					err = s.UpdateDevice(ctx, id, func(tx fota.DeviceTx) error { return add(tx.AddCheckIn) })
				} else {
					err = s.Update(ctx, func(tx fota.Tx) error { return add(tx.AddCheckIn) })
				}
				if commit != (err == nil) {
					rt.Fatalf("commit %v: %v", commit, err)
				}
				if commit {
					model[id] = slices.Clone(h)
				}
			},
			"": func(rt *rapid.T) {
				if err := s.View(ctx, func(tx fota.Tx) error {
					for _, id := range devices {
						got, err := tx.CheckIns(id, time.Time{}, 1_000)
						if err != nil {
							return err
						}
						want := model[id]
						if len(got) != len(want) {
							return fmt.Errorf("%s: %d check-ins, want %d", id, len(got), len(want))
						}
						for i, c := range got {
							if w := want[len(want)-1-i]; !c.TimeCompleted.Equal(w) {
								return fmt.Errorf("%s: check-in %d at %s, want %s", id, i, c.TimeCompleted, w)
							}
						}
					}
					return nil
				}); err != nil {
					rt.Fatal(err)
				}
			},
		})
	})
}
