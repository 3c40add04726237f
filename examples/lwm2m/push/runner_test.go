package push_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/options"
	"github.com/plgd-dev/go-coap/v3/udp"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/push"
	"github.com/fotakit/fota/examples/lwm2m/replica"
	"github.com/fotakit/fota/examples/lwm2m/server"
	"github.com/fotakit/fota/examples/lwm2m/simtime"
	"github.com/fotakit/fota/schedule"
)

func TestNewRefusesBadConfig(t *testing.T) {
	m, err := fota.New(fota.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		cfg   push.Config
		field string
	}{
		{push.Config{}, "Manager"},
		{push.Config{Manager: m, Workers: -1}, "Workers"},
		{push.Config{Manager: m, Poll: -time.Second}, "Poll"},
	} {
		var e *push.ArgError
		if _, err := push.New(tt.cfg); !errors.As(err, &e) || !errors.Is(err, push.ErrBadConfig) || e.Field != tt.field {
			t.Errorf("New(%+v) = %v, want an *ArgError on %s matching ErrBadConfig", tt.cfg, err, tt.field)
		}
	}
	r, err := push.New(push.Config{Manager: m})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Serve(context.Background(), nil); !errors.Is(err, push.ErrBadConfig) {
		t.Fatalf("Serve without a server: %v", err)
	}
	// A Runner never served, once closed, drops what a server hands it
	// instead of waiting for Serve.
	r.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.HandleObservation(client.IMEI(1), lwm2m.Observation{})
		r.HandleRegistration(server.Event{Kind: server.Registered, DeviceID: client.IMEI(1)})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the handlers of a closed Runner block")
	}
	if st := r.Stats(); st.Observations != 0 || st.Connections != 0 {
		t.Fatalf("a closed Runner reported %+v", st)
	}
}

type failingInventory struct{}

var errInventoryDown = errors.New("inventory down")

func (failingInventory) Lookup(context.Context, string) (fota.DeviceInfo, bool, error) {
	return fota.DeviceInfo{}, false, errInventoryDown
}

func TestKnown(t *testing.T) {
	inv := fota.NewMemoryInventory(
		fota.DeviceInfo{DeviceID: client.IMEI(1), Protocol: device.LWM2M},
		fota.DeviceInfo{DeviceID: client.IMEI(2), Protocol: device.OMADM},
	)
	known := push.Known(inv)
	for id, want := range map[string]bool{client.IMEI(1): true, client.IMEI(2): false, client.IMEI(3): false} {
		if got, err := known(context.Background(), id); got != want || err != nil {
			t.Errorf("Known(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
	if _, err := push.Known(failingInventory{})(context.Background(), client.IMEI(1)); !errors.Is(err, errInventoryDown) {
		t.Fatalf("Known over a failing inventory: %v", err)
	}
}

func TestCheckExchanges(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	rec := func(id string, lease uint64, from, to int) push.Record {
		return push.Record{Command: fota.Command{Kind: fota.CommandRead, DeviceID: id, Lease: lease},
			Sent: t0.Add(time.Duration(from) * time.Second), Answered: t0.Add(time.Duration(to) * time.Second)}
	}
	if err := push.CheckExchanges([]push.Record{rec("a", 1, 0, 1), rec("a", 2, 1, 2), rec("b", 1, 0, 5), {Command: fota.Command{DeviceID: "a", Lease: 3}}}); err != nil {
		t.Fatalf("disjoint exchanges: %v", err)
	}
	err := push.CheckExchanges([]push.Record{rec("a", 1, 0, 3), rec("a", 2, 2, 4), rec("b", 7, 0, 1), rec("b", 7, 2, 3)})
	if err == nil || !strings.Contains(err.Error(), `device a: read (lease 2) sent`) || !strings.Contains(err.Error(), "device b: lease 7 handed out twice") {
		t.Fatalf("overlapping exchanges and a lease handed out twice: %v", err)
	}
}

// host is one replica with its inventory and package catalog, on a clock
// that jumps over idle stretches.
type host struct {
	*replica.Replica
	clock *simtime.Clock
	inv   *fota.MemoryInventory
	pkgs  *fota.MemoryPackages
	fw    server.Firmware
}

const acct = "acme"

func startHost(t *testing.T, ctx context.Context, cfg replica.Config) *host {
	t.Helper()
	h := &host{clock: simtime.New(time.Now()), inv: fota.NewMemoryInventory(), pkgs: fota.NewMemoryPackages()}
	cfg.Inventory, cfg.Packages, cfg.Clock = h.inv, h.pkgs, h.clock
	r, err := replica.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	h.Replica = r
	if h.fw, err = r.Server.AddFirmware("fw-2.0.bin", bytes.Repeat([]byte("firmware"), 200)); err != nil {
		t.Fatal(err)
	}
	h.pkgs.Put(acct, fota.Package{Name: "fw", From: "1.0", To: "2.0", URL: h.fw.URI, Size: int64(h.fw.Size), SHA256: h.fw.Hash()})
	return h
}

func (h *host) add(id string, p device.Protocol) {
	h.inv.Put(fota.DeviceInfo{DeviceID: id, Account: acct, Protocol: p, Software: "1.0", FOTACapable: true, ActiveConnected: true})
}

// fleet adds n LwM2M clients, from IMEI number first on, to the inventory
// and starts them against the host's server with knobs; it returns their
// ids. They stop when the test ends.
func (h *host) fleet(t *testing.T, ctx context.Context, first, n int, knobs func(i int) client.Knobs) ([]string, *client.Fleet) {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = client.IMEI(first + i)
		h.add(ids[i], device.LWM2M)
	}
	f, err := client.StartFleet(ctx, client.FleetConfig{Server: h.Server.Addr().String(), Size: n, First: first, Lifetime: 10 * time.Minute, Knobs: knobs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return ids, f
}

// recorder gathers the Runner's records of the commands it carried.
type recorder chan push.Record

func newRecorder() recorder { return make(recorder, 1024) }

func (r recorder) record(rec push.Record) { r <- rec }

// all stops the recording and returns what was recorded.
func (r recorder) all() []push.Record {
	close(r)
	var out []push.Record
	for rec := range r {
		out = append(out, rec)
	}
	return out
}

// campaign schedules a campaign for ids starting tomorrow and runs it to
// Finished, jumping the clock over idle stretches; it returns the devices.
func (h *host) campaign(t *testing.T, ctx context.Context, ids []string) []fota.DeviceStatus {
	t.Helper()
	start := schedule.DateOf(h.clock.Now()).AddDays(1)
	info, err := h.Manager.ScheduleUpgrade(ctx, acct, fota.UpgradeRequest{AccountName: acct, FirmwareName: "fw", FirmwareTo: "2.0",
		StartDate: start, EndDate: start, DeviceList: ids})
	if err != nil {
		t.Fatal(err)
	}
	for info.Status != campaign.PushFinished {
		if ctx.Err() != nil {
			t.Fatalf("campaign %s not Finished: %v %v", info.ID, info.Status, info.Counts)
		}
		time.Sleep(20 * time.Millisecond)
		replica.SkipIdle(h.clock, []*replica.Replica{h.Replica}, 200*time.Millisecond, time.Minute, info.StartsAt, info.EndsAt)
		if info, err = h.Manager.Campaign(ctx, acct, info.ID); err != nil {
			t.Fatal(err)
		}
	}
	page, err := h.Manager.Devices(ctx, acct, info.ID, "", fota.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	return page.DeviceList
}

// register sends one Register from a fresh socket and returns the answer.
func register(t *testing.T, addr string, queries []string, payload []byte) codes.Code {
	t.Helper()
	cc, err := udp.Dial(addr, options.WithErrors(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := cc.NewPostRequest(ctx, "/rd", message.AppLinkFormat, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.ReleaseMessage(req)
	for _, q := range queries {
		req.AddQuery(q)
	}
	resp, err := cc.Do(req)
	if err != nil {
		t.Fatalf("register %v: %v", queries, err)
	}
	defer cc.ReleaseMessage(resp)
	return resp.Code()
}

// TestBadInputThroughTheHost throws bad input at a replica whose Manager
// runs a campaign: registrations of endpoints the Manager's inventory does
// not know (or knows as OMA-DM devices), malformed endpoint names, bad
// link-format, oversize payloads, a few thousand random or mutated
// datagrams, and, on a real observation, notifications about another object
// and oversize ones. Each is refused, none reaches the Manager (only the
// fleet's registrations are reported as Connected, no observation is
// refused by the Manager), nothing panics, and the fleet is updated as if
// nothing happened.
func TestBadInputThroughTheHost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	h := startHost(t, ctx, replica.Config{
		Push:   fota.PushPolicy{LeaseTTL: time.Minute, ObserveTimeout: time.Second},
		Server: server.Config{}, // MaxPayload 1024: larger datagrams up to 1280 bytes are read, and refused
	})
	const n = 5
	ids := make([]string, n)
	for i := range ids {
		ids[i] = client.IMEI(600 + i)
		h.add(ids[i], device.LWM2M)
	}
	fumo := client.IMEI(700)
	h.add(fumo, device.OMADM)
	addr := h.Server.Addr().String()
	ep := func(id string) string { return "ep=urn:imei:" + id }
	for _, tt := range []struct {
		name    string
		queries []string
		payload []byte
		want    codes.Code
	}{
		{"unknown to the inventory", []string{ep(client.IMEI(800))}, []byte("</5/0>"), codes.Forbidden},
		{"an OMA-DM device", []string{ep(fumo)}, []byte("</5/0>"), codes.Forbidden},
		{"not an IMEI", []string{"ep=urn:imei:123"}, []byte("</5/0>"), codes.BadRequest},
		{"not urn:imei", []string{"ep=lamp-1"}, []byte("</5/0>"), codes.BadRequest},
		{"bad link-format", []string{ep(ids[0])}, []byte("</5/0>,,</3/0"), codes.BadRequest},
		{"a resource in the object list", []string{ep(ids[0])}, []byte("</5/0/3>"), codes.BadRequest},
		{"oversize object list", []string{ep(ids[0])}, []byte(strings.Repeat("</1/0>,", 160) + "</5/0>"), codes.RequestEntityTooLarge},
	} {
		if got := register(t, addr, tt.queries, tt.payload); got != tt.want {
			t.Errorf("%s: answered %v, want %v", tt.name, got, tt.want)
		}
	}
	raw, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rng := rand.New(rand.NewPCG(13, 13))
	valid := []byte{0x40, 0x02, 0x12, 0x34, 0xb2, 'r', 'd', 0x4d, 0x0b, 'e', 'p', '=', 'u', 'r', 'n', ':', 'i', 'm', 'e', 'i', ':', 'x', 0xff, '<', '/', '5', '/', '0', '>'}
	for i := 0; i < 3000; i++ {
		var d []byte
		if i%2 == 0 {
			d = make([]byte, rng.IntN(64))
			for k := range d {
				d[k] = byte(rng.Uint32())
			}
		} else {
			d = bytes.Clone(valid)
			for k := 0; k < 1+rng.IntN(4); k++ {
				d[rng.IntN(len(d))] = byte(rng.Uint32())
			}
		}
		if _, err := raw.Write(d); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			time.Sleep(time.Millisecond) // let the server keep up rather than overflow its buffer
		}
	}
	// Client 0 sends, on its real observation of /5/0/3, a notification
	// about /3/0 and an oversize one before each real one.
	f, err := client.StartFleet(ctx, client.FleetConfig{Server: addr, Size: n, First: 600, Lifetime: 10 * time.Minute, AckTimeout: 300 * time.Millisecond,
		Knobs: func(i int) client.Knobs { return client.Knobs{Garbage: i == 0} }})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	for _, d := range h.campaign(t, ctx, append(ids, fumo)) {
		switch {
		case d.DeviceID == fumo && d.Status != "Upgrade Failed":
			// The OMA-DM device's Exec is not this transport's: it is
			// confirmed undelivered, and the device fails at the end.
			t.Errorf("the OMA-DM device ended %q %q", d.Status, d.ResultReason)
		case d.DeviceID != fumo && d.Status != "Upgrade Success":
			t.Errorf("device %s ended %q %q", d.DeviceID, d.Status, d.ResultReason)
		}
	}
	st, ss := h.Runner.Stats(), h.Server.Stats()
	if g := f.Clients[0].Stats().Garbage; g == 0 || ss.Refusals < int64(g) || st.ObservationsRefused != 0 {
		t.Errorf("client 0 sent %d notifications to refuse; the server refused %d, the Manager %d", g, ss.Refusals, st.ObservationsRefused)
	}
	if st.Connections != n {
		t.Errorf("the Manager was told of %d registrations, want the fleet's %d", st.Connections, n)
	}
	if st.Foreign == 0 {
		t.Error("the OMA-DM device's command never reached the Runner")
	}
	if ss.Refused < 7 || ss.Registrations != n {
		t.Errorf("server refused %d registrations and accepted %d; want at least 7 and %d", ss.Refused, ss.Registrations, n)
	}
	t.Logf("server: %d messages in, %d registrations refused, %d notifications reset; runner: %+v", ss.MessagesIn, ss.Refused, ss.Resets, st)
}

// TestEveryNotificationLost: clients that lose every notification are
// updated through Reads alone (after each ObserveTimeout of silence).
func TestEveryNotificationLost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	rec := newRecorder()
	h := startHost(t, ctx, replica.Config{
		Push:   fota.PushPolicy{LeaseTTL: time.Minute, ObserveTimeout: 500 * time.Millisecond},
		Runner: push.Config{OnCommand: rec.record},
	})
	const n = 4
	ids, f := h.fleet(t, ctx, 900, n, func(int) client.Knobs { return client.Knobs{NotificationLoss: 1} })
	for _, d := range h.campaign(t, ctx, ids) {
		if d.Status != "Upgrade Success" || d.Result != uint16(lwm2m.Success) {
			t.Errorf("device %s ended %q %q with result %d", d.DeviceID, d.Status, d.ResultReason, d.Result)
		}
	}
	recs := rec.all()
	reads := 0
	for _, r := range recs {
		if r.Command.Kind == fota.CommandRead {
			reads++
		}
	}
	if reads < n {
		t.Fatalf("%d reads for %d devices that never notified", reads, n)
	}
	for _, c := range f.Clients {
		if st := c.Stats(); st.NotificationsSent != 0 {
			t.Fatalf("a client sent %d notifications", st.NotificationsSent)
		}
	}
	if err := push.CheckExchanges(recs); err != nil {
		t.Fatal(err)
	}
}

// TestResetOverCoAP: clients whose update failed (result 8, the image
// kept or not) join a second campaign. Each shows the failure in its
// observe answer, so the Manager resets it (an empty write of /5/0/1,
// 2.04) before writing the package again; the client notifies (Idle,
// Initial), the write follows, and the update fails again as the client's
// knob says, with result 8 beside the reason. No command overlaps
// another to the same device.
func TestResetOverCoAP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	rec := newRecorder()
	h := startHost(t, ctx, replica.Config{
		Push:   fota.PushPolicy{LeaseTTL: time.Minute, ObserveTimeout: time.Second},
		Runner: push.Config{OnCommand: rec.record},
	})
	const n = 4
	ids, f := h.fleet(t, ctx, 1000, n, func(i int) client.Knobs {
		return client.Knobs{UpdateFailure: lwm2m.UpdateFailed, KeepImage: i%2 == 0}
	})
	for round := 1; round <= 2; round++ {
		for _, d := range h.campaign(t, ctx, ids) {
			if d.Status != "Upgrade Failed" || d.ResultReason != "Firmware update to device failed." || d.Result != uint16(lwm2m.UpdateFailed) {
				t.Errorf("campaign %d: device %s ended %q %q with result %d", round, d.DeviceID, d.Status, d.ResultReason, d.Result)
			}
		}
		for i, c := range f.Clients {
			if st := c.Stats(); st.Resets != round-1 || st.PackageWrites != round {
				t.Errorf("campaign %d: client %d had %d resets and %d package writes, want %d and %d", round, i, st.Resets, st.PackageWrites, round-1, round)
			}
		}
	}
	byCampaign := map[string][]push.Record{} // leases are numbered per campaign
	resets := 0
	for _, r := range rec.all() {
		byCampaign[r.Command.CampaignID] = append(byCampaign[r.Command.CampaignID], r)
		if r.Command.Kind == fota.CommandReset && r.Receipt.Delivered && r.Receipt.Status == 204 {
			resets++
		}
	}
	if resets != n {
		t.Errorf("%d resets answered 2.04, want %d", resets, n)
	}
	if len(byCampaign) != 2 {
		t.Errorf("commands of %d campaigns, want 2", len(byCampaign))
	}
	for id, recs := range byCampaign {
		if err := push.CheckExchanges(recs); err != nil {
			t.Errorf("campaign %s: %v", id, err)
		}
	}
}
