package fota_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
)

// fleet builds a Manager whose inventory holds n HTTP devices and a lifted
// pilot gate, so campaigns of any size may run.
func fleet(tb testing.TB, n int, store fota.Store, clk fota.Clock) (*fota.Manager, []string) {
	tb.Helper()
	inv, ids := inventory(n)
	return manager(tb, inv, store, clk), ids
}

// testIMEI is the i-th valid IMEI of a test fleet.
func testIMEI(i int) string {
	id, err := device.IMEIOf(fmt.Sprintf("35%012d", i))
	if err != nil {
		panic(err) // i is a small non-negative number: 14 digits always
	}
	return id
}

func onDemand(clk fota.Clock, ids []string) fota.CampaignRequest {
	return fota.CampaignRequest{SoftwareName: "fw", SoftwareFrom: "1.0", SoftwareTo: "2.0",
		Timing: schedule.HTTPRequest{StartDate: schedule.DateOf(clk.Now())}, DeviceList: ids}
}

// TestConcurrentCheckIns: 64 goroutines check in and report at once, each
// for its own devices while also checking in everyone else's. No update is
// lost: every device ends upgraded, the counts equal the per-device truth,
// and the campaign ends early when the last device succeeds.
func TestConcurrentCheckIns(t *testing.T) {
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC))
	m, ids := fleet(t, 640, fota.NewMemoryStore(), clk)
	ctx := context.Background()
	info, err := m.Schedule(ctx, "acme", onDemand(clk, ids))
	if err != nil {
		t.Fatal(err)
	}
	const workers = 64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ids); i += workers {
				// Someone else's device: a check-in may move it along too.
				if _, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: ids[(i+7)%len(ids)]}); err != nil {
					errs <- err
					return
				}
				in, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: ids[i]})
				if err != nil || in.Action != fota.ActionDownload {
					errs <- fmt.Errorf("device %s: %v %v", ids[i], in.Action, err)
					return
				}
				if _, err := m.Report(ctx, info.ID, ids[i], fota.OutcomeDownloaded); err != nil {
					errs <- err
					return
				}
				if _, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: ids[i]}); err != nil {
					errs <- err
					return
				}
				if _, err := m.Report(ctx, info.ID, ids[i], fota.OutcomeInstalled); err != nil {
					errs <- err
					return
				}
				if _, err := m.Report(ctx, info.ID, ids[i], fota.OutcomeInstalled); !errors.Is(err, fota.ErrDuplicateReport) {
					errs <- fmt.Errorf("second report: %v", err)
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
	got, err := m.Campaign(ctx, "acme", info.ID)
	if err != nil {
		t.Fatal(err)
	}
	var truth fota.Counts
	last := ""
	for {
		page, err := m.Devices(ctx, "acme", info.ID, last, 0)
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
		t.Fatalf("counts %v, devices say %v", got.Counts, truth)
	}
	if got.Counts.Of(device.StateSucceeded) != len(ids) {
		t.Fatalf("%d of %d devices upgraded", got.Counts.Of(device.StateSucceeded), len(ids))
	}
	if got.Status != campaign.HTTPEnded {
		t.Fatalf("campaign %s after every device upgraded, want CampaignEnded", got.Status)
	}
}
