// Package pushsim is a simulated push transport for the example server:
// LwM2M and OMA-DM devices that live inside the server process, driven
// through a fota.Manager's push delivery calls, so that a /v1 campaign
// scheduled through the API runs from Queued through InProgress to
// Finished, its devices to "Upgrade Success", without a CoAP or OMA-DM
// stack. ThingSpace's push devices talk LwM2M or OMA-DM to Verizon's
// servers, never to its REST API; a real LwM2M transport over CoAP is
// the separate LwM2M example (examples/lwm2m).
//
// # How it drives the Manager
//
// The Manager decides what each device must be sent and hands it out as
// a leased fota.Command (Outbox, and PushResult.Next for a command due
// at once after a device's answer). The Transport plays the network and
// the devices: it carries each command to its simulated device, confirms
// it with the device's answer (Confirm), and reports what the device
// then says, as the device would: LwM2M notifications of /5/0/3 (State)
// and /5/0/5 (Update Result) through Observation, the OMA-DM Generic
// Alert (1226) through Alert.
//
// What a device shows with its answer rides in the Confirm
// (fota.Receipt.Value): the content of an Observe's or a Read's 2.05, and
// the notification of a change the command made at once; a change that
// comes later is an Observation of its own.
//
// A simulated device succeeds, and answers whenever it is online:
//
//   - LwM2M. Observe and Read are answered 2.05 Content with the current
//     State and Update Result, reported as an observation; Reset (an
//     empty /5/0/1) 2.04 Changed, back to Idle with no result; the package
//     write 2.04, then the device is Downloading at once and Downloaded
//     Config.Download later; Execute 2.04, then Updating at once and Idle
//     with Update Result 1 (success) Config.Update later. A device
//     notifies a change of State or Update Result, as an observed
//     resource does.
//   - OMA-DM. The FUMO Exec of DownloadAndUpdate is accepted (202), and
//     Config.Download plus Config.Update later the device sends a Generic
//     Alert with result 200 (Successful).
//
// Connect takes a device off the network or brings it back. Off, it
// answers no command (confirmed as not delivered: the Manager retries an
// LwM2M device at the next 04:00 UTC and waits for an OMA-DM one to
// connect), its download and update go on, but what it would say is
// lost (LwM2M notifications) or kept for its next session (the OMA-DM
// Generic Alert, which a FUMO client sends again). Back, it registers
// (LwM2M) or opens a session (OMA-DM): the transport reports it
// (Connected) and carries the commands the Manager hands out at once,
// such as the observation an LwM2M server re-initiates on registration.
//
// Step does everything due at the clock's now: the devices' delayed
// answers, then the outbox until it is empty, following every command
// handed out at once; it returns when the next thing falls due. Run
// loops over Step, sleeping until then, and wakes early on Manager.Due
// (an operation planned a push: a schedule, a registration). On a mock
// clock a test calls Step itself and moves the clock to what Step
// returns, so a campaign's run is deterministic.
//
// Errors of one device's call (a refused observation, a lost lease) are
// logged and counted in Stats, and never stop the others: a command that
// stayed unconfirmed returns to the outbox when its lease expires. An
// error of Outbox itself (the store) ends the Step.
package pushsim

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/device/omadm"
)

// Config tunes a Transport; every zero field has a default.
type Config struct {
	// Clock is the Manager's clock (default: the system clock). When it
	// is a fota.Sleeper, Run sleeps through it.
	Clock fota.Clock
	// Download is how long a device takes to download a package, Update
	// how long it takes to install it (default one minute each).
	Download, Update time.Duration
	// Poll bounds Run's sleep (default one minute), so that commands
	// another replica sharing the store planned are seen within it.
	Poll time.Duration
	// Batch is how many commands one Outbox call leases (default 100).
	Batch int
	// Logger receives a warning per refused device call. Default: discard.
	Logger *slog.Logger
}

// Stats counts what the transport did.
type Stats struct {
	Commands     uint64 // commands carried to a device and confirmed
	Observations uint64 // LwM2M observations reported: notifications, and the values a Confirm carried
	Alerts       uint64 // OMA-DM Generic Alerts reported
	Unanswered   uint64 // commands for a device that is off or not simulated, confirmed as not delivered
	Connections  uint64 // devices that came back (Connect), reported through Connected
	Errors       uint64 // device calls the Manager refused
}

// Transport is a simulated push network and its devices. Create it with
// New, Add the devices, and start Run (or call Step on a mock clock).
type Transport struct {
	m   *fota.Manager
	cfg Config
	log *slog.Logger

	mu      sync.Mutex // one Step at a time; guards what follows
	devices map[string]*simDevice
	events  []event // the devices' delayed answers, by time then seq
	seq     uint64
	stats   Stats
}

// simDevice is one simulated device: its protocol, whether it is off the
// network, for LwM2M its Firmware Update object's State and Update
// Result, and for OMA-DM whether it owes its server a Generic Alert.
type simDevice struct {
	protocol  device.Protocol
	offline   bool
	state     lwm2m.State
	result    lwm2m.Result
	owesAlert bool
}

// event is a device's delayed answer: at at, the LwM2M device reaches
// obs, or (alert) the OMA-DM device reports success.
type event struct {
	at       time.Time
	seq      uint64 // insertion order, for ties
	deviceID string
	obs      lwm2m.Observation
	alert    bool
}

// New returns a transport for m's push devices.
func New(m *fota.Manager, cfg Config) *Transport {
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Download <= 0 {
		cfg.Download = time.Minute
	}
	if cfg.Update <= 0 {
		cfg.Update = time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	t := &Transport{m: m, cfg: cfg, log: cfg.Logger, devices: map[string]*simDevice{}}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	return t
}

// ProtocolError refuses a device of a protocol the transport does not
// push to.
type ProtocolError struct {
	DeviceID string
	Protocol device.Protocol
}

// Error names the device and its protocol.
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("pushsim: device %q: %s is not a push protocol (want LWM2M or OMA-DM)", e.DeviceID, e.Protocol)
}

// Add simulates a device of protocol p (LWM2M or OMA-DM), Idle with no
// package; a device added again is reset.
func (t *Transport) Add(deviceID string, p device.Protocol) error {
	if p != device.LWM2M && p != device.OMADM {
		return &ProtocolError{DeviceID: deviceID, Protocol: p}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.devices[deviceID] = &simDevice{protocol: p}
	return nil
}

// Stats returns the counts so far.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Step does everything due at the clock's now, and returns when the next
// thing falls due (a command of the outbox or a device's delayed answer;
// zero when nothing is planned). Only an Outbox error ends it early.
func (t *Transport) Step(ctx context.Context) (time.Time, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		now := t.cfg.Clock.Now()
		for len(t.events) > 0 && !t.events[0].at.After(now) {
			ev := t.events[0]
			t.events = t.events[1:]
			t.answer(ctx, ev)
		}
		cmds, next, err := t.m.Outbox(ctx, t.cfg.Batch)
		if err != nil {
			return time.Time{}, err
		}
		for _, c := range cmds {
			t.carry(ctx, c)
		}
		if len(cmds) > 0 || (len(t.events) > 0 && !t.events[0].at.After(t.cfg.Clock.Now())) {
			continue
		}
		if len(t.events) > 0 && (next.IsZero() || t.events[0].at.Before(next)) {
			next = t.events[0].at
		}
		return next, nil
	}
}

// Run steps until ctx ends, sleeping until the next thing falls due (at
// most Config.Poll) and waking early on Manager.Due. A failed Step is
// logged and tried again after a pause that doubles from a second up to
// Poll. It returns ctx.Err(). Start one Run per Manager: Due has one
// receiver.
func (t *Transport) Run(ctx context.Context) error {
	sleeper, ok := t.cfg.Clock.(fota.Sleeper)
	if !ok {
		sleeper = systemClock{}
	}
	pause := time.Second
	for {
		next, err := t.Step(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := t.cfg.Poll
		switch {
		case err != nil:
			t.log.Warn("pushsim: outbox failed", "err", err, "retry in", pause)
			wait, pause = min(pause, t.cfg.Poll), min(2*pause, t.cfg.Poll)
		case !next.IsZero():
			pause = time.Second
			wait = min(max(next.Sub(t.cfg.Clock.Now()), 0), t.cfg.Poll)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.m.Due():
		case <-sleeper.After(wait):
		}
	}
}

// carry takes a command, and every command handed out at once after it,
// to its device, confirms each with the device's answer and reports what
// the device then says.
func (t *Transport) carry(ctx context.Context, first fota.Command) {
	queue := []fota.Command{first}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		d := t.devices[c.DeviceID]
		if d == nil || d.offline { // no answer: off, or not one of ours
			t.stats.Unanswered++
			res, err := t.m.Confirm(ctx, c, fota.Receipt{Delivered: false})
			queue = t.follow(queue, c.DeviceID, "confirm", res, err)
			continue
		}
		receipt := t.receive(d, c)
		res, err := t.m.Confirm(ctx, c, receipt)
		t.stats.Commands++
		if receipt.Value != nil {
			t.stats.Observations++
		}
		queue = t.follow(queue, c.DeviceID, "confirm "+c.Kind.String(), res, err)
	}
}

// follow queues the command a call handed out at once, or logs and
// counts the call's refusal.
func (t *Transport) follow(queue []fota.Command, deviceID, call string, res fota.PushResult, err error) []fota.Command {
	if err != nil {
		t.stats.Errors++
		t.log.Warn("pushsim: device call refused", "device", deviceID, "call", call, "err", err)
		return queue
	}
	if res.Next != nil {
		queue = append(queue, *res.Next)
	}
	return queue
}

// receive is the device's side of a command: the receipt it answers
// with. What the device shows with its answer rides in it
// (fota.Receipt.Value): a 2.05's content, or the notification of what the
// command changed at once. Delayed answers go on the event queue.
func (t *Transport) receive(d *simDevice, c fota.Command) fota.Receipt {
	now := t.cfg.Clock.Now()
	changed := func(s lwm2m.State, r lwm2m.Result) fota.Receipt {
		rc := fota.Receipt{Delivered: true, Status: 204}
		for _, obs := range d.reach(s, r) {
			rc.Value = &obs
		}
		return rc
	}
	switch c.Kind {
	case fota.CommandExec: // OMA-DM: accepted for later processing
		t.schedule(event{at: now.Add(t.cfg.Download + t.cfg.Update), deviceID: c.DeviceID, alert: true})
		return fota.Receipt{Delivered: true, Status: 202}
	case fota.CommandObserve, fota.CommandRead: // 2.05 Content: the current value, with the answer
		return fota.Receipt{Delivered: true, Status: 205, Value: &lwm2m.Observation{State: d.state, Result: d.result}}
	case fota.CommandReset:
		return changed(lwm2m.Idle, lwm2m.Initial)
	case fota.CommandWritePackage:
		t.schedule(event{at: now.Add(t.cfg.Download), deviceID: c.DeviceID, obs: lwm2m.Observation{State: lwm2m.Downloaded, Result: lwm2m.Initial}})
		return changed(lwm2m.Downloading, lwm2m.Initial)
	case fota.CommandExecute:
		t.schedule(event{at: now.Add(t.cfg.Update), deviceID: c.DeviceID, obs: lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Success}})
		return changed(lwm2m.Updating, lwm2m.Initial)
	}
	return fota.Receipt{Delivered: true, Status: 405} // 4.05 Method Not Allowed
}

// reach moves an LwM2M device to (s, r) and returns the notification an
// observer gets: none when nothing changed.
func (d *simDevice) reach(s lwm2m.State, r lwm2m.Result) []lwm2m.Observation {
	if d.state == s && d.result == r {
		return nil
	}
	d.state, d.result = s, r
	return []lwm2m.Observation{{State: s, Result: r}}
}

// answer delivers a device's delayed answer; an offline device's
// notification is lost, its alert kept for its next session.
func (t *Transport) answer(ctx context.Context, ev event) {
	d := t.devices[ev.deviceID]
	if d == nil {
		return
	}
	var queue []fota.Command
	switch {
	case ev.alert:
		d.owesAlert = true
		queue = t.sendAlert(ctx, ev.deviceID, d)
	default:
		for _, obs := range d.reach(ev.obs.State, ev.obs.Result) {
			if d.offline {
				continue
			}
			res, err := t.m.Observation(ctx, ev.deviceID, obs)
			t.stats.Observations++
			queue = t.follow(queue, ev.deviceID, "observation "+obs.String(), res, err)
		}
	}
	for _, c := range queue {
		t.carry(ctx, c)
	}
}

// sendAlert sends the Generic Alert an online OMA-DM device owes: its
// update succeeded (200).
func (t *Transport) sendAlert(ctx context.Context, deviceID string, d *simDevice) []fota.Command {
	if d.offline || !d.owesAlert {
		return nil
	}
	d.owesAlert = false
	alert := omadm.Alert{Code: omadm.GenericAlert, Type: omadm.TypeDownloadAndUpdate,
		Source: "./FwUpdate/pushsim/DownloadAndUpdate", Data: "200"}
	res, err := t.m.Alert(ctx, deviceID, alert)
	t.stats.Alerts++
	return t.follow(nil, deviceID, "alert 200", res, err)
}

// Connect takes a simulated device off the network (online false) or
// brings it back. A device that comes back is reported to the Manager
// (Connected), which may hand out a command at once; an OMA-DM device
// then sends the Generic Alert it owes. A device the transport does not
// simulate is a *fota.NotFoundError.
func (t *Transport) Connect(ctx context.Context, deviceID string, online bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.devices[deviceID]
	if d == nil {
		return &fota.NotFoundError{Kind: "simulated device", ID: deviceID}
	}
	back := d.offline && online
	d.offline = !online
	if !back {
		return nil
	}
	t.stats.Connections++
	res, err := t.m.Connected(ctx, deviceID)
	queue := t.follow(nil, deviceID, "connected", res, err)
	queue = append(queue, t.sendAlert(ctx, deviceID, d)...)
	for _, c := range queue {
		t.carry(ctx, c)
	}
	return nil
}

// schedule queues a delayed answer in time order (ties in the order
// queued).
func (t *Transport) schedule(ev event) {
	t.seq++
	ev.seq = t.seq
	i, _ := slices.BinarySearchFunc(t.events, ev, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	t.events = slices.Insert(t.events, i, ev)
}

// systemClock is the wall clock, and sleeps on the system's timers.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
