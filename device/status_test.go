package device

import (
	"errors"
	"testing"
)

// "One device.Status set, spelled per family".
func TestStatusWire(t *testing.T) {
	for _, c := range []struct {
		s          Status
		name       string
		http, push string
	}{
		{Accepted, "Accepted", "Accepted", "Device Accepted"},
		{Rejected, "Rejected", "DeviceRejected", "Device Rejected"},
		{Pending, "Pending", "UpgradePending", "Upgrade Pending"},
		{Success, "Success", "UpgradeSuccess", "Upgrade Success"},
		{Failed, "Failed", "UpgradeFailed", "Upgrade Failed"},
		{Cancelled, "Cancelled", "CampaignCancelled", "CampaignCancelled"},
		{Aborted, "Aborted", "CampaignAborted", ""}, // "(no abort in the push family)"
	} {
		if c.s.String() != c.name || c.s.Wire(FamilyHTTP) != c.http || c.s.Wire(FamilyPush) != c.push {
			t.Errorf("%d: %q %q %q", c.s, c.s.String(), c.s.Wire(FamilyHTTP), c.s.Wire(FamilyPush))
		}
		for f, w := range map[Family]string{FamilyHTTP: c.http, FamilyPush: c.push} {
			got, err := ParseStatus(f, w)
			if w == "" {
				if err == nil {
					t.Errorf("ParseStatus(%s, \"\") = %s", f, got)
				}
				continue
			}
			if err != nil || got != c.s {
				t.Errorf("ParseStatus(%s, %q) = (%s, %v), want %s", f, w, got, err, c.s)
			}
		}
		b, err := c.s.MarshalText()
		if err != nil || string(b) != c.name {
			t.Errorf("MarshalText(%s) = %q, %v", c.s, b, err)
		}
		for _, w := range []string{c.name, c.http, c.push} {
			var s Status
			if w != "" && (s.UnmarshalText([]byte(w)) != nil || s != c.s) {
				t.Errorf("UnmarshalText(%q) = %s, want %s", w, s, c.s)
			}
		}
	}
	if len(Statuses) != 7 {
		t.Errorf("Statuses has %d entries", len(Statuses))
	}
}

// The spec's HTTP table spells the failed status "UpgradedFailed for
// UpgradePending"; ParseStatus accepts "UpgradedFailed" for HTTP only.
func TestStatusTypo(t *testing.T) {
	if s, err := ParseStatus(FamilyHTTP, "UpgradedFailed"); err != nil || s != Failed {
		t.Errorf("ParseStatus(HTTP, UpgradedFailed) = (%s, %v)", s, err)
	}
	if _, err := ParseStatus(FamilyPush, "UpgradedFailed"); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("push accepted UpgradedFailed: %v", err)
	}
	// A family's parser refuses the other family's spelling.
	if _, err := ParseStatus(FamilyPush, "DeviceRejected"); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("push accepted DeviceRejected: %v", err)
	}
	if _, err := ParseStatus(FamilyHTTP, "Upgrade Success"); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("HTTP accepted Upgrade Success: %v", err)
	}
}

func TestStatusErrors(t *testing.T) {
	var se *StatusError
	_, err := ParseStatus(FamilyHTTP, "Upgrade")
	if !errors.Is(err, ErrUnknownStatus) || !errors.As(err, &se) || se.Value != "Upgrade" || se.Field != "status (HTTP)" {
		t.Errorf("ParseStatus(HTTP, Upgrade): %#v", err)
	}
	if err.Error() != `fota: status (HTTP): unknown status "Upgrade"` {
		t.Errorf("message %q", err)
	}
	_, err = ParseStatus(0, "Accepted")
	if !errors.Is(err, ErrUnknownProtocol) {
		t.Errorf("ParseStatus(0, ...): %v", err)
	}
	s := Success
	if err := s.UnmarshalText([]byte("success")); !errors.As(err, &se) || se.Value != "success" || s != Success {
		t.Errorf("UnmarshalText(success) = %v, left %s", err, s)
	}
	if err := s.UnmarshalText(nil); !errors.Is(err, ErrUnknownStatus) || s != Success {
		t.Errorf("UnmarshalText(\"\") = %v, left %s", err, s)
	}
	if _, err := Status(0).MarshalText(); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("Status(0).MarshalText: %v", err)
	}
	if Status(0).Wire(FamilyHTTP) != "" || Accepted.Wire(0) != "" || Status(99).String() != "Status(99)" {
		t.Error("invalid statuses or families have spellings")
	}
}

// No spelling names two statuses, so UnmarshalText can accept them all.
func TestStatusSpellingsDisjoint(t *testing.T) {
	seen := map[string]Status{}
	for _, s := range Statuses {
		for _, w := range []string{s.String(), s.Wire(FamilyHTTP), s.Wire(FamilyPush)} {
			if w == "" {
				continue
			}
			if o, ok := seen[w]; ok && o != s {
				t.Errorf("%q names %s and %s", w, o, s)
			}
			seen[w] = s
		}
	}
}
