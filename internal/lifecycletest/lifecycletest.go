// Package lifecycletest holds the checks every lifecycle package's tests
// share: that a compiled table agrees with a real looplab FSM and refuses
// as the lifecycle package promises, and that the package's doc comment
// shows the diagram its declaration draws.
package lifecycletest

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/fotakit/fota/lifecycle"
	"github.com/looplab/fsm"
)

// TB is what the checks need of *testing.T and *rapid.T.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Agree applies event e to state s through tab and checks the result
// against looplab asked the same question on tab's declaration; a refusal
// must be a *lifecycle.TransitionError naming the lifecycle, the state and
// the event, leave the state unchanged, and agree with Can. Values outside
// the declaration are refused (looplab knows no such state or event).
// It returns what tab.Next returned, for checks against a package's model.
func Agree[S, E ~uint8](t TB, tab *lifecycle.Table[S, E], s S, e E) (S, error) {
	t.Helper()
	got, err := tab.Next(s, e)
	dst, ok := lifecycle.LooplabNext(tab.Events(), tab.StateName(s), tab.EventName(e))
	if ok != (err == nil) {
		t.Fatalf("%s: %s --%s-->: looplab allows=%v, table error %v", tab.Name(), tab.StateName(s), tab.EventName(e), ok, err)
	}
	if tab.Can(s, e) != ok {
		t.Fatalf("%s: Can(%s, %s) = %v, looplab allows=%v", tab.Name(), tab.StateName(s), tab.EventName(e), !ok, ok)
	}
	if ok {
		if tab.StateName(got) != dst {
			t.Fatalf("%s: %s --%s--> %s, looplab says %s", tab.Name(), tab.StateName(s), tab.EventName(e), tab.StateName(got), dst)
		}
		return got, err
	}
	var te *lifecycle.TransitionError
	if got != s || !errors.Is(err, lifecycle.ErrInvalidTransition) || !errors.As(err, &te) ||
		te.Lifecycle != tab.Name() || te.State != tab.StateName(s) || te.Event != tab.EventName(e) {
		t.Fatalf("%s: %s --%s--> refused as %#v, state %s: want a TransitionError naming lifecycle, state and event, state unchanged",
			tab.Name(), tab.StateName(s), tab.EventName(e), err, tab.StateName(got))
	}
	return got, err
}

// Lifecycle names a declaration and the state its diagram starts in.
type Lifecycle struct {
	Events  fsm.Events
	Initial string
}

// Diagrams fails t for every lifecycle whose Mermaid diagram, as
// lifecycle.Diagram draws it, is not in docFile as a tab-indented comment
// block (the form gofmt keeps), and prints the block to paste.
func Diagrams(t testing.TB, docFile string, lifecycles ...Lifecycle) {
	t.Helper()
	doc, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lifecycles {
		d, err := lifecycle.Diagram(l.Events, l.Initial)
		if err != nil {
			t.Fatalf("diagram from %s: %v", l.Initial, err)
		}
		var quoted strings.Builder
		for _, line := range strings.Split(strings.TrimRight(d, "\n "), "\n") {
			quoted.WriteString("//\t" + line + "\n")
		}
		if !strings.Contains(string(doc), quoted.String()) {
			t.Errorf("%s lacks the current diagram from %s; paste:\n%s", docFile, l.Initial, quoted.String())
		}
	}
}
