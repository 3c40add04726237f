package push

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
)

const uri = "coap://127.0.0.1:5683/fw/fw-2.0.bin"

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newPlan(ids ...string) (*Plan, *clock) {
	c := &clock{t: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)}
	return NewPlan(uri, ids, Policy{ReadAfter: 30 * time.Second, RetryAfter: 10 * time.Second, MaxAttempts: 2, Lease: time.Minute}, c.now), c
}

var ctx = context.Background()

func one(t *testing.T, p *Plan, want CommandKind) Command {
	t.Helper()
	cmds, _, err := p.Outbox(ctx, 10)
	if err != nil || len(cmds) != 1 || cmds[0].Kind != want {
		t.Fatalf("Outbox = %v, %v; want one %v", cmds, err, want)
	}
	return cmds[0]
}

func confirm(t *testing.T, p *Plan, c Command, status int, next CommandKind) *Command {
	t.Helper()
	r, err := p.Confirm(ctx, c, Receipt{Delivered: true, Status: status})
	if err != nil {
		t.Fatalf("Confirm(%v, %d): %v", c.Kind, status, err)
	}
	if next == 0 && r.Next != nil || next != 0 && (r.Next == nil || r.Next.Kind != next) {
		t.Fatalf("Confirm(%v, %d) next %v, want %v", c.Kind, status, r.Next, next)
	}
	return r.Next
}

func observe(t *testing.T, p *Plan, id string, o lwm2m.Observation, next CommandKind) Result {
	t.Helper()
	r, err := p.Observation(ctx, id, o)
	if err != nil {
		t.Fatalf("Observation(%v): %v", o, err)
	}
	if next == 0 && r.Next != nil || next != 0 && (r.Next == nil || r.Next.Kind != next) {
		t.Fatalf("Observation(%v) next %v, want %v", o, r.Next, next)
	}
	return r
}

// upToWrite takes a device through Observe, Reset and WritePackage.
func upToWrite(t *testing.T, p *Plan, id string) *Command {
	t.Helper()
	c := one(t, p, CommandObserve)
	reset := confirm(t, p, c, 205, CommandReset)
	observe(t, p, id, lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Success}, 0) // left over from an earlier update
	write := confirm(t, p, *reset, 204, CommandWritePackage)
	if write.PackageURI != uri {
		t.Fatalf("write carries %q", write.PackageURI)
	}
	return write
}

func TestPlanSuccess(t *testing.T) {
	p, _ := newPlan("a")
	write := upToWrite(t, p, "a")
	confirm(t, p, *write, 204, 0)
	if d := p.Devices()[0]; d.State != device.StateNotified {
		t.Fatalf("after the write: %v, want Notified (Upgrade Pending)", d.State)
	}
	observe(t, p, "a", lwm2m.Observation{State: lwm2m.Downloading}, 0)
	exec := observe(t, p, "a", lwm2m.Observation{State: lwm2m.Downloaded}, CommandExecute).Next
	confirm(t, p, *exec, 204, 0)
	observe(t, p, "a", lwm2m.Observation{State: lwm2m.Updating}, 0)
	r := observe(t, p, "a", lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Success}, 0)
	if r.State != device.StateSucceeded || !p.Done() || p.Tally()["Upgrade Success"] != 1 {
		t.Fatalf("ended %v, tally %v", r.State, p.Tally())
	}
	if cmds, next, _ := p.Outbox(ctx, 10); len(cmds) != 0 || !next.IsZero() {
		t.Fatalf("Outbox after the end: %v, %v", cmds, next)
	}
}

func TestPlanFailure(t *testing.T) {
	p, _ := newPlan("a")
	write := upToWrite(t, p, "a")
	confirm(t, p, *write, 204, 0)
	exec := observe(t, p, "a", lwm2m.Observation{State: lwm2m.Downloaded}, CommandExecute).Next
	confirm(t, p, *exec, 204, 0)
	r := observe(t, p, "a", lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.UpdateFailed}, 0)
	if r.State != device.StateUpdateFailed || r.State.Reason().Text(device.FamilyPush) != "Firmware update to device failed." {
		t.Fatalf("ended %v (%q)", r.State, r.State.Reason().Text(device.FamilyPush))
	}
}

// The Read fallback: a device silent for ReadAfter while downloading is
// Read, and the Read's observation decides.
func TestPlanReadsASilentDevice(t *testing.T) {
	p, c := newPlan("a")
	confirm(t, p, *upToWrite(t, p, "a"), 204, 0)
	if cmds, next, _ := p.Outbox(ctx, 10); len(cmds) != 0 || !next.Equal(c.t.Add(30*time.Second)) {
		t.Fatalf("Outbox while waiting: %v, next %v", cmds, next)
	}
	c.advance(30 * time.Second)
	read := one(t, p, CommandRead)
	observe(t, p, "a", lwm2m.Observation{State: lwm2m.Downloaded}, 0) // the Read's answer, the Read still leased
	exec := confirm(t, p, read, 205, CommandExecute)
	confirm(t, p, *exec, 204, 0)
	c.advance(30 * time.Second)
	read = one(t, p, CommandRead)
	observe(t, p, "a", lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Success}, 0)
	confirm(t, p, read, 205, 0)
	if d := p.Devices()[0]; d.State != device.StateSucceeded || d.Reads != 2 {
		t.Fatalf("ended %v after %d reads", d.State, d.Reads)
	}
}

func TestPlanUnreachable(t *testing.T) {
	p, c := newPlan("a")
	obs := one(t, p, CommandObserve)
	if r, err := p.Confirm(ctx, obs, Receipt{}); err != nil || r.Next != nil {
		t.Fatalf("Confirm(no answer) = %v, %v", r, err)
	}
	if cmds, _, _ := p.Outbox(ctx, 10); len(cmds) != 0 {
		t.Fatalf("handed out again before RetryAfter: %v", cmds)
	}
	c.advance(10 * time.Second)
	obs = one(t, p, CommandObserve)
	if obs.Attempt != 1 {
		t.Fatalf("attempt %d, want 1", obs.Attempt)
	}
	r, err := p.Confirm(ctx, obs, Receipt{})
	if err != nil || r.State != device.StateUnreachable || r.State.Reason().Text(device.FamilyPush) != "Device is not in an active state or is not connected." {
		t.Fatalf("after MaxAttempts: %v, %v", r.State, err)
	}
}

func TestPlanLeases(t *testing.T) {
	p, c := newPlan("a")
	obs := one(t, p, CommandObserve)
	stale := obs
	stale.Lease++
	if _, err := p.Confirm(ctx, stale, Receipt{Delivered: true, Status: 205}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Confirm of a lease never handed out: %v", err)
	}
	c.advance(2 * time.Minute)
	again := one(t, p, CommandObserve) // the lease expired: handed out again
	if _, err := p.Confirm(ctx, obs, Receipt{Delivered: true, Status: 205}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Confirm of an expired lease: %v", err)
	}
	confirm(t, p, again, 205, CommandReset)
	var e *Error
	if _, err := p.Observation(ctx, "nobody", lwm2m.Observation{}); !errors.As(err, &e) || !errors.Is(err, ErrUnknownDevice) || e.DeviceID != "nobody" {
		t.Fatalf("Observation of an unknown device: %v", err)
	}
}

// An observation that overtakes the answer to the command it follows is
// replayed after that command's Confirm; one that follows a lost answer is
// placed by assuming the device acted on it.
func TestPlanEarlyAndUnansweredObservations(t *testing.T) {
	p, _ := newPlan("a")
	write := upToWrite(t, p, "a")
	observe(t, p, "a", lwm2m.Observation{State: lwm2m.Downloading}, 0) // before the write's 2.04
	observe(t, p, "a", lwm2m.Observation{State: lwm2m.Downloaded}, 0)
	exec := confirm(t, p, *write, 204, CommandExecute)
	if r, _ := p.Confirm(ctx, *exec, Receipt{}); r.Next != nil { // the device executed, its 2.04 was lost
		t.Fatalf("next after a lost answer: %v", r.Next)
	}
	r := observe(t, p, "a", lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Success}, 0)
	if r.State != device.StateSucceeded {
		t.Fatalf("ended %v, want Succeeded", r.State)
	}
}

func TestPlanConnectedReobserves(t *testing.T) {
	p, _ := newPlan("a")
	confirm(t, p, *upToWrite(t, p, "a"), 204, 0)
	r, err := p.Connected(ctx, "a")
	if err != nil || r.Next == nil || r.Next.Kind != CommandObserve {
		t.Fatalf("Connected = %v, %v; want an Observe at once", r, err)
	}
	confirm(t, p, *r.Next, 205, 0) // still downloading: wait
	if _, err := p.Connected(ctx, "b"); !errors.Is(err, ErrUnknownDevice) {
		t.Fatalf("Connected of an unknown device: %v", err)
	}
}

// A refused command is followed by a Read before it is tried again.
func TestPlanRefusedCommand(t *testing.T) {
	p, c := newPlan("a")
	confirm(t, p, *upToWrite(t, p, "a"), 204, 0)
	exec := observe(t, p, "a", lwm2m.Observation{State: lwm2m.Downloaded}, CommandExecute).Next
	confirm(t, p, *exec, 405, 0)
	c.advance(10 * time.Second)
	read := one(t, p, CommandRead)
	observe(t, p, "a", lwm2m.Observation{State: lwm2m.Downloaded}, 0)
	confirm(t, p, read, 205, CommandExecute)
}
