package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
)

// TestReplicas runs one campaign from two server replicas: two Managers,
// each on its own Store and its own connection pool, over one schema, with
// one inventory and one clock. 16 goroutines, split across the replicas,
// drive 200 devices through check-in, download, check-in and install at
// once, each also checking in another goroutine's device through the
// other replica, while a reader watches the campaign's counts. Every
// device must end upgraded, with each of its transitions observed exactly
// once (none lost to a concurrent transaction, none doubled by a retry),
// the counts must equal the devices' states, and the campaign must end
// when its last device succeeds — which takes serializable transactions:
// two last reports committing side by side under snapshot isolation would
// each see the other's device unfinished, and the campaign would never
// end.
func TestReplicas(t *testing.T) {
	const (
		devices  = 200
		workers  = 16
		replicas = 2
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	schema := newSchemaName()
	var stores [replicas]*Store
	for r := range stores {
		pool := openPool(t)
		s, err := OpenPool(ctx, pool, Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		stores[r] = s
	}
	t.Cleanup(func() { dropSchema(t, stores[0].pool, schema) })
	// Both replicas migrate at once, as they would on a rolling start.
	var wg sync.WaitGroup
	migrateErrs := make([]error, replicas)
	for r, s := range stores {
		wg.Go(func() { migrateErrs[r] = s.Migrate(ctx) })
	}
	wg.Wait()
	if err := errors.Join(migrateErrs...); err != nil {
		t.Fatalf("concurrent Migrate: %v", err)
	}

	inv, ids := inventory(t, devices)
	clk := &fixedClock{now: testStart}
	liftGate(t, stores[0])
	var (
		seenMu sync.Mutex
		seen   = map[string]map[device.State]int{} // device -> state -> observed changes
	)
	observer := fota.ObserverFunc(func(c fota.Change) {
		if c.Kind != fota.DeviceChanged {
			return
		}
		seenMu.Lock()
		defer seenMu.Unlock()
		if seen[c.DeviceID] == nil {
			seen[c.DeviceID] = map[device.State]int{}
		}
		seen[c.DeviceID][c.State]++
	})
	var managers [replicas]*fota.Manager
	for r := range managers {
		m, err := fota.New(fota.Config{Store: stores[r], Inventory: inv, Clock: clk, Observer: observer})
		if err != nil {
			t.Fatal(err)
		}
		managers[r] = m
	}
	info, err := managers[0].Schedule(ctx, "acme", onDemand(clk.Now(), ids))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Counts.Of(device.StateAccepted); got != devices {
		t.Fatalf("%d of %d devices accepted", got, devices)
	}

	errs := make(chan error, workers+1)
	var running atomic.Int32
	running.Store(workers)
	for w := range workers {
		wg.Go(func() {
			defer running.Add(-1)
			m, other := managers[w%replicas], managers[(w+1)%replicas]
			for i := w; i < devices; i += workers {
				if err := upgrade(ctx, m, other, info.ID, ids[i], ids[(i+7)%devices]); err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
			}
		})
	}
	// A reader on the second replica: every View is one snapshot, in
	// which the counts always cover every device.
	wg.Go(func() {
		for n := 0; n == 0 || running.Load() > 0; n++ {
			got, err := managers[1].Campaign(ctx, "acme", info.ID)
			if err != nil {
				errs <- fmt.Errorf("reader: %w", err)
				return
			}
			if got.Counts.Accepted() != devices {
				errs <- fmt.Errorf("reader, view %d: counts %v cover %d devices, want %d", n, got.Counts, got.Counts.Accepted(), devices)
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	got, err := managers[1].Campaign(ctx, "acme", info.ID)
	if err != nil {
		t.Fatal(err)
	}
	var truth fota.Counts
	last := ""
	for {
		page, err := managers[0].Devices(ctx, "acme", info.ID, last, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.DeviceList {
			truth[d.State]++
		}
		if !page.HasMoreData {
			break
		}
		last = page.LastSeenDeviceID
	}
	if truth != got.Counts {
		t.Errorf("counts %v, the devices say %v", got.Counts, truth)
	}
	if n := got.Counts.Of(device.StateSucceeded); n != devices {
		t.Errorf("%d of %d devices upgraded", n, devices)
	}
	if got.Status != campaign.HTTPEnded {
		t.Errorf("campaign %s after every device upgraded, want CampaignEnded", got.Status)
	}
	// Every transition observed once: Accepted at scheduling, then
	// Downloading, Downloaded, Installing and Succeeded, whichever replica
	// and goroutine made each.
	want := map[device.State]int{device.StateAccepted: 1, device.StateDownloading: 1, device.StateDownloaded: 1,
		device.StateInstalling: 1, device.StateSucceeded: 1}
	for i, id := range ids {
		if fmt.Sprint(seen[id]) != fmt.Sprint(want) {
			t.Errorf("device %s: transitions observed %v, want each of %v once", id, seen[id], want)
		}
		// Three check-ins per device (two of its own, one from another
		// goroutine), none lost.
		hist, err := managers[i%replicas].CheckInHistory(ctx, "acme", id, time.Time{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 3 {
			t.Errorf("device %s: %d check-ins recorded, want 3", id, len(hist))
		}
		held := ""
		if err := stores[0].View(ctx, func(tx fota.Tx) (err error) { held, err = tx.ActiveCampaign(id); return err }); err != nil {
			t.Fatal(err)
		}
		if held != "" {
			t.Errorf("device %s still held by campaign %q after it ended", id, held)
		}
	}
	for r, s := range stores {
		t.Logf("replica %d: %+v", r, s.Stats())
	}
}

// upgrade drives one device through its update on replica m, checking in
// another device through the other replica first.
func upgrade(ctx context.Context, m, other *fota.Manager, campaignID, id, someoneElse string) error {
	// Someone else's device: this check-in may move it along too.
	if _, err := other.CheckIn(ctx, fota.CheckInRequest{DeviceID: someoneElse}); err != nil {
		return err
	}
	in, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: id})
	if err != nil || in.Action != fota.ActionDownload {
		return fmt.Errorf("device %s, first check-in: %v, %v; want download", id, in.Action, err)
	}
	if _, err := m.Report(ctx, campaignID, id, fota.OutcomeDownloaded); err != nil {
		return fmt.Errorf("device %s, downloaded: %w", id, err)
	}
	in, err = m.CheckIn(ctx, fota.CheckInRequest{DeviceID: id})
	if err != nil || in.Action != fota.ActionInstall {
		return fmt.Errorf("device %s, second check-in: %v, %v; want install", id, in.Action, err)
	}
	if st, err := m.Report(ctx, campaignID, id, fota.OutcomeInstalled); err != nil || st != device.StateSucceeded {
		return fmt.Errorf("device %s, installed: %v, %v", id, st, err)
	}
	if _, err := other.Report(ctx, campaignID, id, fota.OutcomeInstalled); !errors.Is(err, fota.ErrDuplicateReport) {
		return fmt.Errorf("device %s, installed again on the other replica: %v, want ErrDuplicateReport", id, err)
	}
	return nil
}
