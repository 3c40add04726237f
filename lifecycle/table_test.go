package lifecycle_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/fotakit/fota/lifecycle"
	"github.com/looplab/fsm"
	"pgregory.net/rapid"
)

type lamp uint8

const (
	off lamp = iota
	on
	broken
)

type flick uint8

const (
	press flick = iota
	smash
	fix
)

var lampNames = []string{"Off", "On", "Broken"}
var flickNames = []string{"press", "smash", "fix"}

var lampEvents = fsm.Events{
	{Name: "press", Src: []string{"Off"}, Dst: "On"},
	{Name: "press", Src: []string{"On"}, Dst: "Off"},
	{Name: "smash", Src: []string{"Off", "On"}, Dst: "Broken"},
}

func compileLamp(t testing.TB) *lifecycle.Table[lamp, flick] {
	tab, err := lifecycle.Compile("lamp", lampEvents,
		[]lamp{off, on, broken}, func(s lamp) string { return lampNames[s] },
		[]flick{press, smash, fix}, func(e flick) string { return flickNames[e] })
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestTableAgreesWithLooplab(t *testing.T) {
	tab := compileLamp(t)
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.SampledFrom([]lamp{off, on, broken}).Draw(t, "state")
		e := rapid.SampledFrom([]flick{press, smash, fix}).Draw(t, "event")
		want, wantOK := lifecycle.LooplabNext(lampEvents, lampNames[s], flickNames[e])
		got, err := tab.Next(s, e)
		if (err == nil) != wantOK {
			t.Fatalf("%s --%s--> table ok=%v, looplab ok=%v", lampNames[s], flickNames[e], err == nil, wantOK)
		}
		if lampNames[got] != want {
			t.Fatalf("%s --%s--> table %s, looplab %s", lampNames[s], flickNames[e], lampNames[got], want)
		}
		if err != nil {
			if got != s {
				t.Fatalf("refused event moved the state to %s", lampNames[got])
			}
			var te *lifecycle.TransitionError
			if !errors.Is(err, lifecycle.ErrInvalidTransition) || !errors.As(err, &te) || te.State != lampNames[s] || te.Event != flickNames[e] {
				t.Fatalf("error %v does not name state and event", err)
			}
		}
		if tab.Terminal(s) != (s == broken) {
			t.Fatalf("Terminal(%s) = %v", lampNames[s], tab.Terminal(s))
		}
	})
}

func TestOutOfRangeValuesAreRefused(t *testing.T) {
	tab := compileLamp(t)
	if _, err := tab.Next(lamp(200), press); !errors.Is(err, lifecycle.ErrInvalidTransition) {
		t.Fatalf("unknown state: %v", err)
	}
	if _, err := tab.Next(on, flick(200)); !errors.Is(err, lifecycle.ErrInvalidTransition) {
		t.Fatalf("unknown event: %v", err)
	}
	if !tab.Terminal(lamp(200)) {
		t.Fatal("an unknown state has no way out")
	}
}

func TestCompileRejectsMalformedDeclarations(t *testing.T) {
	for name, events := range map[string]fsm.Events{
		"unknown event": {{Name: "kick", Src: []string{"Off"}, Dst: "On"}},
		"unknown dst":   {{Name: "press", Src: []string{"Off"}, Dst: "Lit"}},
		"unknown src":   {{Name: "press", Src: []string{"Lit"}, Dst: "On"}},
		"twice":         {{Name: "press", Src: []string{"Off"}, Dst: "On"}, {Name: "press", Src: []string{"Off"}, Dst: "Broken"}},
	} {
		_, err := lifecycle.Compile("lamp", events,
			[]lamp{off, on, broken}, func(s lamp) string { return lampNames[s] },
			[]flick{press, smash, fix}, func(e flick) string { return flickNames[e] })
		if err == nil {
			t.Errorf("%s: compiled", name)
		}
	}
}

func TestDiagramComesFromTheDeclaration(t *testing.T) {
	d, err := lifecycle.Diagram(lampEvents, "Off")
	if err != nil {
		t.Fatal(err)
	}
	want := "stateDiagram-v2\n    [*] --> Off\n    Off --> On: press\n    Off --> Broken: smash\n    On --> Off: press\n    On --> Broken: smash\n"
	if d != want {
		t.Fatalf("diagram:\n%s\nwant:\n%s", d, want)
	}
}

func BenchmarkNext(b *testing.B) {
	tab := compileLamp(b)
	b.ReportAllocs()
	s := off
	for b.Loop() {
		s, _ = tab.Next(s, press)
	}
	_ = fmt.Sprint(s)
}
