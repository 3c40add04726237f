package push

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
)

// CommandKind is what a Command asks of a device (fota's push API: the
// LwM2M kinds).
type CommandKind uint8

// The LwM2M commands.
const (
	CommandObserve      CommandKind = iota + 1 // observe /5/0/3 and /5/0/5
	CommandRead                                // read /5/0
	CommandReset                               // write "" to /5/0/1
	CommandWritePackage                        // write PackageURI to /5/0/1
	CommandExecute                             // execute /5/0/2
)

var kindNames = [...]string{"", "observe", "read", "reset", "writePackage", "execute"}

// String is the kind's name ("writePackage").
func (k CommandKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "CommandKind(" + strconv.Itoa(int(k)) + ")"
}

// Command is one thing to send to one device, leased to the caller until
// LeaseUntil (fota's push API).
type Command struct {
	Kind       CommandKind
	DeviceID   string
	PackageURI string
	Attempt    int    // how many times this device did not answer before
	Lease      uint64 // this hand-out; pass the Command back to Confirm
	LeaseUntil time.Time
}

// Receipt is what the device answered a command: Delivered false when it
// did not answer, else the CoAP code as a number (204 for 2.04).
type Receipt struct {
	Delivered bool
	Status    int
}

// Result is a device's state in its campaign after a call, and its next
// command when one is due at once (already leased to the caller).
type Result struct {
	State device.State
	Next  *Command
}

// Planner decides what to send to which device. Its methods mirror the
// push API fota's Manager is gaining (Outbox, Confirm, Observation,
// Connected), so a host written against it runs on the Manager too.
type Planner interface {
	// Outbox leases up to limit due commands; the time is when the next
	// one falls due when none is left now.
	Outbox(ctx context.Context, limit int) ([]Command, time.Time, error)
	// Confirm reports what happened to a handed-out command.
	Confirm(ctx context.Context, cmd Command, r Receipt) (Result, error)
	// Observation reports a Read or Notify of /5/0/3 and /5/0/5.
	Observation(ctx context.Context, deviceID string, o lwm2m.Observation) (Result, error)
	// Connected reports that the device registered: its pending command is
	// due at once and observation must be re-initiated.
	Connected(ctx context.Context, deviceID string) (Result, error)
}

// ErrLeaseLost is matched by errors confirming a command whose lease
// expired or was never handed out.
var ErrLeaseLost = errors.New("lease lost")

// ErrUnknownDevice is matched by errors naming a device that is not in
// the campaign.
var ErrUnknownDevice = errors.New("device not in the campaign")

// Error names the device (and the lease) a call was refused for.
type Error struct {
	DeviceID string
	Lease    uint64
	kind     error
}

// Error names the device, the lease and the refusal.
func (e *Error) Error() string {
	s := "push: device " + strconv.Quote(e.DeviceID) + ": " + e.kind.Error()
	if e.Lease != 0 {
		s += " (lease " + strconv.FormatUint(e.Lease, 10) + ")"
	}
	return s
}

// Is reports whether target is the error's kind.
func (e *Error) Is(target error) bool { return target == e.kind }
