package sim_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/fotakit/fota/sim"
)

// BenchmarkSimulate runs the default scenario (a pilot of 20, then a
// 7-day rollout) over 10,000 and 100,000 devices, next to its baseline in
// the same run: "queue", the bare event loop (the same queue, clock,
// fleet and random draws, each device checking in, downloading and
// installing once) with no Manager behind it. ns/event is wall time per
// event handled; the ratio of the two is the Manager's share. B/device is
// the highest live heap sampled during the run, per device.
func BenchmarkSimulate(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("devices=%d/queue", n), func(b *testing.B) {
			var events int64
			var peak uint64
			for b.Loop() {
				e, p := bareLoop(n, 1)
				events += e
				peak = max(peak, p)
			}
			report(b, n, events, peak)
		})
		b.Run(fmt.Sprintf("devices=%d/manager", n), func(b *testing.B) {
			var events int64
			var peak uint64
			for b.Loop() {
				s := sim.DefaultScenario(n)
				var k int
				s.OnStep = func(sim.Step) {
					if k++; k&8191 == 0 {
						peak = max(peak, heapNow())
					}
				}
				rep, err := sim.Run(context.Background(), s)
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, heapNow())
				events += rep.Totals.Events
			}
			report(b, n, events, peak)
		})
	}
}

func report(b *testing.B, n int, events int64, peak uint64) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
	b.ReportMetric(float64(events)/float64(b.N)/float64(n), "events/device")
	b.ReportMetric(float64(peak)/float64(n), "B/device")
}

// heapNow is the bytes of heap objects (MemStats.HeapAlloc), read from
// runtime/metrics, which does not stop the world as ReadMemStats does.
func heapNow() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// bareLoop is the simulator's skeleton without a Manager: every device
// checks in at its hour, downloads, checks in and installs, through the
// same queue and clock. It returns the events handled and the highest
// live heap sampled.
func bareLoop(n int, seed uint64) (int64, uint64) {
	type device struct {
		id    string
		phase int32
		stage uint8
	}
	type event struct {
		dev  int32
		kind uint8
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	start := sim.Micros(t0)
	clock := sim.NewClock(t0)
	fleet := make([]device, n)
	var q sim.Queue[event]
	for i := range fleet {
		fleet[i] = device{id: fmt.Sprintf("35%013d", i), phase: int32(rng.IntN(24)) * 3600}
		q.Push(start+int64(fleet[i].phase)*1e6+rng.Int64N(3600)*1e6, event{dev: int32(i), kind: 1})
	}
	var events int64
	var peak uint64
	for {
		at, ev, ok := q.Pop()
		if !ok {
			break
		}
		clock.Set(sim.Time(at))
		if events++; events&8191 == 0 {
			peak = max(peak, heapNow())
		}
		d := &fleet[ev.dev]
		_ = clock.Now()
		switch {
		case ev.kind == 1 && d.stage == 0: // told to download
			d.stage = 1
			q.Push(at+(120+rng.Int64N(1680))*1e6, event{dev: ev.dev, kind: 2})
		case ev.kind == 2 && d.stage == 1: // downloaded: check in again
			_ = rng.Float64() < 0.02
			q.Push(at, event{dev: ev.dev, kind: 1})
			d.stage = 2
		case ev.kind == 1 && d.stage == 2: // told to install
			d.stage = 3
			q.Push(at+(60+rng.Int64N(540))*1e6, event{dev: ev.dev, kind: 2})
		default: // installed
			_ = rng.Float64() < 0.03
		}
	}
	return events, max(peak, heapNow())
}
