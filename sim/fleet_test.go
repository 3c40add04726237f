package sim_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/looplab/fsm"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/sim"
)

// fleetScenario is BenchmarkFleet's operation: one 7-day HTTP campaign
// over a fleet of n devices of DefaultGroup's behaviour (the default
// rollout's windows), from its schedule to its end. There is no pilot:
// the operator lifts the software's pilot gate first (liftGate), then
// sends the rollout.
func fleetScenario(n int) sim.Scenario {
	s := sim.DefaultScenario(n)
	s.Pilot.Devices = 0
	s.Rollout.ScheduleAt = sim.At{After: time.Second}
	s.Actions = []sim.Action{{Do: sim.DoLiftGate, Campaign: "rollout"}}
	return s
}

// baselineResult is what the looplab-per-device baseline did.
type baselineResult struct {
	checkIns, reports, dropped int64
	tally                      map[string]int // "status/reason" -> devices
}

// baselineDevice is the throwaway design's device: its id, its own
// looplab FSM (from device.HTTPEvents), its check-in history as a slice,
// and the simulator's behaviour fields.
type baselineDevice struct {
	id      string
	fsm     *fsm.FSM
	history []time.Time
	phase   int64
	never   bool
	gen     uint8
	idx     int32 // its index in the fleet: its dice's
}

// runBaseline is the looplab-per-device design: every device is a heap
// record in a map keyed by its IMEI with one *fsm.FSM built from
// device.HTTPEvents, moved by fsm.Event; the campaign's answers come from
// its compiled schedule as the Manager's do; counts are kept as devices
// move. It is driven by exactly the simulator's events: the same fleet,
// the same draws in the same order, the same queue (TestBaselineAgrees).
// It takes s as fleetScenario builds it (one group, a rollout of every
// device, no actions but liftGate). peak, if not nil, is called now and
// then.
func runBaseline(s sim.Scenario, peak func()) (baselineResult, error) {
	ctx := context.Background()
	g := &s.Fleet[0]
	rng := rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))
	var src sim.Draws = rng // the fleet's; every device event has its own dice
	chance := func(p float64) bool { return p > 0 && src.Float64() < p }
	const second = int64(1e6)
	draw := func(rg sim.Range) int64 {
		lo, hi := int64(time.Duration(rg.Min)/time.Second), int64(time.Duration(rg.Max)/time.Second)
		if hi <= lo {
			return max(lo, 0) * second
		}
		return (lo + src.Int64N(hi-lo+1)) * second
	}
	start := sim.Micros(s.Start)
	anchor := sim.Micros(s.Start.Truncate(24 * time.Hour))
	every := int64(time.Duration(g.CheckInEvery) / time.Microsecond)
	devices := map[string]*baselineDevice{}
	order := make([]string, 0, g.Count)
	for i := range g.Count {
		id, err := device.IMEIOf(fmt.Sprintf("35%012d", i))
		if err != nil {
			return baselineResult{}, err
		}
		d := &baselineDevice{id: id, idx: int32(i), fsm: fsm.NewFSM(device.StateAccepted.String(), device.HTTPEvents, nil)}
		d.phase = int64(rng.IntN(int(time.Duration(g.CheckInEvery)/time.Hour))) * 3600
		d.never = g.Online == sim.OnlineNever || chance(g.NeverOnline)
		devices[id] = d
		order = append(order, id)
	}
	slotAfter := func(base, now int64) int64 {
		d := now - base
		k := d / every
		if d < 0 && d%every != 0 {
			k--
		}
		return base + (k+1)*every
	}
	nextRegular := func(d *baselineDevice, now int64) int64 {
		jitter := draw(sim.Range{Max: g.CheckInJitter - sim.Duration(time.Second)})
		return slotAfter(anchor+d.phase*second+jitter, now)
	}
	type event struct {
		id      string
		kind    uint8 // 1 check-in, 2 report, 3 end
		outcome fota.Outcome
		gen     uint8
	}
	var q sim.Queue[event]
	scheduledAt := sim.Time(start + second)
	h, err := schedule.NewHTTP(s.Rollout.Timing.Request(scheduledAt, s.Start), scheduledAt, schedule.DefaultPolicy())
	if err != nil {
		return baselineResult{}, err
	}
	stateOf := map[string]device.State{}
	for _, st := range device.States {
		stateOf[st.String()] = st
	}
	var counts [32]int
	counts[device.StateAccepted] = g.Count
	move := func(d *baselineDevice, ev device.Event) (device.State, error) {
		from := stateOf[d.fsm.Current()]
		if err := d.fsm.Event(ctx, ev.String()); err != nil {
			return from, err
		}
		to := stateOf[d.fsm.Current()]
		counts[from]--
		counts[to]++
		return to, nil
	}
	for _, id := range order {
		d := devices[id]
		d.gen++
		if d.never {
			continue
		}
		first := start + second
		if on := start + int64(time.Duration(g.OfflineFor)/time.Microsecond); on > first {
			first = on - 1
		}
		src = sim.EventDice(s.Seed, d.idx, start+second, 0, d.gen)
		q.Push(nextRegular(d, first), event{id: id, kind: 1, gen: d.gen})
	}
	q.Push(sim.Micros(h.EndsAt()), event{kind: 3})
	var res baselineResult
	var events int64
	sampleEvery := int64(time.Duration(s.SampleEvery) / time.Microsecond)
	nextSample := anchor + sampleEvery
	for nextSample <= start {
		nextSample += sampleEvery
	}
	var samples [][32]int
	open := true
	for open {
		at, ev, ok := q.Pop()
		if !ok {
			return res, fmt.Errorf("baseline: nothing left to happen")
		}
		for at >= nextSample { // the hourly samples of the campaign's counts
			samples = append(samples, counts)
			nextSample += sampleEvery
		}
		if events++; events%sim.ProgressEvery == 0 && peak != nil {
			peak()
		}
		now := sim.Time(at)
		if ev.kind == 3 { // the end: every device still under way gets the end
			for _, id := range order {
				d := devices[id]
				if !stateOf[d.fsm.Current()].Terminal() {
					if _, err := move(d, device.EventCampaignEnd); err != nil {
						return res, err
					}
				}
			}
			open = false
			continue
		}
		d := devices[ev.id]
		src = sim.EventDice(s.Seed, d.idx, at, ev.kind, d.gen)
		if ev.kind == 2 {
			res.reports++
			st, err := move(d, map[fota.Outcome]device.Event{fota.OutcomeDownloaded: device.EventDownloaded,
				fota.OutcomeDownloadFailed: device.EventDownloadFailed, fota.OutcomeInstalled: device.EventInstalled,
				fota.OutcomeInstallFailed: device.EventInstallFailed, fota.OutcomeUnknownError: device.EventUnknownError}[ev.outcome])
			if err != nil {
				return res, err
			}
			if !st.Terminal() {
				q.Push(at, event{id: d.id, kind: 1, gen: d.gen})
			}
			continue
		}
		res.checkIns++
		d.history = append(d.history, now)
		if len(d.history) > s.HistoryMax {
			d.history = append(d.history[:0], d.history[len(d.history)-s.HistoryMax:]...)
		}
		var phase schedule.Phase
		var ev2 device.Event
		switch stateOf[d.fsm.Current()] {
		case device.StateAccepted:
			phase, ev2 = schedule.PhaseDownload, device.EventDownload
		case device.StateDownloading:
			phase = schedule.PhaseDownload
		case device.StateDownloaded:
			phase, ev2 = schedule.PhaseInstall, device.EventInstall
		case device.StateInstalling:
			phase = schedule.PhaseInstall
		default:
			continue // finished: nothing more to simulate
		}
		if h.Open(phase, now) {
			if ev2 != 0 {
				if _, err := move(d, ev2); err != nil {
					return res, err
				}
			}
			fail, step, outcome := g.DownloadFail, g.Download, fota.OutcomeDownloaded
			if phase == schedule.PhaseInstall {
				fail, step, outcome = g.InstallFail, g.Install, fota.OutcomeInstalled
			}
			if chance(g.UnknownError) {
				outcome = fota.OutcomeUnknownError
			} else if chance(fail) {
				outcome = map[fota.Outcome]fota.Outcome{fota.OutcomeDownloaded: fota.OutcomeDownloadFailed, fota.OutcomeInstalled: fota.OutcomeInstallFailed}[outcome]
			}
			q.Push(at+draw(step), event{id: d.id, kind: 2, outcome: outcome, gen: d.gen})
			continue
		}
		next := nextRegular(d, at)
		if retry, ok := h.NextOpen(phase, now); ok && g.FollowRetry {
			if r := sim.Micros(retry) + draw(sim.Range{Max: g.RetryJitter - sim.Duration(time.Second)}); r < next {
				next = r
			}
		}
		q.Push(next, event{id: d.id, kind: 1, gen: d.gen})
	}
	for {
		_, ev, ok := q.Pop()
		if !ok {
			break
		}
		if ev.kind != 3 {
			res.dropped++
		}
	}
	res.tally = map[string]int{}
	for _, id := range order {
		st := stateOf[devices[id].fsm.Current()]
		res.tally[st.Status().Wire(device.FamilyHTTP)+"/"+st.Reason().Text(device.FamilyHTTP)]++
	}
	if peak != nil {
		peak()
	}
	runtime.KeepAlive(samples)
	return res, nil
}

// TestBaselineAgrees: the looplab-per-device baseline sees exactly the
// simulator's events (check-ins, reports, dropped events) and ends every
// device where the Manager does.
func TestBaselineAgrees(t *testing.T) {
	for _, n := range []int{300, 3000} {
		s := fleetScenario(n)
		rep, err := sim.Run(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Campaigns) != 1 || rep.Campaigns[0].Status != "CampaignEnded" || rep.Actions[0].Refused != "" {
			t.Fatalf("n=%d: %+v %+v", n, rep.Campaigns, rep.Actions)
		}
		b, err := runBaseline(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{}
		for _, row := range rep.Campaigns[0].Tally {
			want[row.Status+"/"+row.Reason] = row.Count
		}
		if b.checkIns != rep.Totals.CheckIns || b.reports != rep.Totals.Reports || b.dropped != rep.Totals.Dropped || fmt.Sprint(b.tally) != fmt.Sprint(want) {
			t.Errorf("n=%d: baseline %d check-ins, %d reports, %d dropped, %v; simulator %d, %d, %d, %v",
				n, b.checkIns, b.reports, b.dropped, b.tally, rep.Totals.CheckIns, rep.Totals.Reports, rep.Totals.Dropped, want)
		}
	}
}

// heapWatch samples the live heap every 10 ms, and whenever sample is
// called, until stop; peak is the highest sample less the heap in use
// when it started (after a collection).
type heapWatch struct {
	mu         sync.Mutex
	base, high uint64
	stop, done chan struct{}
}

func watchHeap() *heapWatch {
	runtime.GC()
	w := &heapWatch{stop: make(chan struct{}), done: make(chan struct{})}
	w.base = heapNow()
	w.high = w.base
	go func() {
		defer close(w.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
				w.sample()
			}
		}
	}()
	return w
}

func (w *heapWatch) sample() {
	h := heapNow()
	w.mu.Lock()
	w.high = max(w.high, h)
	w.mu.Unlock()
}

// peak stops the watch and returns the peak above the start.
func (w *heapWatch) peak() uint64 {
	w.sample()
	close(w.stop)
	<-w.done
	return w.high - w.base
}

// fleetResult is one sub-benchmark's figures, for the ratios the parent
// benchmark prints: wall and CPU time per device, peak heap per device.
type fleetResult struct{ nsPerDevice, cpuPerDevice, bytesPerDevice float64 }

// BenchmarkFleet runs one op, a whole 7-day HTTP campaign over the fleet
// from its schedule to its end (fleetScenario), through the simulator and
// the Manager (fota/n; fota-workers/n with Scenario.Workers at
// GOMAXPROCS, each instant's check-ins and reports shared out among that
// many goroutines, as the baseline's collector uses the other cores) and
// through the looplab-per-device baseline (looplab-per-device/n), driven
// by the same events. Each reports ns/device (wall), cpu-ns/device (CPU
// time of the process, the collector's included: steadier than wall time
// on a shared machine) and B/device (the peak live heap during the op,
// per device); the parent then prints the ratios: looplab over each fota
// design in time and in memory at each size, and fota's time per device
// at the largest size over the smallest. Run it with -benchtime 1x: one
// op of a million devices takes seconds.
func BenchmarkFleet(b *testing.B) {
	sizes := []int{100_000, 1_000_000}
	results := map[string]fleetResult{}
	// An untimed run first, so that the first op measured does not pay for
	// the process's first touches of its heap and code alone (it made
	// fota's 100,000 look slower per device than its 1,000,000).
	if _, err := sim.Run(context.Background(), fleetScenario(sizes[0])); err != nil {
		b.Fatal(err)
	}
	for _, design := range []string{"fota", "fota-workers", "looplab-per-device"} {
		for _, n := range sizes {
			name := fmt.Sprintf("%s/%d", design, n)
			b.Run(name, func(b *testing.B) {
				var peak uint64
				var cpu time.Duration
				s := fleetScenario(n)
				if design == "fota-workers" {
					s.Workers = runtime.GOMAXPROCS(0)
				}
				for b.Loop() {
					c0 := cpuTime()
					w := watchHeap()
					if design != "looplab-per-device" {
						s.OnProgress = func(sim.Progress) { w.sample() }
						rep, err := sim.Run(context.Background(), s)
						if err != nil {
							b.Fatal(err)
						}
						if rep.Campaigns[0].Status != "CampaignEnded" {
							b.Fatalf("the campaign ended %s", rep.Campaigns[0].Status)
						}
					} else if _, err := runBaseline(s, w.sample); err != nil {
						b.Fatal(err)
					}
					peak = max(peak, w.peak())
					cpu += cpuTime() - c0
				}
				r := fleetResult{float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(n),
					float64(cpu.Nanoseconds()) / float64(b.N) / float64(n), float64(peak) / float64(n)}
				b.ReportMetric(r.nsPerDevice, "ns/device")
				if r.cpuPerDevice > 0 {
					b.ReportMetric(r.cpuPerDevice, "cpu-ns/device")
				}
				b.ReportMetric(r.bytesPerDevice, "B/device")
				results[name] = r
			})
		}
	}
	for _, n := range sizes {
		l := results[fmt.Sprintf("looplab-per-device/%d", n)]
		for _, design := range []string{"fota", "fota-workers"} {
			f := results[fmt.Sprintf("%s/%d", design, n)]
			if f.nsPerDevice > 0 && l.nsPerDevice > 0 {
				printRatio(b, "%d devices: looplab-per-device / %s: %.1fx the wall time, %s the CPU time, %.1fx the memory (bars at 1,000,000: 10x each)",
					n, design, l.nsPerDevice/f.nsPerDevice, ratio(l.cpuPerDevice, f.cpuPerDevice), l.bytesPerDevice/f.bytesPerDevice)
			}
		}
	}
	small, large := results[fmt.Sprintf("fota/%d", sizes[0])], results[fmt.Sprintf("fota/%d", sizes[1])]
	if small.nsPerDevice > 0 && large.nsPerDevice > 0 {
		printRatio(b, "fota: time per device at %d / at %d: %.2f wall, %s CPU (bar: at most 1.25)", sizes[1], sizes[0],
			large.nsPerDevice/small.nsPerDevice, ratio(large.cpuPerDevice, small.cpuPerDevice))
	}
}

// ratio writes a/b as "2.5x", or "n/a" where CPU time cannot be read.
func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// BenchmarkPushRollout: a rollout of the same fleet through the simulator
// as HTTP devices (fleetScenario: a 7-day /v2 campaign), as LwM2M devices
// and as OMA-DM devices (a 7-day /v1 upgrade); ns/device for each, and
// the ratio of each push rollout's time per device to the HTTP one's
// (bar: at most 1). The sub-benchmarks run one protocol after the other;
// the ratios come from pushRounds rounds that each run the three in turn
// (the sub-benchmarks' run the first), the median of each protocol's: on a
// shared machine one rollout's time varies by a tenth either way, and
// taking turns spreads what the machine does meanwhile over all three.
func BenchmarkPushRollout(b *testing.B) {
	const n = 100_000
	protos := []string{"http", "lwm2m", "omadm"}
	scenario := func(b *testing.B, proto string) sim.Scenario {
		s := fleetScenario(n)
		if proto != "http" {
			if err := s.SetProtocol(proto); err != nil {
				b.Fatal(err)
			}
			s.Actions = nil
		}
		return s
	}
	// One rollout: its wall and CPU time per device, and its events.
	rollout := func(b *testing.B, s sim.Scenario) (wall, cpu float64, events int64) {
		t0, c0 := time.Now(), cpuTime()
		rep, err := sim.Run(context.Background(), s)
		c, w := cpuTime()-c0, time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if st := rep.Campaigns[0].Status; st != "CampaignEnded" && st != "Finished" {
			b.Fatalf("the campaign ended %s", st)
		}
		return float64(w.Nanoseconds()) / n, float64(c.Nanoseconds()) / n, rep.Totals.Events
	}
	walls, cpus := map[string][]float64{}, map[string][]float64{}
	// An untimed rollout first: the first run in a process grows the heap
	// from nothing (the kernel hands it fresh pages), which would weigh
	// on whichever protocol ran first.
	rollout(b, scenario(b, "http"))
	for _, proto := range protos {
		b.Run(fmt.Sprintf("%s/%d", proto, n), func(b *testing.B) {
			s := scenario(b, proto)
			var events int64
			var wall, cpu float64
			for b.Loop() {
				w, c, e := rollout(b, s)
				wall, cpu, events = wall+w, cpu+c, events+e
			}
			wall, cpu = wall/float64(b.N), cpu/float64(b.N)
			walls[proto], cpus[proto] = append(walls[proto], wall), append(cpus[proto], cpu)
			b.ReportMetric(wall, "ns/device")
			if cpu > 0 {
				b.ReportMetric(cpu, "cpu-ns/device")
			}
			b.ReportMetric(float64(events)/float64(b.N)/n, "events/device")
		})
	}
	if len(walls["http"]) == 0 {
		return // the sub-benchmarks were filtered out
	}
	for range pushRounds - 1 {
		for _, proto := range protos {
			w, c, _ := rollout(b, scenario(b, proto))
			walls[proto], cpus[proto] = append(walls[proto], w), append(cpus[proto], c)
		}
	}
	for _, proto := range protos[1:] {
		if len(walls[proto]) == len(walls["http"]) {
			printRatio(b, "%s / http: %.2fx the wall time per device, %s the CPU time, medians of %d rounds taking turns (bar: at most 1)", proto,
				median(walls[proto])/median(walls["http"]), ratio(median(cpus[proto]), median(cpus["http"])), len(walls[proto]))
		}
	}
}

// pushRounds is how many rounds of the three rollouts BenchmarkPushRollout
// runs for its ratios.
const pushRounds = 5

// median is the middle of xs (the mean of the middle two for an even
// count).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkScheduleHeap measures what a campaign of 100,000 devices adds
// to the Manager's store, as the live heap after Schedule (an HTTP
// campaign) and after ScheduleUpgrade (a push campaign of LwM2M devices)
// less the live heap before, per device; the parent prints the push
// campaign's extra bytes per device (bar: at most 64).
func BenchmarkScheduleHeap(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	results := map[string]float64{}
	for _, proto := range []device.Protocol{device.HTTP, device.LWM2M} {
		b.Run(fmt.Sprintf("%s/%d", proto, n), func(b *testing.B) {
			inv := fota.NewMemoryInventory()
			ids := make([]string, n)
			for i := range ids {
				id, err := device.IMEIOf(fmt.Sprintf("35%012d", i))
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = id
				inv.Put(fota.DeviceInfo{DeviceID: id, Account: "acme", Protocol: proto, Make: "Acme", Model: "Sensor",
					Software: "1.0", FOTACapable: true, ActiveConnected: true})
			}
			now := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
			var grown uint64
			for b.Loop() {
				m, err := fota.New(fota.Config{Inventory: inv, Clock: sim.NewClock(now)})
				if err != nil {
					b.Fatal(err)
				}
				target := fota.CampaignRequest{SoftwareName: "fw", SoftwareFrom: "1.0", SoftwareTo: "2.0", DistributionType: "HTTP",
					Timing: schedule.HTTPRequest{StartDate: schedule.DateOf(now), EndDate: schedule.DateOf(now).AddDays(6)}, DeviceList: ids}
				if proto == device.HTTP {
					if _, err := m.LiftGate(ctx, pilotTargetOf(target)); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				before := heapNow()
				if proto == device.HTTP {
					_, err = m.Schedule(ctx, "acme", target)
				} else {
					_, err = m.ScheduleUpgrade(ctx, "acme", fota.UpgradeRequest{AccountName: "acme", FirmwareName: "fw", FirmwareFrom: "1.0",
						FirmwareTo: "2.0", StartDate: schedule.DateOf(now), EndDate: schedule.DateOf(now).AddDays(6), DeviceList: ids})
				}
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				grown = heapNow() - before
				runtime.KeepAlive(m)
			}
			results[proto.String()] = float64(grown) / n
			b.ReportMetric(results[proto.String()], "B/device")
		})
	}
	if results["HTTP"] > 0 && results["LWM2M"] > 0 {
		printRatio(b, "push campaign - HTTP campaign: %+.0f B/device in the store after scheduling (bar: at most 64)", results["LWM2M"]-results["HTTP"])
	}
}

// printRatio prints a ratio between sub-benchmarks to standard output,
// where a benchmark run shows it whatever -v says (b.Logf would not).
func printRatio(b *testing.B, format string, args ...any) {
	fmt.Printf("%s: "+format+"\n", append([]any{b.Name()}, args...)...)
}

func pilotTargetOf(r fota.CampaignRequest) pilot.Target {
	return pilot.Target{Account: "acme", SoftwareName: r.SoftwareName, SoftwareFrom: r.SoftwareFrom, SoftwareTo: r.SoftwareTo}
}
