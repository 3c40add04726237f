package campaign

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/fotakit/fota/device"
	"pgregory.net/rapid"
)

// TestWireSpellings checks every status against the sources' exact
// spellings.
func TestWireSpellings(t *testing.T) {
	tests := []struct {
		quote  string
		status Status
		wire   string
		family device.Family
		name   string
	}{
		// thingspace-api §4.4, v1 upgrade status (SDK upgradeStatusEnum.ts)
		{"| `RequestPending` | |", PushRequestPending, "RequestPending", device.FamilyPush, "RequestPending"},
		{"| `RequestFailed` | From RequestPending |", PushRequestFailed, "RequestFailed", device.FamilyPush, "RequestFailed"},
		{"| `Queued` | |", PushQueued, "Queued", device.FamilyPush, "Queued"},
		{"| `InProgress` | |", PushInProgress, "InProgress", device.FamilyPush, "InProgress"},
		{"| `Finished` | |", PushFinished, "Finished", device.FamilyPush, "Finished"},
		{"| `UpgradeFailed` | A Queued upgrade that did not run |", PushUpgradeFailed, "UpgradeFailed", device.FamilyPush, "UpgradeFailed"},
		{"Push family (wire: ..., Cancelled)", PushCancelled, "Cancelled", device.FamilyPush, "Cancelled"},
		// thingspace-api §4.1, campaign states (v2/v3 prose)
		{"| `CampaignRequestPending` | \"accepted but is not scheduled yet\".", HTTPRequestPending, "CampaignRequestPending", device.FamilyHTTP, "RequestPending"},
		{"If any parameter check fails, the state becomes `CampaignRequestFailed`.", HTTPRequestFailed, "CampaignRequestFailed", device.FamilyHTTP, "RequestFailed"},
		{"| `CampaignQueued` | Passed eligibility and parameter validation. |", HTTPQueued, "CampaignQueued", device.FamilyHTTP, "Queued"},
		{"| `CampaignScheduled` | \"appears before the campaign start date\". |", HTTPScheduled, "CampaignScheduled", device.FamilyHTTP, "Scheduled"},
		{"CampaignInProgress is this library's, documented as such.", HTTPInProgress, "CampaignInProgress", device.FamilyHTTP, "InProgress"},
		{"| `CampaignEnded` | |", HTTPEnded, "CampaignEnded", device.FamilyHTTP, "Ended"},
		{"| `CampaignCancelled` | |", HTTPCancelled, "CampaignCancelled", device.FamilyHTTP, "Cancelled"},
		{"| `CampaignAborted` | |", HTTPAborted, "CampaignAborted", device.FamilyHTTP, "Aborted"},
		{"| `CampaignFailed` | \"scheduling API call has failed\". |", HTTPFailed, "CampaignFailed", device.FamilyHTTP, "Failed"},
	}
	if len(tests) != len(Statuses) {
		t.Fatalf("%d statuses, %d checked", len(Statuses), len(tests))
	}
	for _, tt := range tests {
		if got := tt.status.String(); got != tt.wire {
			t.Errorf("%s\n\tString() = %q, want %q", tt.quote, got, tt.wire)
		}
		if got := tt.status.Family(); got != tt.family {
			t.Errorf("%s\n\tFamily() = %v, want %v", tt.quote, got, tt.family)
		}
		if got := tt.status.Name(); got != tt.name {
			t.Errorf("%s\n\tName() = %q, want %q", tt.quote, got, tt.name)
		}
		if got, err := ParseStatus(tt.wire); err != nil || got != tt.status {
			t.Errorf("%s\n\tParseStatus(%q) = %v, %v", tt.quote, tt.wire, got, err)
		}
		if !slices.Contains(Statuses, tt.status) {
			t.Errorf("Statuses lacks %v", tt.status)
		}
	}
}

func TestQueuedQuerySpelling(t *testing.T) {
	// thingspace-api §4.2: "`CampaignRequestQueued` here versus `CampaignQueued` in the state prose"
	var s Status
	if err := s.UnmarshalText([]byte("CampaignRequestQueued")); err != nil || s != HTTPQueued {
		t.Fatalf("CampaignRequestQueued parsed as %v, %v", s, err)
	}
	if b, _ := s.MarshalText(); string(b) != "CampaignQueued" {
		t.Fatalf("HTTPQueued writes %q", b)
	}
}

func TestStatusClasses(t *testing.T) {
	active := []Status{PushRequestPending, PushQueued, PushInProgress,
		HTTPRequestPending, HTTPQueued, HTTPScheduled, HTTPInProgress}
	for _, s := range Statuses {
		if s.Active() != slices.Contains(active, s) {
			t.Errorf("%v.Active() = %v", s, s.Active())
		}
		if s.Terminal() == s.Active() {
			t.Errorf("%v: Terminal() = Active() = %v", s, s.Active())
		}
	}
	var zero Status
	if zero.Active() || zero.Terminal() || zero.Family() != 0 || zero.String() != "Status(0)" {
		t.Errorf("zero status: active %v terminal %v family %v %q", zero.Active(), zero.Terminal(), zero.Family(), zero)
	}
}

func TestStatusErrors(t *testing.T) {
	for _, in := range []string{"", "queued", "QUEUED", "Campaign Queued", "CampaignInprogress", "UpgradeSuccess", "CampaignPreScheduled", " Queued"} {
		s := HTTPEnded
		err := s.UnmarshalText([]byte(in))
		var se *StatusError
		if !errors.Is(err, ErrUnknownStatus) || !errors.As(err, &se) || se.Value != in || se.Field != "status" {
			t.Errorf("UnmarshalText(%q) error %#v", in, err)
		}
		if s != HTTPEnded {
			t.Errorf("UnmarshalText(%q) changed the status to %v", in, s)
		}
	}
	for _, s := range []Status{0, HTTPFailed + 1, 255} {
		b, err := s.MarshalText()
		var se *StatusError
		if b != nil || !errors.Is(err, ErrUnknownStatus) || !errors.As(err, &se) || se.Value != s.String() {
			t.Errorf("%d.MarshalText() = %q, %v", uint8(s), b, err)
		}
	}
}

func TestStatusJSON(t *testing.T) {
	in := map[string]Status{"push": PushUpgradeFailed, "http": HTTPAborted}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `{"http":"CampaignAborted","push":"UpgradeFailed"}` {
		t.Fatalf("json %s, %v", b, err)
	}
	var out map[string]Status
	if err := json.Unmarshal(b, &out); err != nil || out["push"] != PushUpgradeFailed || out["http"] != HTTPAborted {
		t.Fatalf("json back %v, %v", out, err)
	}
}

// TestStatusTextRoundTrip: every value either round-trips through text or
// fails to marshal; parsing arbitrary text never yields a non-status.
func TestStatusTextRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := Status(rapid.Uint8().Draw(t, "status"))
		b, err := s.MarshalText()
		if err != nil {
			if slices.Contains(Statuses, s) {
				t.Fatalf("%v does not marshal: %v", s, err)
			}
			return
		}
		var back Status
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Fatalf("%v → %q → %v, %v", s, b, back, err)
		}
	})
}

func FuzzStatusUnmarshalText(f *testing.F) {
	for _, s := range Statuses {
		f.Add(s.String())
	}
	for _, s := range []string{"", "CampaignRequestQueued", "CampaignPreScheduled", "Campaign", "queued", "Status(3)", "\x00", "CampaignQueued\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s := Status(42)
		err := s.UnmarshalText([]byte(in))
		if err != nil {
			var se *StatusError
			if !errors.Is(err, ErrUnknownStatus) || !errors.As(err, &se) || se.Value != in {
				t.Fatalf("UnmarshalText(%q) error %#v", in, err)
			}
			if s != 42 {
				t.Fatalf("UnmarshalText(%q) failed but changed the status to %v", in, s)
			}
			return
		}
		if !slices.Contains(Statuses, s) {
			t.Fatalf("UnmarshalText(%q) = %v, not a status", in, s)
		}
		b, err := s.MarshalText()
		if err != nil {
			t.Fatalf("%v does not marshal: %v", s, err)
		}
		if string(b) != in && !(in == "CampaignRequestQueued" && s == HTTPQueued) {
			t.Fatalf("%q parsed as %v, which writes %q", in, s, b)
		}
	})
}
