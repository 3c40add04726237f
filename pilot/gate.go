package pilot

import (
	"math"
	"time"
)

// Gate is the pilot gate of one target: a plain value the host stores and
// passes back in. The zero value with a Target set is a standing gate that
// has counted no pilots, so a host needs to store gates only once they
// change. Methods never modify the receiver; Learn returns the new value.
type Gate struct {
	Target Target
	State  State
	// Pilots is how many pilots this gate has counted (see Policy.Counts),
	// passed or not, up to and including the one that lifted it.
	Pilots int
	// LiftedAt is the now given to the Learn call that lifted the gate;
	// zero while it stands.
	LiftedAt time.Time
}

// Validate reports a field no operation of this package produces (an unknown
// State, a negative Pilots) as a *GateError, so a corrupted stored gate is
// refused instead of guessed at.
func (g Gate) Validate() error {
	if !g.State.valid() {
		return &GateError{Target: g.Target, Field: "State", Value: g.State.String()}
	}
	if g.Pilots < 0 {
		return &GateError{Target: g.Target, Field: "Pilots", Value: itoa(g.Pilots)}
	}
	return nil
}

// Lifted reports whether the gate no longer limits campaigns.
func (g Gate) Lifted() bool { return g.State == Lifted }

// Admit decides whether a campaign of devices devices may be scheduled for
// the gate's target: nil once the gate is lifted or when devices <=
// p.MaxDevices; otherwise a *LimitError matching ErrPilotRequired. The count
// is the size the campaign would have after the request (requested
// devices, before eligibility checks reject any), since the limit applies
// to what is asked for. A negative count is a *CountError; an invalid
// policy or gate is reported as by Validate.
func (g Gate) Admit(devices int, p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := g.Validate(); err != nil {
		return err
	}
	if devices < 0 {
		return &CountError{Target: g.Target, Field: "devices", Value: devices}
	}
	if g.State == Lifted || devices <= p.MaxDevices {
		return nil
	}
	return &LimitError{Target: g.Target, Limit: p.MaxDevices, Requested: devices}
}

// IsPilot reports whether a campaign of devices devices, scheduled now, is
// a pilot that could lift the gate: the gate stands and p.MinDevices <=
// devices <= p.MaxDevices. It is false for a lifted gate (nothing is left
// to lift) and for any invalid input. Whether the pilot is counted is
// decided by its Outcome, when it finishes.
func (g Gate) IsPilot(devices int, p Policy) bool {
	return p.Validate() == nil && g.Validate() == nil && g.State == Standing && p.pilotSize(devices)
}

// Learn tells the gate how a campaign for its target finished and returns
// the new gate and whether this outcome lifted it. A standing gate counts
// the outcome as a pilot when p.Counts(o), and is lifted (PilotPassed, at
// now) when the pilot also passed (p.Passed(o)). Other outcomes, and every
// outcome learnt by a lifted gate, leave the gate as it is: a lifted gate
// stays lifted. An impossible outcome is an *OutcomeError; an invalid
// policy or gate is reported as by Validate; on any error the gate is
// returned unchanged.
func (g Gate) Learn(o Outcome, now time.Time, p Policy) (Gate, bool, error) {
	if err := p.Validate(); err != nil {
		return g, false, err
	}
	if err := g.Validate(); err != nil {
		return g, false, err
	}
	if err := o.validate(g.Target); err != nil {
		return g, false, err
	}
	if g.State == Lifted || !p.Counts(o) {
		return g, false, nil
	}
	next := g
	if next.Pilots < math.MaxInt { // saturate rather than wrap
		next.Pilots++
	}
	if !p.Passed(o) {
		return next, false, nil
	}
	s, err := Table.Next(g.State, PilotPassed)
	if err != nil { // unreachable: Standing allows PilotPassed; kept so the table decides
		return g, false, err
	}
	next.State, next.LiftedAt = s, now
	return next, true, nil
}

// Counts reports whether a standing gate counts o as a pilot: the campaign
// ended normally (not cancelled, aborted or failed) and its accepted
// devices number p.MinDevices to p.MaxDevices. With an invalid policy or
// outcome nothing counts.
func (p Policy) Counts(o Outcome) bool {
	return p.Validate() == nil && o.validate(Target{}) == nil && o.Ending == EndedNormally && p.pilotSize(o.Devices)
}

// Passed reports whether o is a counted pilot whose share of UpgradeSuccess
// devices reaches p.SuccessRatio (exactly 50% passes the default).
func (p Policy) Passed(o Outcome) bool {
	return p.Counts(o) && p.met(o.Succeeded, o.Devices)
}

// Lift lifts a standing gate by an operator's decision (say, the pilot ran
// on another system), at now. A gate already lifted is a
// *lifecycle.TransitionError, and g is returned unchanged.
func (g Gate) Lift(now time.Time) (Gate, error) {
	if err := g.Validate(); err != nil {
		return g, err
	}
	s, err := Table.Next(g.State, OperatorLifted)
	if err != nil {
		return g, err
	}
	next := g
	next.State, next.LiftedAt = s, now
	return next, nil
}
