package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/directory"
	"github.com/fotakit/fota/examples/lwm2m/push"
	"github.com/fotakit/fota/examples/lwm2m/replica"
	"github.com/fotakit/fota/examples/lwm2m/server"
	"github.com/fotakit/fota/examples/lwm2m/simtime"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/sqlstore"
)

// The demo's account and firmware.
const (
	account      = "demo"
	firmwareName = "lamp-fw"
	firmwareFrom = "1.0"
	firmwareTo   = "2.0"
)

// options are the command's flags.
type options struct {
	demo                     int
	loss                     float64
	seed                     uint64
	failDownload, failUpdate int
	reboot                   int
	imageSize                int
	observeTimeout, lease    time.Duration
	answerTimeout            time.Duration
	workers, replicas        int
	db, dbSchema             string
	timeout                  time.Duration
	verbose                  bool
	// skipAfter is how long every replica must have been idle before the
	// clock jumps; skipOver the shortest gap it jumps over.
	skipAfter, skipOver time.Duration
}

func defaultOptions() options {
	return options{loss: 0.1, seed: 1, imageSize: 4096, observeTimeout: 2 * time.Second, lease: time.Minute,
		answerTimeout: 5 * time.Second, workers: 64, replicas: 1, dbSchema: "fota_lwm2m", timeout: 5 * time.Minute,
		skipAfter: 300 * time.Millisecond, skipOver: time.Minute}
}

// summary is what a demo run did.
type summary struct {
	Finished bool          // the campaign reached Finished
	Elapsed  time.Duration // real time from the schedule to Finished
	Campaign fota.CampaignInfo
	Devices  []fota.DeviceStatus // every device, as the Manager reports it
	Tally    map[string]int      // devices by /v1 status
	Runner   push.Stats          // summed over the replicas
	Server   server.Stats        // summed over the replicas
	Records  []push.Record       // every command carried out, in confirmation order
	Changes  int                 // device changes the Manager's observer saw
	Terminal map[string]int      // per device, the changes to a terminal state the observer saw
	Clients  []client.Stats      // per device, in DeviceList order
	States   []lwm2m.Observation // per device, the client's own Object 5 at the end
	Images   int                 // clients holding an image identical to the server's
	Firmware server.Firmware
	Skipped  time.Duration // how far the Manager's clock jumped
}

func knobs(o options) func(i int) client.Knobs {
	return func(i int) client.Knobs {
		k := client.Knobs{NotificationLoss: o.loss}
		n := i + 1
		switch {
		case o.failDownload > 0 && n%o.failDownload == 0:
			k.DownloadFailure = lwm2m.IntegrityCheckFailure
		case o.failUpdate > 0 && n%o.failUpdate == 0:
			k.UpdateFailure = lwm2m.UpdateFailed
		}
		if o.reboot > 0 && n%o.reboot == 0 {
			k.RebootOffline = 300 * time.Millisecond
		}
		// Answer Reads in each format the server reads.
		k.ReadFormat = []client.Knobs{{ReadFormat: 11542}, {ReadFormat: 110}, {ReadFormat: 112}}[i%3].ReadFormat
		return k
	}
}

// stores opens the store of each replica: one MemoryStore they share, or
// with -db a sqlstore handle each, on a pool each, migrated once, with a
// registration directory each over the same pool.
func stores(ctx context.Context, o options) ([]fota.Store, []server.Directory, func(), error) {
	st := make([]fota.Store, o.replicas)
	dirs := make([]server.Directory, o.replicas)
	if o.db == "" {
		mem, dir := fota.NewMemoryStore(), directory.NewMemory()
		for i := range st {
			st[i], dirs[i] = mem, dir
		}
		if o.replicas == 1 {
			dirs[0] = nil
		}
		return st, dirs, func() {}, nil
	}
	var pools []*pgxpool.Pool
	closeAll := func() {
		for _, p := range pools {
			p.Close()
		}
	}
	for i := range st {
		pool, err := pgxpool.New(ctx, o.db)
		if err != nil {
			closeAll()
			return nil, nil, nil, fmt.Errorf("-db: %w", err)
		}
		pools = append(pools, pool)
		s, err := sqlstore.OpenPool(ctx, pool, sqlstore.Options{Schema: o.dbSchema})
		if err != nil {
			closeAll()
			return nil, nil, nil, fmt.Errorf("-db: %w", err)
		}
		d, err := directory.NewPostgres(pool, o.dbSchema)
		if err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		if i == 0 {
			if err := s.Migrate(ctx); err != nil {
				closeAll()
				return nil, nil, nil, fmt.Errorf("-db: %w", err)
			}
			if err := d.Migrate(ctx); err != nil {
				closeAll()
				return nil, nil, nil, err
			}
		}
		st[i], dirs[i] = s, d
	}
	return st, dirs, closeAll, nil
}

// run starts the host, the clients and the campaign, and reports.
func run(ctx context.Context, o options, w io.Writer) (summary, error) {
	if o.replicas < 1 || o.demo > 1000000 {
		return summary{}, fmt.Errorf("-replicas %d, -demo %d: at least one replica, at most a million clients", o.replicas, o.demo)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	p := progress{w: w, start: time.Now()}
	var printMu sync.Mutex
	printf := func(format string, args ...any) {
		printMu.Lock()
		defer printMu.Unlock()
		p.printf(format, args...)
	}
	logf := func(format string, args ...any) {
		if o.verbose {
			printf(format, args...)
		}
	}

	ids := make([]string, o.demo)
	inv := fota.NewMemoryInventory()
	for i := range ids {
		ids[i] = client.IMEI(i)
		inv.Put(fota.DeviceInfo{DeviceID: ids[i], Account: account, Protocol: device.LWM2M, Make: "Acme", Model: "Lamp",
			Software: firmwareFrom, FOTACapable: true, ActiveConnected: true})
	}
	pkgs := fota.NewMemoryPackages()
	clock := simtime.New(time.Now())
	st, dirs, closeStores, err := stores(ctx, o)
	if err != nil {
		return summary{}, err
	}
	defer closeStores()

	var (
		recMu    sync.Mutex
		records  []push.Record
		changes  int
		terminal = map[string]int{}
	)
	observer := fota.ObserverFunc(func(c fota.Change) {
		if c.Kind == fota.DeviceChanged {
			recMu.Lock()
			changes++
			if c.State.Terminal() {
				terminal[c.DeviceID]++
			}
			recMu.Unlock()
		}
		if o.verbose {
			printf("%v", c)
		}
	})
	reps := make([]*replica.Replica, o.replicas)
	defer func() {
		for _, r := range reps {
			if r != nil {
				r.Stop()
			}
		}
	}()
	for i := range reps {
		r, err := replica.Start(ctx, replica.Config{
			Store: st[i], Inventory: inv, Packages: pkgs, Clock: clock, Observer: observer,
			Push: fota.PushPolicy{LeaseTTL: o.lease, ObserveTimeout: o.observeTimeout},
			Server: server.Config{
				AnswerTimeout: o.answerTimeout, AckTimeout: time.Second, Directory: dirs[i],
				Errors: func(err error) { logf("server %d: %v", i, err) },
			},
			Runner: push.Config{Workers: o.workers, Poll: 200 * time.Millisecond, Logf: logf, OnCommand: func(rec push.Record) {
				recMu.Lock()
				records = append(records, rec)
				recMu.Unlock()
			}},
		})
		if err != nil {
			return summary{}, err
		}
		reps[i] = r
	}
	image := make([]byte, o.imageSize)
	if _, err := rand.Read(image); err != nil {
		return summary{}, err
	}
	fw, err := reps[0].Server.AddFirmware(firmwareName+"-"+firmwareTo+".bin", image)
	if err != nil {
		return summary{}, err
	}
	pkgs.Put(account, fota.Package{Name: firmwareName, Make: "Acme", Model: "Lamp", From: firmwareFrom, To: firmwareTo,
		URL: fw.URI, Size: int64(fw.Size), SHA256: fw.Hash()})
	store := "memory"
	if o.db != "" {
		store = "PostgreSQL schema " + o.dbSchema
	}
	for i, r := range reps {
		printf("replica %d: LwM2M server on %v, Manager on %s", i, r.Server.Addr(), store)
	}
	printf("firmware %s %s: %s, %d bytes, sha256 %s…", firmwareName, firmwareTo, fw.URI, fw.Size, fw.Hash()[:16])

	// Clients register with the replicas in turn, a block each.
	var fleets []*client.Fleet
	defer func() {
		for _, f := range fleets {
			f.Stop()
		}
	}()
	for i, r := range reps {
		first, last := i*o.demo/len(reps), (i+1)*o.demo/len(reps)
		k := knobs(o)
		f, err := client.StartFleet(ctx, client.FleetConfig{
			Server: r.Server.Addr().String(), Size: last - first, First: first, Seed: o.seed + uint64(first), Lifetime: 10 * time.Minute,
			Knobs: func(j int) client.Knobs { return k(first + j) }, AckTimeout: time.Second,
			Errors: func(err error) { logf("%v", err) },
		})
		if err != nil {
			return summary{}, err
		}
		fleets = append(fleets, f)
	}
	printf("%d clients registered", o.demo)

	start := schedule.DateOf(clock.Now()).AddDays(1)
	info, err := reps[0].Manager.ScheduleUpgrade(ctx, account, fota.UpgradeRequest{
		AccountName: account, CampaignName: "lwm2m demo", FirmwareName: firmwareName, FirmwareTo: firmwareTo,
		StartDate: start, EndDate: start.AddDays(3), DeviceList: ids,
	})
	if err != nil {
		return summary{}, err
	}
	began := time.Now()
	printf("campaign %s: %s, %d devices accepted; starts %s, ends %s (Manager's clock %s)", info.ID, info.Status.String(),
		info.Counts.Accepted(), info.StartsAt.Format(time.RFC3339), info.EndsAt.Format(time.RFC3339), clock.Now().Format(time.RFC3339))

	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	lastPrint := time.Now()
	for info.Status != campaign.PushFinished {
		select {
		case <-ctx.Done():
			return summary{}, fmt.Errorf("campaign %s not Finished within %v: %s", info.ID, o.timeout, strings.Join(tally(info.Counts), ", "))
		case <-poll.C:
		}
		if info, err = reps[0].Manager.Campaign(ctx, account, info.ID); err != nil {
			return summary{}, err
		}
		if time.Since(lastPrint) >= time.Second {
			lastPrint = time.Now()
			printf("%s %s: %s", clock.Now().Format("2006-01-02T15:04:05Z"), info.Status.String(), strings.Join(tally(info.Counts), ", "))
		}
		if to, ok := replica.SkipIdle(clock, reps, o.skipAfter, o.skipOver, info.StartsAt, info.EndsAt); ok {
			printf("nothing under way: the Manager's clock jumps to %s", to.Format(time.RFC3339))
		}
	}
	elapsed := time.Since(began)

	sum := summary{Finished: true, Elapsed: elapsed, Campaign: info, Tally: map[string]int{}, Firmware: fw, Skipped: clock.Skipped()}
	for last := ""; ; {
		page, err := reps[0].Manager.Devices(ctx, account, info.ID, last, fota.MaxPageSize)
		if err != nil {
			return summary{}, err
		}
		for _, d := range page.DeviceList {
			sum.Devices = append(sum.Devices, d)
			sum.Tally[d.Status]++
		}
		if !page.HasMoreData {
			break
		}
		last = page.LastSeenDeviceID
	}
	for _, r := range reps {
		r.Stop()
		sum.Runner = sum.Runner.Add(r.Runner.Stats())
		sum.Server = sum.Server.Add(r.Server.Stats())
	}
	recMu.Lock()
	sum.Records, sum.Changes, sum.Terminal = append([]push.Record(nil), records...), changes, terminal
	recMu.Unlock()
	for _, f := range fleets {
		for _, c := range f.Clients {
			cs := c.Stats()
			sum.Clients = append(sum.Clients, cs)
			sum.States = append(sum.States, c.Observation())
			if cs.ImageSHA256 == fw.SHA256 {
				sum.Images++
			}
		}
	}
	printf("campaign %s %s after %v (the Manager's clock jumped %v): %s", info.ID, info.Status.String(), elapsed.Round(time.Millisecond),
		sum.Skipped.Round(time.Minute), strings.Join(sortedTally(sum.Tally), ", "))
	reasons := map[string]int{}
	for _, d := range sum.Devices {
		if d.ResultReason != "" && d.Status != "Upgrade Success" {
			reasons[fmt.Sprintf("%s %q (Update Result %d, %v)", d.Status, d.ResultReason, d.Result, lwm2m.Result(d.Result))]++
		}
	}
	for _, line := range sortedTally(reasons) {
		printf("  %s", line)
	}
	rs, s := sum.Runner, sum.Server
	printf("commands: observe %d, reset %d, writePackage %d, execute %d, read %d; no answer %d, refused %d, leases lost %d, duplicates %d",
		rs.Sent[fota.CommandObserve], rs.Sent[fota.CommandReset], rs.Sent[fota.CommandWritePackage], rs.Sent[fota.CommandExecute],
		rs.Sent[fota.CommandRead], rs.Undelivered, rs.Refused, rs.LeaseLost, rs.Duplicates)
	dropped := 0
	for _, c := range sum.Clients {
		dropped += c.NotificationsDropped
	}
	printf("observations: %d reported (%d refused); notifications %d received, %d lost by the clients; CoAP messages in %d, requests out %d; downloads %d, images verified %d",
		rs.Observations, rs.ObservationsRefused, s.Notifications, dropped, s.MessagesIn, s.Requests, s.Downloads, sum.Images)
	return sum, nil
}

// tally writes a campaign's counts as "/v1 status: n", in the order of
// the push device lifecycle.
func tally(c fota.Counts) []string {
	t := map[string]int{}
	for s := device.State(1); int(s) < len(c); s++ {
		if n := c.Of(s); n > 0 {
			t[s.Status().Wire(device.FamilyPush)] += n
		}
	}
	return sortedTally(t)
}

// sortedTally writes "key: n" lines in key order.
func sortedTally(t map[string]int) []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + ": " + strconv.Itoa(t[k])
	}
	return lines
}
