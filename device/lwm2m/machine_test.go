package lwm2m

import (
	"errors"
	"slices"
	"testing"

	"github.com/fotakit/fota/internal/lifecycletest"

	"github.com/fotakit/fota/lifecycle"
	"pgregory.net/rapid"
)

// modelStep is the machine written out by hand from the object's transitions and the
// package doc's choices, independently of Events.
func modelStep(s State, e Event) (State, bool) {
	switch {
	case s == Idle && e == EventWritePackage:
		return Downloading, true
	case s == Downloading && e == EventDownloaded:
		return Downloaded, true
	case s == Downloading && e == EventDownloadFailed:
		return Idle, true
	case s != Updating && s < numStates && e == EventReset:
		return Idle, true
	case (s == Downloading || s == Downloaded) && e == EventCancel:
		return Idle, true
	case s == Downloaded && (e == EventUpdate || e == EventAcceptDeferred):
		return Updating, true
	case s == Downloaded && e == EventDefer:
		return Downloaded, true
	case s == Updating && (e == EventUpdated || e == EventUpdateFailedImageLost):
		return Idle, true
	case s == Updating && e == EventUpdateFailedImageKept:
		return Downloaded, true
	}
	return s, false
}

var (
	anyState = rapid.Custom(func(t *rapid.T) State { return State(rapid.IntRange(0, numStates).Draw(t, "state")) })
	anyEvent = rapid.Custom(func(t *rapid.T) Event { return Event(rapid.IntRange(0, int(numEvents)).Draw(t, "event")) })
)

// Every (state, event) pair: the table agrees with a real looplab FSM and
// with the hand-written model; a refused event is a TransitionError naming
// state and event, and leaves the state unchanged.
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
		if Table.Name() != "LwM2M firmware update" {
			t.Fatalf("table named %q", Table.Name())
		}
	})
}

// A run of events: the table and the model move together, nothing outside
// the table succeeds, terminal states (there are none: every state can
// return to Idle) would absorb.
func TestRunsAgreeWithModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := Idle
		m := Idle
		t.Repeat(map[string]func(*rapid.T){
			"event": func(t *rapid.T) {
				e := anyEvent.Draw(t, "e")
				before := s
				var err error
				s, err = Step(s, e)
				var ok bool
				m, ok = modelStep(m, e)
				if ok != (err == nil) {
					t.Fatalf("%v --%v--> err %v, model ok %v", before, e, err, ok)
				}
				if Table.Terminal(before) && (err == nil || s != before) {
					t.Fatalf("terminal %v left by %v", before, e)
				}
			},
			"": func(t *rapid.T) {
				if s != m || s >= numStates || Table.Terminal(s) {
					t.Fatalf("table %v, model %v", s, m)
				}
			},
		})
	})
}

// the object's transitions, one row per transition.
func TestTransitionsOfTheSpec(t *testing.T) {
	for _, c := range []struct {
		row     string
		from    State
		e       Event
		to      State
		results []Result
	}{
		{"T1 | Idle → Downloading | Write /5/0/0 (first block) or a non-empty /5/0/1 | 0", Idle, EventWritePackage, Downloading, []Result{0}},
		{"T2 | Downloading → Downloaded | Last block written, or pull download finished and verified | 0", Downloading, EventDownloaded, Downloaded, []Result{0}},
		{"T3 | Downloading → Idle | Download or verification error | 2–7, 9", Downloading, EventDownloadFailed, Idle, []Result{2, 3, 4, 5, 6, 7, 9}},
		{"T4 | Downloaded → Idle | Write \"\" to /5/0/1 or '\\0' to /5/0/0 | 0", Downloaded, EventReset, Idle, []Result{0}},
		{"T5 | Downloading/Downloaded → Idle | Execute /5/0/10 Cancel | 10 (Downloading)", Downloading, EventCancel, Idle, []Result{10}},
		{"T5 | Downloading/Downloaded → Idle | Execute /5/0/10 Cancel | 10 (Downloaded)", Downloaded, EventCancel, Idle, []Result{10}},
		{"T6 | Downloaded → Updating | Execute /5/0/2 Update | 0", Downloaded, EventUpdate, Updating, []Result{0}},
		{"T7 | Downloaded → Downloaded | Execute Update, user defers (v1.1) | 11", Downloaded, EventDefer, Downloaded, []Result{11}},
		{"T7 | Moves to Updating once the user accepts", Downloaded, EventAcceptDeferred, Updating, []Result{0}},
		{"T8 | Updating → Idle | Update succeeded | 1", Updating, EventUpdated, Idle, []Result{1}},
		{"T9 | Updating → Downloaded | Update failed, image still usable | 8", Updating, EventUpdateFailedImageKept, Downloaded, []Result{8}},
		{"T10 | Updating → Idle | Update failed, image unusable | 5 or 8", Updating, EventUpdateFailedImageLost, Idle, []Result{5, 8}},
	} {
		got, err := Step(c.from, c.e)
		if err != nil || got != c.to || !slices.Equal(c.e.Results(), c.results) {
			t.Errorf("%s: %v --%v--> %v, %v, results %v", c.row, c.from, c.e, got, err, c.e.Results())
		}
	}
	// "Once updating has started the client MUST respond with Method Not Allowed."
	for _, e := range []Event{EventCancel, EventReset, EventWritePackage, EventUpdate} {
		if _, err := Step(Updating, e); !errors.Is(err, lifecycle.ErrInvalidTransition) {
			t.Errorf("Updating accepts %v", e)
		}
	}
	if Event(0).Results() != nil {
		t.Error("no event has no results")
	}
}

// the object's Update Result table's "State afterwards" column, derived from the events that
// leave each result.
func TestStateAfterResult(t *testing.T) {
	want := map[Result][]State{
		Success: {Idle}, NotEnoughFlash: {Idle}, OutOfRAM: {Idle}, ConnectionLost: {Idle},
		IntegrityCheckFailure: {Idle}, UnsupportedPackageType: {Idle}, InvalidURI: {Idle},
		UpdateFailed:        {Idle, Downloaded}, // v1.1: "either Downloaded or Idle"
		UnsupportedProtocol: {Idle}, Cancelled: {Idle},
		Deferred: {Downloaded}, // "stays Downloaded"
	}
	for r, states := range want {
		var got []State
		for _, s := range States {
			for _, e := range EventList {
				if d, ok := Table.Lookup(s, e); ok && slices.Contains(e.Results(), r) && !slices.Contains(got, d) {
					got = append(got, d)
				}
			}
		}
		slices.Sort(got)
		slices.Sort(states)
		if !slices.Equal(got, states) {
			t.Errorf("%v leaves the device in %v, spec says %v", r, got, states)
		}
	}
}

// Compile accepts the defer self-loop and looplab agrees it is allowed.
func TestDeferSelfLoop(t *testing.T) {
	if _, err := lifecycle.Compile("x", Events, States, State.String, EventList, Event.String); err != nil {
		t.Fatal(err)
	}
	dst, ok := lifecycle.LooplabNext(Events, "Downloaded", "defer")
	s, err := Step(Downloaded, EventDefer)
	if !ok || dst != "Downloaded" || err != nil || s != Downloaded {
		t.Fatalf("defer: looplab %s %v, table %v %v", dst, ok, s, err)
	}
}

func TestDocDiagram(t *testing.T) {
	lifecycletest.Diagrams(t, "doc.go", lifecycletest.Lifecycle{Events: Events, Initial: "Idle"})
}

func TestStepAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _, _ = Step(Downloaded, EventUpdate) }); n != 0 {
		t.Fatalf("Step allocates %v", n)
	}
}
