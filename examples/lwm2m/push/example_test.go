package push_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/push"
	"github.com/fotakit/fota/examples/lwm2m/server"
	"github.com/fotakit/fota/examples/lwm2m/simtime"
	"github.com/fotakit/fota/schedule"
)

// A Runner between a Manager and an LwM2M server, wired by hand (package
// replica does this, with the Manager's Run loop): the server's hooks feed
// the Runner, and Serve carries the outbox's commands out.
func ExampleRunner() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	imei := client.IMEI(8)
	inv := fota.NewMemoryInventory(fota.DeviceInfo{DeviceID: imei, Account: "acme", Protocol: device.LWM2M,
		Software: "1.0", FOTACapable: true, ActiveConnected: true})
	pkgs := fota.NewMemoryPackages()
	clock := simtime.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	done := make(chan fota.Change, 1)
	m, err := fota.New(fota.Config{Inventory: inv, Packages: pkgs, Clock: clock, Observer: fota.ObserverFunc(func(c fota.Change) {
		if c.Kind == fota.DeviceChanged && c.State.Terminal() {
			done <- c
		}
	})})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, _ := push.New(push.Config{Manager: m, Clock: clock, Poll: 50 * time.Millisecond})
	srv, err := server.New(server.Config{Known: push.Known(inv), OnRegistration: r.HandleRegistration, OnObservation: r.HandleObservation})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.Start()
	defer srv.Close()
	served := make(chan struct{})
	go func() { defer close(served); _ = r.Serve(ctx, srv) }()
	defer func() { cancel(); <-served }()

	fw, _ := srv.AddFirmware("lamp-2.0.bin", []byte("version 2.0 of the lamp's firmware"))
	pkgs.Put("acme", fota.Package{Name: "lamp", From: "1.0", To: "2.0", URL: fw.URI, Size: int64(fw.Size), SHA256: fw.Hash()})
	c, _ := client.New(client.Config{Server: srv.Addr().String(), Endpoint: "urn:imei:" + imei})
	if err := c.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer c.Stop()
	info, err := m.ScheduleUpgrade(ctx, "acme", fota.UpgradeRequest{AccountName: "acme", FirmwareName: "lamp", FirmwareTo: "2.0",
		StartDate: schedule.Date{Year: 2026, Month: 5, Day: 2}, EndDate: schedule.Date{Year: 2026, Month: 5, Day: 2}, DeviceList: []string{imei}})
	if err != nil {
		fmt.Println(err)
		return
	}
	clock.Skip(info.StartsAt) // to the campaign's start: the outbox hands out the first command
	r.Wake()
	select {
	case ch := <-done:
		fmt.Println(ch.Status(), ch.Detail())
	case <-ctx.Done():
		fmt.Println("no outcome")
	}
	// Observed at least once: a registration the server hears again
	// re-initiates observation, so how many observes go out depends on
	// timing (CI once saw two). No reset for a device at rest; one package
	// write, one Execute; every command answered.
	st := r.Stats()
	fmt.Println(st.Sent[fota.CommandObserve] >= 1, st.Sent[fota.CommandReset], st.Sent[fota.CommandWritePackage], st.Sent[fota.CommandExecute], st.Undelivered)
	// Output:
	// Upgrade Success The firmware upgrade was successful.
	// true 0 1 1 0
}
