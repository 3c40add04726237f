package fota_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
)

// A pilot campaign of one device, from schedule to end, on a mock clock.
func ExampleManager() {
	ctx := context.Background()
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC))
	inv := fota.NewMemoryInventory(fota.DeviceInfo{
		DeviceID: "356938035643809", Protocol: device.HTTP, Make: "Acme", Model: "Lamp",
		Software: "1.0", FOTACapable: true, ActiveConnected: true,
	})
	m, _ := fota.New(fota.Config{
		Inventory: inv,
		Clock:     clk,
		NewID:     func(seq uint64) string { return fmt.Sprintf("c%d", seq) },
		Observer: fota.ObserverFunc(func(c fota.Change) {
			who := c.CampaignID
			if c.DeviceID != "" {
				who = "  device " + c.DeviceID
			}
			fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %s: %s %s", c.Time.Format("Jan 02 15:04"), who, c.Status(), c.Detail())))
		}),
	})
	start := schedule.DateOf(clk.Now()).AddDays(1)
	info, err := m.Schedule(ctx, "acme", fota.CampaignRequest{
		SoftwareName: "lamp-fw", SoftwareFrom: "1.0", SoftwareTo: "2.0",
		Timing: schedule.HTTPRequest{StartDate: start, EndDate: start.AddDays(6),
			DownloadTimeWindowList: []schedule.Window{{StartTime: 2, EndTime: 4}}},
		DeviceList: []string{"356938035643809"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	in, _ := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: "356938035643809"})
	fmt.Println("check-in:", in.Action, "come back at", in.RetryAt.Format("Jan 02 15:04"))

	clk.Set(in.RetryAt)
	in, _ = m.CheckIn(ctx, fota.CheckInRequest{DeviceID: "356938035643809"})
	fmt.Println("check-in:", in.Action, in.SoftwareTo, "until", in.Until.Format("15:04"))
	_, _ = m.Report(ctx, info.ID, "356938035643809", fota.OutcomeInstalled)
	// Output:
	// Mar 01 22:00 c1: CampaignRequestPending
	// Mar 01 22:00   device 356938035643809: Accepted Device cleared all checks so it can be added to the scheduled list.
	// Mar 01 22:00 c1: CampaignQueued
	// check-in: none come back at Mar 02 02:00
	// Mar 02 02:00 c1: CampaignScheduled
	// Mar 02 02:00   device 356938035643809: UpgradePending
	// Mar 02 02:00 c1: CampaignInProgress
	// check-in: download 2.0 until 04:00
	// Mar 02 02:00   device 356938035643809: UpgradeSuccess Download and install succeeded.
	// Mar 02 02:00 c1: CampaignEnded
}
