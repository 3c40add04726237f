package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/verboselog"
)

var deviceUpdaterCases = []testCase{
	{"Concurrent", testDeviceUpdater},
}

// testDeviceUpdater (stores that implement fota.DeviceUpdater): check-ins
// through UpdateDevice on shared and distinct devices, some of which also
// write a member (so the store must fall back to running them alone),
// run beside Updates and Views. Every check-in lands exactly once, the
// members written beside them add up, and Views see whole transactions.
func testDeviceUpdater(t *testing.T, h *harness) {
	ctx, s := h.env(t)
	du, ok := s.(fota.DeviceUpdater)
	if !ok {
		t.Log("the store does not implement fota.DeviceUpdater; nothing to check")
		return
	}
	putCampaigns(t, s, "c1")
	devices := deviceIDs[:4]
	const workers, rounds = 8, 40
	at := func(w, r int) time.Time { return base.Add(time.Duration(w*rounds+r+1) * time.Microsecond) }
	// Every device is known to the store before the check-ins start.
	update(t, ctx, s, func(tx fota.Tx) error {
		for _, d := range devices {
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
				err := du.UpdateDevice(ctx, d, func(tx fota.Tx) error {
					if _, err := tx.ActiveCampaign(d); err != nil {
						return err
					}
					if err := tx.AddCheckIn(verboselog.CheckIn{DeviceID: d, Result: "ok", TimeCompleted: at(w, r)}, 1_000_000); err != nil {
						return err
					}
					if !withMember {
						return nil
					}
					return tx.PutMember(fota.Member{CampaignID: "c1", DeviceID: fmt.Sprintf("m-%d-%d", w, r), State: device.StateAccepted, UpdatedAt: base})
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// A reader: every View sees whole transactions (members never more
	// than check-ins allow).
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range rounds {
			err := s.View(ctx, func(tx fota.Tx) error {
				counts, err := tx.Counts("c1")
				if err != nil {
					return err
				}
				total := 0
				for _, d := range devices {
					h, err := tx.CheckIns(d, time.Time{}, page)
					if err != nil {
						return err
					}
					total += len(h)
				}
				if members := counts.Of(device.StateAccepted); members > total {
					return fmt.Errorf("a View saw %d members written beside only %d check-ins", members, total)
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
		total := 0
		for _, d := range devices {
			h, err := tx.CheckIns(d, time.Time{}, page)
			if err != nil {
				return err
			}
			total += len(h)
		}
		if total != workers*rounds {
			t.Fatalf("%d check-ins landed, want %d", total, workers*rounds)
		}
		counts, err := tx.Counts("c1")
		if err == nil && counts.Of(device.StateAccepted) != workers*rounds/5 {
			t.Fatalf("%d members written beside check-ins, want %d", counts.Of(device.StateAccepted), workers*rounds/5)
		}
		return err
	})
}
