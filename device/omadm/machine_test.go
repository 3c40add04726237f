package omadm

import (
	"strings"
	"testing"

	"github.com/fotakit/fota/internal/lifecycletest"

	"pgregory.net/rapid"
)

// modelStep is FUMO's state diagram written out by hand, independently of Events.
func modelStep(s State, e Event) (State, bool) {
	switch s {
	case 10:
		switch e {
		case EventServerExecDownload, EventServerExecDownloadAndUpdate:
			return 30, true
		case EventServerReplacePkgData:
			return 50, true
		}
	case 30:
		switch e {
		case EventClientDownloadFailed:
			return 20, true
		case EventClientDownloadComplete:
			return 40, true
		}
	case 40:
		if e == EventClientReadyToUpdate {
			return 50, true
		}
	case 50:
		switch e {
		case EventServerExecUpdate, EventClientStartUpdate:
			return 60, true
		case EventClientReplace:
			return 10, true
		}
	case 60:
		switch e {
		case EventClientUpdateFailed:
			return 70, true
		case EventClientUpdateSucceeded:
			return 90, true
		}
	case 70:
		if e == EventClientCleanUp {
			return 80, true
		}
	case 90:
		switch e {
		case EventClientCleanUp:
			return 100, true
		case EventClientBackToIdle:
			return 10, true
		}
	case 20, 80, 100:
		if e == EventClientBackToIdle {
			return 10, true
		}
	}
	return s, false
}

var (
	anyState = rapid.OneOf(rapid.SampledFrom(States), rapid.Custom(func(t *rapid.T) State {
		return State(rapid.IntRange(0, 255).Draw(t, "raw"))
	}))
	anyEvent = rapid.Custom(func(t *rapid.T) Event { return Event(rapid.IntRange(0, int(numEvents)).Draw(t, "event")) })
)

// Every (state, event) pair: the table agrees with a real looplab FSM and
// with the hand-written model; a refusal is a TransitionError naming state
// and event and leaves the state unchanged.
func TestTableAgreesWithLooplabAndModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s, e := anyState.Draw(t, "s"), anyEvent.Draw(t, "e")
		got, err := lifecycletest.Agree(t, Table, s, e)
		if s2, err2 := Step(s, e); s2 != got || (err2 == nil) != (err == nil) {
			t.Fatalf("Step(%v, %v) = %v, %v; the table says %v, %v", s, e, s2, err2, got, err)
		}
		want, wantOK := modelStep(s, e)
		if (err == nil) != wantOK || got != want {
			t.Fatalf("%v --%v--> %v, %v; model %v, %v", s, e, got, err, want, wantOK)
		}
		if Table.Name() != "OMA-DM FUMO" {
			t.Fatalf("table named %q", Table.Name())
		}
	})
}

// Runs of events move table and model together; nothing outside the
// table succeeds; no state is terminal (every one leads back to Idle), so
// terminal absorption is checked on the table's own verdict.
func TestRunsAgreeWithModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s, m := Idle, Idle
		t.Repeat(map[string]func(*rapid.T){
			"event": func(t *rapid.T) {
				e := anyEvent.Draw(t, "e")
				before := s
				var err error
				s, err = Step(s, e)
				var ok bool
				m, ok = modelStep(m, e)
				if ok != (err == nil) {
					t.Fatalf("%v --%v--> %v; model ok %v", before, e, err, ok)
				}
				if Table.Terminal(before) && s != before {
					t.Fatalf("terminal %v left by %v", before, e)
				}
			},
			"": func(t *rapid.T) {
				if s != m || Table.Terminal(s) || s.String() != m.String() {
					t.Fatalf("table %v, model %v", s, m)
				}
			},
		})
	})
}

// FUMO's state diagram, one row (or arrow) at a time.
func TestTransitionsOfTheSpec(t *testing.T) {
	for _, c := range []struct {
		row    string
		from   State
		e      Event
		to     State
		server bool
	}{
		{"10 → 30 | Server | Exec Download (DL)", 10, EventServerExecDownload, 30, true},
		{"10 → 30 | Server | Exec DownloadAndUpdate (DLU)", 10, EventServerExecDownloadAndUpdate, 30, true},
		{"10 → 50 | Server | Replace x/Update/PkgData", 10, EventServerReplacePkgData, 50, true},
		{"30 → 20 | Client | Download fails", 30, EventClientDownloadFailed, 20, false},
		{"30 → 40 → 50 | Client | Download Complete (30 → 40)", 30, EventClientDownloadComplete, 40, false},
		{"30 → 40 → 50 | Client | Download Complete for DL, DLU issued earlier (40 → 50)", 40, EventClientReadyToUpdate, 50, false},
		{"50 → 60 | Server | Exec Update (UP)", 50, EventServerExecUpdate, 60, true},
		{"50 → 60 | For DLU the client continues itself", 50, EventClientStartUpdate, 60, false},
		{"50 → 10 | Client | Replace", 50, EventClientReplace, 10, false},
		{"60 → 70 | Client | Update fails", 60, EventClientUpdateFailed, 70, false},
		{"60 → 90 | Client | Update succeeds", 60, EventClientUpdateSucceeded, 90, false},
		{"70 → 80 | Client | Clean up", 70, EventClientCleanUp, 80, false},
		{"90 → 100 | Client | Clean up", 90, EventClientCleanUp, 100, false},
		{"20 → 10 | Client | Clean up / back to Idle", 20, EventClientBackToIdle, 10, false},
		{"80 → 10 | Client | Clean up / back to Idle", 80, EventClientBackToIdle, 10, false},
		{"90 → 10 | Client | Clean up / back to Idle", 90, EventClientBackToIdle, 10, false},
		{"100 → 10 | Client | Clean up / back to Idle", 100, EventClientBackToIdle, 10, false},
	} {
		got, err := Step(c.from, c.e)
		if err != nil || got != c.to || c.e.ServerInitiated() != c.server ||
			strings.HasPrefix(c.e.String(), "server") != c.server {
			t.Errorf("%s: %v --%v--> %v, %v (server %v)", c.row, c.from, c.e, got, err, c.e.ServerInitiated())
		}
	}
	// KGM "starts the alternative download only in state 10, and the update only in state 50".
	for _, s := range States {
		if (s == Idle) != Table.Can(s, EventServerExecDownload) || (s == ReadyToUpdate) != Table.Can(s, EventServerExecUpdate) {
			t.Errorf("%v: download %v, update %v", s, Table.Can(s, EventServerExecDownload), Table.Can(s, EventServerExecUpdate))
		}
	}
}

func TestDocDiagram(t *testing.T) {
	lifecycletest.Diagrams(t, "doc.go", lifecycletest.Lifecycle{Events: Events, Initial: "Idle"})
}

func TestStepAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _, _ = Step(ReadyToUpdate, EventServerExecUpdate) }); n != 0 {
		t.Fatalf("Step allocates %v", n)
	}
}
