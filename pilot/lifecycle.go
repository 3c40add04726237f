package pilot

import (
	"fmt"

	"github.com/fotakit/fota/lifecycle"
	"github.com/looplab/fsm"
)

// State is where a gate stands in its lifecycle. The zero value is
// Standing, so a fresh Gate for a target enforces the pilot limit.
type State uint8

// The gate states.
const (
	Standing State = iota // the pilot limit applies to the target
	Lifted                // a pilot succeeded; the limit is gone for good
)

// Event is what happens to a gate.
type Event uint8

// The gate events.
const (
	// PilotPassed: a counted pilot met the success ratio (see Gate.Learn).
	PilotPassed Event = iota
	// OperatorLifted: an operator lifted the gate by hand (see Gate.Lift).
	OperatorLifted
)

var (
	allStates = []State{Standing, Lifted}
	allEvents = []Event{PilotPassed, OperatorLifted}
)

// Events declares the gate lifecycle once: a standing gate is lifted by a
// passed pilot, and nothing leaves Lifted. Outcomes that leave a gate
// where it is (a failed pilot, a campaign that does not count) are not
// events: they change no state, and looplab reports a self-transition as a
// NoTransitionError rather than a transition, so declaring them would only
// blur the diagram. Learn decides whether an outcome is a PilotPassed event
// before consulting Table.
var Events = fsm.Events{
	{Name: "PilotPassed", Src: []string{"Standing"}, Dst: "Lifted"},
	{Name: "OperatorLifted", Src: []string{"Standing"}, Dst: "Lifted"},
}

// Table is Events compiled for Learn: one array load per decision.
var Table = lifecycle.MustCompile("pilot gate", Events, allStates, State.String, allEvents, Event.String)

// String is the state's name in Events: "Standing" or "Lifted".
func (s State) String() string {
	switch s {
	case Standing:
		return "Standing"
	case Lifted:
		return "Lifted"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

func (s State) valid() bool { return s == Standing || s == Lifted }

// MarshalText writes the state's name; an unknown state is a *GateError.
func (s State) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, &GateError{Field: "State", Value: s.String()}
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads "Standing" or "Lifted"; anything else is a
// *GateError and leaves s unchanged.
func (s *State) UnmarshalText(b []byte) error {
	q, err := ParseState(string(b))
	if err != nil {
		return err
	}
	*s = q
	return nil
}

// ParseState reads a state name as written by String.
func ParseState(name string) (State, error) {
	switch name {
	case "Standing":
		return Standing, nil
	case "Lifted":
		return Lifted, nil
	}
	return Standing, &GateError{Field: "State", Value: name}
}

// String is the event's name in Events.
func (e Event) String() string {
	switch e {
	case PilotPassed:
		return "PilotPassed"
	case OperatorLifted:
		return "OperatorLifted"
	}
	return fmt.Sprintf("Event(%d)", uint8(e))
}
