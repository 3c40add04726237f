package replica_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/directory"
	"github.com/fotakit/fota/examples/lwm2m/internal/pgtest"
	"github.com/fotakit/fota/examples/lwm2m/push"
	"github.com/fotakit/fota/examples/lwm2m/replica"
	"github.com/fotakit/fota/examples/lwm2m/server"
	"github.com/fotakit/fota/examples/lwm2m/simtime"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/sqlstore"
)

// TestTwoReplicasOnePostgreSQL runs one /v1 campaign for 200 simulated
// clients from two replicas of the host over one PostgreSQL schema: each
// replica its own pool, sqlstore handle, Manager, Run loop, LwM2M server
// and Runner; half the clients register with each; the package is served
// by a firmware host that outlives both (a CDN in a deployment). Both
// replicas lease commands from the one outbox, and reach devices registered
// with the other through the registration directory. Replica 0 is stopped
// mid-campaign with commands under way, as a crash: their leases run out
// and replica 1 takes them up, reads the devices whose notifications went
// to the stopped replica, and finishes the campaign. Every device ends
// Upgrade Success exactly once, no command was handed out while another
// of the same device was leased, and no client received the package URI or
// the Execute more often than once plus the hand-outs the stop abandoned.
func TestTwoReplicasOnePostgreSQL(t *testing.T) {
	const (
		n    = 200
		acct = "replicas"
	)
	admin := pgtest.Pool(t)
	schema := pgtest.Schema(t, admin, "lwm2m_test_")
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()

	ids := make([]string, n)
	inv := fota.NewMemoryInventory()
	for i := range ids {
		ids[i] = client.IMEI(1000 + i)
		inv.Put(fota.DeviceInfo{DeviceID: ids[i], Account: acct, Protocol: device.LWM2M, Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	pkgs := fota.NewMemoryPackages()
	cdn, err := server.New(server.Config{Known: func(context.Context, string) (bool, error) { return false, nil }})
	if err != nil {
		t.Fatal(err)
	}
	cdn.Start()
	defer cdn.Close()
	image := make([]byte, 2048)
	if _, err := rand.Read(image); err != nil {
		t.Fatal(err)
	}
	fw, err := cdn.AddFirmware("fw-2.0.bin", image)
	if err != nil {
		t.Fatal(err)
	}
	pkgs.Put(acct, fota.Package{Name: "fw", From: "1.0", To: "2.0", URL: fw.URI, Size: int64(fw.Size), SHA256: fw.Hash()})

	clock := simtime.New(time.Now())
	j := newJournal()
	var reps [2]*replica.Replica
	var journals [2]*journal
	var stores [2]*sqlstore.Store
	for i := range reps {
		pool := pgtest.Pool(t)
		store, err := sqlstore.OpenPool(ctx, pool, sqlstore.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		dir, err := directory.NewPostgres(pool, schema)
		if err != nil {
			t.Fatal(err)
		}
		if err := dir.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		journals[i] = newJournal()
		jr := journals[i]
		r, err := replica.Start(ctx, replica.Config{
			Store: store, Inventory: inv, Packages: pkgs, Clock: clock, Observer: fota.ObserverFunc(j.observe),
			// Short, for the test: the stopped replica's leases run out
			// in seconds. (A store's retries come out of the lease: the
			// Manager reads its clock once per operation.)
			Push:   fota.PushPolicy{LeaseTTL: 6 * time.Second, ObserveTimeout: time.Second},
			Server: server.Config{Directory: dir, AnswerTimeout: 1500 * time.Millisecond, AckTimeout: 300 * time.Millisecond, MaxRetransmit: 2},
			Runner: push.Config{Workers: 16, Poll: 100 * time.Millisecond, OnCommand: jr.record},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Stop()
		reps[i], stores[i] = r, store
	}
	var fleets [2]*client.Fleet
	for i, r := range reps {
		f, err := client.StartFleet(ctx, client.FleetConfig{Server: r.Server.Addr().String(), Size: n / 2, First: 1000 + i*n/2,
			Lifetime: 10 * time.Minute, AckTimeout: 300 * time.Millisecond, Seed: uint64(i),
			Knobs: func(int) client.Knobs { return client.Knobs{NotificationLoss: 0.05} }})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Stop()
		fleets[i] = f
	}
	start := schedule.DateOf(clock.Now()).AddDays(1)
	info, err := reps[1].Manager.ScheduleUpgrade(ctx, acct, fota.UpgradeRequest{AccountName: acct, FirmwareName: "fw", FirmwareTo: "2.0",
		StartDate: start, EndDate: start, DeviceList: ids})
	if err != nil {
		t.Fatal(err)
	}
	if info.Counts.Accepted() != n {
		t.Fatalf("%d devices accepted, want %d", info.Counts.Accepted(), n)
	}
	// Every registration reported before the clock jumps: a Connected that
	// read the clock before the jump and found the campaign started after
	// it would lease a command already expired.
	waitFor(t, "the registrations reported", 20*time.Second, func() bool {
		return reps[0].Runner.Stats().Connections+reps[1].Runner.Stats().Connections == n &&
			reps[0].Runner.Quiet() > 100*time.Millisecond && reps[1].Runner.Quiet() > 100*time.Millisecond
	})
	clock.Skip(info.StartsAt)
	for _, r := range reps {
		r.Runner.Wake()
	}
	done := func() int {
		c, err := reps[1].Manager.Campaign(ctx, acct, info.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.Counts.Of(device.StateSucceeded) + c.Counts.Of(device.StateUpdateFailed) + c.Counts.Of(device.StateUnreachable)
	}
	// Stop replica 0 once a quarter of the fleet is done, while it has
	// commands under way.
	waitFor(t, "a quarter of the fleet, with replica 0 busy", 40*time.Second, func() bool {
		return done() >= n/4 && reps[0].Runner.Busy() > 0
	})
	reps[0].Stop()
	stoppedAt := clock.Now()
	waitFor(t, "every device's outcome", 50*time.Second, func() bool { return done() == n })
	clock.Skip(info.EndsAt)
	waitFor(t, "Finished", 10*time.Second, func() bool {
		c, err := reps[1].Manager.Campaign(ctx, acct, info.ID)
		return err == nil && c.Status == campaign.PushFinished
	})

	page, err := reps[1].Manager.Devices(ctx, acct, info.ID, "", fota.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	// A commit the stopped replica sent as its connections closed may
	// have landed with its outcome unknown (sqlstore.CommitUnknownError):
	// the operation failed for its caller, so its changes reached no
	// observer. Only as many devices as such commits may miss their
	// terminal change; none may have two.
	unseen := 0
	for _, d := range page.DeviceList {
		if d.Status != "Upgrade Success" {
			t.Errorf("device %s ended %q %q", d.DeviceID, d.Status, d.ResultReason)
		}
		switch j.terminal[d.DeviceID] {
		case 1:
		case 0:
			unseen++
		default:
			t.Errorf("device %s reached a terminal status %d times", d.DeviceID, j.terminal[d.DeviceID])
		}
	}
	if unknown := stores[0].Stats().CommitUnknown; unseen > int(unknown) {
		t.Errorf("%d devices' terminal changes were never observed; the stopped replica had %d commits of unknown outcome", unseen, unknown)
	}
	if len(page.DeviceList) != n {
		t.Fatalf("%d devices in the campaign, want %d", len(page.DeviceList), n)
	}

	// Leases: across both replicas, each hand-out once, and per device
	// never two exchanges at once.
	var all []push.Record
	for _, jr := range journals {
		all = append(all, jr.records...)
	}
	if err := push.CheckExchanges(all); err != nil {
		t.Error(err)
	}
	abandoned := map[string]map[fota.CommandKind]int{}
	for _, rec := range all {
		if id := rec.Command.DeviceID; rec.Abandoned {
			if abandoned[id] == nil {
				abandoned[id] = map[fota.CommandKind]int{}
			}
			abandoned[id][rec.Command.Kind]++
		}
	}
	nAbandoned := 0
	for _, m := range abandoned {
		for _, c := range m {
			nAbandoned += c
		}
	}
	if nAbandoned == 0 {
		t.Fatal("replica 0 stopped with nothing under way: the test did not exercise lost leases")
	}
	// Each client got the package URI and the Execute once, or once more
	// for each such hand-out the stop abandoned (the device may have acted
	// on it before the replica died).
	crossed := 0
	for i, f := range fleets {
		for k, c := range f.Clients {
			id := ids[i*n/2+k]
			st := c.Stats()
			if st.PackageWrites < 1 || st.PackageWrites > 1+abandoned[id][fota.CommandWritePackage] ||
				st.Executes < 1 || st.Executes > 1+abandoned[id][fota.CommandExecute] {
				t.Errorf("client %s received %d package writes and %d Executes (abandoned %v)", id, st.PackageWrites, st.Executes, abandoned[id])
			}
			if st.ImageSHA256 != fw.SHA256 {
				t.Errorf("client %s holds another image", id)
			}
		}
	}
	// Replica 1 carried out commands for devices registered with replica
	// 0, before and after the stop, through the directory.
	for _, rec := range journals[1].records {
		if idx := indexOf(ids, rec.Command.DeviceID); idx < n/2 && rec.Receipt.Delivered {
			crossed++
		}
	}
	if crossed == 0 {
		t.Error("replica 1 never reached a device registered with replica 0")
	}
	for i, st := range stores {
		t.Logf("store %d: %+v", i, st.Stats())
	}
	s0, s1 := reps[0].Runner.Stats(), reps[1].Runner.Stats()
	t.Logf("replica 0 (stopped at %v): %d commands, %d abandoned; replica 1: %d commands, %d reads, %d leases lost; %d delivered commands of replica 1 to replica 0's devices",
		stoppedAt.Format(time.TimeOnly), sumSent(s0), s0.Abandoned, sumSent(s1), s1.Sent[fota.CommandRead], s1.LeaseLost, crossed)
}

func indexOf(ids []string, id string) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

func sumSent(s push.Stats) int64 {
	var n int64
	for _, c := range s.Sent {
		n += c
	}
	return n
}
