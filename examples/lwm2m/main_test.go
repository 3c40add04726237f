package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device/lwm2m"
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
