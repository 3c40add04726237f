package pilot

import (
	"errors"
	"math"
	"testing"

	"pgregory.net/rapid"
)

// "at least 5 devices and no more than 20 devices have had at least a 50%
// success rate": ThingSpace's values are the defaults.
func TestDefaultPolicy(t *testing.T) {
	if p := DefaultPolicy(); p != (Policy{MinDevices: 5, MaxDevices: 20, SuccessRatio: 0.5}) || p.Validate() != nil {
		t.Fatalf("DefaultPolicy() = %+v, %v", p, p.Validate())
	}
}

func TestPolicyValidate(t *testing.T) {
	for _, tc := range []struct {
		p            Policy
		field, value string
	}{
		{Policy{1, 1, 1}, "", ""},
		{Policy{5, 20, 0.5}, "", ""},
		{Policy{3, 3, math.SmallestNonzeroFloat64}, "", ""},
		{Policy{0, 20, 0.5}, "MinDevices", "0"},
		{Policy{-5, 20, 0.5}, "MinDevices", "-5"},
		{Policy{5, 4, 0.5}, "MaxDevices", "4"},
		{Policy{5, 20, 0}, "SuccessRatio", "0"},
		{Policy{5, 20, -0.5}, "SuccessRatio", "-0.5"},
		{Policy{5, 20, 1.0000001}, "SuccessRatio", "1.0000001"},
		{Policy{5, 20, math.NaN()}, "SuccessRatio", "NaN"},
		{Policy{5, 20, math.Inf(1)}, "SuccessRatio", "+Inf"},
		{Policy{}, "MinDevices", "0"},
	} {
		err := tc.p.Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.p, err)
			}
			continue
		}
		var pe *PolicyError
		if !errors.Is(err, ErrInvalidPolicy) || !errors.As(err, &pe) || pe.Field != tc.field || pe.Value != tc.value {
			t.Errorf("%+v: Validate() = %v, want field %s value %s", tc.p, err, tc.field, tc.value)
		}
	}
}

// Every entry point refuses an invalid policy with the same error and
// changes nothing.
func TestInvalidPolicyEverywhere(t *testing.T) {
	bad := Policy{5, 20, 2}
	g := Gate{Target: tracker}
	if err := g.Admit(3, bad); !errors.Is(err, ErrInvalidPolicy) {
		t.Errorf("Admit = %v", err)
	}
	if g.IsPilot(10, bad) {
		t.Error("IsPilot with an invalid policy")
	}
	if bad.Counts(Outcome{EndedNormally, 10, 10}) || bad.Passed(Outcome{EndedNormally, 10, 10}) {
		t.Error("Counts/Passed with an invalid policy")
	}
	if got, lifted, err := g.Learn(Outcome{EndedNormally, 10, 10}, t0, bad); !errors.Is(err, ErrInvalidPolicy) || lifted || got != g {
		t.Errorf("Learn = %+v, %v, %v", got, lifted, err)
	}
	gs := Gates{Policy: bad}
	if err := gs.Admit(tracker, 1); !errors.Is(err, ErrInvalidPolicy) {
		t.Errorf("Gates.Admit = %v", err)
	}
	if _, _, err := gs.Learn(tracker, Outcome{EndedNormally, 10, 10}, t0); !errors.Is(err, ErrInvalidPolicy) || len(gs.All()) != 0 {
		t.Errorf("Gates.Learn = %v, stored %v", err, gs.All())
	}
}

// Policy variations: the same rules, other numbers.
func TestPolicyVariations(t *testing.T) {
	for _, tc := range []struct {
		name     string
		p        Policy
		admitMax int     // largest campaign admitted while standing
		lifts    Outcome // a smallest passing pilot
		fails    []Outcome
	}{
		{"a single device, all must succeed", Policy{1, 1, 1}, 1,
			Outcome{EndedNormally, 1, 1},
			[]Outcome{{EndedNormally, 1, 0}, {EndedNormally, 2, 2}, {Aborted, 1, 1}}},
		{"10..50 devices at 80%", Policy{10, 50, 0.8}, 50,
			Outcome{EndedNormally, 10, 8},
			[]Outcome{{EndedNormally, 10, 7}, {EndedNormally, 9, 9}, {EndedNormally, 51, 51}, {EndedNormally, 50, 39}}},
		{"one in ten is enough", Policy{10, 30, 0.1}, 30,
			Outcome{EndedNormally, 10, 1},
			[]Outcome{{EndedNormally, 10, 0}, {EndedNormally, 30, 2}}},
		{"three in ten", Policy{5, 20, 0.3}, 20,
			Outcome{EndedNormally, 10, 3},
			[]Outcome{{EndedNormally, 10, 2}, {EndedNormally, 20, 5}}},
		{"two thirds", Policy{3, 12, 2.0 / 3}, 12,
			Outcome{EndedNormally, 3, 2},
			[]Outcome{{EndedNormally, 12, 7}, {EndedNormally, 3, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := Gate{Target: tracker}
			if err := g.Admit(tc.admitMax, tc.p); err != nil {
				t.Fatalf("Admit(%d) = %v", tc.admitMax, err)
			}
			var le *LimitError
			if err := g.Admit(tc.admitMax+1, tc.p); !errors.As(err, &le) || le.Limit != tc.admitMax {
				t.Fatalf("Admit(%d) = %v", tc.admitMax+1, err)
			}
			for _, o := range tc.fails {
				if g2, lifted, err := g.Learn(o, t0, tc.p); err != nil || lifted || g2.Lifted() {
					t.Fatalf("Learn(%+v) lifted the gate: %+v %v", o, g2, err)
				}
			}
			g, lifted, err := g.Learn(tc.lifts, t0, tc.p)
			if err != nil || !lifted {
				t.Fatalf("Learn(%+v) = %v, %v; want lifted", tc.lifts, lifted, err)
			}
			if err := g.Admit(tc.admitMax+1, tc.p); err != nil {
				t.Fatalf("Admit after lifting = %v", err)
			}
		})
	}
}

// A ratio given as a fraction num/den is met by succeeded of devices exactly
// when succeeded*den >= num*devices: no rounding lets 50% slip either way.
func TestRatioIsExactForFractions(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		den := rapid.IntRange(1, 100).Draw(t, "den")
		num := rapid.IntRange(1, den).Draw(t, "num")
		devices := rapid.IntRange(1, 100).Draw(t, "devices")
		succeeded := rapid.IntRange(0, devices).Draw(t, "succeeded")
		p := Policy{MinDevices: 1, MaxDevices: 100, SuccessRatio: float64(num) / float64(den)}
		if got, want := p.met(succeeded, devices), succeeded*den >= num*devices; got != want {
			t.Fatalf("%d of %d against %d/%d: met = %v, want %v", succeeded, devices, num, den, got, want)
		}
	})
}

// Decimal literals mean the fraction they spell.
func TestRatioDecimalLiterals(t *testing.T) {
	for _, tc := range []struct {
		ratio              float64
		succeeded, devices int
		want               bool
	}{
		{0.5, 3, 6, true}, {0.5, 2, 5, false}, {0.5, 3, 5, true}, {0.5, 10, 20, true}, {0.5, 9, 19, false},
		{0.1, 1, 10, true}, {0.1, 1, 11, false}, {0.2, 1, 5, true}, {0.3, 3, 10, true}, {0.3, 2, 7, false},
		{0.7, 7, 10, true}, {0.9, 9, 10, true}, {0.35, 7, 20, true}, {0.35, 6, 20, false}, {1, 20, 20, true}, {1, 19, 20, false},
		// Where succeeded >= ratio*devices would round the wrong way.
		{0.56, 14, 25, true}, {0.07, 7, 100, true}, {0.55, 55, 100, true}, {0.28, 7, 25, true}, {0.56, 13, 25, false},
	} {
		p := Policy{1, 100, tc.ratio}
		if got := p.met(tc.succeeded, tc.devices); got != tc.want {
			t.Errorf("%d of %d against %v: %v, want %v", tc.succeeded, tc.devices, tc.ratio, got, tc.want)
		}
	}
}
