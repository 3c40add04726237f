package fota_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/device/omadm"
	"github.com/fotakit/fota/schedule"
	"pgregory.net/rapid"
)

// simDevice is a push device as the test plays it: its own protocol
// machine, whether it is reachable, and what it told the server.
type simDevice struct {
	id       string
	protocol device.Protocol
	online   bool
	obs      lwm2m.Observation // LwM2M: the device's State and Update Result
	image    image             // LwM2M: the image the device holds
	fumo     omadm.State       // OMA-DM
	held     []sentNote        // LwM2M: notifications in flight, oldest first
	wrote    int               // LwM2M: package writes of this campaign the device took
	// downloaded: the Manager accepted an observation of (Downloaded,
	// Initial) the device sent after its last package write took effect.
	downloaded bool
	terminal   device.State // the final state the Manager gave it, once it has one
}

// image is what an LwM2M device holds in the model.
type image uint8

const (
	noImage      image = iota
	earlierImage       // left over from before the campaign
	ourImage           // this campaign's package
)

// sentNote is an observation the device sent, with how many package
// writes it had taken then.
type sentNote struct {
	obs   lwm2m.Observation
	wrote int
}

// TestPushModel drives a push campaign of LwM2M and OMA-DM devices through
// two Managers over one store, with random interleavings of hand-outs,
// deliveries (answered or not), device progress, notifications (lost,
// repeated, late but in order as the host passes them, overtaking the
// acknowledgement of the command they follow), connections, lost leases (a
// replica that crashed) and ticks. LwM2M devices start at rest, with an
// earlier update's result, or amid an earlier download or update of
// another image, whose notifications may arrive after the reset. It checks:
//   - a device holds at most one unexpired lease, whichever Manager gave it;
//   - no device gets more unanswered attempts than the plan allows;
//   - a refused call changes nothing, and every error is a typed one;
//   - Execute is handed out only after the Manager accepted an observation
//     of (Downloaded, Initial) the device sent after this campaign's package
//     write, and no device executes an image the campaign did not write;
//   - a device's final state never changes, and nothing changes after the
//     campaign finished;
//   - after the end date every accepted device has exactly one final state.
func TestPushModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		clk := clock.NewMock()
		clk.Set(time.Date(2026, 5, 1, 18, 0, 0, 0, time.UTC))
		inv := fota.NewMemoryInventory()
		store := fota.NewMemoryStore()
		var devs []*simDevice
		n := rapid.IntRange(1, 5).Draw(t, "devices")
		for i := range n {
			proto := rapid.SampledFrom([]device.Protocol{device.LWM2M, device.OMADM}).Draw(t, "protocol")
			d := &simDevice{id: imeiOf(fmt.Sprintf("d%d", i+1)), protocol: proto, online: rapid.Bool().Draw(t, "online"), fumo: omadm.Idle}
			// At rest, with an earlier update's result, or amid an earlier
			// download or update of another image: the Manager resets all
			// but a device at rest before its package write (one updating
			// once its update ended).
			d.obs = rapid.SampledFrom([]lwm2m.Observation{{State: lwm2m.Idle, Result: lwm2m.Initial}, {State: lwm2m.Idle, Result: lwm2m.Initial},
				{State: lwm2m.Idle, Result: lwm2m.Success}, {State: lwm2m.Idle, Result: lwm2m.UpdateFailed},
				{State: lwm2m.Downloading, Result: lwm2m.Initial}, {State: lwm2m.Downloaded, Result: lwm2m.Initial},
				{State: lwm2m.Downloaded, Result: lwm2m.Initial}, {State: lwm2m.Downloaded, Result: lwm2m.UpdateFailed},
				{State: lwm2m.Updating, Result: lwm2m.Initial}}).Draw(t, "leftover")
			if d.obs.State != lwm2m.Idle {
				d.image = earlierImage
			}
			devs = append(devs, d)
			inv.Put(fota.DeviceInfo{DeviceID: d.id, Account: "acme", Protocol: proto, Make: "Acme", Model: "Lamp",
				Software: "1.0", FOTACapable: true, ActiveConnected: true})
		}
		// Once the campaign finished, what its devices report never
		// changes (the sweep only writes down what queries already show).
		var atFinish map[string]device.State
		obs := fota.ObserverFunc(func(c fota.Change) {})
		newM := func() *fota.Manager {
			m, err := fota.New(fota.Config{Store: store, Inventory: inv, Clock: clk, Observer: obs,
				NewID: func(seq uint64) string { return fmt.Sprintf("c%d", seq) }})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		managers := []*fota.Manager{newM(), newM()}
		ids := make([]string, len(devs))
		byID := map[string]*simDevice{}
		for i, d := range devs {
			ids[i], byID[d.id] = d.id, d
		}
		start := schedule.DateOf(clk.Now()).AddDays(1)
		info, err := managers[0].ScheduleUpgrade(ctx, "acme", fota.UpgradeRequest{AccountName: "acme", FirmwareName: "fw",
			FirmwareTo: "2.0", StartDate: start, EndDate: start.AddDays(rapid.IntRange(0, 5).Draw(t, "days")), DeviceList: ids})
		if err != nil {
			t.Fatal(err)
		}
		policy := schedule.DefaultPolicy()

		leases := map[string]fota.Command{} // device -> unconfirmed hand-out
		// A device gets at most one unanswered push per attempt of the
		// plan, plus one per connection, and per notification delivered
		// after it went off, that pushes at once.
		unanswered, connects := map[string]int{}, map[string]int{}
		states := func() map[string]device.State {
			page, err := managers[0].Devices(ctx, "acme", info.ID, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]device.State{}
			for _, s := range page.DeviceList {
				out[s.DeviceID] = s.State
			}
			return out
		}
		handOut := func(c fota.Command) {
			if d := byID[c.DeviceID]; c.Kind == fota.CommandExecute && !d.downloaded {
				t.Fatalf("device %s handed execute (lease %d) before an observation of (Downloaded, Initial) after its package write", c.DeviceID, c.Lease)
			}
			if old, ok := leases[c.DeviceID]; ok && clk.Now().Before(old.LeaseUntil) {
				t.Fatalf("device %s handed %s lease %d while lease %d (%s) runs until %v", c.DeviceID, c.Kind, c.Lease, old.Lease, old.Kind, old.LeaseUntil)
			}
			leases[c.DeviceID] = c
		}
		// call runs a push call and checks that a refusal is typed and
		// changes nothing.
		call := func(what string, f func() (fota.PushResult, error)) {
			before := states()
			res, err := f()
			if err != nil {
				if !(errors.Is(err, fota.ErrBadRequest) || errors.Is(err, fota.ErrInvalidTransition) ||
					errors.Is(err, fota.ErrDuplicateReport) || errors.Is(err, fota.ErrLeaseLost) ||
					errors.Is(err, fota.ErrNotFound) || errors.Is(err, lwm2m.ErrUnreachable)) {
					t.Fatalf("%s: untyped error %v", what, err)
				}
				if after := states(); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("%s failed (%v) but changed devices: %v -> %v", what, err, before, after)
				}
				return
			}
			if res.Next != nil {
				handOut(*res.Next)
			}
		}
		// observe reports what device d sent, n, to a Manager; the host
		// passes it on in the order the device sent it.
		observe := func(what string, m *fota.Manager, d *simDevice, n sentNote) {
			call(what, func() (fota.PushResult, error) {
				res, err := m.Observation(ctx, d.id, n.obs)
				if err == nil && n.obs == (lwm2m.Observation{State: lwm2m.Downloaded, Result: lwm2m.Initial}) && n.wrote == d.wrote && d.wrote > 0 {
					d.downloaded = true
				}
				if err == nil && res.Next != nil && !d.online {
					connects[d.id]++ // sent before the device went off, it pushes at once
				}
				return res, err
			})
		}
		// arrive delivers device d's notifications in flight, in order,
		// each one or, when the host dropped it as stale, not.
		arrive := func(d *simDevice) {
			held := d.held
			d.held = nil
			for _, n := range held {
				if rapid.Bool().Draw(t, "arrived") {
					observe("late observation", managers[0], d, n)
				}
			}
		}
		// notify sends device d's current value: lost, held back in
		// flight, repeated, or delivered. Delivered, it comes after what is
		// in flight (the host drops notifications out of order, RFC 7641
		// §3.4). fresh marks an Observe's or Read's answer: what was in
		// flight came first (an Observe starts anew; a Read comes after
		// ObserveTimeout) and the answer is not held back.
		notify := func(d *simDevice, fresh bool) {
			if d.protocol != device.LWM2M {
				return
			}
			if !d.online {
				return // it reaches no server
			}
			n := sentNote{d.obs, d.wrote}
			k := rapid.IntRange(0, 5).Draw(t, "notification")
			if k == 1 && !fresh {
				d.held = append(d.held, n) // delivered late, in order
				return
			}
			if k == 0 || k == 1 {
				return // lost
			}
			arrive(d)
			if k == 2 { // repeated
				observe("observation", managers[0], d, n)
			}
			observe("observation", managers[1], d, n)
		}
		deliver := func(c fota.Command) {
			d := byID[c.DeviceID]
			r := fota.Receipt{}
			tell := false // the device notifies what the command changed
			if d.online {
				r.Delivered, r.Status = true, 204
				switch c.Kind {
				case fota.CommandObserve, fota.CommandRead:
					r.Status = 205
				case fota.CommandReset:
					if d.obs.State == lwm2m.Updating {
						r.Status = 405
					} else {
						tell = d.obs != lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Initial}
						d.obs, d.image = lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Initial}, noImage
					}
				case fota.CommandWritePackage:
					if d.obs.State == lwm2m.Idle {
						d.obs, d.image, tell = lwm2m.Observation{State: lwm2m.Downloading, Result: lwm2m.Initial}, ourImage, true
						d.wrote++
						d.downloaded = false
					} else {
						r.Status = 400
					}
				case fota.CommandExecute:
					if d.obs.State == lwm2m.Downloaded {
						if d.image != ourImage {
							t.Fatalf("device %s executes an image this campaign did not write", d.id)
						}
						d.obs, tell = lwm2m.Observation{State: lwm2m.Updating, Result: lwm2m.Initial}, true
					} else {
						r.Status = 405
					}
				case fota.CommandExec:
					r.Status = 202
					d.fumo = omadm.DownloadProgressing
				}
			}
			if !r.Delivered {
				unanswered[d.id]++
			}
			m := managers[rapid.IntRange(0, 1).Draw(t, "confirmer")]
			if leases[c.DeviceID].Lease == c.Lease {
				delete(leases, c.DeviceID) // confirmed: the device is free for its next command
			}
			fresh := c.Kind == fota.CommandObserve || c.Kind == fota.CommandRead
			if r.Delivered && r.Status < 300 && (fresh || tell) && rapid.Bool().Draw(t, "valueWithAnswer") {
				// The host holds the device's value as it confirms (a
				// 2.05's content, the notification after a 2.04): what
				// was in flight arrives first.
				arrive(d)
				v := d.obs
				r.Value = &v
				fresh, tell = false, false
			} else if tell && rapid.Bool().Draw(t, "overtakes") {
				// The notification overtakes the acknowledgement.
				notify(d, false)
				tell = false
			}
			call("confirm "+c.Kind.String(), func() (fota.PushResult, error) {
				res, err := m.Confirm(ctx, c, r)
				if err == nil && r.Value != nil && *r.Value == (lwm2m.Observation{State: lwm2m.Downloaded, Result: lwm2m.Initial}) && d.wrote > 0 {
					d.downloaded = true
				}
				return res, err
			})
			if r.Delivered && (fresh || tell) {
				notify(d, fresh)
			}
		}
		progress := func(d *simDevice) {
			switch d.protocol {
			case device.LWM2M:
				switch d.obs.State {
				case lwm2m.Downloading:
					if rapid.Bool().Draw(t, "downloadOK") {
						d.obs = lwm2m.Observation{State: lwm2m.Downloaded, Result: lwm2m.Initial}
					} else {
						d.image = noImage
						d.obs = lwm2m.Observation{State: lwm2m.Idle, Result: rapid.SampledFrom([]lwm2m.Result{2, 3, 4, 5, 6, 7, 9}).Draw(t, "downloadResult")}
					}
				case lwm2m.Updating:
					d.obs = rapid.SampledFrom([]lwm2m.Observation{{State: lwm2m.Idle, Result: lwm2m.Success},
						{State: lwm2m.Downloaded, Result: lwm2m.UpdateFailed}, {State: lwm2m.Idle, Result: lwm2m.UpdateFailed}}).Draw(t, "updateResult")
					if d.obs.State == lwm2m.Idle {
						d.image = noImage
					}
				default:
					notify(d, false) // the same value again (the observation's maximum period)
					return
				}
				notify(d, false)
			case device.OMADM:
				if d.fumo != omadm.DownloadProgressing {
					return
				}
				code := rapid.SampledFrom([]string{"200", "403", "410", "503"}).Draw(t, "fumoCode")
				d.fumo = omadm.Idle
				a, err := omadm.ParseAlert("1226", omadm.TypeDownloadAndUpdate, "./FwUpdate/x", "", code)
				if err != nil {
					t.Fatal(err)
				}
				call("alert", func() (fota.PushResult, error) { return managers[0].Alert(ctx, d.id, a) })
			}
		}

		end := info.EndsAt
		for step := 0; step < 60; step++ {
			switch rapid.IntRange(0, 8).Draw(t, "action") {
			case 0: // time passes
				clk.Add(time.Duration(rapid.IntRange(1, 600).Draw(t, "minutes")) * time.Minute)
			case 1, 2: // a replica takes due commands and delivers some
				cmds, _, err := managers[rapid.IntRange(0, 1).Draw(t, "replica")].Outbox(ctx, 0)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cmds {
					handOut(c)
				}
				for _, c := range cmds {
					if rapid.IntRange(0, 3).Draw(t, "crash") == 0 {
						continue // the replica died before sending: the lease expires
					}
					deliver(c)
				}
			case 3: // a device makes progress on its own
				progress(rapid.SampledFrom(devs).Draw(t, "device"))
			case 4: // a device comes online (registers) or goes off
				d := rapid.SampledFrom(devs).Draw(t, "device")
				d.online = !d.online
				if d.online {
					connects[d.id]++
					call("connected", func() (fota.PushResult, error) { return managers[1].Connected(ctx, d.id) })
				}
			case 5: // a notification held back arrives late, after what was sent before it
				d := rapid.SampledFrom(devs).Draw(t, "device")
				if len(d.held) > 0 {
					n := d.held[0]
					d.held = d.held[1:]
					observe("late observation", managers[0], d, n)
				}
			case 6: // a confirmation of an old or unknown lease
				d := rapid.SampledFrom(devs).Draw(t, "device")
				if c, ok := leases[d.id]; ok {
					if skew := rapid.IntRange(0, 2).Draw(t, "leaseSkew"); skew > 0 {
						c.Lease += uint64(skew)
					} else {
						delete(leases, d.id) // the real one, perhaps expired
					}
					call("stale confirm", func() (fota.PushResult, error) {
						return managers[0].Confirm(ctx, c, fota.Receipt{Delivered: true, Status: 204})
					})
				}
			case 7, 8:
				if _, err := managers[rapid.IntRange(0, 1).Draw(t, "ticker")].Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range devs {
				if d.protocol == device.LWM2M && unanswered[d.id] > policy.RetryDays+1+connects[d.id] {
					t.Fatalf("device %s: %d unanswered attempts, the plan allows %d (+%d connections and late notifications)", d.id, unanswered[d.id], policy.RetryDays+1, connects[d.id])
				}
			}
			for id, s := range states() {
				d := byID[id]
				if d.terminal != 0 && s != d.terminal {
					t.Fatalf("device %s left its final state %s for %s", id, d.terminal, s)
				}
				if s.Terminal() {
					d.terminal = s
				}
			}
			if !clk.Now().Before(end) {
				now := states()
				if atFinish == nil {
					atFinish = now
				} else if fmt.Sprint(now) != fmt.Sprint(atFinish) {
					t.Fatalf("devices changed after the campaign finished: %v -> %v", atFinish, now)
				}
			}
		}
		// The end: every accepted device has one final state, and the
		// campaign is Finished once Tick ran.
		if clk.Now().Before(end) {
			clk.Set(end)
		}
		if _, err := managers[0].Tick(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := managers[1].Campaign(ctx, "acme", info.ID)
		if err != nil || got.Status != campaign.PushFinished {
			t.Fatalf("after the end date: %v, %v; want Finished", got.Status, err)
		}
		final := states()
		for id, s := range final {
			if !s.Terminal() {
				t.Fatalf("device %s ends in %s, not a final state", id, s)
			}
		}
		if atFinish != nil && fmt.Sprint(final) != fmt.Sprint(atFinish) {
			t.Fatalf("devices changed after the campaign finished: %v -> %v", atFinish, final)
		}
		cmds, _, err := managers[0].Outbox(ctx, 0)
		if err != nil || len(cmds) != 0 {
			t.Fatalf("commands handed out after the end: %v, %v", cmds, err)
		}
	})
}

// A refused push call names what it refused.
func TestPushBadInput(t *testing.T) {
	ctx := context.Background()
	m, err := fota.New(fota.Config{})
	if err != nil {
		t.Fatal(err)
	}
	id := imeiOf("d1")
	for name, c := range map[string]struct {
		err  error
		want error
	}{
		"observation of no push device": {func() error { _, err := m.Observation(ctx, id, lwm2m.Observation{}); return err }(), fota.ErrNotInCampaign},
		"observation out of range":      {func() error { _, err := m.Observation(ctx, id, lwm2m.Observation{State: 7}); return err }(), fota.ErrBadRequest},
		"alert with a bad code": {func() error {
			_, err := m.Alert(ctx, id, omadm.Alert{Code: 1226, Type: omadm.TypeUpdate, Source: "./x", Data: "999"})
			return err
		}(), fota.ErrBadRequest},
		"confirm without a lease": {func() error {
			_, err := m.Confirm(ctx, fota.Command{Kind: fota.CommandExec, CampaignID: "c1", DeviceID: id, Lease: 1}, fota.Receipt{})
			return err
		}(), fota.ErrNotFound},
		"confirm of no command": {func() error {
			_, err := m.Confirm(ctx, fota.Command{CampaignID: "c1", DeviceID: id}, fota.Receipt{})
			return err
		}(), fota.ErrBadRequest},
		"empty device id": {func() error { _, err := m.Connected(ctx, ""); return err }(), fota.ErrBadRequest},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", name, c.err, c.want)
		}
		var re *fota.RequestError
		if errors.Is(c.want, fota.ErrBadRequest) && (!errors.As(c.err, &re) || re.Field == "" || !strings.Contains(c.err.Error(), re.Field)) {
			t.Errorf("%s: %v does not name its field", name, c.err)
		}
	}
}

// lwm2mHarness drives one LwM2M device's campaign by hand: it started,
// and the device is due its first command.
type lwm2mHarness struct {
	t      *testing.T
	ctx    context.Context
	clk    *clock.Mock
	m      *fota.Manager
	id     string
	info   fota.CampaignInfo
	handed []fota.CommandKind
}

func newLwM2MHarness(t *testing.T) *lwm2mHarness {
	t.Helper()
	h := &lwm2mHarness{t: t, ctx: context.Background(), clk: clock.NewMock(), id: imeiOf("d1")}
	h.clk.Set(time.Date(2026, 5, 1, 18, 0, 0, 0, time.UTC))
	inv := fota.NewMemoryInventory(fota.DeviceInfo{DeviceID: h.id, Account: "acme", Protocol: device.LWM2M, Make: "Acme", Model: "Lamp",
		Software: "1.0", FOTACapable: true, ActiveConnected: true})
	var err error
	h.m, err = fota.New(fota.Config{Inventory: inv, Clock: h.clk, NewID: func(seq uint64) string { return fmt.Sprintf("c%d", seq) }})
	if err != nil {
		t.Fatal(err)
	}
	start := schedule.DateOf(h.clk.Now()).AddDays(1)
	h.info, err = h.m.ScheduleUpgrade(h.ctx, "acme", fota.UpgradeRequest{AccountName: "acme", FirmwareName: "fw",
		FirmwareTo: "2.0", StartDate: start, EndDate: start.AddDays(2), DeviceList: []string{h.id}})
	if err != nil {
		t.Fatal(err)
	}
	h.clk.Set(h.info.StartsAt)
	return h
}

// take checks that c is a command of kind want, and notes it handed out.
func (h *lwm2mHarness) take(c *fota.Command, want fota.CommandKind) fota.Command {
	h.t.Helper()
	if c == nil || c.Kind != want {
		h.t.Fatalf("handed %v, want %v", c, want)
	}
	h.handed = append(h.handed, c.Kind)
	return *c
}

// outbox takes the one command the outbox holds, of kind want.
func (h *lwm2mHarness) outbox(want fota.CommandKind) fota.Command {
	h.t.Helper()
	cmds, _, err := h.m.Outbox(h.ctx, 0)
	if err != nil || len(cmds) != 1 {
		h.t.Fatalf("outbox: %v, %v; want one %v", cmds, err, want)
	}
	return h.take(&cmds[0], want)
}

func (h *lwm2mHarness) confirm(c fota.Command, status int) fota.PushResult {
	h.t.Helper()
	res, err := h.m.Confirm(h.ctx, c, fota.Receipt{Delivered: true, Status: status})
	if err != nil {
		h.t.Fatalf("confirm %v: %v", c.Kind, err)
	}
	return res
}

func (h *lwm2mHarness) observe(o lwm2m.Observation) fota.PushResult {
	h.t.Helper()
	res, err := h.m.Observation(h.ctx, h.id, o)
	if err != nil {
		h.t.Fatalf("observation %v: %v", o, err)
	}
	return res
}

// finish runs the device from its package write to success and checks
// the commands handed out in all.
func (h *lwm2mHarness) finish(write fota.Command, want ...fota.CommandKind) {
	h.t.Helper()
	if res := h.confirm(write, 204); res.State != device.StateNotified || res.Next != nil {
		h.t.Fatalf("after the write: %+v", res)
	}
	if res := h.observe(lwm2m.Observation{State: lwm2m.Downloading, Result: lwm2m.Initial}); res.Next != nil {
		h.t.Fatalf("downloading handed out %v", res.Next.Kind)
	}
	exec := h.take(h.observe(lwm2m.Observation{State: lwm2m.Downloaded, Result: lwm2m.Initial}).Next, fota.CommandExecute) // this campaign's image
	h.confirm(exec, 204)
	h.observe(lwm2m.Observation{State: lwm2m.Updating, Result: lwm2m.Initial})
	if res := h.observe(lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Success}); res.State != device.StateSucceeded {
		h.t.Fatalf("after the update: %+v", res)
	}
	if fmt.Sprint(h.handed) != fmt.Sprint(want) {
		h.t.Fatalf("handed out %v, want %v", h.handed, want)
	}
	page, err := h.m.Devices(h.ctx, "acme", h.info.ID, "", 0)
	if err != nil || len(page.DeviceList) != 1 || page.DeviceList[0].State != device.StateSucceeded || page.DeviceList[0].Result != uint16(lwm2m.Success) {
		h.t.Fatalf("devices: %+v, %v", page, err)
	}
}

// TestPushStaleNotificationAfterReset: an LwM2M device holds an earlier
// download of another image, (Downloaded, Initial). The Manager resets it;
// a notification of (Downloaded, Initial) the device sent before the reset
// arrives after the reset's acknowledgement. It is refused, the package
// write is not handed out, and no Execute ever goes out on it: the write
// waits for the device to show (Idle, Initial), here in a Read after
// ObserveTimeout, and the Execute for the (Downloaded, Initial) of this
// campaign's download.
func TestPushStaleNotificationAfterReset(t *testing.T) {
	h := newLwM2MHarness(t)
	ctx, clk, m, id := h.ctx, h.clk, h.m, h.id
	take, outbox, confirm, observe := h.take, h.outbox, h.confirm, h.observe
	downloaded := lwm2m.Observation{State: lwm2m.Downloaded, Result: lwm2m.Initial}
	idle := lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Initial}

	confirm(outbox(fota.CommandObserve), 205)
	reset := take(observe(downloaded).Next, fota.CommandReset) // the earlier image
	if res := confirm(reset, 204); res.Next != nil {
		t.Fatalf("the reset's acknowledgement handed out %v", res.Next.Kind)
	}
	// The stale notification, sent before the reset.
	res, err := m.Observation(ctx, id, downloaded)
	var je *lwm2m.JumpError
	if !errors.Is(err, lwm2m.ErrUnreachable) || !errors.As(err, &je) || je.From != idle || je.To != downloaded || res.Next != nil {
		t.Fatalf("stale %v after the reset: %+v, %v", downloaded, res, err)
	}
	if cmds, next, err := m.Outbox(ctx, 0); err != nil || len(cmds) != 0 || !next.Equal(clk.Now().Add(fota.DefaultPushPolicy().ObserveTimeout)) {
		t.Fatalf("outbox after the stale notification: %v, next %v, %v; want a read after ObserveTimeout", cmds, next, err)
	}
	// No notification of the reset came: the Manager reads /5/0.
	clk.Add(fota.DefaultPushPolicy().ObserveTimeout)
	if res := confirm(outbox(fota.CommandRead), 205); res.Next != nil {
		t.Fatalf("the read's acknowledgement handed out %v", res.Next.Kind)
	}
	write := take(observe(idle).Next, fota.CommandWritePackage)
	h.finish(write, fota.CommandObserve, fota.CommandReset, fota.CommandRead, fota.CommandWritePackage, fota.CommandExecute)
}

// TestPushResetNotificationOvertakes: the device's notification of (Idle,
// Initial) after the reset arrives before the reset's acknowledgement. A
// device that needs a reset cannot reach (Idle, Initial) without one, so
// the notification answers the reset handed out: the package write comes
// out of it at once, and the acknowledgement that follows is refused, its
// lease spent (ErrLeaseLost), changing nothing.
func TestPushResetNotificationOvertakes(t *testing.T) {
	h := newLwM2MHarness(t)
	downloaded := lwm2m.Observation{State: lwm2m.Downloaded, Result: lwm2m.Initial}
	h.confirm(h.outbox(fota.CommandObserve), 205)
	reset := h.take(h.observe(downloaded).Next, fota.CommandReset) // an earlier image
	res := h.observe(lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Initial})
	write := h.take(res.Next, fota.CommandWritePackage)
	if res.State != device.StateAccepted {
		t.Fatalf("after the reset's notification: %+v", res)
	}
	if _, err := h.m.Confirm(h.ctx, reset, fota.Receipt{Delivered: true, Status: 204}); !errors.Is(err, fota.ErrLeaseLost) {
		t.Fatalf("the reset's late acknowledgement: %v, want ErrLeaseLost", err)
	}
	h.finish(write, fota.CommandObserve, fota.CommandReset, fota.CommandWritePackage, fota.CommandExecute)
}

// TestConfirmCarriesTheValue: the value an Observe's or a Read's 2.05
// answer carried, given in the Receipt, is taken as the observation it is
// in the same operation: the package write comes out of the Confirm as it
// would out of the Observation after it. So is the notification that
// follows a write's or an Execute's 2.04, given with it. A value on a
// refused command or an undelivered one is bad input; a value the
// device's machine cannot reach (a notification from before a reset, or
// one a write cannot leave) fails the whole Confirm and changes nothing:
// the same command confirmed without it, or with a fresh one, then
// succeeds.
func TestConfirmCarriesTheValue(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 5, 1, 18, 0, 0, 0, time.UTC))
	ids := []string{imeiOf("d1"), imeiOf("d2"), imeiOf("d3")}
	var infos []fota.DeviceInfo
	for _, id := range ids {
		infos = append(infos, fota.DeviceInfo{DeviceID: id, Account: "acme", Protocol: device.LWM2M, Make: "Acme", Model: "Lamp",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	m, err := fota.New(fota.Config{Inventory: fota.NewMemoryInventory(infos...), Clock: clk, NewID: func(seq uint64) string { return fmt.Sprintf("c%d", seq) }})
	if err != nil {
		t.Fatal(err)
	}
	start := schedule.DateOf(clk.Now()).AddDays(1)
	info, err := m.ScheduleUpgrade(ctx, "acme", fota.UpgradeRequest{AccountName: "acme", FirmwareName: "fw",
		FirmwareTo: "2.0", StartDate: start, EndDate: start.AddDays(2), DeviceList: ids})
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(info.StartsAt)
	cmds, _, err := m.Outbox(ctx, 0)
	if err != nil || len(cmds) != 3 {
		t.Fatalf("outbox: %v, %v", cmds, err)
	}
	idle := lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Initial}
	downloaded := lwm2m.Observation{State: lwm2m.Downloaded, Result: lwm2m.Initial}

	// d1 in two calls, d2 in one: the same write comes out.
	if res, err := m.Confirm(ctx, cmds[0], fota.Receipt{Delivered: true, Status: 205}); err != nil || res.Next != nil {
		t.Fatalf("d1's observe: %+v, %v", res, err)
	}
	two, err := m.Observation(ctx, ids[0], idle)
	if err != nil || two.Next == nil {
		t.Fatalf("d1's value: %+v, %v", two, err)
	}
	one, err := m.Confirm(ctx, cmds[1], fota.Receipt{Delivered: true, Status: 205, Value: &idle})
	if err != nil || one.Next == nil || one.Next.Kind != two.Next.Kind || one.State != two.State {
		t.Fatalf("d2's observe with its value: %+v, %v; d1 in two calls: %+v", one, err, two)
	}

	// A value on an OMA-DM command or a refused write: bad input, nothing
	// done. A value the
	// device cannot show after taking the write fails the whole Confirm.
	write := *one.Next
	fumo := write
	fumo.Kind, fumo.Protocol = fota.CommandExec, device.OMADM
	for _, c := range []struct {
		cmd fota.Command
		rc  fota.Receipt
	}{
		{write, fota.Receipt{Delivered: true, Status: 400, Value: &idle}},
		{fumo, fota.Receipt{Delivered: true, Status: 202, Value: &idle}},
	} {
		_, err := m.Confirm(ctx, c.cmd, c.rc)
		var re *fota.RequestError
		if !errors.Is(err, fota.ErrBadRequest) || !errors.As(err, &re) || re.Field != "value" {
			t.Fatalf("value on %s %d: %v", c.cmd.Kind, c.rc.Status, err)
		}
	}
	if res, err := m.Confirm(ctx, write, fota.Receipt{Delivered: true, Status: 204, Value: &idle}); !errors.Is(err, lwm2m.ErrUnreachable) || res.Next != nil {
		t.Fatalf("the write with a value it cannot leave: %+v, %v", res, err)
	}
	// d1's write, then its notification; d2's write with it: the same.
	if _, err := m.Confirm(ctx, *two.Next, fota.Receipt{Delivered: true, Status: 204}); err != nil {
		t.Fatal(err)
	}
	downloading := lwm2m.Observation{State: lwm2m.Downloading, Result: lwm2m.Initial}
	d1w, err := m.Observation(ctx, ids[0], downloading)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := m.Confirm(ctx, write, fota.Receipt{Delivered: true, Status: 204, Value: &downloading}); err != nil || res != d1w || res.State != device.StateNotified {
		t.Fatalf("the write confirmed with its notification: %+v, %v; in two calls %+v", res, err, d1w)
	}
	// Once d2 is downloaded, its Execute with the notification of it.
	exec, err := m.Observation(ctx, ids[1], downloaded)
	if err != nil || exec.Next == nil || exec.Next.Kind != fota.CommandExecute {
		t.Fatalf("d2 downloaded: %+v, %v", exec, err)
	}
	updating := lwm2m.Observation{State: lwm2m.Updating, Result: lwm2m.Initial}
	if res, err := m.Confirm(ctx, *exec.Next, fota.Receipt{Delivered: true, Status: 204, Value: &updating}); err != nil || res.Next != nil || res.State != device.StateNotified {
		t.Fatalf("d2's execute with its notification: %+v, %v", res, err)
	}
	if res, err := m.Observation(ctx, ids[1], updating); err != nil || res.Next != nil || res.State != device.StateNotified {
		t.Fatalf("the notification again (a repeat changes nothing): %+v, %v", res, err)
	}
	if res, err := m.Observation(ctx, ids[1], lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Success}); err != nil || res.State != device.StateSucceeded {
		t.Fatalf("d2 updated: %+v, %v", res, err)
	}

	// d3 holds an earlier download: reset, then a Read whose value is
	// from before the reset. Refused whole; the Read's lease stands.
	d3 := cmds[2]
	if d3.Kind != fota.CommandObserve {
		t.Fatalf("d3: %v", d3.Kind)
	}
	if _, err := m.Confirm(ctx, d3, fota.Receipt{Delivered: false, Value: &idle}); !errors.Is(err, fota.ErrBadRequest) {
		t.Fatalf("a value on an undelivered observe: %v", err)
	}
	res, err := m.Confirm(ctx, d3, fota.Receipt{Delivered: true, Status: 205, Value: &downloaded})
	if err != nil || res.Next == nil || res.Next.Kind != fota.CommandReset {
		t.Fatalf("d3's observe: %+v, %v", res, err)
	}
	if _, err := m.Confirm(ctx, *res.Next, fota.Receipt{Delivered: true, Status: 204}); err != nil {
		t.Fatal(err)
	}
	clk.Add(fota.DefaultPushPolicy().ObserveTimeout)
	later, _, err := m.Outbox(ctx, 0)
	var read *fota.Command
	for i := range later {
		if later[i].DeviceID == d3.DeviceID {
			read = &later[i]
		}
	}
	if err != nil || read == nil || read.Kind != fota.CommandRead {
		t.Fatalf("outbox after ObserveTimeout: %v, %v; want d3's read", later, err)
	}
	if res, err := m.Confirm(ctx, *read, fota.Receipt{Delivered: true, Status: 205, Value: &downloaded}); !errors.Is(err, lwm2m.ErrUnreachable) || res.Next != nil {
		t.Fatalf("a stale value: %+v, %v", res, err)
	}
	if res, err := m.Confirm(ctx, *read, fota.Receipt{Delivered: true, Status: 205, Value: &idle}); err != nil || res.Next == nil || res.Next.Kind != fota.CommandWritePackage {
		t.Fatalf("the read confirmed again with a fresh value: %+v, %v", res, err)
	}
}

// TestDueSignalsOncePerOutbox: an operation that plans a push command
// signals Due; later ones stay quiet until the next Outbox call begins,
// which reads what they planned; after it the next plan signals again.
func TestDueSignalsOncePerOutbox(t *testing.T) {
	h := newLwM2MHarness(t)
	signalled := func() bool {
		select {
		case <-h.m.Due():
			return true
		default:
			return false
		}
	}
	signalled() // the schedule's
	observe := h.outbox(fota.CommandObserve)
	res, err := h.m.Confirm(h.ctx, observe, fota.Receipt{Delivered: true, Status: 205, Value: &lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Initial}})
	if err != nil || res.Next == nil {
		t.Fatalf("observe: %+v, %v", res, err)
	}
	if !signalled() {
		t.Fatal("no signal after the first plan since Outbox")
	}
	write := h.take(res.Next, fota.CommandWritePackage)
	h.confirm(write, 204) // plans the next look
	if signalled() {
		t.Fatal("a second signal before Outbox was called")
	}
	if cmds, _, err := h.m.Outbox(h.ctx, 0); err != nil || len(cmds) != 0 {
		t.Fatalf("outbox: %v, %v", cmds, err)
	}
	h.take(h.observe(lwm2m.Observation{State: lwm2m.Downloaded, Result: lwm2m.Initial}).Next, fota.CommandExecute)
	if !signalled() {
		t.Fatal("no signal after a plan that followed an Outbox call")
	}
}
