package device

import (
	"errors"
	"testing"

	"github.com/fotakit/fota/internal/lifecycletest"

	"github.com/looplab/fsm"
	"pgregory.net/rapid"

	"github.com/fotakit/fota/lifecycle"
)

// The models below are written by hand from ThingSpace's lifecycle pages and fota's status table,
// independently of HTTPEvents and PushEvents: (state, event) -> state.
type model map[[2]string]string

var httpModel = model{
	{"Accepted", "download"}:          "Downloading",
	{"Downloading", "downloaded"}:     "Downloaded",
	{"Downloading", "downloadFailed"}: "DownloadFailed",
	{"Downloaded", "install"}:         "Installing",

	{"Downloading", "installed"}: "Succeeded",
	{"Downloaded", "installed"}:  "Succeeded",
	{"Installing", "installed"}:  "Succeeded",

	{"Downloading", "installFailed"}: "InstallFailed",
	{"Downloaded", "installFailed"}:  "InstallFailed",
	{"Installing", "installFailed"}:  "InstallFailed",

	{"Downloading", "unknownError"}: "UnknownError",
	{"Downloaded", "unknownError"}:  "UnknownError",
	{"Installing", "unknownError"}:  "UnknownError",
	{"Downloading", "other"}:        "Other",
	{"Downloaded", "other"}:         "Other",
	{"Installing", "other"}:         "Other",

	{"Accepted", "campaignEnd"}:    "NoReport",
	{"Downloading", "campaignEnd"}: "NoReport",
	{"Downloaded", "campaignEnd"}:  "NotInstalled",
	{"Installing", "campaignEnd"}:  "NotInstalled",

	{"Accepted", "cancel"}: "Cancelled",

	{"Accepted", "abort"}:    "Aborted",
	{"Downloading", "abort"}: "Aborted",
	{"Downloaded", "abort"}:  "Aborted",
	{"Installing", "abort"}:  "Aborted",
}

var pushModel = model{
	{"Accepted", "notify"}:         "Notified",
	{"Accepted", "unreachable"}:    "Unreachable",
	{"Notified", "unreachable"}:    "Unreachable",
	{"Notified", "succeeded"}:      "Succeeded",
	{"Notified", "updateFailed"}:   "UpdateFailed",
	{"Notified", "moduleMismatch"}: "ModuleMismatch",
	{"Accepted", "internalError"}:  "InternalError",
	{"Notified", "internalError"}:  "InternalError",
	{"Accepted", "cancel"}:         "Cancelled",
	{"Accepted", "campaignEnd"}:    "Unreachable",
	{"Notified", "campaignEnd"}:    "Unreachable",
}

var licenseModel = model{
	{"Unlicensed", "assign"}: "Licensed",
	{"Licensed", "assign"}:   "Licensed",
	{"Licensed", "remove"}:   "Unlicensed",
}

// terminal reports whether the model lets nothing leave s.
func (m model) terminal(s string) bool {
	for k := range m {
		if k[0] == s {
			return false
		}
	}
	return true
}

type code interface {
	~uint8
	String() string
}

// lifecycleCase is one compiled table with its declaration, model and the
// states a device of that lifecycle can start in.
type lifecycleCase[S, E code] struct {
	name     string
	table    *lifecycle.Table[S, E]
	events   fsm.Events
	model    model
	initial  []S
	states   []S // every valid state
	allEvent []E // every valid event
}

// drawState draws a valid state or, sometimes, an out-of-range one.
func (c lifecycleCase[S, E]) drawState(t *rapid.T, label string) S {
	return rapid.OneOf(rapid.SampledFrom(c.states), rapid.Map(rapid.Uint8(), func(v uint8) S { return S(v) })).Draw(t, label)
}

func (c lifecycleCase[S, E]) drawEvent(t *rapid.T, label string) E {
	return rapid.OneOf(rapid.SampledFrom(c.allEvent), rapid.Map(rapid.Uint8(), func(v uint8) E { return E(v) })).Draw(t, label)
}

// step checks one (state, event) pair against the model and looplab, and
// returns the state the table moved to.
func (c lifecycleCase[S, E]) step(t rapid.TB, s S, e E) S {
	t.Helper()
	if c.table.Name() != c.name || len(c.table.Events()) != len(c.events) {
		t.Fatalf("%s: the table is %q, compiled from another declaration", c.name, c.table.Name())
	}
	got, err := lifecycletest.Agree(t, c.table, s, e)
	// Nothing outside the model succeeds, and everything in it does.
	want, inModel := c.model[[2]string{s.String(), e.String()}]
	if inModel != (err == nil) || (inModel && got.String() != want) {
		t.Fatalf("%s: %s --%s--> = (%s, %v); model (%q, %v)", c.name, s, e, got, err, want, inModel)
	}
	return got
}

// run is the rapid state-machine test of one lifecycle: random walks from
// an initial state, every step checked against model and looplab, with the
// invariants after every step.
func (c lifecycleCase[S, E]) run(t *testing.T) {
	t.Run("walk", func(t *testing.T) {
		rapid.Check(t, func(rt *rapid.T) {
			s := rapid.SampledFrom(c.initial).Draw(rt, "initial")
			rt.Repeat(map[string]func(*rapid.T){
				"event": func(rt *rapid.T) {
					e := c.drawEvent(rt, "event")
					wasTerminal := c.table.Terminal(s)
					n := c.step(rt, s, e)
					if wasTerminal && n != s {
						rt.Fatalf("%s: terminal %s left by %s", c.name, s, e)
					}
					s = n
				},
				"": func(rt *rapid.T) {
					if c.table.Terminal(s) != c.model.terminal(s.String()) {
						rt.Fatalf("%s: Terminal(%s) = %v, model says otherwise", c.name, s, c.table.Terminal(s))
					}
					if c.table.Terminal(s) {
						for _, e := range c.allEvent {
							if c.table.Can(s, e) {
								rt.Fatalf("%s: terminal %s allows %s", c.name, s, e)
							}
						}
					}
				},
			})
		})
	})
	t.Run("pairs", func(t *testing.T) {
		rapid.Check(t, func(rt *rapid.T) {
			c.step(rt, c.drawState(rt, "state"), c.drawEvent(rt, "event"))
		})
	})
	t.Run("every pair", func(t *testing.T) {
		for _, s := range append(c.states, 0) {
			for _, e := range append(c.allEvent, 0) {
				c.step(t, s, e)
			}
		}
	})
}

func TestHTTPLifecycle(t *testing.T) {
	lifecycleCase[State, Event]{"device (HTTP)", HTTPTable, HTTPEvents, httpModel,
		[]State{StateAccepted, StateRejected}, States, Events}.run(t)
}

func TestPushLifecycle(t *testing.T) {
	lifecycleCase[State, Event]{"device (push)", PushTable, PushEvents, pushModel,
		[]State{StateAccepted, StateRejected}, States, Events}.run(t)
}

func TestLicenseLifecycle(t *testing.T) {
	lifecycleCase[License, LicenseEvent]{"license", LicenseTable, LicenseEvents, licenseModel,
		Licenses, Licenses, LicenseEventList}.run(t)
}

// reachable lists the states a device of family f can be in.
func reachable(f Family) []State {
	seen := map[State]bool{StateAccepted: true, StateRejected: true}
	queue := []State{StateAccepted, StateRejected}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, e := range Events {
			if n, err := Next(f, s, e); err == nil && !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	var out []State
	for _, s := range States {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out
}

func TestNextFamilies(t *testing.T) {
	for _, f := range Families {
		for _, s := range States {
			for _, e := range Events {
				got, err := Next(f, s, e)
				want, werr := Table(f).Next(s, e)
				if got != want || (err == nil) != (werr == nil) {
					t.Fatalf("Next(%s, %s, %s) = (%s, %v), table says (%s, %v)", f, s, e, got, err, want, werr)
				}
			}
		}
	}
	got, err := Next(Family(9), StateAccepted, EventDownload)
	var pe *ProtocolError
	if got != StateAccepted || !errors.Is(err, ErrUnknownProtocol) || !errors.As(err, &pe) || pe.Field != "family" {
		t.Fatalf("Next with unknown family = (%s, %v)", got, err)
	}
	if Table(0) != nil {
		t.Fatal("Table(0) is not nil")
	}
}

// Terminal agrees with both tables for every value a State can hold.
func TestTerminalFromTables(t *testing.T) {
	for v := range 256 {
		s := State(v)
		if want := HTTPTable.Terminal(s) && PushTable.Terminal(s); s.Terminal() != want {
			t.Errorf("State(%d).Terminal() = %v, the tables say %v", v, s.Terminal(), want)
		}
	}
}

// Each state reports the status and reason of the catalog, in every
// family it can occur in.
func TestStateReport(t *testing.T) {
	for _, f := range Families {
		for _, s := range reachable(f) {
			if s.Status() == 0 {
				t.Errorf("%s: %s has no status", f, s)
			}
			if s.Status().Wire(f) == "" {
				t.Errorf("%s: %s is reported as %s, which %s cannot spell", f, s, s.Status(), f)
			}
			if s.Terminal() != Table(f).Terminal(s) {
				t.Errorf("%s: %s.Terminal() = %v, table says %v", f, s, s.Terminal(), Table(f).Terminal(s))
			}
			r := s.Reason()
			switch {
			case r == ReasonNone:
				if s.Status() != Pending && s != StateRejected {
					t.Errorf("%s: %s (%s) has no reason", f, s, s.Status())
				}
			case r.Status(f) != s.Status():
				t.Errorf("%s: %s is %s but its reason %s is reported under %s", f, s, s.Status(), r, r.Status(f))
			case r.Text(f) == "" && !(f == FamilyPush && s == StateCancelled):
				t.Errorf("%s: %s's reason %s has no sentence", f, s, r)
			}
		}
	}
	// The family-specific states.
	for s, want := range map[State]Status{
		StateAccepted: Accepted, StateRejected: Rejected, StateDownloading: Pending, StateDownloaded: Pending,
		StateInstalling: Pending, StateNotified: Pending, StateSucceeded: Success, StateNoReport: Failed,
		StateUnreachable: Failed, StateCancelled: Cancelled, StateAborted: Aborted,
	} {
		if s.Status() != want {
			t.Errorf("%s.Status() = %s, want %s", s, s.Status(), want)
		}
	}
	if State(0).Status() != 0 || State(0).Reason() != ReasonNone || !State(0).Terminal() {
		t.Error("the zero State reports something")
	}
}

// DuplicateOf is checked against the hand-written models.
func TestDuplicateOf(t *testing.T) {
	models := map[Family]model{FamilyHTTP: httpModel, FamilyPush: pushModel}
	for f, m := range models {
		for _, s := range append(States, 0, 200) {
			for _, e := range append(Events, 0, 200) {
				_, allowed := m[[2]string{s.String(), e.String()}]
				leads := false
				for k, dst := range m {
					if k[1] == e.String() && dst == s.String() {
						leads = true
					}
				}
				if want := !allowed && leads; DuplicateOf(f, s, e) != want {
					t.Errorf("DuplicateOf(%s, %s, %s) = %v, want %v", f, s, e, !want, want)
				}
			}
		}
	}
	// The brief's example: "installed" reported twice.
	if !DuplicateOf(FamilyHTTP, StateSucceeded, EventInstalled) {
		t.Error("a second installed report is not recognised")
	}
	if DuplicateOf(Family(7), StateSucceeded, EventInstalled) {
		t.Error("unknown family recognised a duplicate")
	}
}

func TestStateEventText(t *testing.T) {
	for _, s := range States {
		b, err := s.MarshalText()
		var back State
		if err != nil || back.UnmarshalText(b) != nil || back != s {
			t.Errorf("%s does not round-trip: %q, %v, %s", s, b, err, back)
		}
	}
	for _, e := range Events {
		b, err := e.MarshalText()
		var back Event
		if err != nil || back.UnmarshalText(b) != nil || back != e {
			t.Errorf("%s does not round-trip: %q, %v, %s", e, b, err, back)
		}
	}
	var se *StateError
	if _, err := State(0).MarshalText(); !errors.Is(err, ErrUnknownState) || !errors.As(err, &se) || se.Field != "state" {
		t.Errorf("State(0).MarshalText: %v", err)
	}
	s := StateDownloaded
	if err := s.UnmarshalText([]byte("Downloaded ")); !errors.As(err, &se) || se.Value != "Downloaded " || s != StateDownloaded {
		t.Errorf("UnmarshalText(bad) = %v, state %s", err, s)
	}
	var ee *EventError
	e := EventAbort
	if err := e.UnmarshalText([]byte("Abort")); !errors.Is(err, ErrUnknownEvent) || !errors.As(err, &ee) || ee.Value != "Abort" || e != EventAbort {
		t.Errorf("Event.UnmarshalText(bad) = %v, event %s", err, e)
	}
	if _, err := Event(0).MarshalText(); !errors.Is(err, ErrUnknownEvent) {
		t.Errorf("Event(0).MarshalText: %v", err)
	}
}

// The diagrams in doc.go are the ones lifecycle.Diagram draws from the
// declarations (which also proves the names are Mermaid-safe).
func TestDocDiagrams(t *testing.T) {
	lifecycletest.Diagrams(t, "doc.go",
		lifecycletest.Lifecycle{Events: HTTPEvents, Initial: "Accepted"},
		lifecycletest.Lifecycle{Events: PushEvents, Initial: "Accepted"},
		lifecycletest.Lifecycle{Events: LicenseEvents, Initial: "Unlicensed"})
}

func TestTransitionAllocs(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		s, _ := Next(FamilyHTTP, StateDownloading, EventDownloaded)
		s, _ = Next(FamilyHTTP, s, EventInstall)
		p, _ := Next(FamilyPush, StateAccepted, EventNotify)
		sinkBool = DuplicateOf(FamilyHTTP, StateSucceeded, EventInstalled) && s != p
	})
	if allocs != 0 {
		t.Fatalf("transitions allocate %v times", allocs)
	}
}
