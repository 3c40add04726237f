package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
)

// fixedClock is a clock shared by every replica of a test: the Manager
// reads it once per operation.
type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

var testStart = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

// testIMEI is the i-th valid IMEI of a test fleet.
func testIMEI(tb testing.TB, i int) string {
	id, err := device.IMEIOf(fmt.Sprintf("35%012d", i))
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// inventory holds n HTTP devices that pass every eligibility check of an
// Acme Lamp 1.0 -> 2.0 campaign.
func inventory(tb testing.TB, n int) (*fota.MemoryInventory, []string) {
	tb.Helper()
	inv := fota.NewMemoryInventory()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = testIMEI(tb, i)
		inv.Put(fota.DeviceInfo{DeviceID: ids[i], Account: "acme", Protocol: device.HTTP, Make: "Acme", Model: "Lamp",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	return inv, ids
}

// liftGate lifts the pilot gate of the fleet's target, so that a campaign
// of any size may run.
func liftGate(tb testing.TB, s fota.Store) {
	tb.Helper()
	if err := s.Update(context.Background(), func(tx fota.Tx) error {
		return tx.PutGate(pilot.Gate{Target: pilot.Target{Account: "acme", SoftwareName: "fw", SoftwareFrom: "1.0", SoftwareTo: "2.0"}, State: pilot.Lifted, LiftedAt: testStart})
	}); err != nil {
		tb.Fatal(err)
	}
}

// onDemand is a campaign of the fleet's devices that starts today and is
// open at every hour.
func onDemand(now time.Time, ids []string) fota.CampaignRequest {
	return fota.CampaignRequest{SoftwareName: "fw", SoftwareFrom: "1.0", SoftwareTo: "2.0",
		Timing: schedule.HTTPRequest{StartDate: schedule.DateOf(now)}, DeviceList: ids}
}
