package campaign

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fotakit/fota/lifecycle"
	"pgregory.net/rapid"
)

var (
	june2  = time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC) // start date 2024-06-02
	june9  = time.Date(2024, 6, 9, 0, 0, 0, 0, time.UTC) // end date 2024-06-08, inclusive
	before = june2.Add(-time.Nanosecond)
	during = time.Date(2024, 6, 5, 12, 0, 0, 0, time.UTC)
	last   = june9.Add(-time.Nanosecond) // 2024-06-08 23:59:59.999999999
)

// TestGuardRules checks the guards against the rules of thingspace-api §5.3-5.4.
func TestGuardRules(t *testing.T) {
	tests := []struct {
		quote string
		s     Status
		now   time.Time
		want  Event // 0: Delete refuses
		err   error
	}{
		{"v2: \"can be canceled before the start date.", HTTPQueued, before, Cancel, nil},
		{"HTTP cancel only \"in Queued status\" (ThingSpace's v2 lifecycle page)", HTTPRequestPending, before, 0, ErrInvalidTransition},
		{"After the start date, but before the end date, the software upgrade can be aborted, but not canceled\"", HTTPScheduled, june2, Abort, nil},
		{"After the start date, but before the end date, the software upgrade can be aborted, but not canceled\"", HTTPInProgress, during, Abort, nil},
		{"After the start date, but before the end date, the software upgrade can be aborted, but not canceled\"", HTTPInProgress, last, Abort, nil},
		{"After the start date, but before the end date, the software upgrade can be aborted", HTTPInProgress, june9, 0, ErrEnded},
		{"cancel… in Queued status and… before the Start Date → CampaignCancelled (Queued at the start: start not yet applied)", HTTPQueued, june2, 0, ErrInvalidTransition},
		{"CampaignScheduled \"appears before the campaign start date\" (neither cancel nor abort before the start)", HTTPScheduled, before, 0, ErrInvalidTransition},
		{"v1: \"User can choose to cancel the campaign before the start date\"", PushQueued, before, Cancel, nil},
		{"v1: \"User can choose to cancel the campaign before the start date\"", PushRequestPending, before, Cancel, nil},
		{"v3: \"Once the campaign has started, it cannot be canceled. The campaign will continue through the scheduled end date\"", PushInProgress, during, 0, ErrInvalidTransition},
		{"v3: \"Once the campaign has started, it cannot be canceled.\"", PushQueued, june2, 0, ErrInvalidTransition},
		{"terminal statuses: nothing to delete", HTTPEnded, during, 0, ErrInvalidTransition},
		{"terminal statuses: nothing to delete", PushCancelled, before, 0, ErrInvalidTransition},
	}
	for _, tt := range tests {
		got, err := Delete(tt.s, tt.now, june2, june9)
		if got != tt.want || (tt.err == nil) != (err == nil) || (tt.err != nil && !errors.Is(err, tt.err)) {
			t.Errorf("%s\n\tDelete(%v, %s) = %v, %v; want %v, %v", tt.quote, tt.s, tt.now.Format(time.RFC3339Nano), got, err, tt.want, tt.err)
		}
	}

	// CanCancel's own time guard: a cancellable status at or after the start.
	err := CanCancel(HTTPQueued, june2, june2)
	var ge *GuardError
	if !errors.Is(err, ErrStarted) || !errors.As(err, &ge) || ge.Op != "cancel" || ge.Status != HTTPQueued || !ge.Now.Equal(june2) || !ge.Bound.Equal(june2) {
		t.Errorf("CanCancel at the start: %#v", err)
	}
	// CanAbort before the start.
	err = CanAbort(HTTPScheduled, before, june2, june9)
	if !errors.Is(err, ErrNotStarted) || !errors.As(err, &ge) || ge.Op != "abort" || !ge.Bound.Equal(june2) {
		t.Errorf("CanAbort before the start: %#v", err)
	}
	for _, s := range []Status{PushQueued, PushInProgress} {
		if err := CanAbort(s, during, june2, june9); !errors.Is(err, ErrInvalidTransition) {
			t.Errorf("CanAbort(%v): push has no abort, got %v", s, err)
		}
	}
}

func TestChangeDevicesRule(t *testing.T) {
	// v2: "not allowed once the campaign is Scheduled; the campaign must be
	// `RequestPending` or `Queued`"; v1: "not allowed once the upgrade has started."
	allowed := []Status{PushRequestPending, PushQueued, HTTPRequestPending, HTTPQueued}
	for _, s := range append(slices.Clone(Statuses), 0, 200) {
		err := CanChangeDevices(s)
		if slices.Contains(allowed, s) {
			if err != nil {
				t.Errorf("CanChangeDevices(%v) = %v", s, err)
			}
			continue
		}
		var ge *GuardError
		if !errors.Is(err, ErrDevicesFrozen) || !errors.As(err, &ge) || ge.Status != s || ge.Op != "change devices" {
			t.Errorf("CanChangeDevices(%v) = %#v", s, err)
		}
	}
}

func TestGuardErrorText(t *testing.T) {
	err := CanAbort(HTTPInProgress, june9, june2, june9)
	want := "fota: campaign abort refused in status CampaignInProgress: campaign has ended (now 2024-06-09T00:00:00Z, end 2024-06-09T00:00:00Z)"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	err = CanChangeDevices(PushInProgress)
	if err == nil || !strings.Contains(err.Error(), "change devices") || !strings.Contains(err.Error(), "InProgress") {
		t.Errorf("got %v", err)
	}
}

// drawInstant draws an instant near june2, in UTC or another zone, so that
// equal instants with different clocks occur.
func drawInstant(t *rapid.T, label string) time.Time {
	minutes := rapid.IntRange(-3, 3).Draw(t, label)
	ns := rapid.SampledFrom([]int{0, 0, 1, -1}).Draw(t, label+"ns")
	zone := rapid.SampledFrom([]*time.Location{time.UTC, time.FixedZone("X", -5*3600), time.FixedZone("Y", 9*3600)}).Draw(t, label+"zone")
	return june2.Add(time.Duration(minutes)*time.Minute + time.Duration(ns)).In(zone)
}

// The guards against an independent formulation: the model's transitions
// and instants compared as Unix nanoseconds.
func TestGuardProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(rapid.SampledFrom(Statuses), rapid.Map(rapid.Uint8(), func(v uint8) Status { return Status(v) })).Draw(t, "status")
		now, start, end := drawInstant(t, "now"), drawInstant(t, "start"), drawInstant(t, "end")
		n, st, en := now.UnixNano(), start.UnixNano(), end.UnixNano()
		_, cancellable := modelNext(s.String(), "cancel")
		_, abortable := modelNext(s.String(), "abort")

		// CanCancel
		err := CanCancel(s, now, start)
		switch {
		case !cancellable:
			wantTransitionError(t, err, s, Cancel)
		case n >= st:
			wantGuardError(t, err, ErrStarted, "cancel", s, now, start)
		case err != nil:
			t.Fatalf("CanCancel(%v, %v, %v) = %v", s, now, start, err)
		}

		// CanAbort
		err = CanAbort(s, now, start, end)
		switch {
		case !abortable:
			wantTransitionError(t, err, s, Abort)
		case n < st:
			wantGuardError(t, err, ErrNotStarted, "abort", s, now, start)
		case n >= en:
			wantGuardError(t, err, ErrEnded, "abort", s, now, end)
		case err != nil:
			t.Fatalf("CanAbort(%v, %v, %v, %v) = %v", s, now, start, end, err)
		}

		// Delete: cancel before the start, abort from it on.
		ev, err := Delete(s, now, start, end)
		switch {
		case n < st && cancellable:
			if ev != Cancel || err != nil {
				t.Fatalf("Delete before start = %v, %v; want cancel", ev, err)
			}
		case n < st:
			wantTransitionError(t, err, s, Cancel)
		case !abortable:
			wantTransitionError(t, err, s, Abort)
		case n >= en:
			wantGuardError(t, err, ErrEnded, "abort", s, now, end)
		default:
			if ev != Abort || err != nil {
				t.Fatalf("Delete during = %v, %v; want abort", ev, err)
			}
		}
		if err != nil && ev != 0 {
			t.Fatalf("Delete failed but returned event %v", ev)
		}
		if err == nil {
			if _, nerr := Next(s, ev); nerr != nil {
				t.Fatalf("Delete allowed %v, which Next refuses: %v", ev, nerr)
			}
		}

		// CanChangeDevices
		wire := s.String()
		frozen := wire != "RequestPending" && wire != "Queued" && wire != "CampaignRequestPending" && wire != "CampaignQueued"
		if err := CanChangeDevices(s); (err != nil) != frozen || (frozen && !errors.Is(err, ErrDevicesFrozen)) {
			t.Fatalf("CanChangeDevices(%v) = %v, frozen %v", s, err, frozen)
		}
	})
}

func wantTransitionError(t *rapid.T, err error, s Status, e Event) {
	t.Helper()
	var te *lifecycle.TransitionError
	if !errors.Is(err, ErrInvalidTransition) || !errors.As(err, &te) || te.Event != e.String() {
		t.Fatalf("%v, %v: want a TransitionError, got %#v", s, e, err)
	}
}

func wantGuardError(t *rapid.T, err, sentinel error, op string, s Status, now, bound time.Time) {
	t.Helper()
	var ge *GuardError
	if !errors.Is(err, sentinel) || !errors.As(err, &ge) {
		t.Fatalf("%s in %v: want %v, got %#v", op, s, sentinel, err)
	}
	if ge.Op != op || ge.Status != s || !ge.Now.Equal(now) || !ge.Bound.Equal(bound) {
		t.Fatalf("%s in %v: GuardError %+v, want now %v bound %v", op, s, ge, now, bound)
	}
	for _, other := range []error{ErrStarted, ErrNotStarted, ErrEnded, ErrDevicesFrozen, ErrInvalidTransition} {
		if other != sentinel && errors.Is(err, other) {
			t.Fatalf("%s in %v: %v also matches %v", op, s, err, other)
		}
	}
}
