package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/lwm2m/push"
)

// TestFleetLosingNotifications updates 200 simulated clients on loopback
// that lose 10% of their notifications: every device ends in Upgrade
// Success, and those whose outcome never went out in a notification were
// settled by the Read fallback.
func TestFleetLosingNotifications(t *testing.T) {
	var out bytes.Buffer
	o := options{demo: 200, loss: 0.1, seed: 13, imageSize: 4096, readAfter: time.Second, timeout: 50 * time.Second}
	start := time.Now()
	sum, err := run(context.Background(), o, &out)
	t.Logf("\n%s", out.String())
	for i, d := range sum.Devices {
		if !d.State.Terminal() {
			t.Logf("device %s stuck in %v: server saw %v, client is %s", d.ID, d.State, d.Last, sum.Clients[i])
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d devices in %v (wall %v): %d CoAP messages in, %d requests out, %d reads",
		o.demo, sum.Elapsed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), sum.Server.MessagesIn, sum.Server.Requests, sum.Sent[push.CommandRead])
	if sum.Tally["Upgrade Success"] != o.demo {
		t.Fatalf("tally %v, want all %d in Upgrade Success", sum.Tally, o.demo)
	}
	unsent := 0
	for i, d := range sum.Devices {
		if d.State != device.StateSucceeded || !d.Settled {
			t.Errorf("device %s ended %v (settled %v)", d.ID, d.State, d.Settled)
		}
		if sum.Unsent[i] {
			unsent++
			if d.Reads == 0 {
				t.Errorf("device %s settled without a Read although its outcome was never notified", d.ID)
			}
		}
	}
	if sum.Images != o.demo {
		t.Errorf("%d clients hold the server's image, want %d", sum.Images, o.demo)
	}
	if sum.Dropped == 0 || unsent == 0 || sum.Sent[push.CommandRead] == 0 {
		t.Fatalf("the run lost %d notifications, %d outcomes and made %d reads: the loss knob did not bite", sum.Dropped, unsent, sum.Sent[push.CommandRead])
	}
	t.Logf("%d notifications lost, %d devices whose outcome only a Read could tell", sum.Dropped, unsent)
}

// TestFleetFailures mixes failing downloads (Update Result 5), failing
// updates (8) and clients that reboot offline while updating: each ends
// in the status its knobs call for.
func TestFleetFailures(t *testing.T) {
	var out bytes.Buffer
	o := options{demo: 60, loss: 0.1, seed: 5, failDownload: 7, failUpdate: 5, reboot: 4, imageSize: 2048, readAfter: time.Second, timeout: 40 * time.Second}
	sum, err := run(context.Background(), o, &out)
	t.Logf("\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range sum.Devices {
		n := i + 1
		want := device.StateSucceeded
		if n%7 == 0 || n%5 == 0 {
			want = device.StateUpdateFailed
		}
		if d.State != want {
			t.Errorf("client %d (%s) ended %v with %v, want %v", n, d.ID, d.State, d.Last, want)
		}
	}
	if got, want := sum.Server.Registrations, int64(60+13); got != want {
		t.Errorf("%d registrations, want %d (60 plus 13 reboots)", got, want)
	}
}
