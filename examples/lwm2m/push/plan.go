package push

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
)

// Policy is a Plan's timing.
type Policy struct {
	// ReadAfter is how long a device waiting on its own (downloading,
	// updating) may stay silent before it is Read; 30 s when zero.
	ReadAfter time.Duration
	// RetryAfter is when a command the device did not answer is handed out
	// again; 10 s when zero. (fota's Manager retries at 04:00 UTC daily.)
	RetryAfter time.Duration
	// MaxAttempts is how many unanswered commands in a row make the device
	// Unreachable; 3 when zero.
	MaxAttempts int
	// Lease is how long a handed-out command is held; 30 s when zero.
	Lease time.Duration
}

// Plan is a Planner for one campaign held in memory: one package URI for
// a fixed set of devices, each driven by an lwm2m.Tracker through
// Cumulocity's flow (observe, reset, write the URI, execute on
// Downloaded, wait for the result) with a Read when a waiting device is
// silent for ReadAfter. It is this example's stand-in for the Manager.
// Outbox scans every device: fine for thousands, not for millions.
type Plan struct {
	uri    string
	policy Policy
	now    func() time.Time

	mu      sync.Mutex
	devices map[string]*entry
	order   []string
	lease   uint64
}

type entry struct {
	id         string
	state      device.State
	tracker    lwm2m.Tracker
	observed   bool      // observation established since the last registration
	due        time.Time // when the next command is due; zero: nothing due (waiting or settled)
	leased     *Command
	lastHeard  time.Time
	attempts   int
	early      []lwm2m.Observation // refused while a command was in flight; replayed after its Confirm
	readFirst  bool                // the device refused a command: Read it before the next one
	unanswered []CommandKind       // commands of this attempt that got no answer: the device may have acted on them
	reads      int
}

// NewPlan makes a campaign that writes uri to every device in ids; their
// first commands are due at once. now is the clock (time.Now when nil).
func NewPlan(uri string, ids []string, p Policy, now func() time.Time) *Plan {
	if p.ReadAfter == 0 {
		p.ReadAfter = 30 * time.Second
	}
	if p.RetryAfter == 0 {
		p.RetryAfter = 10 * time.Second
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 3
	}
	if p.Lease == 0 {
		p.Lease = 30 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	pl := &Plan{uri: uri, policy: p, now: now, devices: make(map[string]*entry, len(ids))}
	t := now()
	for _, id := range ids {
		if _, dup := pl.devices[id]; dup {
			continue
		}
		pl.devices[id] = &entry{id: id, state: device.StateAccepted, due: t, lastHeard: t}
		pl.order = append(pl.order, id)
	}
	return pl
}

// Outbox leases up to limit due commands, in device order.
func (p *Plan) Outbox(_ context.Context, limit int) ([]Command, time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var out []Command
	var next time.Time
	for _, id := range p.order {
		e := p.devices[id]
		if e.leased != nil && now.After(e.leased.LeaseUntil) {
			e.leased, e.due = nil, now // lease expired unconfirmed: hand it out again
		}
		if e.leased != nil {
			next = earliest(next, e.leased.LeaseUntil)
			continue
		}
		due, ok := p.dueLocked(e)
		if !ok {
			continue
		}
		if due.After(now) || len(out) == limit {
			next = earliest(next, due)
			continue
		}
		out = append(out, p.leaseLocked(e, now))
	}
	return out, next, nil
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// dueLocked says when e's next command is due, if it has one.
func (p *Plan) dueLocked(e *entry) (time.Time, bool) {
	if e.state.Terminal() || e.due.IsZero() {
		if e.state.Terminal() || !e.observed {
			return time.Time{}, false
		}
		// Waiting on the device: Read it after ReadAfter of silence.
		if e.tracker.Next() == lwm2m.CommandWait {
			return e.lastHeard.Add(p.policy.ReadAfter), true
		}
		return time.Time{}, false
	}
	return e.due, true
}

// kindLocked is e's next command.
func (p *Plan) kindLocked(e *entry) (CommandKind, bool) {
	if e.state.Terminal() {
		return 0, false
	}
	if !e.observed {
		return CommandObserve, true
	}
	if e.readFirst {
		return CommandRead, true
	}
	switch e.tracker.Next() {
	case lwm2m.CommandReset:
		return CommandReset, true
	case lwm2m.CommandWritePackage:
		return CommandWritePackage, true
	case lwm2m.CommandExecuteUpdate:
		return CommandExecute, true
	case lwm2m.CommandWait:
		return CommandRead, true
	}
	return 0, false
}

func (p *Plan) leaseLocked(e *entry, now time.Time) Command {
	k, _ := p.kindLocked(e)
	p.lease++
	c := Command{Kind: k, DeviceID: e.id, Attempt: e.attempts, Lease: p.lease, LeaseUntil: now.Add(p.policy.Lease)}
	if k == CommandWritePackage {
		c.PackageURI = p.uri
	}
	if k == CommandRead {
		e.reads++
	}
	e.leased = &c
	e.due = time.Time{}
	return c
}

// nextLocked schedules e's next command: at once when one is due (leased
// and returned), else nothing until an observation or the Read deadline.
func (p *Plan) nextLocked(e *entry, now time.Time) Result {
	r := Result{State: e.state}
	if e.leased != nil || e.state.Terminal() {
		return r
	}
	k, ok := p.kindLocked(e)
	if !ok || (k == CommandRead && !e.readFirst) {
		e.due = time.Time{} // the Read waits for ReadAfter of silence (dueLocked)
		return r
	}
	c := p.leaseLocked(e, now)
	r.Next = &c
	return r
}

// Confirm applies the device's answer to a command.
func (p *Plan) Confirm(_ context.Context, cmd Command, rc Receipt) (Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.devices[cmd.DeviceID]
	if e == nil {
		return Result{}, &Error{DeviceID: cmd.DeviceID, kind: ErrUnknownDevice}
	}
	if e.leased == nil || e.leased.Lease != cmd.Lease {
		return Result{State: e.state}, &Error{DeviceID: cmd.DeviceID, Lease: cmd.Lease, kind: ErrLeaseLost}
	}
	e.leased = nil
	now := p.now()
	if !rc.Delivered {
		e.attempts++
		e.early = nil
		if cmd.Kind == CommandWritePackage || cmd.Kind == CommandExecute {
			e.unanswered = append(e.unanswered, cmd.Kind)
		}
		if e.attempts >= p.policy.MaxAttempts {
			if s, err := device.Next(device.FamilyPush, e.state, device.EventUnreachable); err == nil {
				e.state = s
			}
			return Result{State: e.state}, nil
		}
		e.due = now.Add(p.policy.RetryAfter)
		return Result{State: e.state}, nil
	}
	e.attempts = 0
	e.lastHeard = now
	ok := rc.Status >= 200 && rc.Status < 300
	switch cmd.Kind {
	case CommandObserve:
		// Observed, or not observable (then Reads stand in): either way on.
		e.observed = true
	case CommandReset:
		if ok {
			if t, err := e.tracker.Sent(lwm2m.CommandReset); err == nil {
				e.tracker = t
				e.unanswered = nil
			}
		}
	case CommandWritePackage:
		// A 4.00 is recorded too: the client may report the refusal in its
		// Update Result (device/lwm2m's package doc).
		if ok || rc.Status == 400 {
			if t, err := e.tracker.Sent(lwm2m.CommandWritePackage); err == nil {
				e.tracker = t
				if s, err := device.Next(device.FamilyPush, e.state, device.EventNotify); err == nil {
					e.state = s
				}
			}
		}
	case CommandExecute:
		if ok {
			if t, err := e.tracker.Sent(lwm2m.CommandExecuteUpdate); err == nil {
				e.tracker = t
			}
		}
	}
	p.replayLocked(e)
	if cmd.Kind == CommandRead {
		e.readFirst = false
	}
	if !ok && cmd.Kind != CommandRead && cmd.Kind != CommandObserve {
		// Refused (4.05 during an update, say): Read before trying again.
		e.readFirst = true
		e.due = now.Add(p.policy.RetryAfter)
		return Result{State: e.state}, nil
	}
	return p.nextLocked(e, now), nil
}

// replayLocked applies observations that arrived before the command they
// follow was confirmed (a client may notify before its 2.04 reaches us).
func (p *Plan) replayLocked(e *entry) {
	early := e.early
	e.early = nil
	for _, o := range early {
		p.observeLocked(e, o)
	}
}

// Observation applies a Read or Notify of /5/0/3 and /5/0/5.
func (p *Plan) Observation(_ context.Context, id string, o lwm2m.Observation) (Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.devices[id]
	if e == nil {
		return Result{}, &Error{DeviceID: id, kind: ErrUnknownDevice}
	}
	e.lastHeard = p.now()
	if err := p.observeLocked(e, o); err != nil {
		if e.leased != nil && len(e.early) < 8 {
			e.early = append(e.early, o)
			return Result{State: e.state}, nil
		}
		return Result{State: e.state}, err
	}
	return p.nextLocked(e, e.lastHeard), nil
}

func (p *Plan) observeLocked(e *entry, o lwm2m.Observation) error {
	t, out, err := e.tracker.Observe(o)
	if err != nil {
		t, out, err = p.unansweredLocked(e, o, err)
		if err != nil {
			return err
		}
	}
	e.tracker = t
	if out.Verdict == lwm2m.Succeeded || out.Verdict == lwm2m.Failed {
		if s, err := device.Next(device.FamilyPush, e.state, out.Event); err == nil {
			e.state = s
		}
	}
	return nil
}

// unansweredLocked places an observation the Tracker refused by assuming
// that the device acted on commands whose answer was lost (an Execute
// taken, its 2.04 dropped, then (Idle, Success)): each unanswered command
// in order is recorded as sent, and the first prefix that lets the
// observation in is kept.
func (p *Plan) unansweredLocked(e *entry, o lwm2m.Observation, refused error) (lwm2m.Tracker, lwm2m.Outcome, error) {
	t := e.tracker
	for i, k := range e.unanswered {
		c := lwm2m.CommandWritePackage
		if k == CommandExecute {
			c = lwm2m.CommandExecuteUpdate
		}
		next, err := t.Sent(c)
		if err != nil {
			continue
		}
		t = next
		if n, out, err := t.Observe(o); err == nil {
			if k == CommandWritePackage {
				if s, err := device.Next(device.FamilyPush, e.state, device.EventNotify); err == nil {
					e.state = s
				}
			}
			e.unanswered = e.unanswered[i+1:]
			return n, out, nil
		}
	}
	return e.tracker, lwm2m.Outcome{}, refused
}

// Connected re-initiates observation and makes the device's next command
// due at once.
func (p *Plan) Connected(_ context.Context, id string) (Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.devices[id]
	if e == nil {
		return Result{}, &Error{DeviceID: id, kind: ErrUnknownDevice}
	}
	now := p.now()
	e.observed = false
	e.attempts = 0
	e.lastHeard = now
	if e.leased != nil {
		e.due = now // after the command in flight is confirmed
		return Result{State: e.state}, nil
	}
	return p.nextLocked(e, now), nil
}

// Device is one device's standing in a Plan.
type Device struct {
	ID      string
	State   device.State
	Last    lwm2m.Observation
	Known   bool // Last holds an observation
	Settled bool
	Reads   int // Read commands handed out
}

// Devices lists every device, in the order NewPlan was given them.
func (p *Plan) Devices() []Device {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Device, 0, len(p.order))
	for _, id := range p.order {
		e := p.devices[id]
		last, known := e.tracker.Last()
		out = append(out, Device{ID: id, State: e.state, Last: last, Known: known, Settled: e.tracker.Settled(), Reads: e.reads})
	}
	return out
}

// Tally counts devices by campaign status wire spelling ("Upgrade Success").
func (p *Plan) Tally() map[string]int {
	t := map[string]int{}
	for _, d := range p.Devices() {
		t[d.State.Status().Wire(device.FamilyPush)]++
	}
	return t
}

// Done reports whether every device is in a terminal state.
func (p *Plan) Done() bool {
	for _, d := range p.Devices() {
		if !d.State.Terminal() {
			return false
		}
	}
	return true
}

// SortedTally is Tally as "status: n" lines in a stable order.
func SortedTally(t map[string]int) []string {
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
