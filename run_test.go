package fota_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
)

// Run sleeps until the next deadline and wakes early when an operation
// creates an earlier one. Here Run has started one campaign and sleeps
// towards the start of another, a day away; cancelling that one (1,499
// devices) moves the first 1,000 at once and leaves the rest to a sweep
// due now, which only an early wake gets done. The clock never moves
// while Run runs.
func TestRunWakesForAnEarlierDeadline(t *testing.T) {
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC))
	store := fota.NewMemoryStore()
	_, ids := fleet(t, 1500, store, clk) // lifts the gate of "fw"
	inv := fota.NewMemoryInventory()
	for _, id := range ids {
		inv.Put(fota.DeviceInfo{DeviceID: id, Account: "acme", Protocol: device.HTTP, Make: "Acme", Model: "Lamp",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	started := make(chan struct{}, 1)
	cancelled := make(chan struct{}, len(ids))
	m, err := fota.New(fota.Config{Store: store, Inventory: inv, Clock: clk, RunPoll: 30 * 24 * time.Hour,
		Observer: fota.ObserverFunc(func(c fota.Change) {
			switch {
			case c.Kind == fota.CampaignChanged && c.Campaign == campaign.HTTPScheduled:
				started <- struct{}{}
			case c.Kind == fota.DeviceChanged && c.State == device.StateCancelled:
				cancelled <- struct{}{}
			}
		})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	day := schedule.DateOf(clk.Now())
	request := func(start schedule.Date, ids []string) fota.CampaignRequest {
		return fota.CampaignRequest{SoftwareName: "fw", SoftwareFrom: "1.0", SoftwareTo: "2.0",
			Timing: schedule.HTTPRequest{StartDate: start, EndDate: start.AddDays(2)}, DeviceList: ids}
	}
	if _, err := m.Schedule(ctx, "acme", request(day.AddDays(1), ids[:1])); err != nil {
		t.Fatal(err)
	}
	big, err := m.Schedule(ctx, "acme", request(day.AddDays(2), ids[1:]))
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(day.AddDays(1).Start())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	bound := time.After(10 * time.Second) // bounds the waits; the test asserts events, not time
	select {
	case <-started: // Run's first Tick started the first campaign; it now sleeps towards the second's start
	case <-bound:
		t.Fatal("Run did not tick")
	}
	if _, err := m.Cancel(ctx, "acme", big.ID); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(ids)-1; n++ {
		select {
		case <-cancelled:
		case <-bound:
			t.Fatalf("%d of %d devices cancelled: Run did not wake for the sweep due now", n, len(ids)-1)
		}
	}
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}

// AsyncObserver never blocks the Manager: with a stuck receiver the
// changes beyond its buffer are dropped and counted; Close delivers the
// rest.
func TestAsyncObserver(t *testing.T) {
	release := make(chan struct{})
	var got atomic.Int64
	a := fota.NewAsyncObserver(fota.ObserverFunc(func(fota.Change) {
		<-release
		got.Add(1)
	}), 4)
	for range 10 {
		a.Observe(fota.Change{Kind: fota.CampaignChanged})
	}
	// The goroutine holds one, the buffer four: at least five dropped.
	if d := a.Dropped(); d < 5 {
		t.Fatalf("dropped %d of 10 with a buffer of 4 and a stuck receiver", d)
	}
	close(release)
	a.Close()
	if got.Load()+int64(a.Dropped()) != 10 {
		t.Fatalf("delivered %d and dropped %d of 10", got.Load(), a.Dropped())
	}
	a.Observe(fota.Change{})
	if got.Load()+int64(a.Dropped()) != 11 {
		t.Fatal("a change after Close was neither delivered nor counted as dropped")
	}
}

// WireOnly passes on the changes of the wire status only.
func TestWireOnly(t *testing.T) {
	var n int
	w := fota.WireOnly(fota.ObserverFunc(func(fota.Change) { n++ }))
	w.Observe(fota.Change{Kind: fota.DeviceChanged, State: device.StateDownloaded, From: device.StateDownloading})
	w.Observe(fota.Change{Kind: fota.DeviceChanged, State: device.StateDownloading, From: device.StateAccepted, WireChanged: true})
	if n != 1 {
		t.Fatalf("WireOnly passed %d changes, want 1", n)
	}
}
