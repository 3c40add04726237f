package fota_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
)

const benchDevices = 100_000

// fixedClock is a Clock that always tells the same time.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// benchStart is when the benchmarks' campaigns are scheduled.
var benchStart = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

// liveHeap returns the live heap after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// cpuMeter adds up the CPU time of a benchmark's timed parts: on a shared
// machine it moves less than the wall clock, so each benchmark reports it
// beside its time (cpu-ns/op or cpu-ns/device).
type cpuMeter struct {
	total, from time.Duration
	ok          bool
}

func (m *cpuMeter) start() { m.from, m.ok = cpuTime() }

func (m *cpuMeter) stop() {
	if t, ok := cpuTime(); ok && m.ok {
		m.total += t - m.from
	} else {
		m.ok = false
	}
}

// report reports the CPU time per n of unit.
func (m *cpuMeter) report(b *testing.B, n int, unit string) {
	if m.ok && n > 0 {
		b.ReportMetric(float64(m.total.Nanoseconds())/float64(n), unit)
	}
}

// BenchmarkCheckIn measures parallel device operations over the in-memory
// store, one on-demand campaign holding the fleet, each sub-benchmark
// reporting ops/s:
//
//   - floor: empty device transactions on random devices of 100,000: what
//     the store itself costs every device operation (the baseline).
//   - steady: check-ins of 100,000 devices that are downloading, which
//     change nothing but the history; B/device is the heap the store and
//     Manager hold per device once every device has checked in once.
//   - moving: devices going through download, install and success, each
//     by a check-in, a report, a check-in and a report, so every
//     operation changes the device's state (and each success has the
//     campaign checked for its early end). The fleet holds as many devices
//     as the run needs; they start in a random order.
//
// Run with -cpu 1,2: the bar is 1,000,000 ops/s for steady and moving at
// -cpu 2, and -cpu 2 at least 1.5 times -cpu 1. moving's fleet grows with
// b.N, and a larger fleet misses the caches more: compare -cpu 1 and 2 at
// one count (-benchtime 4000000x: a million devices each).
//
// The device ids a goroutine sends are laid out one after the other, in
// the order it sends them (requestIDs), as a server finds each id in the
// request it has just read: picking a device costs the benchmark no cache
// miss of its own, and what is measured is the store's and Manager's.
func BenchmarkCheckIn(b *testing.B) {
	ctx := context.Background()
	clk := fixedClock(benchStart)

	b.Run("floor", func(b *testing.B) {
		store := fota.NewMemoryStore()
		m, ids := fleet(b, benchDevices, store, clk)
		if _, err := m.Schedule(ctx, "acme", onDemand(clk, ids)); err != nil {
			b.Fatal(err)
		}
		empty := func(fota.DeviceTx) error { return nil }
		var seed atomic.Uint64
		var cpu cpuMeter
		b.ResetTimer()
		cpu.start()
		defer func() { cpu.stop(); cpu.report(b, b.N, "cpu-ns/op") }()
		parallel(b, func(ops int) {
			seq := requestIDs(ids, seed.Add(1))
			for i := range ops {
				if err := store.UpdateDevice(ctx, seq[i%len(seq)], empty); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})

	b.Run("steady", func(b *testing.B) {
		// The inventory is the host's, not the store's: build it first.
		// A fixed clock stands in for time.Now, which takes no lock (the
		// mock's mutex would add contention no server has).
		store := fota.NewMemoryStore()
		m, ids := fleet(b, benchDevices, store, clk)
		before := liveHeap()
		info, err := m.Schedule(ctx, "acme", onDemand(clk, ids))
		if err != nil {
			b.Fatal(err)
		}
		for _, id := range ids {
			if _, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: id, ClientType: 6}); err != nil {
				b.Fatal(err)
			}
		}
		perDevice := float64(liveHeap()-before) / benchDevices
		if info.Counts.Accepted() != benchDevices {
			b.Fatalf("%d devices accepted", info.Counts.Accepted())
		}
		var seed atomic.Uint64
		var cpu cpuMeter
		b.ResetTimer()
		cpu.start()
		defer func() { cpu.stop(); cpu.report(b, b.N, "cpu-ns/op") }()
		parallel(b, func(ops int) {
			seq := requestIDs(ids, seed.Add(1))
			for i := range ops {
				if _, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: seq[i%len(seq)], ClientType: 6}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		b.ReportMetric(perDevice, "B/device")
		runtime.KeepAlive(store)
	})

	b.Run("moving", func(b *testing.B) {
		// Goroutines take devices claim at a time (one shared counter
		// touched per device would cost the benchmark a contended cache
		// line of its own every four operations).
		const claim = 64
		n := b.N/4 + claim*(runtime.GOMAXPROCS(0)+1)
		store := fota.NewMemoryStore()
		m, ids := fleet(b, n, store, clk)
		info, err := m.Schedule(ctx, "acme", onDemand(clk, ids))
		if err != nil {
			b.Fatal(err)
		}
		// Devices start in a random order, as a fleet's check-ins come:
		// neighbours in the store are not updated together.
		rand.New(rand.NewPCG(7, 7)).Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		ids = contiguous(ids)
		var next atomic.Int64 // the next device to start its update
		var cpu cpuMeter
		b.ResetTimer()
		cpu.start()
		defer func() { cpu.stop(); cpu.report(b, b.N, "cpu-ns/op") }()
		parallel(b, func(ops int) {
			var id string
			var mine, end int64 // the devices this goroutine took, 64 at a time
			for step := range ops {
				var err error
				switch step % 4 {
				case 0:
					if mine == end {
						end = next.Add(claim)
						mine = end - claim
					}
					id = ids[mine]
					mine++
					var in fota.Instruction
					if in, err = m.CheckIn(ctx, fota.CheckInRequest{DeviceID: id, ClientType: 6}); err == nil && in.Action != fota.ActionDownload {
						err = fmt.Errorf("device %s told %v, want download", id, in.Action)
					}
				case 1:
					_, err = m.Report(ctx, info.ID, id, fota.OutcomeDownloaded)
				case 2:
					var in fota.Instruction
					if in, err = m.CheckIn(ctx, fota.CheckInRequest{DeviceID: id, ClientType: 6}); err == nil && in.Action != fota.ActionInstall {
						err = fmt.Errorf("device %s told %v, want install", id, in.Action)
					}
				case 3:
					_, err = m.Report(ctx, info.ID, id, fota.OutcomeInstalled)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}

// parallel runs b.N operations on GOMAXPROCS goroutines, body(ops) on
// each with its share. It replaces b.RunParallel, which hands out
// operations from one counter all goroutines add to, in grains sized from
// the run before: with -benchtime given as a count, that run is of one
// operation, the grain is one or two, and every other operation writes a
// cache line that the other cores write too, a cost of the benchmark's
// own that grows with the cores. Goroutines here share nothing.
func parallel(b *testing.B, body func(ops int)) {
	procs := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range procs {
		ops := b.N / procs
		if w < b.N%procs {
			ops++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(ops)
		}()
	}
	wg.Wait()
}

// requestIDs returns a goroutine's sequence of 65,536 devices drawn at
// random from ids, laid out one after the other (contiguous).
func requestIDs(ids []string, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 0))
	seq := make([]string, 1<<16)
	for i := range seq {
		seq[i] = ids[r.IntN(len(ids))]
	}
	return contiguous(seq)
}

// contiguous returns ids with their bytes copied into one string, in
// order.
func contiguous(ids []string) []string {
	var all strings.Builder
	for _, id := range ids {
		all.WriteString(id)
	}
	text := all.String()
	out := make([]string, len(ids))
	at := 0
	for i, id := range ids {
		out[i], at = text[at:at+len(id)], at+len(id)
	}
	return out
}

// BenchmarkTick measures a Tick with nothing due over a campaign of 1,000
// and of 100,000 devices: the deadline index makes its cost independent of
// the fleet (the ratio of the two is the figure to read).
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{1_000, benchDevices} {
		b.Run(fmt.Sprintf("idle/%d", n), func(b *testing.B) {
			ctx := context.Background()
			clk := clock.NewMock()
			clk.Set(benchStart)
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

// BenchmarkSchedule measures scheduling one HTTP campaign of 100,000 and
// of 1,000,000 devices on an empty in-memory store, in ns/device, beside
// its floor (asking the inventory about the same devices, which any
// schedule does first) and the store's share alone (store: the lookups
// admission makes and the members added, in one Update). The bar: at most
// 1,000 ns/device at 1,000,000.
func BenchmarkSchedule(b *testing.B) {
	ctx := context.Background()
	clk := fixedClock(benchStart)
	for _, n := range []int{benchDevices, 1_000_000} {
		inv, ids := inventory(n)
		b.Run(fmt.Sprintf("floor/%d", n), func(b *testing.B) {
			var cpu cpuMeter
			cpu.start()
			for b.Loop() {
				for _, id := range ids {
					if _, ok, err := inv.Lookup(ctx, id); !ok || err != nil {
						b.Fatalf("device %s: %v %v", id, ok, err)
					}
				}
			}
			cpu.stop()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/device")
			cpu.report(b, b.N*n, "cpu-ns/device")
		})
		b.Run(fmt.Sprintf("store/%d", n), func(b *testing.B) {
			// The store's share of a schedule: what admission asks of it
			// per device, and the members added a thousand at a time.
			var cpu cpuMeter
			for range b.N {
				b.StopTimer()
				store := fota.NewMemoryStore()
				runtime.GC()
				b.StartTimer()
				cpu.start()
				err := store.Update(ctx, func(tx fota.Tx) error {
					if err := tx.PutCampaign(fota.Campaign{ID: "c1", Account: "acme"}); err != nil {
						return err
					}
					batch := make([]fota.NewMember, 0, 1000)
					for i, id := range ids {
						if _, err := tx.ActiveCampaign(id); err != nil {
							return err
						}
						if _, err := tx.Device(id); err != nil {
							return err
						}
						batch = append(batch, fota.NewMember{Member: fota.Member{CampaignID: "c1", DeviceID: id,
							State: device.StateAccepted, UpdatedAt: benchStart}, Hold: true})
						if len(batch) == cap(batch) || i == len(ids)-1 {
							if err := tx.AddMembers("c1", batch); err != nil {
								return err
							}
							batch = batch[:0]
						}
					}
					return nil
				})
				cpu.stop()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/device")
			cpu.report(b, b.N*n, "cpu-ns/device")
		})
		b.Run(fmt.Sprintf("schedule/%d", n), func(b *testing.B) {
			var cpu cpuMeter
			for range b.N {
				b.StopTimer()
				m := manager(b, inv, fota.NewMemoryStore(), clk)
				runtime.GC()
				b.StartTimer()
				cpu.start()
				info, err := m.Schedule(ctx, "acme", onDemand(clk, ids))
				cpu.stop()
				if err != nil {
					b.Fatal(err)
				}
				if info.Counts.Accepted() != n {
					b.Fatalf("%d devices accepted", info.Counts.Accepted())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/device")
			cpu.report(b, b.N*n, "cpu-ns/device")
		})
	}
}

// BenchmarkEnd measures the Ticks that end an HTTP campaign of 100,000
// and of 1,000,000 devices (the campaign's end, then the sweep of every
// device in batches), in ns/device, beside its floor: reading every member
// of the campaign once, a page at a time, which any sweep does. B/device
// is the in-memory store's live heap per device once the campaign has
// ended, and B/device-before the same before its end. The bars, at
// 1,000,000: at most 1,000 ns/device and 100 B/device.
func BenchmarkEnd(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{benchDevices, 1_000_000} {
		inv, ids := inventory(n)
		// scheduled returns a Manager over a new store holding the
		// campaign, the clock past its end, and the store's live heap.
		scheduled := func(b *testing.B) (*fota.Manager, *fota.MemoryStore, string, uint64) {
			clk := clock.NewMock()
			clk.Set(benchStart)
			store := fota.NewMemoryStore()
			runtime.GC()
			before := liveHeap()
			m := manager(b, inv, store, clk)
			info, err := m.Schedule(ctx, "acme", onDemand(clk, ids))
			if err != nil {
				b.Fatal(err)
			}
			clk.Set(info.EndsAt.Add(time.Minute))
			return m, store, info.ID, before
		}
		b.Run(fmt.Sprintf("floor/%d", n), func(b *testing.B) {
			b.StopTimer()
			_, store, id, _ := scheduled(b)
			b.StartTimer()
			var cpu cpuMeter
			cpu.start()
			for b.Loop() {
				after, seen := "", 0
				for {
					var page []fota.Member
					if err := store.View(ctx, func(tx fota.Tx) (err error) {
						page, err = tx.Members(id, after, 1000)
						return err
					}); err != nil {
						b.Fatal(err)
					}
					seen += len(page)
					if len(page) < 1000 {
						break
					}
					after = page[len(page)-1].DeviceID
				}
				if seen != n {
					b.Fatalf("paged %d members, want %d", seen, n)
				}
			}
			cpu.stop()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/device")
			cpu.report(b, b.N*n, "cpu-ns/device")
		})
		b.Run(fmt.Sprintf("tick/%d", n), func(b *testing.B) {
			var heldBefore, heldAfter float64
			var cpu cpuMeter
			for range b.N {
				b.StopTimer()
				m, store, id, empty := scheduled(b)
				heldBefore += float64(liveHeap() - empty)
				b.StartTimer()
				cpu.start()
				if _, err := m.Tick(ctx); err != nil {
					b.Fatal(err)
				}
				cpu.stop()
				b.StopTimer()
				heldAfter += float64(liveHeap() - empty)
				info, err := m.Campaign(ctx, "acme", id)
				if err != nil {
					b.Fatal(err)
				}
				if !info.Swept || info.Counts.Total() != n || info.Counts.Of(device.StateAccepted) != 0 {
					b.Fatalf("campaign after Tick: %+v", info)
				}
				runtime.KeepAlive(store)
				runtime.KeepAlive(m)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/device")
			cpu.report(b, b.N*n, "cpu-ns/device")
			b.ReportMetric(heldAfter/float64(b.N*n), "B/device")
			b.ReportMetric(heldBefore/float64(b.N*n), "B/device-before")
		})
	}
}

// inventory returns an inventory of n HTTP devices and their ids.
func inventory(n int) (*fota.MemoryInventory, []string) {
	inv := fota.NewMemoryInventory()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = testIMEI(i)
		inv.Put(fota.DeviceInfo{DeviceID: ids[i], Account: "acme", Protocol: device.HTTP, Make: "Acme", Model: "Lamp",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	return inv, ids
}

// manager returns a Manager over store and inv whose pilot gate for the
// benchmarks' software is lifted, so campaigns of any size may run.
func manager(b testing.TB, inv fota.Inventory, store fota.Store, clk fota.Clock) *fota.Manager {
	b.Helper()
	if err := store.Update(context.Background(), func(tx fota.Tx) error {
		return tx.PutGate(pilot.Gate{Target: pilot.Target{Account: "acme", SoftwareName: "fw", SoftwareFrom: "1.0", SoftwareTo: "2.0"}, State: pilot.Lifted})
	}); err != nil {
		b.Fatal(err)
	}
	m, err := fota.New(fota.Config{Store: store, Inventory: inv, Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	return m
}
