package device

import (
	"errors"
	"testing"
)

// thingspace-api.md: "OMA" is v2's distributionType, "OMD-DM" (sic) is
// v3's enum; both mean OMA-DM.
func TestParseProtocol(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Protocol
		fam  Family
	}{
		{"LWM2M", LWM2M, FamilyPush},
		{"OMA-DM", OMADM, FamilyPush},
		{"OMA", OMADM, FamilyPush},
		{"OMD-DM", OMADM, FamilyPush},
		{"OMADM", OMADM, FamilyPush},
		{"HTTP", HTTP, FamilyHTTP},
	} {
		p, err := ParseProtocol(c.in)
		if err != nil || p != c.want || p.Family() != c.fam {
			t.Errorf("ParseProtocol(%q) = (%s, %v), family %s", c.in, p, err, p.Family())
		}
		var q Protocol
		if err := q.UnmarshalText([]byte(c.in)); err != nil || q != c.want {
			t.Errorf("UnmarshalText(%q) = %s, %v", c.in, q, err)
		}
	}
	for _, p := range Protocols {
		b, err := p.MarshalText()
		back, perr := ParseProtocol(string(b))
		if err != nil || perr != nil || back != p {
			t.Errorf("%s does not round-trip: %q", p, b)
		}
	}
}

func TestProtocolErrors(t *testing.T) {
	var pe *ProtocolError
	for _, in := range []string{"", "http", "LwM2M", "OMA-DM "} {
		p, err := ParseProtocol(in)
		if p != 0 || !errors.Is(err, ErrUnknownProtocol) || !errors.As(err, &pe) || pe.Field != "protocol" || pe.Value != in {
			t.Errorf("ParseProtocol(%q) = (%d, %v)", in, p, err)
		}
	}
	p := HTTP
	if err := p.UnmarshalText([]byte("SMS")); !errors.Is(err, ErrUnknownProtocol) || p != HTTP {
		t.Errorf("UnmarshalText(SMS) = %v, left %s", err, p)
	}
	if _, err := Protocol(0).MarshalText(); !errors.Is(err, ErrUnknownProtocol) {
		t.Errorf("Protocol(0).MarshalText = %v", err)
	}
	if Protocol(0).Family() != 0 || Protocol(9).String() != "Protocol(9)" {
		t.Error("an invalid protocol has a family or name")
	}
}

func TestFamilyText(t *testing.T) {
	for _, f := range Families {
		b, err := f.MarshalText()
		var back Family
		if err != nil || back.UnmarshalText(b) != nil || back != f {
			t.Errorf("%s does not round-trip: %q", f, b)
		}
	}
	f := FamilyPush
	if err := f.UnmarshalText([]byte("push")); !errors.Is(err, ErrUnknownProtocol) || f != FamilyPush {
		t.Errorf("UnmarshalText(push) = %v, left %s", err, f)
	}
	if _, err := Family(0).MarshalText(); !errors.Is(err, ErrUnknownProtocol) {
		t.Errorf("Family(0).MarshalText = %v", err)
	}
}
