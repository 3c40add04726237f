// Package doctest checks, from tests, that a package's doc comment shows
// the state diagrams its lifecycles draw, so the prose cannot drift from
// the fsm.Events declarations.
package doctest

import (
	"os"
	"strings"
	"testing"

	"github.com/fotakit/fota/lifecycle"
	"github.com/looplab/fsm"
)

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
