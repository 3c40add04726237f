package pilot

import (
	"errors"
	"math"
	"testing"
	"time"
)

// State names parse back to what they were written from, and anything else
// is a *GateError that leaves the state alone.
func FuzzStateText(f *testing.F) {
	for _, s := range []string{"Standing", "Lifted", "", "standing", "LIFTED", "State(2)", "Lifted\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s := Lifted
		err := s.UnmarshalText([]byte(text))
		if err != nil {
			var ge *GateError
			if !errors.As(err, &ge) || !errors.Is(err, ErrInvalidGate) || ge.Value != text || s != Lifted {
				t.Fatalf("UnmarshalText(%q) = %v, state %v", text, err, s)
			}
			return
		}
		b, err := s.MarshalText()
		if err != nil || string(b) != text {
			t.Fatalf("%q -> %v -> %q, %v", text, s, b, err)
		}
	})
}

// Ending names likewise.
func FuzzEndingText(f *testing.F) {
	for _, s := range []string{"EndedNormally", "Cancelled", "Aborted", "Failed", "", "Canceled", "Ending(0)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		e := Failed
		err := e.UnmarshalText([]byte(text))
		if err != nil {
			if !errors.Is(err, ErrInvalidOutcome) || e != Failed {
				t.Fatalf("UnmarshalText(%q) = %v, ending %v", text, err, e)
			}
			return
		}
		b, err := e.MarshalText()
		if err != nil || string(b) != text {
			t.Fatalf("%q -> %v -> %q, %v", text, e, b, err)
		}
	})
}

// Any numbers at all: no panic, a typed error leaves the gate unchanged, a
// lifted gate stays lifted, and a gate is lifted only by a counted pilot.
func FuzzLearnAdmit(f *testing.F) {
	f.Add(uint8(0), 0, uint8(1), 10, 5, 5, 20, 0.5, 21)
	f.Add(uint8(1), 3, uint8(2), 20, 20, 5, 20, 0.5, 1000)
	f.Add(uint8(0), 0, uint8(0), -1, 0, 0, 0, math.NaN(), -1)
	f.Add(uint8(7), -1, uint8(9), math.MaxInt, math.MaxInt, math.MinInt, math.MaxInt, 1.0, math.MinInt)
	f.Fuzz(func(t *testing.T, state uint8, pilots int, ending uint8, devices, succeeded, minD, maxD int, ratio float64, admit int) {
		g := Gate{Target: tracker, State: State(state), Pilots: pilots}
		p := Policy{minD, maxD, ratio}
		o := Outcome{Ending(ending), devices, succeeded}

		err := g.Admit(admit, p)
		if err == nil && !(g.State == Lifted || admit <= maxD) {
			t.Fatalf("Admit(%d) with %+v, %+v admitted beyond the limit", admit, g, p)
		}
		if err != nil && !errors.Is(err, ErrPilotRequired) && !errors.Is(err, ErrInvalidPolicy) &&
			!errors.Is(err, ErrInvalidGate) && !errors.Is(err, ErrInvalidCount) {
			t.Fatalf("Admit: untyped error %v", err)
		}

		got, lifted, err := g.Learn(o, t0.Add(time.Hour), p)
		counted := g.Pilots
		if p.Counts(o) && counted < math.MaxInt {
			counted++
		}
		switch {
		case err != nil:
			if got != g || lifted {
				t.Fatalf("failed Learn changed the gate: %+v -> %+v", g, got)
			}
		case g.State == Lifted:
			if got != g || lifted {
				t.Fatalf("lifted gate changed: %+v -> %+v", g, got)
			}
		case lifted:
			if !got.Lifted() || !p.Passed(o) || got.Pilots != counted || !got.LiftedAt.Equal(t0.Add(time.Hour)) {
				t.Fatalf("lifted by %+v under %+v: %+v", o, p, got)
			}
		default:
			if got.Lifted() || p.Passed(o) || got.Pilots != counted || !got.LiftedAt.IsZero() {
				t.Fatalf("%+v under %+v: %+v, lifted=%v", o, p, got, lifted)
			}
		}
	})
}
