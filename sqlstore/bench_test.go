package sqlstore

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fotakit/fota"
)

const (
	benchDevices = 10_000
	// benchParallelism × GOMAXPROCS goroutines check in at once: enough to
	// keep a pool of PostgreSQL connections busy while each waits on its
	// round trips.
	benchParallelism = 4
)

// BenchmarkCheckIn measures parallel check-ins of 10,000 devices in one
// on-demand campaign, over PostgreSQL and, as the baseline in the same
// run, over the in-memory store. Before timing, every device is in the
// campaign and has checked in once (it is Downloading), so each timed
// check-in records the check-in and answers "download" without a
// transition: the steady state of a fleet polling during a campaign. The
// figure to read is postgres ns/op over memory ns/op.
func BenchmarkCheckIn(b *testing.B) {
	pool := openPool(b)
	// The PostgreSQL fixture is built once: sub-benchmarks run their
	// function several times, with growing b.N.
	pg := newStore(b, pool, Options{})
	for _, c := range []struct {
		name  string
		store fota.Store
	}{
		{"memory", fota.NewMemoryStore()},
		{"postgres", pg},
	} {
		var (
			once sync.Once
			m    *fota.Manager
			ids  []string
		)
		b.Run(c.name, func(b *testing.B) {
			once.Do(func() { m, ids = checkInFixture(b, c.store) })
			if m == nil {
				b.Fatal("fixture failed")
			}
			ctx := context.Background()
			var seed atomic.Uint64
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(seed.Add(1), 0))
				for pb.Next() {
					in, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: ids[r.IntN(len(ids))], ClientType: 6})
					if err != nil || in.Action != fota.ActionDownload {
						b.Errorf("check-in: %v, %v; want download", in.Action, err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
	b.Logf("postgres: %+v", pg.Stats())
}

// checkInFixture schedules a campaign of benchDevices over s and checks
// every device in once, in parallel.
func checkInFixture(b *testing.B, s fota.Store) (*fota.Manager, []string) {
	b.Helper()
	ctx := context.Background()
	inv, ids := inventory(b, benchDevices)
	liftGate(b, s)
	m, err := fota.New(fota.Config{Store: s, Inventory: inv, Clock: &fixedClock{now: testStart}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Schedule(ctx, "acme", onDemand(testStart, ids)); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Bool
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(ids) && !failed.Load(); i += workers {
				if _, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: ids[i], ClientType: 6}); err != nil {
					b.Error(err)
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		b.FailNow()
	}
	return m, ids
}
