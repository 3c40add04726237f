package fota_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/fotakit/fota"
)

const benchDevices = 100_000

// fixedClock is a Clock that always tells the same time.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// BenchmarkCheckIn measures parallel check-ins of 100,000 devices in one
// on-demand campaign over the in-memory store, next to its floor: an empty
// read-write transaction on the same store (the lock every check-in takes).
// B/device is the heap the store and Manager hold per device once every
// device is in the campaign and has checked in once.
func BenchmarkCheckIn(b *testing.B) {
	ctx := context.Background()
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC))

	b.Run("floor", func(b *testing.B) {
		s := fota.NewMemoryStore()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = s.Update(ctx, func(fota.Tx) error { return nil })
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})

	b.Run("manager", func(b *testing.B) {
		var before, after runtime.MemStats
		// The inventory is the host's, not the store's: build it first.
		// A fixed clock stands in for time.Now, which takes no lock (the
		// mock's mutex would add contention no server has).
		store := fota.NewMemoryStore()
		m, ids := fleet(b, benchDevices, store, fixedClock(clk.Now()))
		runtime.GC()
		runtime.ReadMemStats(&before)
		info, err := m.Schedule(ctx, "acme", onDemand(clk, ids))
		if err != nil {
			b.Fatal(err)
		}
		for _, id := range ids {
			if _, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: id, ClientType: 6}); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perDevice := float64(after.HeapAlloc-before.HeapAlloc) / benchDevices
		if info.Counts.Accepted() != benchDevices {
			b.Fatalf("%d devices accepted", info.Counts.Accepted())
		}
		var seed atomic.Uint64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(seed.Add(1), 0))
			for pb.Next() {
				if _, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: ids[r.IntN(len(ids))], ClientType: 6}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		b.ReportMetric(perDevice, "B/device")
		runtime.KeepAlive(store)
	})
}

// BenchmarkTick measures a Tick with nothing due over a campaign of 1,000
// and of 100,000 devices: the deadline index makes its cost independent of
// the fleet (the ratio of the two is the figure to read).
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{1_000, benchDevices} {
		b.Run(fmt.Sprintf("idle/%d", n), func(b *testing.B) {
			ctx := context.Background()
			clk := clock.NewMock()
			clk.Set(time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC))
			m, ids := fleet(b, n, fota.NewMemoryStore(), clk)
			if _, err := m.Schedule(ctx, "acme", onDemand(clk, ids)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := m.Tick(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
