package pilot

import (
	"errors"
	"fmt"
	"github.com/fotakit/fota/internal/reqerr"
	"strconv"
)

// ErrPilotRequired is matched (errors.Is) by the refusal of a campaign that
// is larger than the pilot limit while its target's gate stands. The
// *LimitError behind it carries the target, the limit and the request.
var ErrPilotRequired = errors.New("pilot campaign required")

// ErrInvalidPolicy is matched by a *PolicyError: a Policy that cannot judge
// pilots (see Policy.Validate).
var ErrInvalidPolicy = errors.New("invalid pilot policy")

// ErrInvalidCount is matched by a *CountError: a negative device count asked
// of a gate.
var ErrInvalidCount = errors.New("invalid device count")

// ErrInvalidOutcome is matched by an *OutcomeError: a campaign outcome that
// cannot have happened (negative counts, more successes than devices, an
// unknown ending).
var ErrInvalidOutcome = errors.New("invalid campaign outcome")

// ErrInvalidGate is matched by a *GateError: a stored gate whose fields no
// operation of this package can produce (an unknown state, a negative pilot
// count), or a state name that is not one.
var ErrInvalidGate = errors.New("invalid pilot gate")

// LimitError refuses a campaign of Requested devices for Target while its
// gate stands: Limit is the policy's MaxDevices. It matches ErrPilotRequired.
type LimitError struct {
	Target    Target
	Limit     int // largest campaign allowed until a pilot succeeds
	Requested int // devices the refused campaign asked for
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("fota: pilot gate %s: campaign of %d devices exceeds the pilot limit of %d until a pilot campaign succeeds",
		e.Target, e.Requested, e.Limit)
}

// Is reports whether target is ErrPilotRequired.
func (e *LimitError) Is(target error) bool { return target == ErrPilotRequired }

// PolicyError names the Policy field that is out of range and its value.
// It matches ErrInvalidPolicy.
type PolicyError struct {
	Field string // "MinDevices", "MaxDevices" or "SuccessRatio"
	Value string // the value as written by strconv
	Rule  string // what the value must satisfy, e.g. "must be >= 1"
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("fota: pilot policy: %s = %s %s", e.Field, e.Value, e.Rule)
}

// Is reports whether target is ErrInvalidPolicy.
func (e *PolicyError) Is(target error) bool { return target == ErrInvalidPolicy }

// CountError reports a negative device count asked of Target's gate. It
// matches ErrInvalidCount.
type CountError struct {
	Target Target
	Field  string // "devices"
	Value  int
}

func (e *CountError) Error() string {
	return fmt.Sprintf("fota: pilot gate %s: %s = %d must not be negative", e.Target, e.Field, e.Value)
}

// Is reports whether target is ErrInvalidCount.
func (e *CountError) Is(target error) bool {
	return target == ErrInvalidCount || target == reqerr.ErrBadRequest
}

// FieldValue names the field and the value that were refused.
func (e *CountError) FieldValue() (field, value string) { return e.Field, strconv.Itoa(e.Value) }

// OutcomeError names the Outcome field that cannot be right and its value.
// It matches ErrInvalidOutcome.
type OutcomeError struct {
	Target Target
	Field  string // "Devices", "Succeeded" or "Ending"
	Value  string
	Rule   string // e.g. "must not be negative", "must not exceed Devices = 5"
}

func (e *OutcomeError) Error() string {
	return fmt.Sprintf("fota: pilot gate %s: outcome %s = %s %s", e.Target, e.Field, e.Value, e.Rule)
}

// Is reports whether target is ErrInvalidOutcome.
func (e *OutcomeError) Is(target error) bool { return target == ErrInvalidOutcome }

// GateError names the Gate field (or the state name) that is not valid and
// its value. It matches ErrInvalidGate.
type GateError struct {
	Target Target
	Field  string // "State" or "Pilots"
	Value  string
}

func (e *GateError) Error() string {
	return fmt.Sprintf("fota: pilot gate %s: invalid %s %q", e.Target, e.Field, e.Value)
}

// Is reports whether target is ErrInvalidGate.
func (e *GateError) Is(target error) bool { return target == ErrInvalidGate }

func itoa(n int) string { return strconv.Itoa(n) }
