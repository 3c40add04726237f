package push

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

// Config configures a Runner. Manager is required; the rest has defaults.
type Config struct {
	// Manager decides what each device is sent; the Runner is the only
	// reader of its Due channel.
	Manager *fota.Manager
	// Clock is the Manager's clock: the Runner sleeps on it until the next
	// command falls due, and stamps its records with it. The system clock
	// when nil.
	Clock fota.Clock
	// Workers bounds the commands carried out at once, and so how many the
	// Runner leases from the outbox: it never leases what it cannot start
	// now. 32 when zero.
	Workers int
	// Poll bounds how long the Runner sleeps between two looks at the
	// outbox, so that commands made due by another replica, or by a clock
	// that jumped, are seen within it. One second when zero.
	Poll time.Duration
	// PackageURI gives the URI to write for a command that carries none
	// (the Manager's catalog does not know the firmware). Without it such a
	// command is not sent (Stats.Unsendable) and its lease runs out.
	PackageURI func(fota.Command) (string, error)
	// Other receives commands of another protocol (OMA-DM's FUMO Exec),
	// already leased, for the host's other transport. Without it they are
	// confirmed as not delivered (Stats.Foreign): this host cannot reach
	// such a device.
	Other func(fota.Command)
	// RefusalPause is how long the Runner waits before sending a device a
	// command of a kind it refused last time; one second when zero.
	RefusalPause time.Duration
	// Logf, when set, receives one line per command, observation and
	// registration.
	Logf func(format string, args ...any)
	// OnCommand, when set, receives the record of every command the Runner
	// carried out or abandoned, from the worker that carried it out.
	OnCommand func(Record)
	// OnObservation, when set, receives every observation the Runner
	// reported, with the Manager's answer.
	OnObservation func(ObservationRecord)
}

// Source says how the Runner came by a command.
type Source uint8

// The sources of commands.
const (
	FromOutbox      Source = iota + 1 // Manager.Outbox
	FromConfirm                       // PushResult.Next of the previous command's Confirm
	FromObservation                   // PushResult.Next of an Observation
	FromConnected                     // PushResult.Next of a Connected
)

// String is the source's name ("outbox").
func (s Source) String() string {
	switch s {
	case FromOutbox:
		return "outbox"
	case FromConfirm:
		return "confirm"
	case FromObservation:
		return "observation"
	case FromConnected:
		return "connected"
	}
	return fmt.Sprintf("Source(%d)", uint8(s))
}

// Record is one command the Runner carried out: what it was, how the
// device answered, and what the Manager made of the answer. Times are on
// the Manager's clock.
type Record struct {
	Command fota.Command
	From    Source
	// Handed is when the Runner received the command (its lease began at
	// or just before it); Sent and Answered bound the CoAP exchange (and
	// the Read that follows a refusal), zero when nothing was sent.
	Handed, Sent, Answered time.Time
	// Receipt is what the Runner confirmed; Confirmed is when Confirm
	// returned, with Result or Err.
	Receipt   fota.Receipt
	Confirmed time.Time
	Result    fota.PushResult
	Err       error
	// Abandoned: the Runner stopped before the exchange ended and did not
	// confirm the command; its lease runs out and the outbox hands it out
	// again. Unsendable: the Runner could not send it (no package URI, a
	// URI the server refuses) and left it to its lease.
	Abandoned, Unsendable bool
}

// ObservationRecord is one observation the Runner reported.
type ObservationRecord struct {
	DeviceID    string
	Observation lwm2m.Observation
	At          time.Time // on the Manager's clock, when Observation returned
	Result      fota.PushResult
	Err         error
}

// Stats counts what a Runner did.
type Stats struct {
	// Sent counts the commands carried out, by kind.
	Sent map[fota.CommandKind]int64
	// Undelivered: commands the device did not answer (confirmed with
	// Delivered false: retried at the next 04:00 UTC). Refused: answered
	// with an error code (4.xx, 5.xx).
	Undelivered, Refused int64
	// LeaseLost: confirmations the Manager refused because the lease ran
	// out first. Duplicates: confirmations and observations the Manager
	// already had (an observation overtook an acknowledgement, a repeated
	// notification).
	LeaseLost, Duplicates int64
	// Abandoned, Unsendable: commands not confirmed (see Record). Foreign:
	// commands of another protocol confirmed as not delivered (no
	// Config.Other).
	Abandoned, Unsendable, Foreign int64
	// Observations reported; of those, Refused by the Manager as a jump
	// the Object 5 machine cannot make, or about a device in no running
	// push campaign.
	Observations, ObservationsRefused int64
	// Connections: registrations and Updates reported (Manager.Connected).
	Connections int64
	// Errors: Manager calls that failed otherwise (the store).
	Errors int64
}

// Add returns the sums of s's and o's counters: the figures of several
// runners (replicas) together. s's Sent map is not changed.
func (s Stats) Add(o Stats) Stats {
	sent := make(map[fota.CommandKind]int64, len(s.Sent)+len(o.Sent))
	for k, n := range s.Sent {
		sent[k] += n
	}
	for k, n := range o.Sent {
		sent[k] += n
	}
	s.Sent = sent
	s.Undelivered += o.Undelivered
	s.Refused += o.Refused
	s.LeaseLost += o.LeaseLost
	s.Duplicates += o.Duplicates
	s.Abandoned += o.Abandoned
	s.Unsendable += o.Unsendable
	s.Foreign += o.Foreign
	s.Observations += o.Observations
	s.ObservationsRefused += o.ObservationsRefused
	s.Connections += o.Connections
	s.Errors += o.Errors
	return s
}

// Runner carries a fota Manager's push commands out over an LwM2M server
// and reports back every answer, observation and registration: the host
// loop of fota's push API. Wire HandleRegistration and HandleObservation
// into the server's Config, then call Serve.
type Runner struct {
	cfg   Config
	m     *fota.Manager
	clock fota.Clock

	srv      *server.Server
	ctx      context.Context
	started  chan struct{} // closed when Serve starts
	stopped  chan struct{} // closed when Serve returns, or by Close
	stopOnce sync.Once
	wake     chan struct{}
	sem      chan struct{}
	wg       sync.WaitGroup
	// draining is set once Serve waits for the commands under way: a
	// command handed out after it (a notification's, a registration's)
	// is abandoned, not started beside the Wait (draining under wgMu).
	wgMu     sync.Mutex
	draining bool

	locksMu  sync.Mutex
	locks    map[string]*deviceLock
	refusals map[refusalKey]time.Time // the last refusal of a command kind by a device

	inFlight atomic.Int64 // commands and events under way
	activity atomic.Int64 // UnixNano of the last command or event, on the system clock
	next     atomic.Int64 // UnixNano of the next due command the outbox reported, 0 none
	polled   atomic.Int64 // UnixNano (system clock) when the last Outbox call returned

	sent                                        [16]atomic.Int64
	undelivered, refused, leaseLost, dups       atomic.Int64
	abandoned, unsendable, foreign              atomic.Int64
	observations, obsRefused, connections, errs atomic.Int64
}

type refusalKey struct {
	device string
	kind   fota.CommandKind
}

type deviceLock struct {
	mu   sync.Mutex
	refs int
}

type systemClock struct{}

// Now is the system time.
func (systemClock) Now() time.Time { return time.Now() }

// New makes a Runner for cfg.Manager. A Config without a Manager, or with
// a negative Workers or Poll, is an *ArgError matching ErrBadConfig.
func New(cfg Config) (*Runner, error) {
	switch {
	case cfg.Manager == nil:
		return nil, &ArgError{Field: "Manager", Value: "nil", Reason: "the Runner carries out a Manager's commands"}
	case cfg.Workers < 0:
		return nil, &ArgError{Field: "Workers", Value: fmt.Sprint(cfg.Workers), Reason: "negative"}
	case cfg.Poll < 0:
		return nil, &ArgError{Field: "Poll", Value: cfg.Poll.String(), Reason: "negative"}
	}
	if cfg.Workers == 0 {
		cfg.Workers = 32
	}
	if cfg.Poll == 0 {
		cfg.Poll = time.Second
	}
	if cfg.RefusalPause <= 0 {
		cfg.RefusalPause = time.Second
	}
	clock := cfg.Clock
	if clock == nil {
		clock = systemClock{}
	}
	r := &Runner{cfg: cfg, m: cfg.Manager, clock: clock, started: make(chan struct{}), stopped: make(chan struct{}), wake: make(chan struct{}, 1),
		sem: make(chan struct{}, cfg.Workers), locks: map[string]*deviceLock{},
		refusals: map[refusalKey]time.Time{}}
	r.touch()
	return r, nil
}

func (r *Runner) logf(format string, args ...any) {
	if r.cfg.Logf != nil {
		r.cfg.Logf(format, args...)
	}
}

func (r *Runner) touch() { r.activity.Store(time.Now().UnixNano()) }

// Wake makes a sleeping Serve look at the outbox now (say, after the
// Manager's clock jumped).
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Serve takes due commands from the Manager's outbox and carries them out
// over srv until ctx ends; then it waits for the commands and events under
// way and returns nil. Commands whose exchange the end of ctx cut short are
// not confirmed: their leases run out and the outbox hands them out again,
// to another replica or to this one restarted. An outbox that fails is
// logged and tried again after Poll. Call Serve once.
func (r *Runner) Serve(ctx context.Context, srv *server.Server) error {
	if srv == nil {
		return &ArgError{Field: "srv", Value: "nil", Reason: "the Runner sends through an LwM2M server"}
	}
	r.srv, r.ctx = srv, ctx
	close(r.started)
	defer r.Close()
	defer r.drain()
	for {
		free := cap(r.sem) - len(r.sem)
		wait := r.cfg.Poll
		if free > 0 {
			cmds, next, err := r.m.Outbox(ctx, free)
			r.polled.Store(time.Now().UnixNano())
			switch {
			case ctx.Err() != nil:
				return nil
			case err != nil:
				r.errs.Add(1)
				r.logf("outbox: %v", err)
			case len(cmds) > 0:
				r.touch()
				for _, c := range cmds {
					r.sem <- struct{}{} // held for it: never lease more than can start
					r.dispatch(c, FromOutbox, true)
				}
				wait = 0 // the outbox tells the next due time only once it is empty
			default:
				r.next.Store(0)
				if !next.IsZero() {
					r.next.Store(next.UnixNano())
					wait = min(wait, max(next.Sub(r.clock.Now()), time.Millisecond))
				}
			}
		} else {
			wait = 10 * time.Millisecond // every worker busy: look again soon
		}
		if wait == 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-r.m.Due():
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// ready waits for Serve to start, and reports whether the Runner still
// runs.
func (r *Runner) ready() bool {
	select {
	case <-r.started:
		return r.ctx.Err() == nil
	case <-r.stopped:
		return false
	}
}

// Close makes the handlers drop what the server hands them from now on; a
// Runner never served would otherwise keep them waiting for Serve. Serve
// closes its Runner when it returns.
func (r *Runner) Close() {
	r.stopOnce.Do(func() { close(r.stopped) })
}

// lock serialises what the Runner does about one device: a command from
// its send to its confirmation, an observation report, a registration
// report. So a device's answers reach the Manager in the order the device
// gave them, a command's receipt before what the device notified while
// the command was under way (see the package doc).
func (r *Runner) lock(id string) func() {
	r.locksMu.Lock()
	l := r.locks[id]
	if l == nil {
		l = &deviceLock{}
		r.locks[id] = l
	}
	l.refs++
	r.locksMu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		r.locksMu.Lock()
		if l.refs--; l.refs == 0 {
			delete(r.locks, id)
		}
		r.locksMu.Unlock()
	}
}

// dispatch carries out c, and the commands that follow it at once, in a
// worker of its own; held says the caller took the worker's slot.
func (r *Runner) dispatch(c fota.Command, from Source, held bool) {
	handed := r.clock.Now()
	r.wgMu.Lock()
	if r.draining {
		r.wgMu.Unlock()
		if held {
			<-r.sem
		}
		r.abandon(Record{Command: c, From: from, Handed: handed})
		return
	}
	r.inFlight.Add(1)
	r.wg.Add(1)
	r.wgMu.Unlock()
	go func() {
		defer r.wg.Done()
		defer r.inFlight.Add(-1)
		if !held {
			select {
			case r.sem <- struct{}{}:
			case <-r.ctx.Done():
				r.abandon(Record{Command: c, From: from, Handed: handed})
				return
			}
		}
		defer func() { <-r.sem }()
		for cmd := &c; cmd != nil; from = FromConfirm {
			cmd, handed = r.carry(*cmd, from, handed)
		}
	}()
}

// drain waits for the commands under way once no more can start.
func (r *Runner) drain() {
	r.wgMu.Lock()
	r.draining = true
	r.wgMu.Unlock()
	r.wg.Wait()
}

func (r *Runner) abandon(rec Record) {
	r.abandoned.Add(1)
	rec.Abandoned = true
	r.logf("%s %s (lease %d): abandoned, the runner stops", rec.Command.DeviceID, rec.Command.Kind, rec.Command.Lease)
	r.report(rec)
}

// carry sends one command and confirms it; it returns the next command,
// already leased, and when it was handed out.
func (r *Runner) carry(c fota.Command, from Source, handed time.Time) (*fota.Command, time.Time) {
	if c.Protocol != device.LWM2M {
		if r.cfg.Other != nil {
			r.cfg.Other(c)
			return nil, time.Time{}
		}
		// No transport here for the device's protocol: the command is not
		// delivered, which is so. (An OMA-DM device then waits until it
		// connects; handed out again it would only come back.)
		r.foreign.Add(1)
		res, err := r.m.Confirm(r.ctx, c, fota.Receipt{})
		r.logf("%s %s: a %v command, not this transport's: not delivered -> %v %s", c.DeviceID, c.Kind, c.Protocol, res.State, errText(err))
		r.report(Record{Command: c, From: from, Handed: handed, Confirmed: r.clock.Now(), Result: res, Err: err})
		return nil, time.Time{}
	}
	if from == FromConfirm {
		// What the device notified while the last command was under way
		// reaches the Manager before the next command goes out.
		_ = r.srv.Flush(r.ctx, c.DeviceID)
	}
	r.pause(c)
	unlock := r.lock(c.DeviceID)
	defer func() { unlock() }()
	r.touch()
	sent := r.clock.Now()
	rc, ok := r.send(c)
	rec := Record{Command: c, From: from, Handed: handed, Sent: sent, Answered: r.clock.Now(), Receipt: rc, Unsendable: !ok}
	if !ok {
		r.unsendable.Add(1)
		r.report(rec)
		return nil, time.Time{}
	}
	if refused(c, rc) {
		// The device is not where the Manager thought (an Execute refused
		// 4.05 by a device that updated while the notifications went
		// elsewhere): read it, and report what it holds before the refusal.
		r.refusedAt(c)
		r.sent[fota.CommandRead].Add(1)
		if _, _, err := r.srv.Read(r.ctx, c.DeviceID); err != nil {
			r.logf("%s read after a refused %s: %v", c.DeviceID, c.Kind, err)
		}
		rec.Answered = r.clock.Now()
		unlock()
		_ = r.srv.Flush(r.ctx, c.DeviceID)
		unlock = r.lock(c.DeviceID)
	}
	if r.ctx.Err() != nil {
		// Stopping: the exchange may have been cut short, and an answer
		// this replica did not wait for is no unanswered attempt.
		r.abandon(rec)
		return nil, time.Time{}
	}
	res, err := r.m.Confirm(r.ctx, c, rc)
	rec.Confirmed, rec.Result, rec.Err = r.clock.Now(), res, err
	switch {
	case err == nil:
	case errors.Is(err, fota.ErrLeaseLost):
		r.leaseLost.Add(1)
	case errors.Is(err, fota.ErrDuplicateReport):
		r.dups.Add(1) // an observation already stood for this answer
	case r.ctx.Err() != nil:
		rec.Abandoned = true
		r.abandoned.Add(1)
	default:
		r.errs.Add(1)
	}
	switch {
	case !rc.Delivered:
		r.undelivered.Add(1)
	case rc.Status >= 300:
		r.refused.Add(1)
	}
	r.logf("%s %s (lease %d, attempt %d): %v -> %v %v", c.DeviceID, c.Kind, c.Lease, c.Attempt, receipt(rc), res.State, errText(err))
	r.report(rec)
	if err != nil || res.Next == nil {
		return nil, time.Time{}
	}
	return res.Next, rec.Confirmed
}

// refused reports whether the device refused a command that moves its
// Object 5 machine.
func refused(c fota.Command, rc fota.Receipt) bool {
	switch c.Kind {
	case fota.CommandReset, fota.CommandWritePackage, fota.CommandExecute:
		return rc.Delivered && rc.Status >= 400
	}
	return false
}

// refusedAt remembers that the device refused a command of this kind now.
func (r *Runner) refusedAt(c fota.Command) {
	r.locksMu.Lock()
	defer r.locksMu.Unlock()
	r.refusals[refusalKey{c.DeviceID, c.Kind}] = time.Now()
}

// pause waits, before sending a command of a kind the device refused
// less than Config.RefusalPause ago, for the rest of that pause: a device
// that keeps refusing is not sent the same command in a tight loop.
func (r *Runner) pause(c fota.Command) {
	k := refusalKey{c.DeviceID, c.Kind}
	r.locksMu.Lock()
	at, ok := r.refusals[k]
	delete(r.refusals, k)
	r.locksMu.Unlock()
	if !ok {
		return
	}
	if d := r.cfg.RefusalPause - time.Since(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.ctx.Done():
		}
	}
}

func (r *Runner) report(rec Record) {
	if r.cfg.OnCommand != nil {
		r.cfg.OnCommand(rec)
	}
}

func receipt(rc fota.Receipt) string {
	if !rc.Delivered {
		return "no answer"
	}
	return fmt.Sprintf("%d.%02d", rc.Status/100, rc.Status%100)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "(" + err.Error() + ")"
}

// send carries one LwM2M command out over the server. ok is false when
// the command could not be sent at all (no URI to write). A device this
// server cannot reach (not registered here or in the directory, or
// without /5/0) did not answer.
func (r *Runner) send(c fota.Command) (fota.Receipt, bool) {
	if int(c.Kind) < len(r.sent) {
		r.sent[c.Kind].Add(1)
	}
	ctx := r.ctx
	var (
		rc  server.Receipt
		err error
	)
	switch c.Kind {
	case fota.CommandObserve:
		rc, err = r.srv.Observe(ctx, c.DeviceID)
	case fota.CommandRead:
		rc, _, err = r.srv.Read(ctx, c.DeviceID)
		if errors.Is(err, server.ErrNotification) {
			// Answered, but with nothing a Tracker can place: the receipt
			// says it was answered, the Manager reads again later.
			r.logf("%s read: %v", c.DeviceID, err)
			err = nil
		}
	case fota.CommandReset:
		rc, err = r.srv.Reset(ctx, c.DeviceID)
	case fota.CommandWritePackage:
		uri := c.PackageURI
		if uri == "" && r.cfg.PackageURI != nil {
			if uri, err = r.cfg.PackageURI(c); err != nil {
				r.logf("%s writePackage: no package URI for %s %s: %v", c.DeviceID, c.FirmwareName, c.FirmwareTo, err)
				return fota.Receipt{}, false
			}
		}
		if uri == "" {
			r.logf("%s writePackage: the catalog has no URI for %s %s", c.DeviceID, c.FirmwareName, c.FirmwareTo)
			return fota.Receipt{}, false
		}
		rc, err = r.srv.WritePackageURI(ctx, c.DeviceID, uri)
		if errors.Is(err, server.ErrBadRequest) {
			r.logf("%s writePackage: %v", c.DeviceID, err)
			return fota.Receipt{}, false
		}
	case fota.CommandExecute:
		rc, err = r.srv.ExecuteUpdate(ctx, c.DeviceID)
	default:
		r.logf("%s: %v is no LwM2M command", c.DeviceID, c.Kind)
		return fota.Receipt{}, false
	}
	if err != nil && !errors.Is(err, server.ErrNotRegistered) && !errors.Is(err, server.ErrNoFirmwareObject) {
		r.logf("%s %s: %v", c.DeviceID, c.Kind, err)
	}
	return fota.Receipt{Delivered: rc.Delivered, Status: rc.Status}, true
}

// HandleObservation is the server's OnObservation: it reports o to the
// Manager, after any command to the device under way was confirmed, and
// carries out the command that follows.
func (r *Runner) HandleObservation(deviceID string, o lwm2m.Observation) {
	if !r.ready() {
		return
	}
	r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	r.touch()
	unlock := r.lock(deviceID)
	res, err := r.m.Observation(r.ctx, deviceID, o)
	at := r.clock.Now()
	unlock()
	r.observations.Add(1)
	switch {
	case err == nil:
	case errors.Is(err, fota.ErrDuplicateReport):
		r.dups.Add(1)
	case errors.Is(err, lwm2m.ErrUnreachable), errors.Is(err, fota.ErrInvalidTransition), errors.Is(err, fota.ErrNotFound), errors.Is(err, fota.ErrWrongFamily):
		r.obsRefused.Add(1)
	case r.ctx.Err() != nil:
	default:
		r.errs.Add(1)
	}
	r.logf("%s observation %v: %v %s", deviceID, o, res.State, errText(err))
	if r.cfg.OnObservation != nil {
		r.cfg.OnObservation(ObservationRecord{DeviceID: deviceID, Observation: o, At: at, Result: res, Err: err})
	}
	if err == nil && res.Next != nil {
		r.dispatch(*res.Next, FromObservation, false)
	}
}

// HandleRegistration is the server's OnRegistration: a Register or an
// Update is reported as Connected (after any command to the device under
// way was confirmed), and the command that follows is carried out. A
// De-register or an expiry is only logged: the Manager learns that a
// device is gone from the commands it does not answer.
func (r *Runner) HandleRegistration(ev server.Event) {
	if !r.ready() {
		return
	}
	r.touch()
	r.logf("%s %v at %v (%s)", ev.DeviceID, ev.Kind, ev.Addr, ev.Location)
	if ev.Kind != server.Registered && ev.Kind != server.Updated {
		return
	}
	r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	unlock := r.lock(ev.DeviceID)
	res, err := r.m.Connected(r.ctx, ev.DeviceID)
	unlock()
	r.connections.Add(1)
	if err != nil {
		if r.ctx.Err() == nil {
			r.errs.Add(1)
		}
		r.logf("%s connected: %v", ev.DeviceID, err)
		return
	}
	if res.Next != nil {
		r.dispatch(*res.Next, FromConnected, false)
	}
	r.Wake()
}

// Stats returns the Runner's counters.
func (r *Runner) Stats() Stats {
	s := Stats{Sent: map[fota.CommandKind]int64{},
		Undelivered: r.undelivered.Load(), Refused: r.refused.Load(), LeaseLost: r.leaseLost.Load(), Duplicates: r.dups.Load(),
		Abandoned: r.abandoned.Load(), Unsendable: r.unsendable.Load(), Foreign: r.foreign.Load(),
		Observations: r.observations.Load(), ObservationsRefused: r.obsRefused.Load(), Connections: r.connections.Load(), Errors: r.errs.Load()}
	for k := fota.CommandObserve; k <= fota.CommandExec; k++ {
		if n := r.sent[k].Load(); n > 0 {
			s.Sent[k] = n
		}
	}
	return s
}

// Busy is how many commands and events the Runner has under way.
func (r *Runner) Busy() int { return int(r.inFlight.Load()) }

// Quiet is how long the Runner has had nothing to do (system clock).
func (r *Runner) Quiet() time.Duration {
	if r.Busy() > 0 {
		return 0
	}
	return time.Since(time.Unix(0, r.activity.Load()))
}

// Polled is when the Runner's last look at the outbox returned (system
// clock), zero before the first.
func (r *Runner) Polled() time.Time {
	if n := r.polled.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// NextDue is the time the outbox last reported for its next due command
// (Manager's clock), zero when none is planned or commands are due now.
func (r *Runner) NextDue() time.Time {
	if n := r.next.Load(); n != 0 {
		return time.Unix(0, n).UTC()
	}
	return time.Time{}
}

// CheckExchanges checks records of one or more Runners sharing a store
// for the lease discipline a host must keep: every lease was handed out
// once, and per device no two CoAP exchanges overlapped in time (a device
// was never pushed twice within a lease). The error names every breach.
func CheckExchanges(recs []Record) error {
	byDevice := map[string][]Record{}
	for _, r := range recs {
		byDevice[r.Command.DeviceID] = append(byDevice[r.Command.DeviceID], r)
	}
	var errs []error
	for id, rs := range byDevice {
		sort.Slice(rs, func(a, b int) bool { return rs[a].Command.Lease < rs[b].Command.Lease })
		for k := 1; k < len(rs); k++ {
			a, b := rs[k-1], rs[k]
			if a.Command.Lease == b.Command.Lease {
				errs = append(errs, fmt.Errorf("device %s: lease %d handed out twice (%v, %v)", id, a.Command.Lease, a.Command.Kind, b.Command.Kind))
			}
		}
		sort.Slice(rs, func(a, b int) bool { return rs[a].Sent.Before(rs[b].Sent) })
		var last Record
		for _, r := range rs {
			if r.Sent.IsZero() {
				continue
			}
			if !last.Sent.IsZero() && r.Sent.Before(last.Answered) {
				errs = append(errs, fmt.Errorf("device %s: %v (lease %d) sent at %v while %v (lease %d) was under way until %v",
					id, r.Command.Kind, r.Command.Lease, r.Sent, last.Command.Kind, last.Command.Lease, last.Answered))
			}
			last = r
		}
	}
	return errors.Join(errs...)
}
