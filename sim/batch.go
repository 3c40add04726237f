package sim

import (
	"cmp"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/verboselog"
)

// Device events of one instant run side by side.
//
// The HTTP devices' events of one instant, check-ins and reports, do not
// depend on one another: each touches its own device in the store, and
// what it draws comes from its own dice (eventDice), not from a stream the
// events before it consumed. The loop takes such a run of events off the
// queue (a batch) and, when it is large, shares it out among the workers
// by the store's lock shards (fota.MemoryStore.Partition of 64): the
// workers claim the batch's shards one at a time, each running a shard's
// events in order, so that no two of them take the same lock, neither in
// their operations nor in their reading ahead, and a worker that is done
// early takes more shards rather than wait for the others. Each worker
// calls its own Manager, a replica over the run's store and clock, and
// keeps what each event did: the event it queues, its Step, the changes
// its Manager told. Once every shard is done the loop replays them in
// event order, then the batch's campaign changes in lifecycle
// order (sorted by campaign and status: which device's operation ended a
// campaign is a race between the workers, what it changed is not). The
// queue, the Observer and OnStep thus see the same sequence whatever the
// number of workers, and the same seed gives a byte-identical Report.

// A batch is shared out when it holds at least 2*minShare events: below
// that, handing it to another core costs more than it saves.
const minShare = 64

// spinFor is how many times a helper looks for its next batch before it
// sleeps: while a rollout is busy, large batches follow each other
// closely, and a helper woken from sleep may first wait its turn on the
// loop's own core.
const spinFor = 100_000

// batchable reports the events that may run in a batch.
func batchable(k eventKind) bool { return k == evCheckIn || k == evReport }

func isBatchable(ev event) bool { return batchable(ev.kind) }

// worker runs a batch, or the shards of one it claims.
type worker struct {
	r   *runner
	m   *fota.Manager // its replica: Observer is the worker
	idx int           // its index in runner.workers
	// What each event it ran did, in the order it ran them.
	done []eventResult
	// The changes its Manager told, device ones in order (eventResult
	// says whose they are), campaign ones apart.
	changes     []fota.Change
	campChanges []fota.Change
	steps       []Step // when Scenario.OnStep is set
	totals      Totals // the calls it made
	rd          reader
	at          int64 // the batch's instant
	// direct: the batch is not shared out, and this worker (the loop's)
	// tells each event's device changes, step and queued event as it
	// goes, in event order as the replay would, with nothing kept.
	direct bool
	// A helper's hand-off: posted counts the batches handed to it,
	// finished those it has done; sleeping says it waits on wake.
	posted, finished atomic.Uint64
	sleeping         atomic.Bool
	wake             chan struct{}
	spin             int // spinFor, or 0 when there are more workers than cores
}

// eventResult is what one event of a batch did: the event it queues, if
// any, whether it was handled (not stale: it has a Step, at step in
// worker.steps when OnStep is set), and the end of its changes in
// worker.changes (they start where the worker's result before ends).
type eventResult struct {
	at      int64
	ev      event
	queued  bool
	handled bool
	changes int32
	step    int32
}

// shares is a batch shared out: its events by lock shard, each event's
// shard (in batch order), the shards that hold any (used), the next of
// them to claim, and per shard the worker that ran it, the range of its
// results in that worker's done, the error that stopped it, and the
// replay's cursor.
type shares struct {
	evs        [maxWorkers][]event
	shardOf    []uint8
	used       []uint8
	claim      atomic.Int64
	by         [maxWorkers]uint8
	start, end [maxWorkers]int32
	err        [maxWorkers]error
	next       [maxWorkers]int32
}

// Observe implements fota.Observer for the worker's Manager.
func (w *worker) Observe(c fota.Change) {
	if c.Kind == fota.DeviceChanged {
		if w.direct {
			w.r.Observe(c)
			return
		}
		w.changes = append(w.changes, c)
		return
	}
	w.campChanges = append(w.campChanges, c)
}

// newWorkers makes the run's workers, each with its Manager (cfg with the
// worker as Observer), works out each device's lock shard, and starts
// every worker but the first, which the loop itself runs. There are at
// most as many workers as the store has shards (64).
func (r *runner) newWorkers(n int, cfg fota.Config) error {
	n = min(n, maxWorkers)
	spin := spinFor
	if n > runtime.GOMAXPROCS(0) {
		spin = 0 // a spinning helper would hold a core another needs
	}
	if n > 1 {
		r.part = make([]uint8, len(r.fleet))
		for i := range r.fleet {
			r.part[i] = uint8(r.store.Partition(r.fleet.id(int32(i)), maxWorkers))
		}
	}
	for k := range n {
		w := &worker{r: r, spin: spin, idx: k}
		cfg.Observer = w
		m, err := fota.New(cfg)
		if err != nil {
			return err
		}
		w.m = m
		if k > 0 {
			w.wake = make(chan struct{}, 1)
			go w.serve()
		}
		r.workers = append(r.workers, w)
	}
	return nil
}

// maxWorkers is the store's number of lock shards.
const maxWorkers = 64

// stopWorkers ends the helpers' goroutines: a batch at the instant
// stopShare is the signal.
func (r *runner) stopWorkers() {
	for _, w := range r.workers[min(1, len(r.workers)):] {
		w.post(stopShare)
	}
}

const stopShare = -1 << 63

// post hands the helper the shared-out batch at instant at, to claim
// shards of.
func (w *worker) post(at int64) {
	w.at = at
	w.posted.Add(1)
	// Either the helper sees the batch before it sleeps, or this sees it
	// sleeping (both are sequentially consistent atomics): a token left
	// over only makes it look once more.
	if w.sleeping.Load() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// await waits for the helper to finish the shards it claimed: it looks
// spin times, then yields the core between looks, in case the helper
// needs it.
func (w *worker) await() {
	for spins := 0; w.finished.Load() != w.posted.Load(); spins++ {
		if spins >= w.spin {
			runtime.Gosched()
		}
	}
}

// serve runs the shards it claims of each batch it is handed until told
// to stop. Between batches it looks for the next spin times, then sleeps
// until post wakes it.
func (w *worker) serve() {
	var seen uint64
	for {
		for spins := 0; w.posted.Load() == seen; spins++ {
			if spins < w.spin {
				if spins%1024 == 1023 {
					runtime.Gosched() // the collector's workers may want the core
				}
				continue
			}
			w.sleeping.Store(true)
			if w.posted.Load() == seen {
				<-w.wake
			}
			w.sleeping.Store(false)
		}
		seen++
		if w.at == stopShare {
			return
		}
		w.runShares(w.at) // runBatch cleared what it kept (begin)
		w.finished.Add(1)
	}
}

// runBatch runs a batch of events at instant at and replays what they
// did; the loop read its first covered events ahead. It returns the first
// error in event order.
func (r *runner) runBatch(at int64, evs []event, covered int) error {
	split := len(r.workers) > 1 && len(evs) >= 2*minShare
	sh := &r.shares
	if !split {
		// The loop read these ahead (readAhead), on this core, and
		// the worker replays each event as it runs it.
		w := r.workers[0]
		w.begin()
		w.direct = true
		err := w.runEvents(at, evs, covered)
		w.direct = false
		if err != nil {
			return err
		}
	} else {
		sh.shardOf = sh.shardOf[:0]
		for _, ev := range evs {
			k := r.part[ev.dev]
			sh.shardOf = append(sh.shardOf, k)
			if len(sh.evs[k]) == 0 {
				sh.used = append(sh.used, k)
			}
			sh.evs[k] = append(sh.evs[k], ev)
		}
		sh.claim.Store(0)
		for _, w := range r.workers {
			w.begin()
		}
		for _, w := range r.workers[1:] {
			w.post(at)
		}
		r.workers[0].runShares(at)
		for _, w := range r.workers[1:] {
			w.await()
		}
		// The events in order, each from the record of the worker that
		// ran its shard, as one worker tells them as it runs: up to the
		// first error in event order (each shard ran its events in order
		// and stopped at its first).
		for _, k := range sh.used {
			sh.next[k] = sh.start[k]
		}
		err := sh.replay(r)
		for _, k := range sh.used {
			clear(sh.evs[k])
			sh.evs[k] = sh.evs[k][:0]
			sh.err[k] = nil
		}
		sh.used = sh.used[:0]
		if err != nil {
			return err
		}
	}
	camp := r.campChanges[:0]
	for _, w := range r.workers {
		r.totals.addWorker(w.totals)
		w.totals = Totals{}
		camp = append(camp, w.campChanges...)
		w.campChanges = w.campChanges[:0]
	}
	// A campaign moves forwards only, and its statuses are numbered in
	// lifecycle order.
	slices.SortStableFunc(camp, func(a, b fota.Change) int {
		return cmp.Or(cmp.Compare(a.CampaignID, b.CampaignID), cmp.Compare(a.Campaign, b.Campaign))
	})
	for _, c := range camp {
		r.Observe(c)
	}
	clear(camp)
	r.campChanges = camp[:0]
	return nil
}

// replay tells what each event of the shared-out batch did, in event
// order, and returns the error of the first event that failed.
func (sh *shares) replay(r *runner) error {
	for _, k := range sh.shardOf {
		i := sh.next[k]
		if i == sh.end[k] {
			return sh.err[k]
		}
		sh.next[k]++
		w := r.workers[sh.by[k]]
		d := &w.done[i]
		from := int32(0)
		if i > 0 {
			from = w.done[i-1].changes
		}
		for _, c := range w.changes[from:d.changes] {
			r.Observe(c)
		}
		w.replay(d)
	}
	return nil
}

// begin clears what the worker kept of the batch before.
func (w *worker) begin() {
	w.done, w.changes, w.campChanges, w.steps = w.done[:0], w.changes[:0], w.campChanges[:0], w.steps[:0]
	w.totals = Totals{}
}

// runShares claims the shared-out batch's shards one at a time until none
// is left, and runs each shard's events. A shard stops at its first
// error; the others still run, so that runBatch finds the first error in
// event order whichever worker ran what.
func (w *worker) runShares(at int64) {
	sh := &w.r.shares
	for {
		i := sh.claim.Add(1) - 1
		if i >= int64(len(sh.used)) {
			return
		}
		k := sh.used[i]
		sh.by[k] = uint8(w.idx)
		sh.start[k] = int32(len(w.done))
		sh.err[k] = w.runEvents(at, sh.evs[k], 0)
		sh.end[k] = int32(len(w.done))
	}
}

// runEvents handles evs, reading each 32 events' records ahead
// (fota.MemoryStore.Prefetch) from readFrom on (the loop read those
// before), and stops at the first error.
func (w *worker) runEvents(at int64, evs []event, readFrom int) error {
	r := w.r
	for s := 0; s < len(evs); s += aheadEvents {
		share := evs[s:min(len(evs), s+aheadEvents)]
		if skip := readFrom - s; skip < len(share) {
			w.rd.events(r, share[max(skip, 0):])
		}
		for _, ev := range share {
			if r.stale(ev) {
				w.totals.Dropped++
				if !w.direct {
					w.done = append(w.done, eventResult{changes: int32(len(w.changes))})
				}
				continue
			}
			w.totals.Events++
			var d eventResult
			var err error
			if ev.kind == evCheckIn {
				d, err = w.checkIn(at, ev.dev)
			} else {
				d, err = w.report(at, ev.dev, fota.Outcome(ev.arg))
			}
			if err != nil {
				return err
			}
			d.handled, d.changes, d.step = true, int32(len(w.changes)), int32(len(w.steps)-1)
			if w.direct {
				w.replay(&d)
				continue
			}
			w.done = append(w.done, d)
		}
	}
	return nil
}

// replay tells what event d did, once its changes were told: its step to
// OnStep, its next event to the queue. (runBatch does so for a shared-out
// batch once every share is done; the loop's own worker, running a batch
// alone, as each event ends.)
func (w *worker) replay(d *eventResult) {
	r := w.r
	if d.handled && r.s.OnStep != nil {
		r.s.OnStep(w.steps[d.step])
	}
	if d.queued {
		r.q.Push(d.at, d.ev)
	}
}

// checkIn is a device's check-in and what it does with the answer.
func (w *worker) checkIn(now int64, i int32) (eventResult, error) {
	r := w.r
	d := &r.fleet[i]
	id := r.fleet.id(i)
	w.totals.CheckIns++
	w.totals.ManagerCalls++
	in, err := w.m.CheckIn(r.ctx, fota.CheckInRequest{DeviceID: id, ClientType: verboselog.ClientRovaClient})
	if err != nil {
		return eventResult{}, fmt.Errorf("sim: check-in of %s at %v: %w", id, Time(now), err)
	}
	if r.s.OnStep != nil {
		w.steps = append(w.steps, Step{At: Time(now), Kind: StepCheckIn, Campaign: r.camps[d.camp].rep.ID, Device: id, Instruction: in})
	}
	g := &r.groups[d.group]
	dc := eventDice(r.s.Seed, i, now, evCheckIn, d.gen)
	switch in.Action {
	case fota.ActionDownload:
		return w.step(now, i, &dc, g.Download, g.DownloadFail, fota.OutcomeDownloaded, fota.OutcomeDownloadFailed), nil
	case fota.ActionInstall:
		return w.step(now, i, &dc, g.Install, g.InstallFail, fota.OutcomeInstalled, fota.OutcomeInstallFailed), nil
	}
	if in.CampaignID == "" {
		return eventResult{}, nil // finished, or in no campaign: nothing more to simulate
	}
	next := r.nextRegular(i, now, dc.draw(r.jitter(i)))
	if !in.RetryAt.IsZero() && g.FollowRetry {
		retryAt := micros(in.RetryAt)
		if retryAt <= now {
			return eventResult{}, fmt.Errorf("sim: check-in of %s at %v: told to come back at %v, not later", id, Time(now), in.RetryAt)
		}
		if retry := retryAt + dc.draw(Range{Max: g.RetryJitter - Duration(time.Second)}); retry < next {
			next = retry
		}
	}
	return eventResult{at: next, ev: event{dev: i, kind: evCheckIn, gen: d.gen}, queued: true}, nil
}

// step is a download or install the device starts at now: it reports ok,
// or failed with chance fail (an unknown error first), after a time drawn
// from took.
func (w *worker) step(now int64, i int32, dc *dice, took Range, fail float64, ok, failed fota.Outcome) eventResult {
	g := &w.r.groups[w.r.fleet[i].group]
	outcome := ok
	if dc.chance(g.UnknownError) {
		outcome = fota.OutcomeUnknownError
	} else if dc.chance(fail) {
		outcome = failed
	}
	return eventResult{at: now + dc.draw(took), ev: event{dev: i, kind: evReport, arg: uint8(outcome), gen: w.r.fleet[i].gen}, queued: true}
}

// report is a device reporting the outcome of its download or install.
func (w *worker) report(now int64, i int32, outcome fota.Outcome) (eventResult, error) {
	r := w.r
	d := &r.fleet[i]
	id, devID := r.camps[d.camp].rep.ID, r.fleet.id(i)
	w.totals.Reports++
	w.totals.ManagerCalls++
	st, err := w.m.Report(r.ctx, id, devID, outcome)
	late := errors.Is(err, fota.ErrInvalidTransition)
	if err != nil && !late {
		return eventResult{}, fmt.Errorf("sim: report %s of %s at %v: %w", outcome, devID, Time(now), err)
	}
	if r.s.OnStep != nil {
		w.steps = append(w.steps, Step{At: Time(now), Kind: StepReport, Campaign: id, Device: devID, Outcome: outcome, State: st, Err: err})
	}
	if late {
		w.totals.LateReports++
		return eventResult{}, nil
	}
	if !st.Terminal() {
		// Downloaded: the device checks in at once to ask about the
		// install (it may be told to wait for the install window).
		return eventResult{at: now, ev: event{dev: i, kind: evCheckIn, gen: d.gen}, queued: true}, nil
	}
	return eventResult{}, nil
}

// source is where a draw comes from: a device event's dice, or the run's
// stream (*rand.Rand) for what the loop does in order.
type source interface {
	Int64N(n int64) int64
	Float64() float64
}

// dice is one device event's randomness: a SplitMix64 stream seeded from
// the run's seed and the event (device, instant, kind, generation), so
// that what a device draws depends on neither the events before it nor
// the core that runs it.
type dice struct{ s uint64 }

// joinDice is the kind under which a device draws when it joins a
// campaign (its first check-in's jitter).
const joinDice eventKind = 0

func eventDice(seed uint64, dev int32, at int64, kind eventKind, gen uint8) dice {
	s := mix64(seed + 0x9e3779b97f4a7c15)
	s = mix64(s ^ uint64(at))
	return dice{s: mix64(s ^ uint64(uint32(dev))<<16 ^ uint64(kind)<<8 ^ uint64(gen))}
}

// mix64 is SplitMix64's finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (d *dice) next() uint64 {
	d.s += 0x9e3779b97f4a7c15
	return mix64(d.s)
}

// Int64N is a draw in [0, n) (n > 0), by multiply and shift: its bias,
// at most n/2^64, is far below anything a run could show.
func (d *dice) Int64N(n int64) int64 {
	hi, _ := bits.Mul64(d.next(), uint64(n))
	return int64(hi)
}

// Float64 is a draw in [0, 1).
func (d *dice) Float64() float64 { return float64(d.next()>>11) * 0x1p-53 }

// draw and chance are the package's, from the dice without making them
// an interface value (which would put them on the heap, once an event;
// a generic draw over both kinds of source does too).
func (d *dice) draw(rg Range) int64 {
	lo, n := span(rg)
	if n == 0 {
		return lo * second
	}
	return (lo + d.Int64N(n)) * second
}

func (d *dice) chance(p float64) bool { return p > 0 && d.Float64() < p }

// addWorker adds what a worker counted: its calls, its events and the
// stale ones it dropped.
func (t *Totals) addWorker(w Totals) {
	t.CheckIns += w.CheckIns
	t.Reports += w.Reports
	t.ManagerCalls += w.ManagerCalls
	t.LateReports += w.LateReports
	t.Events += w.Events
	t.Dropped += w.Dropped
}
