package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/verboselog"
)

var deviceTxCases = []testCase{
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
