package diagrams

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The committed page must be what Markdown builds now.
func TestCommittedPageIsCurrent(t *testing.T) {
	want, err := Markdown()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/lifecycles.md")
	if err != nil {
		t.Fatalf("docs/lifecycles.md: %v; run go generate ./... from the module root", err)
	}
	if string(got) != want {
		t.Errorf("docs/lifecycles.md is stale (%s); run go generate ./... from the module root and commit the result",
			firstDifference(string(got), want))
	}
}

func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: committed %q, generated %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("committed %d lines, generated %d", len(g), len(w))
}

func TestMarkdownIsDeterministic(t *testing.T) {
	a, err := Markdown()
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if b, _ := Markdown(); b != a {
			t.Fatal("two calls to Markdown built different pages")
		}
	}
}

// The stateDiagram-v2 lines lifecycle.Diagram writes. State and event
// names must be identifiers: a space would split a Mermaid state in two.
var (
	fence      = regexp.MustCompile("(?s)```mermaid\n(.*?)```\n")
	initial    = regexp.MustCompile(`^    \[\*\] --> ([A-Za-z][A-Za-z0-9]*)$`)
	transition = regexp.MustCompile(`^    ([A-Za-z][A-Za-z0-9]*) --> ([A-Za-z][A-Za-z0-9]*): ([A-Za-z][A-Za-z0-9]*)$`)
)

// Every lifecycle has a section with its heading, its explanation and
// one well-formed mermaid block that draws exactly its declaration: every
// (source, event) pair of its fsm.Events once, with its destination, and
// nothing else.
func TestEveryLifecycleIsDrawnWhole(t *testing.T) {
	page, err := Markdown()
	if err != nil {
		t.Fatal(err)
	}
	ls := Lifecycles()
	blocks := fence.FindAllStringSubmatchIndex(page, -1)
	if len(blocks) != len(ls) {
		t.Fatalf("%d mermaid blocks for %d lifecycles", len(blocks), len(ls))
	}
	prev := 0
	for i, l := range ls {
		before := page[prev:blocks[i][0]]
		if !strings.Contains(before, "\n## "+l.Title+"\n") {
			t.Errorf("%s: no heading %q before its diagram", l.Source, l.Title)
		}
		if l.About == "" || !strings.Contains(before, l.About) {
			t.Errorf("%s: no explanation before its diagram", l.Source)
		}
		prev = blocks[i][1]

		want := map[[2]string]string{} // (src, event) -> dst
		for _, e := range l.Events {
			for _, src := range e.Src {
				want[[2]string{src, e.Name}] = e.Dst
			}
		}
		lines := strings.Split(strings.TrimSuffix(page[blocks[i][2]:blocks[i][3]], "\n"), "\n")
		if len(lines) < 2 || lines[0] != "stateDiagram-v2" {
			t.Fatalf("%s: block does not open with stateDiagram-v2: %q", l.Source, lines)
		}
		if m := initial.FindStringSubmatch(lines[1]); m == nil || m[1] != l.Initial {
			t.Errorf("%s: second line %q, want [*] --> %s", l.Source, lines[1], l.Initial)
		}
		got := map[[2]string]string{}
		for _, line := range lines[2:] {
			m := transition.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("%s: %q is not a stateDiagram-v2 transition", l.Source, line)
				continue
			}
			key := [2]string{m[1], m[3]}
			if _, dup := got[key]; dup {
				t.Errorf("%s: %s on %s drawn twice", l.Source, m[1], m[3])
			}
			got[key] = m[2]
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: drawn %v, declared %v", l.Source, got, want)
		}
	}
}

// The initial state of each lifecycle is one its transitions leave, so
// the diagram is connected from [*].
func TestInitialStatesAreDeclared(t *testing.T) {
	for _, l := range Lifecycles() {
		found := false
		for _, e := range l.Events {
			for _, src := range e.Src {
				found = found || src == l.Initial
			}
		}
		if !found {
			t.Errorf("%s: initial state %q leaves by no event", l.Source, l.Initial)
		}
	}
}
