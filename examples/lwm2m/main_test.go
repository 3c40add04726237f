package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/internal/pgtest"
	"github.com/fotakit/fota/examples/lwm2m/push"
)

// checkLeases verifies that no device had two commands under way at once:
// each lease is handed out once, and per device the CoAP exchanges of
// successive hand-outs never overlap.
func checkLeases(t *testing.T, recs []push.Record) {
	t.Helper()
	if err := push.CheckExchanges(recs); err != nil {
		t.Error(err)
	}
}

// TestThousandClientsLosingNotifications runs a /v1 campaign for 1,000
// simulated clients on loopback that lose 10% of their notifications, to
// Finished: every device ends in exactly one terminal status (Upgrade
// Success: no client fails), no device is pushed twice within a lease (and
// each client received the package URI and the Execute once), and every
// device whose outcome never went out in a notification was settled by the
// Manager's Read fallback.
func TestThousandClientsLosingNotifications(t *testing.T) {
	const n = 1000
	o := defaultOptions()
	o.demo, o.loss, o.seed, o.imageSize = n, 0.1, 13, 1024
	o.observeTimeout, o.timeout = time.Second, 100*time.Second
	var out bytes.Buffer
	start := time.Now()
	sum, err := run(context.Background(), o, &out)
	t.Logf("\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	rs := sum.Runner
	retries := rs.Undelivered + rs.LeaseLost + rs.Abandoned
	t.Logf("%d clients: Finished after %v (wall %v); pushes: %d package writes, %d Executes, %d resets, %d observes; retries %d (no answer %d, leases lost %d); reads %d",
		n, sum.Elapsed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), rs.Sent[fota.CommandWritePackage], rs.Sent[fota.CommandExecute],
		rs.Sent[fota.CommandReset], rs.Sent[fota.CommandObserve], retries, rs.Undelivered, rs.LeaseLost, rs.Sent[fota.CommandRead])
	if len(sum.Devices) != n || sum.Tally["Upgrade Success"] != n {
		t.Fatalf("%d devices, tally %v; want all %d in Upgrade Success", len(sum.Devices), sum.Tally, n)
	}
	for _, d := range sum.Devices {
		if got := sum.Terminal[d.DeviceID]; got != 1 {
			t.Errorf("device %s reached a terminal status %d times", d.DeviceID, got)
		}
	}
	checkLeases(t, sum.Records)
	reads := map[string]int{}
	for _, r := range sum.Records {
		if r.Command.Kind == fota.CommandRead {
			reads[r.Command.DeviceID]++
		}
	}
	unsent, dropped := 0, 0
	for i, c := range sum.Clients {
		dropped += c.NotificationsDropped
		if c.PackageWrites != 1 || c.Executes != 1 {
			t.Errorf("client %d received %d package writes and %d Executes, want one each", i, c.PackageWrites, c.Executes)
		}
		if sum.States[i] != (lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Success}) {
			t.Errorf("client %d ended %v", i, sum.States[i])
		}
		if c.OutcomeUnsent {
			unsent++
			if id := sum.Devices[i].DeviceID; reads[id] == 0 {
				t.Errorf("device %s settled without a Read although its outcome was never notified", id)
			}
		}
	}
	if sum.Images != n {
		t.Errorf("%d clients hold the server's image, want %d", sum.Images, n)
	}
	if dropped == 0 || unsent == 0 || rs.Sent[fota.CommandRead] == 0 {
		t.Fatalf("%d notifications lost, %d outcomes unsent, %d reads: the loss knob did not bite", dropped, unsent, rs.Sent[fota.CommandRead])
	}
	t.Logf("%d notifications lost; %d devices whose outcome only a Read could tell, each Read", dropped, unsent)
}

// TestFleetFailures mixes failing downloads (Update Result 5), failing
// updates (8) and clients that reboot offline while updating (and are
// re-observed when they register again): each device ends in the /v1
// status its knobs call for, with the mapped reason and the Update Result
// beside it.
func TestFleetFailures(t *testing.T) {
	const n = 60
	o := defaultOptions()
	o.demo, o.loss, o.seed, o.failDownload, o.failUpdate, o.reboot, o.imageSize = n, 0.1, 5, 7, 5, 4, 1024
	o.observeTimeout, o.timeout = time.Second, 40*time.Second
	var out bytes.Buffer
	sum, err := run(context.Background(), o, &out)
	t.Logf("\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range sum.Devices {
		k := i + 1
		status, reason, result := "Upgrade Success", "The firmware upgrade was successful.", lwm2m.Success
		switch {
		case k%7 == 0:
			status, reason, result = "Upgrade Failed", "Firmware update to device failed.", lwm2m.IntegrityCheckFailure
		case k%5 == 0:
			status, reason, result = "Upgrade Failed", "Firmware update to device failed.", lwm2m.UpdateFailed
		}
		if d.Status != status || d.ResultReason != reason || d.Result != uint16(result) {
			t.Errorf("client %d (%s) ended %q %q result %d; want %q %q %d", k, d.DeviceID, d.Status, d.ResultReason, d.Result, status, reason, result)
		}
		if sum.Terminal[d.DeviceID] != 1 {
			t.Errorf("client %d reached a terminal status %d times", k, sum.Terminal[d.DeviceID])
		}
	}
	reboots := 0
	for i, c := range sum.Clients {
		if k := i + 1; k%4 == 0 && k%7 != 0 {
			reboots++
			if c.Registrations != 2 {
				t.Errorf("client %d rebooted while updating but registered %d times", k, c.Registrations)
			}
		}
	}
	if got := sum.Runner.Connections; got != int64(n+reboots) {
		t.Errorf("the Manager was told of %d registrations, want %d (%d plus %d reboots)", got, n+reboots, n, reboots)
	}
	checkLeases(t, sum.Records)
}

// TestDemoOnPostgreSQL runs the demo as -db DSN -replicas 2 would: two
// replicas, each with its own pool and sqlstore handle over one schema
// (created for the test and dropped after it), clients split between them.
func TestDemoOnPostgreSQL(t *testing.T) {
	pool := pgtest.Pool(t)
	o := defaultOptions()
	o.demo, o.replicas, o.db, o.dbSchema, o.imageSize, o.observeTimeout, o.timeout = 40, 2, pgtest.URL(), pgtest.Schema(t, pool, "lwm2m_demo_"), 1024, time.Second, 40*time.Second
	var out bytes.Buffer
	sum, err := run(context.Background(), o, &out)
	t.Logf("\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Tally["Upgrade Success"] != o.demo || sum.Campaign.Status.String() != "Finished" {
		t.Fatalf("tally %v, campaign %v", sum.Tally, sum.Campaign.Status)
	}
	checkLeases(t, sum.Records)
}
