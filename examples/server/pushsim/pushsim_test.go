package pushsim_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/pushsim"
	"github.com/fotakit/fota/schedule"
)

// manualClock is a fota.Sleeper the test moves. Every After announces
// the instant it waits for, so the test knows when Run sleeps and until
// when.
type manualClock struct {
	mu       sync.Mutex
	now      time.Time
	waiters  []waiter
	announce chan time.Time
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newClock(now time.Time) *manualClock {
	return &manualClock{now: now, announce: make(chan time.Time, 64)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	at := c.now.Add(d)
	c.waiters = append(c.waiters, waiter{at, ch})
	c.mu.Unlock()
	c.announce <- at
	return ch
}

// sleep returns the instant Run's next sleep waits for; the bound turns a
// Run that never sleeps again into a failure.
func (c *manualClock) sleep(t *testing.T) time.Time {
	t.Helper()
	select {
	case at := <-c.announce:
		return at
	case <-time.After(20 * time.Second): // a hang, not a timing assertion
		t.Fatal("Run did not sleep again")
		return time.Time{}
	}
}

// Set moves the clock to t and wakes the waiters due by then.
func (c *manualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- t
	}
	c.waiters = kept
}

// fleet is a Manager on a manual clock with acme's push devices: lwm2m
// and omadm are simulated by the transport, ghost (LwM2M) is not. poll is
// the transport's Config.Poll (0: the default).
type fleet struct {
	clk          *manualClock
	m            *fota.Manager
	tr           *pushsim.Transport
	lwm2m, omadm []string
	ghost        string
}

func newFleet(t *testing.T, start time.Time, poll time.Duration) *fleet {
	t.Helper()
	f := &fleet{clk: newClock(start)}
	inv := fota.NewMemoryInventory()
	imei := func(n int) string {
		id, err := device.IMEIOf(fmt.Sprintf("35%012d", n))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	put := func(id string, p device.Protocol) {
		inv.Put(fota.DeviceInfo{DeviceID: id, Account: "acme", Protocol: p, Make: "Acme", Model: "Meter",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	for i := range 3 {
		f.lwm2m = append(f.lwm2m, imei(10+i))
		put(f.lwm2m[i], device.LWM2M)
		f.omadm = append(f.omadm, imei(20+i))
		put(f.omadm[i], device.OMADM)
	}
	f.ghost = imei(30)
	put(f.ghost, device.LWM2M)
	m, err := fota.New(fota.Config{Inventory: inv, Clock: f.clk, NewID: func(seq uint64) string { return fmt.Sprintf("u%d", seq) }})
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	f.tr = pushsim.New(m, pushsim.Config{Clock: f.clk, Poll: poll})
	for i := range f.lwm2m {
		if err := f.tr.Add(f.lwm2m[i], device.LWM2M); err != nil {
			t.Fatal(err)
		}
		if err := f.tr.Add(f.omadm[i], device.OMADM); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// statuses is the upgrade's devices' push statuses by id.
func (f *fleet) statuses(t *testing.T, id string) map[string]string {
	t.Helper()
	page, err := f.m.Devices(context.Background(), "acme", id, "", fota.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range page.DeviceList {
		out[d.DeviceID] = d.Status + " " + d.ResultReason
	}
	return out
}

func TestAddRefusesHTTPDevices(t *testing.T) {
	tr := pushsim.New(nil, pushsim.Config{})
	var pe *pushsim.ProtocolError
	if err := tr.Add("350000000000006", device.HTTP); !errors.As(err, &pe) || pe.Protocol != device.HTTP {
		t.Fatalf("Add of an HTTP device: %v", err)
	}
}

// On a mock clock, Step and Tick run an on-demand upgrade of LwM2M and
// OMA-DM devices to its end: each simulated device gets exactly its
// protocol's commands and reports and ends "Upgrade Success"; the device
// nobody simulates goes unanswered at the start and at each of the three
// 04:00 UTC retries, then fails as not connected; the upgrade is
// Finished after its end date.
func TestStepRunsAnUpgradeToItsEnd(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	f := newFleet(t, start, 0)
	ctx := context.Background()
	devs := append(append([]string{f.ghost}, f.lwm2m...), f.omadm...)
	info, err := f.m.ScheduleUpgrade(ctx, "acme", fota.UpgradeRequest{AccountName: "acme", FirmwareName: "meter-fw", FirmwareTo: "2.0",
		StartDate: schedule.DateOf(start), EndDate: schedule.DateOf(start).AddDays(5), DeviceList: devs})
	if err != nil {
		t.Fatal(err)
	}
	var statusAt []string // the upgrade's status each time it changed
	for i := 0; i < 100; i++ {
		next, err := f.tr.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tick, err := f.m.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.m.Campaign(ctx, "acme", info.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st := c.Status.String(); len(statusAt) == 0 || statusAt[len(statusAt)-1] != st {
			statusAt = append(statusAt, st)
		}
		if c.Status == campaign.PushFinished && c.Swept {
			break
		}
		if next.IsZero() || (!tick.IsZero() && tick.Before(next)) {
			next = tick
		}
		if next.IsZero() {
			t.Fatalf("nothing planned, upgrade %s", c.Status)
		}
		f.clk.Set(next)
	}
	if fmt.Sprint(statusAt) != "[Queued InProgress Finished]" {
		t.Fatalf("upgrade statuses %v", statusAt)
	}
	got := f.statuses(t, info.ID)
	for _, id := range devs {
		want := "Upgrade Success The firmware upgrade was successful."
		if id == f.ghost {
			want = "Upgrade Failed Device is not in an active state or is not connected."
		}
		if got[id] != want {
			t.Errorf("%s: %q, want %q", id, got[id], want)
		}
	}
	// LwM2M: observe, write the package, execute (no reset: the observe's
	// value shows the device at rest in (Idle, Initial), where a reset
	// changes nothing); observations of the current value, Downloading,
	// Downloaded, Updating and Idle with success. OMA-DM: the Exec, then
	// one alert. The ghost: the start and three retries.
	want := pushsim.Stats{Commands: 3*3 + 3, Observations: 5 * 3, Alerts: 3, Unanswered: 4}
	if st := f.tr.Stats(); st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
}

// Run sleeps until the next thing falls due, wakes on Manager.Due when an
// upgrade is scheduled, and carries the upgrade's devices to success as
// the clock moves to each instant it announces.
func TestRunWakesOnDueAndSleepsUntilNext(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	f := newFleet(t, start, 24*time.Hour) // a poll bound beyond every instant below
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.tr.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	}()

	if at := f.clk.sleep(t); !at.Equal(start.Add(24 * time.Hour)) {
		t.Fatalf("idle Run sleeps until %v, want the poll bound", at)
	}
	devs := append(append([]string{}, f.lwm2m...), f.omadm...)
	info, err := f.m.ScheduleUpgrade(context.Background(), "acme", fota.UpgradeRequest{AccountName: "acme", FirmwareName: "meter-fw",
		FirmwareTo: "2.0", StartDate: schedule.DateOf(start), EndDate: schedule.DateOf(start).AddDays(1), DeviceList: devs})
	if err != nil {
		t.Fatal(err)
	}
	at := f.clk.sleep(t) // woken by Manager.Due
	if !at.Equal(info.StartsAt) {
		t.Fatalf("after the schedule Run sleeps until %v, want the start %v", at, info.StartsAt)
	}
	succeeded := func() bool {
		for _, s := range f.statuses(t, info.ID) {
			if s != "Upgrade Success The firmware upgrade was successful." {
				return false
			}
		}
		return true
	}
	for i := 0; !succeeded(); i++ {
		if i == 50 {
			t.Fatalf("after %d wakes: %v", i, f.statuses(t, info.ID))
		}
		f.clk.Set(at)
		at = f.clk.sleep(t)
	}
	if st := f.tr.Stats(); st.Errors != 0 || st.Alerts != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// Devices that are off at the start: the LwM2M one is tried again at
// 04:00 UTC, the OMA-DM one waits; both come back before then, register
// or open a session (Connected), and are updated then. The OMA-DM device
// goes off again during its update, and its Generic Alert waits for its
// next session.
func TestOfflineDevicesAreReachedWhenTheyConnect(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	f := newFleet(t, start, 0)
	ctx := context.Background()
	lw, dm := f.lwm2m[0], f.omadm[0]
	for _, id := range []string{lw, dm} {
		if err := f.tr.Connect(ctx, id, false); err != nil {
			t.Fatal(err)
		}
	}
	info, err := f.m.ScheduleUpgrade(ctx, "acme", fota.UpgradeRequest{AccountName: "acme", FirmwareName: "meter-fw", FirmwareTo: "2.0",
		StartDate: schedule.DateOf(start), EndDate: schedule.DateOf(start).AddDays(3), DeviceList: []string{lw, dm}})
	if err != nil {
		t.Fatal(err)
	}
	step := func() time.Time {
		t.Helper()
		next, err := f.tr.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	f.clk.Set(info.StartsAt)
	if next := step(); !next.Equal(time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the unanswered start the next push is %v, want the 04:00 retry", next)
	}
	if st := f.tr.Stats(); st.Unanswered != 2 || st.Commands != 0 {
		t.Fatalf("at the start: %+v", st)
	}
	if got := f.statuses(t, info.ID); !strings.HasPrefix(got[lw], "Device Accepted") || !strings.HasPrefix(got[dm], "Device Accepted") {
		t.Fatalf("offline devices: %v", got)
	}

	f.clk.Set(info.StartsAt.Add(time.Hour))
	for _, id := range []string{lw, dm} {
		if err := f.tr.Connect(ctx, id, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.tr.Connect(ctx, dm, false); err != nil { // off again while it updates
		t.Fatal(err)
	}
	for next := step(); !next.IsZero() && next.Before(info.StartsAt.Add(3*time.Hour)); next = step() {
		f.clk.Set(next)
	}
	got := f.statuses(t, info.ID)
	if got[lw] != "Upgrade Success The firmware upgrade was successful." || got[dm] != "Upgrade Pending " {
		t.Fatalf("after the connections: %v", got)
	}
	if err := f.tr.Connect(ctx, dm, true); err != nil { // its next session: the alert it owes
		t.Fatal(err)
	}
	if got := f.statuses(t, info.ID); got[dm] != "Upgrade Success The firmware upgrade was successful." {
		t.Fatalf("after the OMA-DM session: %v", got)
	}
	if st := f.tr.Stats(); st.Connections != 3 || st.Alerts != 1 || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
	var nf *fota.NotFoundError
	if err := f.tr.Connect(ctx, f.ghost, true); !errors.As(err, &nf) {
		t.Fatalf("Connect of a device not simulated: %v", err)
	}
}
