package campaign

import (
	"errors"
	"slices"
	"testing"

	"github.com/fotakit/fota/internal/lifecycletest"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/lifecycle"
	"github.com/looplab/fsm"
	"pgregory.net/rapid"
)

func eventsOf(f device.Family) fsm.Events {
	if f == device.FamilyPush {
		return PushEvents
	}
	return HTTPEvents
}

// declared reports whether events declare src --event--> dst.
func declared(events fsm.Events, src, event, dst string) bool {
	for _, d := range events {
		if d.Name == event && d.Dst == dst && slices.Contains(d.Src, src) {
			return true
		}
	}
	return false
}

// checkStep checks one Next call against looplab, the model and the
// invariants, and returns the status the campaign is in afterwards.
func checkStep(t rapid.TB, s Status, e Event) Status {
	t.Helper()
	got, err := Next(s, e)

	wantWire, modelOK := modelNext(s.String(), e.String())
	if (err == nil) != modelOK {
		t.Fatalf("Next(%v, %v) error %v; model allows: %v", s, e, err, modelOK)
	}
	if modelOK && got.String() != wantWire {
		t.Fatalf("Next(%v, %v) = %v; model says %s", s, e, got, wantWire)
	}

	if f := s.Family(); f != 0 {
		if tg, terr := lifecycletest.Agree(t, Table(f), s, e); tg != got || (terr == nil) != (err == nil) {
			t.Fatalf("Next(%v, %v) = %v, %v; its family's table says %v, %v", s, e, got, err, tg, terr)
		}
	}

	if err != nil {
		if !errors.Is(err, ErrInvalidTransition) || !errors.Is(err, lifecycle.ErrInvalidTransition) {
			t.Fatalf("Next(%v, %v) error %v does not match ErrInvalidTransition", s, e, err)
		}
		var te *lifecycle.TransitionError
		wantEvent := e.String()
		if t := Table(s.Family()); t != nil {
			wantEvent = t.EventName(e) // "event(0)" for a non-event
		}
		if !errors.As(err, &te) || te.Event != wantEvent || te.State != s.Name() {
			t.Fatalf("Next(%v, %v) error %#v: want a TransitionError naming the event", s, e, err)
		}
		if got != s {
			t.Fatalf("Next(%v, %v) failed but returned %v, not the unchanged state", s, e, got)
		}
		if Can(s, e) {
			t.Fatalf("Can(%v, %v) is true but Next failed", s, e)
		}
		return s
	}
	// Nothing outside the declaration succeeds.
	if !declared(eventsOf(s.Family()), s.Name(), e.String(), got.Name()) {
		t.Fatalf("Next(%v, %v) = %v is not declared", s, e, got)
	}
	if got.Family() != s.Family() {
		t.Fatalf("Next(%v, %v) = %v changed family", s, e, got)
	}
	if !Can(s, e) {
		t.Fatalf("Can(%v, %v) is false but Next succeeded", s, e)
	}
	return got
}

// TestTablesAgreeWithLooplabEverywhere checks every (status, event) pair of
// both families, plus non-statuses and non-events, exhaustively.
func TestTablesAgreeWithLooplabEverywhere(t *testing.T) {
	for s := range 256 {
		for e := range 256 {
			checkStep(t, Status(s), Event(e))
		}
	}
}

func lifecycleMachine(f device.Family) func(*rapid.T) {
	return func(t *rapid.T) {
		s := InitialStatus(f)
		anyEvent := rapid.OneOf(rapid.SampledFrom(Events), rapid.Map(rapid.Uint8(), func(v uint8) Event { return Event(v) }))
		t.Repeat(map[string]func(*rapid.T){
			"event": func(t *rapid.T) {
				s = checkStep(t, s, anyEvent.Draw(t, "event"))
			},
			"legalEvent": func(t *rapid.T) {
				var legal []Event
				for _, e := range Events {
					if _, ok := modelNext(s.String(), e.String()); ok {
						legal = append(legal, e)
					}
				}
				if len(legal) == 0 {
					t.Skip("terminal")
				}
				s = checkStep(t, s, rapid.SampledFrom(legal).Draw(t, "legal"))
			},
			"restart": func(t *rapid.T) {
				s = InitialStatus(f)
			},
			"": func(t *rapid.T) {
				if s.Family() != f {
					t.Fatalf("status %v left family %v", s, f)
				}
				term := modelTerminal(s.String())
				if s.Terminal() != term || Table(f).Terminal(s) != term {
					t.Fatalf("%v: Terminal %v, table %v, model %v", s, s.Terminal(), Table(f).Terminal(s), term)
				}
				if s.Active() == term {
					t.Fatalf("%v: Active %v but terminal %v", s, s.Active(), term)
				}
				if term { // terminal states absorb
					for _, e := range Events {
						if got, err := Next(s, e); err == nil || got != s {
							t.Fatalf("terminal %v left by %v to %v", s, e, got)
						}
					}
				}
			},
		})
	}
}

func TestPushLifecycleMachine(t *testing.T) { rapid.Check(t, lifecycleMachine(device.FamilyPush)) }
func TestHTTPLifecycleMachine(t *testing.T) { rapid.Check(t, lifecycleMachine(device.FamilyHTTP)) }

// TestFlowLines checks the lifecycle flows of about-campaigns.txt line by
// line.
func TestFlowLines(t *testing.T) {
	type step struct {
		from  Status
		event Event
		to    Status // 0: the event is refused
	}
	tests := []struct {
		quote string
		steps []step
	}{
		// Campaign Lifecycle Flow for OMA-DM or LWM2M Devices using the /v1 Resource Path
		{"After the user sends the campaign request, the campaign changes to “Request Pending” status.",
			nil},
		{"After passing parameter checks, the campaign status moves to “Queued”.",
			[]step{{PushRequestPending, Accept, PushQueued}}},
		{"If parameter checks fail, it moves to \"RequestFailed.\"",
			[]step{{PushRequestPending, Reject, PushRequestFailed}, {PushQueued, Reject, 0}}},
		{"Normally the campaign would move to \"in progress.\" This stage is is when the software updates are executed in the OMA-DM or LWM2M server.",
			[]step{{PushQueued, Start, PushInProgress}, {PushRequestPending, Start, 0}}},
		{"User can choose to cancel the campaign before the start date, or they can remove all devices from the queued campaign.",
			[]step{{PushQueued, Cancel, PushCancelled}, {PushQueued, RemoveLast, PushCancelled}, {PushInProgress, Cancel, 0}, {PushInProgress, RemoveLast, 0}}},
		{"Once the campaign end date has been reached, the campaign status moves to \"Finished.\"",
			[]step{{PushInProgress, End, PushFinished}, {PushQueued, End, 0}}},
		{"If the OMA-DM or LWM2M server schedule a campaign, it moves to \"UpgradeFailed\" status.", // garbled; §4.4: "A Queued upgrade that did not run"
			[]step{{PushQueued, Fail, PushUpgradeFailed}, {PushInProgress, Fail, 0}}},
		{"(push family: no abort)",
			[]step{{PushQueued, Abort, 0}, {PushInProgress, Abort, 0}, {PushRequestPending, AcceptOnDemand, 0}, {PushQueued, Begin, 0}}},

		// Campaign Lifecycle Flow for HTTP Devices using the /v2 Resource Path
		{"Once the user schedules a campaign request, the campaign changes to “Request Pending” status",
			nil},
		{"After passing parameter checks, campaign status typically moves to \"Queued\" status.",
			[]step{{HTTPRequestPending, Accept, HTTPQueued}}},
		{"If parameter checks fail, it moves to \"RequestFailed\" and may bypass \"Pending.\"",
			[]step{{HTTPRequestPending, Reject, HTTPRequestFailed}, {HTTPQueued, Reject, 0}}},
		{"If it is an on-demand campaign, it bypasses the \"Queued\" status and moves to \"Scheduled.\"",
			[]step{{HTTPRequestPending, AcceptOnDemand, HTTPScheduled}, {HTTPQueued, AcceptOnDemand, 0}}},
		{"Once the start date has begun, it moves to \"Scheduled.\"",
			[]step{{HTTPQueued, Start, HTTPScheduled}, {HTTPRequestPending, Start, 0}}},
		{"The user can choose to cancel the campaign in \"Queued\" status.",
			[]step{{HTTPQueued, Cancel, HTTPCancelled}, {HTTPScheduled, Cancel, 0}, {HTTPInProgress, Cancel, 0}}},
		{"The campaign stays in \"In Progress\" during the device update.",
			[]step{{HTTPScheduled, Begin, HTTPInProgress}, {HTTPQueued, Begin, 0}}},
		{"Once the campaign end date has been reached or if all devices were successfully upgraded, it moves to “ended.”",
			[]step{{HTTPScheduled, End, HTTPEnded}, {HTTPInProgress, End, HTTPEnded}, {HTTPQueued, End, 0}}},
		{"After the campaign begins but before it ends, the user could decide to “abort” the campaign.",
			[]step{{HTTPScheduled, Abort, HTTPAborted}, {HTTPInProgress, Abort, HTTPAborted}, {HTTPQueued, Abort, 0}, {HTTPEnded, Abort, 0}}},
		// thingspace-api §4.1
		{"CampaignFailed: \"scheduling API call has failed\".",
			[]step{{HTTPRequestPending, Fail, HTTPFailed}, {HTTPQueued, Fail, HTTPFailed}, {HTTPScheduled, Fail, 0}}},
		{"(HTTP family: removing the last device is not an event)",
			[]step{{HTTPQueued, RemoveLast, 0}}},
	}
	for _, tt := range tests {
		for _, st := range tt.steps {
			got, err := Next(st.from, st.event)
			if st.to == 0 {
				if err == nil || !errors.Is(err, ErrInvalidTransition) || got != st.from {
					t.Errorf("%s\n\tNext(%v, %v) = %v, %v; want refused", tt.quote, st.from, st.event, got, err)
				}
				continue
			}
			if err != nil || got != st.to {
				t.Errorf("%s\n\tNext(%v, %v) = %v, %v; want %v", tt.quote, st.from, st.event, got, err, st.to)
			}
		}
	}
	for _, f := range device.Families {
		if s := InitialStatus(f); s.Name() != "RequestPending" || s.Family() != f {
			t.Errorf("“Request Pending” status: InitialStatus(%v) = %v", f, s)
		}
	}
	if InitialStatus(0) != 0 {
		t.Errorf("InitialStatus(0) = %v", InitialStatus(0))
	}
}

func TestNextErrorNamesLifecycle(t *testing.T) {
	_, err := Next(HTTPEnded, Abort)
	var te *lifecycle.TransitionError
	if !errors.As(err, &te) || te.Lifecycle != "campaign (HTTP)" || te.State != "Ended" || te.Event != "abort" {
		t.Fatalf("Next(HTTPEnded, Abort) error %#v", err)
	}
	_, err = Next(PushInProgress, Abort)
	if !errors.As(err, &te) || te.Lifecycle != "campaign (push)" || te.State != "InProgress" {
		t.Fatalf("Next(PushInProgress, Abort) error %#v", err)
	}
	_, err = Next(0, Accept)
	if !errors.As(err, &te) || te.Lifecycle != "campaign" || te.State != "Status(0)" || te.Event != "accept" {
		t.Fatalf("Next(0, Accept) error %#v", err)
	}
	if Table(0) != nil || Table(device.FamilyPush) != PushTable || Table(device.FamilyHTTP) != HTTPTable {
		t.Fatal("Table picks the wrong table")
	}
	if PushTable.Name() != "campaign (push)" || HTTPTable.Name() != "campaign (HTTP)" {
		t.Fatalf("table names %q, %q", PushTable.Name(), HTTPTable.Name())
	}
}

// TestDocDiagrams fails when doc.go's diagrams drift from the declarations.
func TestDocDiagrams(t *testing.T) {
	lifecycletest.Diagrams(t, "doc.go",
		lifecycletest.Lifecycle{Events: PushEvents, Initial: "RequestPending"},
		lifecycletest.Lifecycle{Events: HTTPEvents, Initial: "RequestPending"})
	if _, err := Diagram(0); !errors.Is(err, device.ErrUnknownProtocol) {
		t.Errorf("Diagram(0) error %v", err)
	}
}
