package pilot

import (
	"errors"
	"testing"
	"time"
)

var (
	tracker = Target{Account: "acme", SoftwareName: "tracker-fw", SoftwareFrom: "1.0", SoftwareTo: "1.1"}
	t0      = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
)

func learnAll(t *testing.T, g Gate, p Policy, os ...Outcome) Gate {
	t.Helper()
	for i, o := range os {
		var err error
		g, _, err = g.Learn(o, t0.Add(time.Duration(i)*time.Hour), p)
		if err != nil {
			t.Fatalf("Learn(%+v): %v", o, err)
		}
	}
	return g
}

// "The pilot campaign limit is in place until at least 5 devices and no
// more than 20 devices have had at least a 50% success rate."
func TestSpecPilotSizeAndRatio(t *testing.T) {
	p := DefaultPolicy()
	for _, tc := range []struct {
		name      string
		o         Outcome
		counts    bool
		liftsGate bool
	}{
		{"4 devices at 100% never lift: fewer than 5", Outcome{EndedNormally, 4, 4}, false, false},
		{"5 devices at 100% lift: at least 5", Outcome{EndedNormally, 5, 5}, true, true},
		{"20 devices at 50% lift: no more than 20, exactly 50%", Outcome{EndedNormally, 20, 10}, true, true},
		{"21 devices at 100% do not count: more than 20", Outcome{EndedNormally, 21, 21}, false, false},
		{"3 of 6 lift: exactly 50%, even size", Outcome{EndedNormally, 6, 3}, true, true},
		{"5 of 10 lift: exactly 50%", Outcome{EndedNormally, 10, 5}, true, true},
		{"2 of 5 do not lift: 40%", Outcome{EndedNormally, 5, 2}, true, false},
		{"3 of 5 lift: 60%, odd size", Outcome{EndedNormally, 5, 3}, true, true},
		{"9 of 20 do not lift: 45%", Outcome{EndedNormally, 20, 9}, true, false},
		{"0 of 5 do not lift", Outcome{EndedNormally, 5, 0}, true, false},
		// "a pilot campaign must be run": only a campaign that ran to its end counts.
		{"cancelled at 100% does not count", Outcome{Cancelled, 10, 10}, false, false},
		{"aborted at 100% does not count", Outcome{Aborted, 10, 10}, false, false},
		{"failed does not count", Outcome{Failed, 10, 10}, false, false},
		// Rejected devices are not part of the size: 6 requested, 2 rejected.
		{"6 requested, 2 rejected, 4 of 4 succeeded: a 4-device campaign", Outcome{EndedNormally, 4, 4}, false, false},
		{"7 requested, 2 rejected, 3 of 5 succeeded: 60% of the accepted", Outcome{EndedNormally, 5, 3}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Counts(tc.o); got != tc.counts {
				t.Errorf("Counts(%+v) = %v, want %v", tc.o, got, tc.counts)
			}
			g, lifted, err := Gate{Target: tracker}.Learn(tc.o, t0, p)
			if err != nil {
				t.Fatal(err)
			}
			if lifted != tc.liftsGate || g.Lifted() != tc.liftsGate {
				t.Errorf("Learn(%+v): lifted = %v, state %v; want lifted %v", tc.o, lifted, g.State, tc.liftsGate)
			}
			wantPilots := 0
			if tc.counts {
				wantPilots = 1
			}
			if g.Pilots != wantPilots {
				t.Errorf("Pilots = %d, want %d", g.Pilots, wantPilots)
			}
			if tc.liftsGate != !g.LiftedAt.IsZero() || (tc.liftsGate && !g.LiftedAt.Equal(t0)) {
				t.Errorf("LiftedAt = %v", g.LiftedAt)
			}
		})
	}
}

// Edge case from the issue: 4 devices at 100%, however often, never lift.
func TestSpecFourDevicesNeverLift(t *testing.T) {
	p := DefaultPolicy()
	g := Gate{Target: tracker}
	if g.IsPilot(4, p) {
		t.Fatal("IsPilot(4) = true; a pilot has at least 5 devices")
	}
	for range 100 {
		g = learnAll(t, g, p, Outcome{EndedNormally, 4, 4})
	}
	if g.Lifted() || g.Pilots != 0 {
		t.Fatalf("after 100 perfect 4-device campaigns: %+v", g)
	}
	if err := g.Admit(21, p); !errors.Is(err, ErrPilotRequired) {
		t.Fatalf("Admit(21) = %v, want ErrPilotRequired", err)
	}
}

// Edge case from the issue: 21 devices are refused while the gate stands;
// "Users can run as many up to 20 device pilot campaigns as necessary".
func TestSpecTwentyOneRefusedWhileStanding(t *testing.T) {
	p := DefaultPolicy()
	g := Gate{Target: tracker}
	for n := 0; n <= 20; n++ {
		if err := g.Admit(n, p); err != nil {
			t.Fatalf("Admit(%d) = %v, want nil", n, err)
		}
	}
	// Failed pilots, of any number, leave the limit in place.
	g = learnAll(t, g, p, Outcome{EndedNormally, 20, 9}, Outcome{EndedNormally, 5, 2}, Outcome{Cancelled, 20, 20})
	for _, n := range []int{21, 22, 1000} {
		err := g.Admit(n, p)
		var le *LimitError
		if !errors.Is(err, ErrPilotRequired) || !errors.As(err, &le) {
			t.Fatalf("Admit(%d) = %v, want *LimitError matching ErrPilotRequired", n, err)
		}
		if *le != (LimitError{Target: tracker, Limit: 20, Requested: n}) {
			t.Fatalf("Admit(%d): %+v", n, *le)
		}
	}
	if g.Pilots != 2 {
		t.Fatalf("Pilots = %d, want 2 (the cancelled campaign does not count)", g.Pilots)
	}
}

// Edge case from the issue: "once the 50% success rate has been achieved,
// the 20 device limit is lifted", and stays lifted.
func TestSpecLiftedStaysLifted(t *testing.T) {
	p := DefaultPolicy()
	g := learnAll(t, Gate{Target: tracker}, p, Outcome{EndedNormally, 10, 5})
	if !g.Lifted() || !g.LiftedAt.Equal(t0) || g.Pilots != 1 {
		t.Fatalf("after 5 of 10: %+v", g)
	}
	lifted := g
	for _, o := range []Outcome{
		{EndedNormally, 20, 0}, {EndedNormally, 5, 5}, {Aborted, 1000, 0}, {Failed, 0, 0}, {EndedNormally, 4, 4},
	} {
		var became bool
		var err error
		g, became, err = g.Learn(o, t0.Add(time.Hour), p)
		if err != nil || became || g != lifted {
			t.Fatalf("Learn(%+v) on a lifted gate = %+v, %v, %v; want it unchanged", o, g, became, err)
		}
	}
	if err := g.Admit(1_000_000, p); err != nil {
		t.Fatalf("Admit(1e6) on a lifted gate = %v", err)
	}
	if g.IsPilot(10, p) {
		t.Fatal("IsPilot on a lifted gate: nothing is left to lift")
	}
}

// "Users can run as many up to 20 device pilot campaigns as necessary":
// failures before the success do not matter.
func TestSpecManyPilotsThenSuccess(t *testing.T) {
	p := DefaultPolicy()
	g := Gate{Target: tracker}
	for i := range 50 {
		g = learnAll(t, g, p, Outcome{EndedNormally, 5 + i%16, 0})
	}
	g, lifted, err := g.Learn(Outcome{EndedNormally, 8, 4}, t0.Add(99*time.Hour), p)
	if err != nil || !lifted || g.Pilots != 51 || !g.LiftedAt.Equal(t0.Add(99*time.Hour)) {
		t.Fatalf("51st pilot: %+v lifted=%v err=%v", g, lifted, err)
	}
}

// The gate is per target: a pilot for one does not lift another's.
func TestTargetsAreIndependent(t *testing.T) {
	var gs Gates
	other := []Target{
		{"Acme", "Tracker", "1.0", "1.2"},
		{"Acme", "Tracker", "0.9", "1.1"},
		{"Acme", "Tracker2", "1.0", "1.1"},
		{"Bolt", "Tracker", "1.0", "1.1"},
		{"acme", "Tracker", "1.0", "1.1"},
	}
	if _, lifted, err := gs.Learn(tracker, Outcome{EndedNormally, 5, 5}, t0); err != nil || !lifted {
		t.Fatalf("Learn: %v %v", lifted, err)
	}
	if err := gs.Admit(tracker, 21); err != nil {
		t.Fatalf("Admit(tracker, 21) = %v", err)
	}
	for _, o := range other {
		if err := gs.Admit(o, 21); !errors.Is(err, ErrPilotRequired) {
			t.Errorf("Admit(%v, 21) = %v, want ErrPilotRequired", o, err)
		}
	}
}
