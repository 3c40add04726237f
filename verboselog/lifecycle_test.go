package verboselog

import (
	"context"
	"errors"
	"testing"

	"github.com/fotakit/fota/internal/lifecycletest"

	"github.com/fotakit/fota/lifecycle"
	"github.com/looplab/fsm"
	"pgregory.net/rapid"
)

// Every (state, event) pair: the compiled table agrees with looplab, and an
// illegal event errors with ErrInvalidTransition and leaves the state.
func TestTableMatchesLooplabOnEveryPair(t *testing.T) {
	for _, s := range States {
		for _, e := range EventList {
			lifecycletest.Agree(t, Table, s, e)
		}
	}
}

// Random walks: the table and one live looplab FSM move in step; terminal
// states (none are declared: ended sessions can be enabled again) absorb.
func TestTableWalkMatchesLooplab(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		start := rapid.SampledFrom(States).Draw(t, "start")
		f := fsm.NewFSM(start.String(), Events, nil)
		s := start
		t.Repeat(map[string]func(*rapid.T){
			"event": func(t *rapid.T) {
				e := rapid.SampledFrom(EventList).Draw(t, "event")
				next, err := Table.Next(s, e)
				lerr := f.Event(context.Background(), e.String())
				var same fsm.NoTransitionError
				looplabOK := lerr == nil || errors.As(lerr, &same)
				if looplabOK != (err == nil) {
					t.Fatalf("%s --%s-->: table err %v, looplab err %v", s, e, err, lerr)
				}
				if err != nil {
					var te *lifecycle.TransitionError
					if !errors.As(err, &te) || te.State != s.String() || te.Event != e.String() || te.Lifecycle != "logging session" || next != s {
						t.Fatalf("%s --%s-->: bad refusal %#v, state %s", s, e, err, next)
					}
				}
				if Table.Terminal(s) && next != s {
					t.Fatalf("terminal %s left by %s", s, e)
				}
				s = next
			},
			"": func(t *rapid.T) {
				if f.Current() != s.String() {
					t.Fatalf("table in %s, looplab in %s", s, f.Current())
				}
			},
		})
	})
}

func TestNoStateIsTerminal(t *testing.T) {
	// "enabled again after it ended": Expired and Disabled lead back to Enabled.
	for _, s := range States {
		if Table.Terminal(s) {
			t.Errorf("%s is terminal; every session state must allow some event", s)
		}
	}
}

func TestStateText(t *testing.T) {
	for _, s := range States {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back State = 99
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%s: round trip gives %s, %v", s, back, err)
		}
	}
	if _, err := State(len(States)).MarshalText(); !errors.Is(err, ErrState) {
		t.Errorf("marshal of a non-state: %v, want ErrState", err)
	}
	s := Collecting
	var fe *FieldError
	if err := s.UnmarshalText([]byte("collecting")); !errors.As(err, &fe) || fe.Value != "collecting" || s != Collecting {
		t.Errorf("lowercase name: %v, state %s; want ErrState naming it, state unchanged", err, s)
	}
	if got := State(9).String(); got != "State(9)" {
		t.Errorf("State(9).String() = %q", got)
	}
	if got := Event(9).String(); got != "Event(9)" {
		t.Errorf("Event(9).String() = %q", got)
	}
}

// The diagram in doc.go is the one lifecycle.Diagram draws from Events.
func TestDocDiagramIsCurrent(t *testing.T) {
	lifecycletest.Diagrams(t, "doc.go", lifecycletest.Lifecycle{Events: Events, Initial: "Off"})
}
