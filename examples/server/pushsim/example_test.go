package pushsim_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/pushsim"
	"github.com/fotakit/fota/schedule"
)

// An on-demand /v1 upgrade of an LwM2M and an OMA-DM device, carried by
// the simulated transport on a clock moved by hand: Step does what is due
// and says when to come back.
func ExampleTransport() {
	clk := newClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	inv := fota.NewMemoryInventory()
	for id, p := range map[string]device.Protocol{"356938035643809": device.LWM2M, "490154203237518": device.OMADM} {
		inv.Put(fota.DeviceInfo{DeviceID: id, Account: "acme", Protocol: p, FOTACapable: true, ActiveConnected: true})
	}
	m, err := fota.New(fota.Config{Inventory: inv, Clock: clk})
	if err != nil {
		fmt.Println(err)
		return
	}
	tr := pushsim.New(m, pushsim.Config{Clock: clk})
	_ = tr.Add("356938035643809", device.LWM2M)
	_ = tr.Add("490154203237518", device.OMADM)

	ctx := context.Background()
	info, err := m.ScheduleUpgrade(ctx, "acme", fota.UpgradeRequest{AccountName: "acme", FirmwareName: "meter-fw", FirmwareTo: "2.0",
		StartDate: schedule.Date{Year: 2026, Month: 3, Day: 1}, EndDate: schedule.Date{Year: 2026, Month: 3, Day: 2},
		DeviceList: []string{"356938035643809", "490154203237518"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for next, _ := tr.Step(ctx); !next.IsZero(); next, _ = tr.Step(ctx) {
		fmt.Println("step at", next.Format("15:04"))
		clk.Set(next)
	}
	page, _ := m.Devices(ctx, "acme", info.ID, "", 10)
	for _, d := range page.DeviceList {
		fmt.Println(d.DeviceID, d.Protocol, d.Status)
	}
	fmt.Printf("%+v\n", tr.Stats())
	// Output:
	// step at 11:00
	// step at 11:01
	// step at 11:02
	// 356938035643809 LWM2M Upgrade Success
	// 490154203237518 OMA-DM Upgrade Success
	// {Commands:4 Observations:5 Alerts:1 Unanswered:0 Connections:0 Errors:0}
}
