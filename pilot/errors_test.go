package pilot

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/fotakit/fota/lifecycle"
)

var sentinels = []error{ErrPilotRequired, ErrInvalidPolicy, ErrInvalidCount, ErrInvalidOutcome, ErrInvalidGate, lifecycle.ErrInvalidTransition}

// Each typed error matches its own sentinel and no other, and its message
// names the facts it carries.
func TestErrorsIsAs(t *testing.T) {
	g := Gate{Target: tracker}
	p := DefaultPolicy()
	_, _, outcomeErr := g.Learn(Outcome{EndedNormally, 5, 6}, t0, p)
	for _, tc := range []struct {
		err      error
		sentinel error
		mentions []string
	}{
		{g.Admit(21, p), ErrPilotRequired, []string{"acme:tracker-fw 1.0->1.1", "21", "20"}},
		{Policy{5, 20, 1.5}.Validate(), ErrInvalidPolicy, []string{"SuccessRatio", "1.5"}},
		{g.Admit(-1, p), ErrInvalidCount, []string{"devices", "-1", "acme:tracker-fw"}},
		{outcomeErr, ErrInvalidOutcome, []string{"Succeeded", "6", "Devices = 5"}},
		{Gate{Target: tracker, State: 9}.Validate(), ErrInvalidGate, []string{"State", "State(9)"}},
		{Gate{Target: tracker, Pilots: -2}.Validate(), ErrInvalidGate, []string{"Pilots", "-2"}},
	} {
		if tc.err == nil {
			t.Fatalf("want an error matching %v", tc.sentinel)
		}
		for _, s := range sentinels {
			if errors.Is(tc.err, s) != (s == tc.sentinel) {
				t.Errorf("%v: errors.Is(%v) = %v", tc.err, s, !(s == tc.sentinel))
			}
		}
		for _, m := range tc.mentions {
			if !strings.Contains(tc.err.Error(), m) {
				t.Errorf("%q does not mention %q", tc.err, m)
			}
		}
	}

	var le *LimitError
	if err := g.Admit(21, p); !errors.As(err, &le) || le.Target != tracker || le.Limit != 20 || le.Requested != 21 {
		t.Errorf("As LimitError: %+v", le)
	}
	var oe *OutcomeError
	if !errors.As(outcomeErr, &oe) || oe.Field != "Succeeded" || oe.Value != "6" || oe.Target != tracker {
		t.Errorf("As OutcomeError: %+v", oe)
	}
}

// A gate with fields no operation produces is refused, not guessed at.
func TestCorruptGateRefused(t *testing.T) {
	p := DefaultPolicy()
	for _, g := range []Gate{{Target: tracker, State: 2}, {Target: tracker, State: 255}, {Target: tracker, Pilots: -1}, {Target: tracker, State: Lifted, Pilots: math.MinInt}} {
		if err := g.Admit(1, p); !errors.Is(err, ErrInvalidGate) {
			t.Errorf("%+v: Admit = %v", g, err)
		}
		if g.IsPilot(5, p) {
			t.Errorf("%+v: IsPilot", g)
		}
		if got, lifted, err := g.Learn(Outcome{EndedNormally, 5, 5}, t0, p); !errors.Is(err, ErrInvalidGate) || lifted || got != g {
			t.Errorf("%+v: Learn = %+v, %v, %v", g, got, lifted, err)
		}
		var gs Gates
		if err := gs.Put(g); !errors.Is(err, ErrInvalidGate) || len(gs.All()) != 0 {
			t.Errorf("%+v: Put = %v", g, err)
		}
	}
}

func TestOutcomeErrors(t *testing.T) {
	for _, tc := range []struct {
		o     Outcome
		field string
	}{
		{Outcome{0, 5, 5}, "Ending"},
		{Outcome{Failed + 1, 5, 5}, "Ending"},
		{Outcome{EndedNormally, -1, 0}, "Devices"},
		{Outcome{Cancelled, 3, -1}, "Succeeded"},
		{Outcome{Aborted, 3, 4}, "Succeeded"},
		{Outcome{EndedNormally, math.MinInt, math.MinInt}, "Devices"},
	} {
		g := Gate{Target: tracker, Pilots: 3}
		got, lifted, err := g.Learn(tc.o, t0, DefaultPolicy())
		var oe *OutcomeError
		if !errors.As(err, &oe) || oe.Field != tc.field || lifted || got != g {
			t.Errorf("Learn(%+v) = %+v, %v, %v; want *OutcomeError on %s", tc.o, got, lifted, err, tc.field)
		}
		if DefaultPolicy().Counts(tc.o) {
			t.Errorf("Counts(%+v)", tc.o)
		}
	}
}

func TestTargetString(t *testing.T) {
	for _, tc := range []struct {
		t    Target
		want string
	}{
		{tracker, "acme:tracker-fw 1.0->1.1"},
		{Target{}, `"":"" ""->""`},
		{Target{"Big Co", "M:2", "a->b", "2.0"}, `"Big Co":"M:2" "a->b"->2.0`},
	} {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("String() = %s, want %s", got, tc.want)
		}
	}
}

func TestGatesAll(t *testing.T) {
	var gs Gates
	b := Target{"B", "x", "1", "2"}
	a := Target{"A", "y", "1", "2"}
	if g := gs.Gate(a); g != (Gate{Target: a}) {
		t.Fatalf("fresh gate %+v", g)
	}
	for _, tg := range []Target{b, a} {
		if _, _, err := gs.Learn(tg, Outcome{EndedNormally, 5, 1}, t0); err != nil {
			t.Fatal(err)
		}
	}
	// A campaign that does not count stores nothing.
	if _, _, err := gs.Learn(Target{"C", "z", "1", "2"}, Outcome{Cancelled, 5, 5}, t0); err != nil {
		t.Fatal(err)
	}
	all := gs.All()
	if len(all) != 2 || all[0].Target != a || all[1].Target != b || all[0].Pilots != 1 {
		t.Fatalf("All() = %+v", all)
	}
}
