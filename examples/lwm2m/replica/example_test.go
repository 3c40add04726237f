package replica_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/replica"
	"github.com/fotakit/fota/examples/lwm2m/simtime"
	"github.com/fotakit/fota/schedule"
)

// One replica of the host and one simulated client through a /v1
// campaign: the Manager decides, the Runner carries the commands out over
// CoAP, and the Manager's clock jumps over the idle stretches to the
// campaign's start and end.
func ExampleStart() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	imei := client.IMEI(7)
	inv := fota.NewMemoryInventory(fota.DeviceInfo{DeviceID: imei, Account: "acme", Protocol: device.LWM2M,
		Software: "1.0", FOTACapable: true, ActiveConnected: true})
	pkgs := fota.NewMemoryPackages()
	clock := simtime.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	statuses := make(chan string, 8)
	r, err := replica.Start(ctx, replica.Config{Inventory: inv, Packages: pkgs, Clock: clock,
		Observer: fota.ObserverFunc(func(c fota.Change) {
			if c.Kind == fota.DeviceChanged {
				statuses <- c.Status()
			}
		})})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Stop()
	fw, _ := r.Server.AddFirmware("lamp-2.0.bin", []byte("version 2.0 of the lamp's firmware"))
	pkgs.Put("acme", fota.Package{Name: "lamp", From: "1.0", To: "2.0", URL: fw.URI, Size: int64(fw.Size), SHA256: fw.Hash()})

	c, _ := client.New(client.Config{Server: r.Server.Addr().String(), Endpoint: "urn:imei:" + imei})
	if err := c.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer c.Stop()

	info, err := r.Manager.ScheduleUpgrade(ctx, "acme", fota.UpgradeRequest{AccountName: "acme", FirmwareName: "lamp", FirmwareTo: "2.0",
		StartDate: schedule.Date{Year: 2026, Month: 5, Day: 2}, EndDate: schedule.Date{Year: 2026, Month: 5, Day: 2}, DeviceList: []string{imei}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for info.Status != campaign.PushFinished && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		replica.SkipIdle(clock, []*replica.Replica{r}, 200*time.Millisecond, time.Minute, info.StartsAt, info.EndsAt)
		info, _ = r.Manager.Campaign(ctx, "acme", info.ID)
	}
	close(statuses)
	for s := range statuses {
		fmt.Println(s)
	}
	fmt.Println(info.Status, clock.Now().After(info.EndsAt), c.Observation())
	// Output:
	// Device Accepted
	// Upgrade Pending
	// Upgrade Success
	// Finished true (Idle, Success)
}
