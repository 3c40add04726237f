package fota

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
)

// TestCountsSeeAMovingDevice: an Update reads counts beside device
// transactions without stopping them, and so does lagging, the Manager's
// check after each device operation. A device moves forward only through
// its lifecycle, and the store counts it in its new state before it
// uncounts it from the old one, so neither ever reports a campaign's last
// unfinished device gone while it moves between unfinished states (a
// Manager would end the campaign early).
func TestCountsSeeAMovingDevice(t *testing.T) {
	ctx := context.Background()
	unfinished := States(device.StateAccepted, device.StateDownloading, device.StateDownloaded, device.StateInstalling)
	moves := []device.State{device.StateDownloading, device.StateDownloaded, device.StateInstalling}
	s := NewMemoryStore()
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	const id = "350000000000001"
	for round := range 300 {
		c := fmt.Sprintf("c%d", round)
		err := s.Update(ctx, func(tx Tx) error {
			if err := tx.PutCampaign(Campaign{ID: c, Account: "acme", Family: device.FamilyHTTP, Status: campaign.HTTPInProgress,
				StartsAt: now.Add(-time.Hour), EndsAt: now.Add(24 * time.Hour)}); err != nil {
				return err
			}
			return tx.AddMembers(c, []NewMember{{Member: Member{CampaignID: c, DeviceID: id, State: device.StateAccepted, UpdatedAt: now}}})
		})
		if err != nil {
			t.Fatal(err)
		}
		// Each move waits between counting the device in and out, so
		// that the reads below run while it is counted in both.
		betweenCounts = func() { time.Sleep(20 * time.Microsecond) }
		var done atomic.Bool
		var moveErr error
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer done.Store(true)
			for _, st := range moves {
				moveErr = s.UpdateDevice(ctx, id, func(tx DeviceTx) error {
					m, err := tx.Member(c)
					if err != nil {
						return err
					}
					m.State = st
					return tx.PutMember(m)
				})
				if moveErr != nil {
					return
				}
			}
		}()
		for !done.Load() {
			var left bool
			err := s.Update(ctx, func(tx Tx) error {
				var err error
				left, err = tx.AnyMember(c, unfinished)
				return err
			})
			lag, known := s.lagging(c, now)
			if err != nil || !left || lag || !known {
				wg.Wait()
				betweenCounts = nil
				t.Fatalf("round %d: AnyMember(unfinished) = %v, %v; lagging = %v, %v while the device moves between unfinished states", round, left, err, lag, known)
			}
		}
		wg.Wait()
		betweenCounts = nil
		if moveErr != nil {
			t.Fatal(moveErr)
		}
	}
}
