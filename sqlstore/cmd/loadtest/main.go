// Command loadtest runs fota over sqlstore as a hosting team would: N
// Manager replicas, each with its own connection pool, its own
// sqlstore.Store and its own fota.Manager, over one PostgreSQL database,
// against one HTTP campaign of many devices.
//
//	go run ./sqlstore/cmd/loadtest -replicas 4 -devices 100000 -duration 20s -json
//
// It creates a database of its own (and one for pgbench), and drops both
// when it ends. The run:
//
//  1. pgbench: initialises its tables and runs `pgbench -N` (the
//     simple-update mix) with as many clients as the replicas have
//     connections, for half of -duration (and again for the other half
//     after the load): the server's own figure, measured in the same run,
//     the mean of the two.
//  2. Schedule: one replica schedules an on-demand campaign of -devices
//     devices (every device accepted), timed.
//  3. Load: -workers goroutines per replica send check-ins and reports for
//     -duration, each to a window of -window devices under way at once.
//     Each device goes check-in (download), -steady steady check-ins,
//     downloaded, check-in (install), -steady steady check-ins, installed;
//     one in twenty fails its download instead. A finished device gives
//     its place in the window to the worker's next. Some check-ins and reports are sent to two
//     replicas at once (duplicates): one moves the device, the other is
//     answered as a repeat.
//  4. End: the shared clock jumps past the campaign's end while the
//     workers keep checking in and -tickers replicas (0 to N) run Tick in
//     a loop; timed until the campaign is ended and swept (ended only,
//     with no ticker). A campaign not ended within -end-timeout is a
//     livelock, and the run fails.
//  5. Truth: after a last Tick, every device's state, the campaign's
//     counts and the events each device's observer heard are checked
//     against what each worker knows of its devices: 0 lost, 0 doubled.
//
// It prints ops/s, retries per operation, p50/p99 latency, the Schedule
// and end times, pgbench's transactions per second and the ratio; with
// -json the last line is one JSON object (opsPerSecond, retriesPerOp,
// p50Ms, p99Ms, scheduleSeconds, endSeconds, truthOK, and more). It exits
// 1 when the truth check fails.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type config struct {
	dsn        string
	replicas   int
	devices    int
	duration   time.Duration
	workers    int
	conns      int
	tickers    int
	steady     int
	window     int
	dupEvery   int
	endTimeout time.Duration
	pgbench    bool
	syncCommit string
	jsonOut    bool
	cpuProfile string
}

func main() {
	var c config
	flag.StringVar(&c.dsn, "dsn", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL URL of a database to connect to; the run creates (and drops) databases of its own beside it")
	flag.IntVar(&c.replicas, "replicas", 4, "Manager replicas, each with its own pool, store and Manager")
	flag.IntVar(&c.devices, "devices", 100_000, "devices in the campaign")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "how long the load (and pgbench) runs")
	flag.IntVar(&c.workers, "workers", 6, "goroutines sending device operations, per replica")
	flag.IntVar(&c.conns, "conns", 4, "connections in each replica's pool")
	flag.IntVar(&c.tickers, "tickers", -1, "replicas running Tick while the campaign ends (0 to -replicas; -1: all)")
	flag.IntVar(&c.steady, "steady", 4, "steady check-ins a device makes in each phase (download, install)")
	flag.IntVar(&c.window, "window", 32, "devices each worker has under way at once")
	flag.IntVar(&c.dupEvery, "dup-every", 20, "one operation in this many is sent to two replicas at once (0: none)")
	flag.DurationVar(&c.endTimeout, "end-timeout", 2*time.Minute, "a campaign not ended and swept by then is a livelock")
	flag.BoolVar(&c.pgbench, "pgbench", true, "measure pgbench -N on the same server, before and after the load")
	flag.StringVar(&c.syncCommit, "synchronous-commit", "", "synchronous_commit for the replicas' and pgbench's connections (\"\": the server's)")
	flag.BoolVar(&c.jsonOut, "json", false, "print the results as one JSON object on the last line")
	cpuProfile := flag.String("cpuprofile", "", "write the load phase's CPU profile of this process to the file")
	flag.Parse()
	c.cpuProfile = *cpuProfile
	if c.tickers < 0 || c.tickers > c.replicas {
		c.tickers = c.replicas
	}
	if err := c.check(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	res, err := run(context.Background(), c, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	if c.jsonOut {
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
	}
	if !res.TruthOK {
		os.Exit(1)
	}
}

func (c *config) check() error {
	switch {
	case c.replicas < 1:
		return fmt.Errorf("-replicas %d: at least 1", c.replicas)
	case c.devices < 1:
		return fmt.Errorf("-devices %d: at least 1", c.devices)
	case c.duration <= 0:
		return fmt.Errorf("-duration %v: must be positive", c.duration)
	case c.workers < 1 || c.conns < 1:
		return fmt.Errorf("-workers %d, -conns %d: at least 1 each", c.workers, c.conns)
	case c.steady < 0 || c.dupEvery < 0:
		return fmt.Errorf("-steady %d, -dup-every %d: not negative", c.steady, c.dupEvery)
	case c.window < 1:
		return fmt.Errorf("-window %d: at least 1", c.window)
	}
	return nil
}

// Result is what a run measured.
type Result struct {
	OpsPerSecond    float64 `json:"opsPerSecond"`
	RetriesPerOp    float64 `json:"retriesPerOp"`
	P50Ms           float64 `json:"p50Ms"`
	P99Ms           float64 `json:"p99Ms"`
	ScheduleSeconds float64 `json:"scheduleSeconds"`
	EndSeconds      float64 `json:"endSeconds"`
	SweptSeconds    float64 `json:"sweptSeconds"`
	TruthOK         bool    `json:"truthOK"`

	PgbenchTPS     float64 `json:"pgbenchTPS"`
	RatioToPgbench float64 `json:"ratioToPgbench"`
	Replicas       int     `json:"replicas"`
	Devices        int     `json:"devices"`
	Tickers        int     `json:"tickers"`
	Ops            int64   `json:"ops"`
	Errors         int64   `json:"errors"`
	Retries        uint64  `json:"retries"`
	LockWaits      uint64  `json:"lockWaits"`
	MaxAttempts    uint64  `json:"maxAttempts"`
	Succeeded      int     `json:"succeeded"`
	Truth          string  `json:"truth"`
}

// clock is the replicas' shared clock: the system's plus an offset, so
// that the run can jump to the campaign's end.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func randomName(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// withDB returns dsn pointing at database db.
func withDB(dsn, db string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("-dsn %q: %w", dsn, err)
	}
	u.Path = "/" + db
	return u.String(), nil
}

func run(ctx context.Context, c config, out io.Writer) (Result, error) {
	res := Result{Replicas: c.replicas, Devices: c.devices, Tickers: c.tickers}
	admin, err := pgx.Connect(ctx, c.dsn)
	if err != nil {
		return res, fmt.Errorf("connecting to %s: %w", c.dsn, err)
	}
	defer admin.Close(context.WithoutCancel(ctx))

	// pgbench runs half its time before the load and half after, so that
	// whatever else the machine does weighs on both figures alike.
	var bn *bench
	var tpsBefore float64
	half := max(1, int(c.duration.Seconds()/2))
	if c.pgbench {
		if bn, err = newBench(ctx, admin, c); err != nil {
			return res, err
		}
		defer bn.drop(ctx)
		if tpsBefore, err = bn.run(ctx, half, out, "before"); err != nil {
			return res, err
		}
	}

	dbName := randomName("fota_loadtest_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+dbName); err != nil {
		return res, err
	}
	defer func() {
		_, _ = admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)")
	}()
	dsn, err := withDB(c.dsn, dbName)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(out, "database %s: %d replicas × %d connections, %d devices\n", dbName, c.replicas, c.conns, c.devices)

	l, err := newLoad(ctx, c, dsn)
	if err != nil {
		return res, err
	}
	defer l.close()

	// Schedule.
	began := time.Now()
	info, err := l.managers[0].Schedule(ctx, account, fota.CampaignRequest{
		CampaignName: "loadtest", SoftwareName: "fw", SoftwareFrom: "1.0", SoftwareTo: "2.0",
		Timing: schedule.HTTPRequest{StartDate: schedule.DateOf(l.clock.Now())}, DeviceList: l.ids,
	})
	if err != nil {
		return res, fmt.Errorf("schedule: %w", err)
	}
	res.ScheduleSeconds = time.Since(began).Seconds()
	if n := info.Counts.Of(device.StateAccepted); n != c.devices {
		return res, fmt.Errorf("schedule: %d of %d devices accepted", n, c.devices)
	}
	l.campaignID = info.ID
	fmt.Fprintf(out, "schedule of %d devices: %.2f s (campaign %s, %s, ends %s)\n", c.devices, res.ScheduleSeconds,
		info.ID, info.Status, info.EndsAt.Format(time.RFC3339))

	// Load, then the end with the workers still going.
	before := l.stats()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	l.startWorkers(ctx, &wg, stop)
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return res, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
		time.Sleep(c.duration)
		pprof.StopCPUProfile()
		f.Close()
	} else {
		time.Sleep(c.duration)
	}
	ops, lat := l.snapshot()
	mid := l.stats()
	res.OpsPerSecond = float64(ops) / c.duration.Seconds()
	res.P50Ms, res.P99Ms = lat.percentile(0.50), lat.percentile(0.99)
	fmt.Fprintf(out, "load: %d device operations in %v: %.0f ops/s, p50 %.2f ms, p99 %.2f ms, %d retries, %d lock waits\n",
		ops, c.duration, res.OpsPerSecond, res.P50Ms, res.P99Ms, mid.Retries-before.Retries, mid.LockWaits-before.LockWaits)

	endSeconds, sweptSeconds, endErr := l.end(ctx, info.EndsAt, out)
	close(stop)
	wg.Wait()
	res.EndSeconds, res.SweptSeconds = endSeconds, sweptSeconds
	after := l.stats()
	res.Ops, res.Errors = l.ops.Load(), l.errs.Load()
	res.Retries, res.LockWaits, res.MaxAttempts = after.Retries-before.Retries, after.LockWaits-before.LockWaits, after.MaxAttempts
	if res.Ops > 0 {
		res.RetriesPerOp = float64(res.Retries) / float64(res.Ops)
	}
	if bn != nil {
		after, err := bn.run(ctx, half, out, "after")
		if err != nil {
			return res, err
		}
		res.PgbenchTPS = (tpsBefore + after) / 2
		res.RatioToPgbench = res.OpsPerSecond / res.PgbenchTPS
	}

	// Truth.
	if endErr == nil {
		res.Succeeded, err = l.truth(ctx)
	} else {
		err = endErr
	}
	res.TruthOK = err == nil && res.Errors == 0
	switch {
	case err != nil:
		res.Truth = err.Error()
	case res.Errors > 0:
		res.Truth = fmt.Sprintf("%d operations failed; first: %v", res.Errors, l.firstErr.Load())
	default:
		res.Truth = "every device's state, the counts and every observed event match: 0 lost, 0 doubled"
	}
	fmt.Fprintf(out, "all: %d device operations, %d retries (%.4f per operation), max %d attempts, %d errors\n",
		res.Ops, res.Retries, res.RetriesPerOp, res.MaxAttempts, res.Errors)
	fmt.Fprintf(out, "truth: %v: %s\n", res.TruthOK, res.Truth)
	if res.PgbenchTPS > 0 {
		fmt.Fprintf(out, "ratio: %.0f ops/s over pgbench -N's %.0f tps = %.2f\n", res.OpsPerSecond, res.PgbenchTPS, res.RatioToPgbench)
	}
	return res, nil
}

const account = "acme"

// load is the replicas and what the workers know.
type load struct {
	c        config
	clock    *clock
	pools    []*pgxpool.Pool
	stores   []*sqlstore.Store
	managers []*fota.Manager
	ids      []string
	index    map[string]int

	campaignID string
	truthMu    []sync.Mutex // per device: its worker and a duplicate's
	devs       []devTruth
	seenMu     sync.Mutex
	seen       []map[device.State]int // per device: observed states

	ops      atomic.Int64
	errs     atomic.Int64
	firstErr atomic.Value
	lat      histogram
	ended    atomic.Bool
}

// devTruth is what a device's worker knows: its state and each state it
// entered.
type devTruth struct {
	state   device.State
	entered map[device.State]int
	steady  int  // steady check-ins made in this phase
	fail    bool // the device fails its download
}

func newLoad(ctx context.Context, c config, dsn string) (*load, error) {
	l := &load{c: c, clock: &clock{}}
	inv := fota.NewMemoryInventory()
	l.ids = make([]string, c.devices)
	l.index = make(map[string]int, c.devices)
	for i := range l.ids {
		id, err := device.IMEIOf(fmt.Sprintf("35%012d", i))
		if err != nil {
			return nil, err
		}
		l.ids[i], l.index[id] = id, i
		inv.Put(fota.DeviceInfo{DeviceID: id, Account: account, Protocol: device.HTTP, Make: "Acme", Model: "Lamp",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	l.devs = make([]devTruth, c.devices)
	l.truthMu = make([]sync.Mutex, c.devices)
	l.seen = make([]map[device.State]int, c.devices)
	for i := range l.devs {
		l.devs[i] = devTruth{state: device.StateAccepted, entered: map[device.State]int{device.StateAccepted: 1}, fail: i%20 == 7}
	}
	observer := fota.ObserverFunc(func(ch fota.Change) {
		if ch.Kind != fota.DeviceChanged {
			return
		}
		i, ok := l.index[ch.DeviceID]
		if !ok {
			return
		}
		l.seenMu.Lock()
		if l.seen[i] == nil {
			l.seen[i] = map[device.State]int{}
		}
		l.seen[i][ch.State]++
		l.seenMu.Unlock()
	})
	schema := "fota"
	errs := make([]error, c.replicas)
	l.pools, l.stores, l.managers = make([]*pgxpool.Pool, c.replicas), make([]*sqlstore.Store, c.replicas), make([]*fota.Manager, c.replicas)
	var wg sync.WaitGroup
	for r := range c.replicas {
		wg.Go(func() {
			cfg, err := pgxpool.ParseConfig(dsn)
			if err != nil {
				errs[r] = err
				return
			}
			cfg.MaxConns, cfg.MinConns = int32(c.conns), int32(c.conns)
			if c.syncCommit != "" {
				cfg.ConnConfig.RuntimeParams["synchronous_commit"] = c.syncCommit
			}
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				errs[r] = err
				return
			}
			l.pools[r] = pool
			s, err := sqlstore.OpenPool(ctx, pool, sqlstore.Options{Schema: schema})
			if err != nil {
				errs[r] = err
				return
			}
			if err := s.Migrate(ctx); err != nil { // every replica at start-up, at once
				errs[r] = err
				return
			}
			l.stores[r] = s
			l.managers[r], errs[r] = fota.New(fota.Config{Store: s, Inventory: inv, Clock: l.clock, Observer: observer})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		l.close()
		return nil, err
	}
	if err := l.stores[0].Update(ctx, func(tx fota.Tx) error {
		return tx.PutGate(pilot.Gate{Target: pilot.Target{Account: account, SoftwareName: "fw", SoftwareFrom: "1.0", SoftwareTo: "2.0"},
			State: pilot.Lifted, LiftedAt: l.clock.Now()})
	}); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *load) close() {
	for _, p := range l.pools {
		if p != nil {
			p.Close()
		}
	}
}

// stats adds up the replicas' store counters.
func (l *load) stats() sqlstore.Stats {
	var sum sqlstore.Stats
	for _, s := range l.stores {
		st := s.Stats()
		sum.Transactions += st.Transactions
		sum.Retries += st.Retries
		sum.Conflicts += st.Conflicts
		sum.LockWaits += st.LockWaits
		sum.CommitUnknown += st.CommitUnknown
		sum.MaxAttempts = max(sum.MaxAttempts, st.MaxAttempts)
	}
	return sum
}

// snapshot returns the operations so far and their latencies.
func (l *load) snapshot() (int64, *histogram) {
	h := &histogram{}
	for i := range l.lat.n {
		h.n[i].Store(l.lat.n[i].Load())
	}
	return l.ops.Load(), h
}

// histogram counts latencies in 10 µs buckets up to 10 s.
type histogram struct{ n [1_000_000]atomic.Int64 }

func (h *histogram) add(d time.Duration, k int) {
	i := min(int(d/(10*time.Microsecond)), len(h.n)-1)
	h.n[i].Add(int64(k))
}

// percentile returns the latency below which a fraction p of the
// operations fell, in milliseconds.
func (h *histogram) percentile(p float64) float64 {
	var total int64
	for i := range h.n {
		total += h.n[i].Load()
	}
	if total == 0 {
		return 0
	}
	want := int64(float64(total)*p + 0.5)
	var seen int64
	for i := range h.n {
		if seen += h.n[i].Load(); seen >= max(want, 1) {
			return float64(i+1) * 0.01
		}
	}
	return float64(len(h.n)) * 0.01
}

func (l *load) fail(err error) {
	if l.errs.Add(1) == 1 {
		l.firstErr.Store(err.Error())
	}
}

// startWorkers starts replicas × workers goroutines; worker w owns the
// devices i with i % workers == w and sends through replica w % replicas
// (a duplicate also through the next replica).
func (l *load) startWorkers(ctx context.Context, wg *sync.WaitGroup, stop chan struct{}) {
	n := l.c.replicas * l.c.workers
	for w := range n {
		wg.Go(func() {
			var mine []int
			for i := w; i < len(l.ids); i += n {
				mine = append(mine, i)
			}
			m, other := l.managers[w%l.c.replicas], l.managers[(w+1)%l.c.replicas]
			// A window of devices under way: each step goes to the next
			// in it, and a device that finished gives its place to the
			// next of the worker's own (finished devices stay in the
			// window, checking in, once none is left).
			window := slices.Clone(mine[:min(l.c.window, len(mine))])
			next := len(window)
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				if len(window) == 0 {
					return
				}
				slot := k % len(window)
				i := window[slot]
				dup := l.c.dupEvery > 0 && k%l.c.dupEvery == l.c.dupEvery-1
				began := time.Now()
				n := l.step(ctx, m, other, i, dup)
				if !l.ended.Load() && n > 0 {
					l.lat.add(time.Since(began), n)
				}
				if l.devs[i].state.Terminal() && next < len(mine) {
					window[slot] = mine[next]
					next++
				}
			}
		})
	}
}

// step sends device i's next operation (twice at once when dup) and
// updates its truth; it returns the operations sent.
func (l *load) step(ctx context.Context, m, other *fota.Manager, i int, dup bool) int {
	t := &l.devs[i]
	id := l.ids[i]
	sends := 1
	if dup {
		sends = 2
	}
	defer l.ops.Add(int64(sends))
	both := func(f func(m *fota.Manager) error) []error {
		if !dup {
			return []error{f(m)}
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		wg.Go(func() { errs[0] = f(m) })
		wg.Go(func() { errs[1] = f(other) })
		wg.Wait()
		return errs
	}
	ended := l.ended.Load()
	checkIn := func(want fota.Action, moveTo device.State) {
		actions := make([]fota.Action, sends)
		errs := both(func(mm *fota.Manager) error {
			in, err := mm.CheckIn(ctx, fota.CheckInRequest{DeviceID: id, ClientType: 6})
			if mm == m {
				actions[0] = in.Action
			} else {
				actions[1] = in.Action
			}
			return err
		})
		moved := false
		for k, err := range errs {
			switch {
			case err != nil:
				l.fail(fmt.Errorf("check-in of %s: %w", id, err))
				return
			case actions[k] == want:
				moved = true
			case actions[k] == fota.ActionNone && l.ended.Load():
				// Its clock read was past the end: nothing moved.
			default:
				l.fail(fmt.Errorf("check-in of %s in %s: %s, want %s", id, t.state, actions[k], want))
				return
			}
		}
		switch {
		case !moved:
		case moveTo != 0:
			t.state = moveTo
			t.entered[moveTo]++
			t.steady = 0
		default:
			t.steady++
		}
	}
	report := func(o fota.Outcome, to device.State) {
		states := make([]device.State, sends)
		errs := both(func(mm *fota.Manager) error {
			st, err := mm.Report(ctx, l.campaignID, id, o)
			if mm == m {
				states[0] = st
			} else {
				states[1] = st
			}
			return err
		})
		applied := 0
		for k, err := range errs {
			switch {
			case err == nil && states[k] == to:
				applied++
			case err != nil && errors.Is(err, fota.ErrDuplicateReport) && dup:
			case err != nil && (ended || l.ended.Load()) && (errors.Is(err, fota.ErrInvalidTransition) || errors.Is(err, fota.ErrDuplicateReport)):
				// After the end: the device is where the sweep puts it.
			default:
				l.fail(fmt.Errorf("report %s of %s in %s: %v, %v", o, id, t.state, states[k], err))
				return
			}
		}
		switch applied {
		case 0:
		case 1:
			t.state = to
			t.entered[to]++
			t.steady = 0
		default:
			l.fail(fmt.Errorf("report %s of %s applied %d times", o, id, applied))
		}
	}
	if ended {
		// After the end date devices keep checking in; reports of what
		// they were doing come back refused.
		if t.state.Terminal() || i%3 != 0 {
			checkIn(fota.ActionNone, 0)
		} else {
			report(fota.OutcomeDownloaded, device.StateDownloaded)
		}
		return sends
	}
	switch t.state {
	case device.StateAccepted:
		checkIn(fota.ActionDownload, device.StateDownloading)
	case device.StateDownloading:
		switch {
		case t.steady < l.c.steady:
			checkIn(fota.ActionDownload, 0)
		case t.fail:
			report(fota.OutcomeDownloadFailed, device.StateDownloadFailed)
		default:
			report(fota.OutcomeDownloaded, device.StateDownloaded)
		}
	case device.StateDownloaded:
		checkIn(fota.ActionInstall, device.StateInstalling)
	case device.StateInstalling:
		if t.steady < l.c.steady {
			checkIn(fota.ActionInstall, 0)
		} else {
			report(fota.OutcomeInstalled, device.StateSucceeded)
		}
	default:
		// Finished: the device checks in now and then, and is told
		// nothing is planned.
		checkIn(fota.ActionNone, 0)
	}
	return sends
}

// end moves the clock past the campaign's end while the workers keep
// going and the tickers tick, and returns how long the campaign took to
// end (its status written) and to be swept (every device moved and
// released; 0 with no ticker, which leaves the sweep to a later Tick).
func (l *load) end(ctx context.Context, endsAt time.Time, out io.Writer) (ended, swept float64, err error) {
	l.clock.offset.Store(int64(time.Until(endsAt) + time.Second))
	l.ended.Store(true)
	began := time.Now()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var tickErrs atomic.Int64
	for r := range l.c.tickers {
		wg.Go(func() {
			for tctx.Err() == nil {
				if _, err := l.managers[r].Tick(tctx); err != nil && tctx.Err() == nil {
					tickErrs.Add(1)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	defer wg.Wait()
	defer cancel()
	var endedAt time.Duration
	for {
		var c fota.Campaign
		err := l.stores[0].View(ctx, func(tx fota.Tx) (err error) { c, err = tx.Campaign(l.campaignID); return err })
		if err != nil {
			return 0, 0, err
		}
		if c.Status == campaign.HTTPEnded && endedAt == 0 {
			endedAt = time.Since(began)
			fmt.Fprintf(out, "end: campaign ended (status written) %.2f s after its end date, %d tickers, %d workers checking in\n",
				endedAt.Seconds(), l.c.tickers, l.c.replicas*l.c.workers)
		}
		if endedAt != 0 && (c.Swept || l.c.tickers == 0) {
			swept := time.Since(began)
			if c.Swept {
				fmt.Fprintf(out, "end: every device swept %.2f s after the end date (%d tick errors)\n", swept.Seconds(), tickErrs.Load())
			} else {
				swept = 0
				fmt.Fprintln(out, "end: no ticker: the rest of the sweep waits for a Tick")
			}
			return endedAt.Seconds(), swept.Seconds(), nil
		}
		if time.Since(began) > l.c.endTimeout {
			return time.Since(began).Seconds(), 0, fmt.Errorf("livelock: campaign %s %v after its end date: status %s, swept to %q",
				l.campaignID, l.c.endTimeout, c.Status, c.Cursor)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// truth finishes the sweep and checks every device, the counts and the
// observed events against the workers' truth. It returns how many devices
// succeeded.
func (l *load) truth(ctx context.Context) (int, error) {
	for {
		next, err := l.managers[0].Tick(ctx)
		if err != nil {
			return 0, fmt.Errorf("final tick: %w", err)
		}
		var c fota.Campaign
		if err := l.stores[0].View(ctx, func(tx fota.Tx) (err error) { c, err = tx.Campaign(l.campaignID); return err }); err != nil {
			return 0, err
		}
		if c.Swept {
			break
		}
		_ = next
	}
	var want fota.Counts
	final := make([]device.State, len(l.devs))
	for i := range l.devs {
		t := &l.devs[i]
		s := t.state
		if !s.Terminal() {
			next, err := device.Next(device.FamilyHTTP, s, device.EventCampaignEnd)
			if err != nil {
				return 0, fmt.Errorf("device %s: no end from %s: %w", l.ids[i], s, err)
			}
			t.entered[next]++
			s = next
		}
		final[i] = s
		want[s]++
	}
	info, err := l.managers[1%len(l.managers)].Campaign(ctx, account, l.campaignID)
	if err != nil {
		return 0, err
	}
	if info.Status != campaign.HTTPEnded {
		return 0, fmt.Errorf("campaign %s, want %s", info.Status, campaign.HTTPEnded)
	}
	if info.Counts != want {
		return 0, fmt.Errorf("counts %v, the devices' truth %v", info.Counts, want)
	}
	got := map[string]device.State{}
	after := ""
	for {
		var page []fota.Member
		err := l.stores[0].View(ctx, func(tx fota.Tx) (err error) { page, err = tx.Members(l.campaignID, after, 10_000); return err })
		if err != nil {
			return 0, err
		}
		for _, m := range page {
			got[m.DeviceID] = m.State
		}
		if len(page) < 10_000 {
			break
		}
		after = page[len(page)-1].DeviceID
	}
	var bad []string
	for i, id := range l.ids {
		if got[id] != final[i] {
			bad = append(bad, fmt.Sprintf("%s is %s, truth %s", id, got[id], final[i]))
		}
		l.seenMu.Lock()
		seen := l.seen[i]
		l.seenMu.Unlock()
		if fmt.Sprint(seen) != fmt.Sprint(l.devs[i].entered) {
			bad = append(bad, fmt.Sprintf("%s: events %v, truth %v", id, seen, l.devs[i].entered))
		}
		if len(bad) > 5 {
			break
		}
	}
	if len(bad) > 0 {
		return 0, errors.New(strings.Join(bad, "; "))
	}
	return want.Of(device.StateSucceeded), nil
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// bench is pgbench's database, initialised (scale 10: a million
// accounts), ready for runs of `pgbench -N`.
type bench struct {
	admin *pgx.Conn
	name  string
	dsn   string
	c     config
}

// newBench creates pgbench's database and initialises its tables.
func newBench(ctx context.Context, admin *pgx.Conn, c config) (*bench, error) {
	b := &bench{admin: admin, name: randomName("fota_pgbench_"), c: c}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+b.name); err != nil {
		return nil, err
	}
	dsn, err := withDB(c.dsn, b.name)
	if err != nil {
		b.drop(ctx)
		return nil, err
	}
	if c.syncCommit != "" {
		u, _ := url.Parse(dsn)
		q := u.Query()
		q.Set("options", "-c synchronous_commit="+c.syncCommit)
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	b.dsn = dsn
	if out, err := exec.CommandContext(ctx, "pgbench", "-i", "-q", "-s", "10", dsn).CombinedOutput(); err != nil {
		b.drop(ctx)
		return nil, fmt.Errorf("pgbench -i: %v: %s", err, out)
	}
	return b, nil
}

func (b *bench) drop(ctx context.Context) {
	_, _ = b.admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+b.name+" WITH (FORCE)")
}

// run runs `pgbench -N` with as many clients as the replicas have
// connections, for secs seconds, and returns its transactions per second.
func (b *bench) run(ctx context.Context, secs int, out io.Writer, when string) (float64, error) {
	clients := b.c.replicas * b.c.conns
	args := []string{"-N", "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(secs), b.dsn}
	o, err := exec.CommandContext(ctx, "pgbench", args...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench %s: %v: %s", strings.Join(args[:len(args)-1], " "), err, o)
	}
	m := tpsLine.FindSubmatch(o)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps: %s", o)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(out, "pgbench -N -c %d -j 2 -T %d (%s): %.0f tps\n", clients, secs, when, tps)
	return tps, nil
}
