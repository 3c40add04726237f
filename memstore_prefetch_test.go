package fota_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
)

// prefetchFleet makes a store holding one campaign of n devices in
// Accepted, with one check-in each.
func prefetchFleet(t *testing.T, n int) (*fota.MemoryStore, []string) {
	t.Helper()
	ctx := context.Background()
	s := fota.NewMemoryStore()
	ids := make([]string, n)
	ms := make([]fota.NewMember, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("35%013d", i)
		ms[i] = fota.NewMember{Member: fota.Member{CampaignID: "c1", DeviceID: ids[i], State: device.StateAccepted, UpdatedAt: memBase}, Hold: true}
	}
	err := s.Update(ctx, func(tx fota.Tx) error {
		if err := tx.PutCampaign(fota.Campaign{ID: "c1", Account: "acme"}); err != nil {
			return err
		}
		return tx.AddMembers("c1", ms)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, ids
}

// TestPrefetchChangesNothing: device transactions read and write the same
// with Prefetch called before them, for devices held and not held, more
// ids than PrefetchMax, and an empty list; run beside device transactions
// of other goroutines, so that -race checks the locks it takes.
func TestPrefetchChangesNothing(t *testing.T) {
	ctx := context.Background()
	s, ids := prefetchFleet(t, 200)
	s.Prefetch(nil)
	s.Prefetch([]string{"not-held", "35999"})
	var wg sync.WaitGroup
	var failed atomic.Value
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 20 {
				lo := (g*50 + round*7) % len(ids)
				batch := ids[lo:min(lo+fota.PrefetchMax+8, len(ids))]
				s.Prefetch(append(batch[:len(batch):len(batch)], "not-held"))
				for _, id := range batch {
					err := s.UpdateDevice(ctx, id, func(tx fota.DeviceTx) error {
						m, err := tx.Member("c1")
						if err != nil {
							return err
						}
						if m.DeviceID != id || m.CampaignID != "c1" {
							return fmt.Errorf("device %s read member %+v", id, m)
						}
						m.UpdatedAt = m.UpdatedAt.Add(1)
						return tx.PutMember(m)
					})
					if err != nil {
						failed.Store(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	err := s.View(ctx, func(tx fota.Tx) error {
		c, err := tx.Counts("c1")
		if err != nil {
			return err
		}
		if c[device.StateAccepted] != len(ids) {
			return fmt.Errorf("counts %v, want %d accepted", c, len(ids))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
