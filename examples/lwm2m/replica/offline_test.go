package replica_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/push"
	"github.com/fotakit/fota/examples/lwm2m/replica"
	"github.com/fotakit/fota/examples/lwm2m/server"
	"github.com/fotakit/fota/schedule"
)

// journal records what a replica's Runner and the Manager's observer saw.
type journal struct {
	mu       sync.Mutex
	records  []push.Record
	statuses map[string][]string // device -> /v1 statuses in order
	terminal map[string]int      // device -> changes to a terminal state
}

func newJournal() *journal {
	return &journal{statuses: map[string][]string{}, terminal: map[string]int{}}
}

func (j *journal) observe(c fota.Change) {
	if c.Kind != fota.DeviceChanged {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.statuses[c.DeviceID] = append(j.statuses[c.DeviceID], c.Status())
	if c.State.Terminal() {
		j.terminal[c.DeviceID]++
	}
}

func (j *journal) record(r push.Record) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.records = append(j.records, r)
}

func (j *journal) of(id string) []push.Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []push.Record
	for _, r := range j.records {
		if r.Command.DeviceID == id {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls cond (real time) for up to limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOfflineAcrossTwoRetries follows ThingSpace's LwM2M rule, "if the
// device does not respond, the system tries again around 4:00 AM UTC, and
// repeats this for up to 3 days", on a mock clock for the Manager while
// every CoAP exchange is real: device a answers at once; device b stays
// registered but is off (silent) at the start and at the 04:00 retries of
// the first two days, is back on the third day and is updated at that
// day's 04:00 retry; device c never answers and fails "Device is not in an
// active state or is not connected." a day after the last retry.
func TestOfflineAcrossTwoRetries(t *testing.T) {
	mock := clock.NewMock()
	mock.Set(time.Date(2026, 4, 30, 10, 0, 0, 0, time.UTC))
	const acct = "offline"
	a, b, c := client.IMEI(501), client.IMEI(502), client.IMEI(503)
	inv := fota.NewMemoryInventory()
	for _, id := range []string{a, b, c} {
		inv.Put(fota.DeviceInfo{DeviceID: id, Account: acct, Protocol: device.LWM2M, Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	pkgs := fota.NewMemoryPackages()
	j := newJournal()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	r, err := replica.Start(ctx, replica.Config{
		Inventory: inv, Packages: pkgs, Clock: mock, Observer: fota.ObserverFunc(j.observe),
		// The mock's Set fires every timer on its way, and Run would set one
		// per RunPoll: a long one keeps Set quick.
		RunPoll: 30 * 24 * time.Hour,
		Server: server.Config{AnswerTimeout: 400 * time.Millisecond, AckTimeout: 100 * time.Millisecond, MaxRetransmit: 2,
			Errors: func(err error) { t.Logf("server: %v", err) }},
		Runner: push.Config{Poll: 20 * time.Millisecond, OnCommand: j.record, Logf: t.Logf},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	fw, err := r.Server.AddFirmware("fw-2.0.bin", []byte("the new firmware, version 2.0"))
	if err != nil {
		t.Fatal(err)
	}
	pkgs.Put(acct, fota.Package{Name: "fw", From: "1.0", To: "2.0", URL: fw.URI, Size: int64(fw.Size), SHA256: fw.Hash()})
	clients := map[string]*client.Client{}
	for _, id := range []string{a, b, c} {
		cl, err := client.New(client.Config{Server: r.Server.Addr().String(), Endpoint: "urn:imei:" + id, Lifetime: 10 * time.Minute,
			AckTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer cl.Stop()
		clients[id] = cl
	}
	clients[b].Silence(true)
	clients[c].Silence(true)

	info, err := r.Manager.ScheduleUpgrade(ctx, acct, fota.UpgradeRequest{AccountName: acct, FirmwareName: "fw", FirmwareTo: "2.0",
		StartDate: schedule.Date{Year: 2026, Month: 5, Day: 1}, EndDate: schedule.Date{Year: 2026, Month: 5, Day: 7}, DeviceList: []string{a, b, c}})
	if err != nil {
		t.Fatal(err)
	}
	// attempted waits until the Runner has confirmed n commands to id.
	attempted := func(id string, n int) {
		t.Helper()
		waitFor(t, "command "+itoa(n)+" to "+id, 20*time.Second, func() bool {
			rs := j.of(id)
			return len(rs) >= n && !rs[n-1].Confirmed.IsZero() && r.Runner.Busy() == 0
		})
	}
	status := func(id string) fota.DeviceStatus {
		t.Helper()
		page, err := r.Manager.Devices(ctx, acct, info.ID, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.DeviceList {
			if d.DeviceID == id {
				return d
			}
		}
		t.Fatalf("%s not in campaign %s", id, info.ID)
		return fota.DeviceStatus{}
	}

	at := func(day, hour int) time.Time { return time.Date(2026, 5, day, hour, 0, 0, 0, time.UTC) }
	mock.Set(at(1, 0)) // the start: every device is observed
	r.Runner.Wake()
	waitFor(t, "a's update", 20*time.Second, func() bool { return status(a).Status == "Upgrade Success" })
	attempted(b, 1)
	attempted(c, 1)
	for i, when := range []time.Time{at(1, 4), at(2, 4)} { // the first two days' retries: b and c are still off
		mock.Set(when)
		r.Runner.Wake()
		attempted(b, i+2)
		attempted(c, i+2)
	}
	clients[b].Silence(false) // b is back on the third day
	mock.Set(at(3, 4))
	r.Runner.Wake()
	waitFor(t, "b's update on the third day", 20*time.Second, func() bool { return status(b).Status == "Upgrade Success" })
	attempted(c, 4)

	// b's commands: three observes nobody answered, at the start and at the
	// first two 04:00 retries, then the whole update at the third.
	rs := j.of(b)
	want := []struct {
		kind      fota.CommandKind
		attempt   int
		at        time.Time
		delivered bool
	}{
		{fota.CommandObserve, 0, at(1, 0), false},
		{fota.CommandObserve, 1, at(1, 4), false},
		{fota.CommandObserve, 2, at(2, 4), false},
		{fota.CommandObserve, 3, at(3, 4), true},
		// The observe's answer shows b at rest, (Idle, Initial): no reset.
		{fota.CommandWritePackage, 3, at(3, 4), true},
		{fota.CommandExecute, 3, at(3, 4), true},
	}
	if len(rs) != len(want) {
		for _, r := range rs {
			t.Logf("b: %v attempt %d at %v: %+v", r.Command.Kind, r.Command.Attempt, r.Handed, r.Receipt)
		}
		t.Fatalf("b was sent %d commands, want %d", len(rs), len(want))
	}
	for i, w := range want {
		got := rs[i]
		if got.Command.Kind != w.kind || got.Command.Attempt != w.attempt || !got.Handed.Equal(w.at) || got.Receipt.Delivered != w.delivered {
			t.Errorf("b's command %d: %v attempt %d at %v delivered %v; want %v attempt %d at %v delivered %v",
				i, got.Command.Kind, got.Command.Attempt, got.Handed, got.Receipt.Delivered, w.kind, w.attempt, w.at, w.delivered)
		}
	}
	if st := clients[b].Stats(); st.Ignored == 0 || st.PackageWrites != 1 || st.Executes != 1 {
		t.Errorf("b ignored %d datagrams, got %d package writes and %d Executes; want some, 1 and 1", st.Ignored, st.PackageWrites, st.Executes)
	}

	// c answered no attempt: it fails a day after the last retry.
	mock.Set(at(4, 4))
	if _, err := r.Manager.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if d := status(c); d.Status != "Upgrade Failed" || d.ResultReason != "Device is not in an active state or is not connected." {
		t.Fatalf("c ended %q %q", d.Status, d.ResultReason)
	}
	mock.Set(at(8, 0))
	if _, err := r.Manager.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := r.Manager.Campaign(ctx, acct, info.ID)
	if err != nil || got.Status != campaign.PushFinished {
		t.Fatalf("campaign %v, %v; want Finished", got.Status, err)
	}
	for id, want := range map[string][]string{
		a: {"Device Accepted", "Upgrade Pending", "Upgrade Success"},
		b: {"Device Accepted", "Upgrade Pending", "Upgrade Success"},
		c: {"Device Accepted", "Upgrade Failed"},
	} {
		j.mu.Lock()
		got := j.statuses[id]
		j.mu.Unlock()
		if len(got) != len(want) {
			t.Errorf("%s went through %q, want %q", id, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s went through %q, want %q", id, got, want)
				break
			}
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return "many"
}
