package pilot

import (
	"errors"
	"testing"
	"time"

	"github.com/fotakit/fota/lifecycle"

	"github.com/fotakit/fota/internal/lifecycletest"

	"pgregory.net/rapid"
)

// Every (state, event) pair, including values outside the declared ones,
// behaves in Table as looplab says it does for the same Events.
func TestTableAgreesWithLooplab(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := State(rapid.IntRange(0, 3).Draw(t, "state"))
		e := Event(rapid.IntRange(0, 3).Draw(t, "event"))
		got, err := lifecycletest.Agree(t, Table, s, e)
		if Table.Name() != "pilot gate" {
			t.Fatalf("table named %q", Table.Name())
		}
		if Table.Terminal(s) && err == nil && got != s {
			t.Fatalf("terminal %v left by %v", s, e)
		}
	})
}

// Exhaustively, the table is two transitions out of Standing (a passed
// pilot, an operator's lift); Lifted is terminal.
func TestTableShape(t *testing.T) {
	for _, s := range allStates {
		for _, e := range allEvents {
			d, ok := Table.Lookup(s, e)
			want := s == Standing
			if ok != want || (ok && d != Lifted) {
				t.Errorf("%v --%v--> %v, %v", s, e, d, ok)
			}
		}
	}
	if Table.Terminal(Standing) || !Table.Terminal(Lifted) {
		t.Error("Standing must be left; Lifted must absorb")
	}
}

// The diagram in doc.go is the one drawn from Events, so it cannot drift.
func TestDocDiagram(t *testing.T) {
	lifecycletest.Diagrams(t, "doc.go", lifecycletest.Lifecycle{Events: Events, Initial: Standing.String()})
}

func TestStateText(t *testing.T) {
	for _, s := range allStates {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back State = 7
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Fatalf("%v: round trip %v, %v", s, back, err)
		}
	}
	if _, err := State(2).MarshalText(); !errors.Is(err, ErrInvalidGate) {
		t.Fatalf("MarshalText(State(2)) = %v", err)
	}
	s := Lifted
	var ge *GateError
	if err := s.UnmarshalText([]byte("standing")); !errors.As(err, &ge) || ge.Field != "State" || ge.Value != "standing" || s != Lifted {
		t.Fatalf("UnmarshalText(standing) = %v, state %v", err, s)
	}
}

func TestEndingText(t *testing.T) {
	for _, e := range []Ending{EndedNormally, Cancelled, Aborted, Failed} {
		b, err := e.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Ending
		if err := back.UnmarshalText(b); err != nil || back != e {
			t.Fatalf("%v: round trip %v, %v", e, back, err)
		}
	}
	for _, e := range []Ending{0, 5, 255} {
		if _, err := e.MarshalText(); !errors.Is(err, ErrInvalidOutcome) {
			t.Errorf("MarshalText(%d) = %v", e, err)
		}
	}
	e := Aborted
	if err := e.UnmarshalText([]byte("")); !errors.Is(err, ErrInvalidOutcome) || e != Aborted {
		t.Fatalf("UnmarshalText(\"\") = %v, %v", err, e)
	}
}

// An operator lifts a standing gate once; a lifted gate stays lifted.
func TestLift(t *testing.T) {
	g := Gate{Target: Target{Account: "acme", SoftwareName: "fw", SoftwareFrom: "1", SoftwareTo: "2"}}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lifted, err := g.Lift(now)
	if err != nil || !lifted.Lifted() || !lifted.LiftedAt.Equal(now) || lifted.Pilots != 0 {
		t.Fatalf("Lift: %+v, %v", lifted, err)
	}
	again, err := lifted.Lift(now.Add(time.Hour))
	if !errors.Is(err, lifecycle.ErrInvalidTransition) || again != lifted {
		t.Fatalf("Lift of a lifted gate: %+v, %v", again, err)
	}
	if _, err := (Gate{State: 9}).Lift(now); !errors.Is(err, ErrInvalidGate) {
		t.Fatalf("Lift of an invalid gate: %v", err)
	}
}
