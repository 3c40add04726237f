package device

import (
	"errors"
	"testing"
)

// Fuzz targets for every parser: no panics, typed errors, nothing changed
// on error, and a round trip where one applies.

func FuzzStatusUnmarshalText(f *testing.F) {
	for _, s := range Statuses {
		f.Add(s.String())
		f.Add(s.Wire(FamilyHTTP))
		f.Add(s.Wire(FamilyPush))
	}
	f.Add("UpgradedFailed")
	f.Add("")
	f.Fuzz(func(t *testing.T, w string) {
		s := Status(200)
		if err := s.UnmarshalText([]byte(w)); err != nil {
			var se *StatusError
			if !errors.Is(err, ErrUnknownStatus) || !errors.As(err, &se) || se.Value != w || s != 200 {
				t.Fatalf("%q: %v, left %d", w, err, s)
			}
			return
		}
		b, err := s.MarshalText()
		var back Status
		if err != nil || back.UnmarshalText(b) != nil || back != s {
			t.Fatalf("%q -> %s does not round-trip", w, s)
		}
		// Whatever was accepted is the neutral name or a family's spelling.
		if w != s.String() && w != s.Wire(FamilyHTTP) && w != s.Wire(FamilyPush) && w != "UpgradedFailed" {
			t.Fatalf("%q accepted as %s", w, s)
		}
		for _, fam := range Families {
			if p, err := ParseStatus(fam, w); err == nil && p != s {
				t.Fatalf("ParseStatus(%s, %q) = %s, UnmarshalText says %s", fam, w, p, s)
			}
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range Statuses {
		f.Add(uint8(FamilyHTTP), s.Wire(FamilyHTTP))
		f.Add(uint8(FamilyPush), s.Wire(FamilyPush))
	}
	f.Add(uint8(0), "Accepted")
	f.Fuzz(func(t *testing.T, fam uint8, w string) {
		s, err := ParseStatus(Family(fam), w)
		if err != nil {
			if s != 0 || !(errors.Is(err, ErrUnknownStatus) || errors.Is(err, ErrUnknownProtocol)) {
				t.Fatalf("(%d, %q): %d, %v", fam, w, s, err)
			}
			return
		}
		if s.Wire(Family(fam)) != w && w != "UpgradedFailed" {
			t.Fatalf("(%d, %q) parsed as %s, spelled %q", fam, w, s, s.Wire(Family(fam)))
		}
	})
}

func FuzzStateUnmarshalText(f *testing.F) {
	for _, s := range States {
		f.Add(s.String())
	}
	for _, e := range Events {
		f.Add(e.String())
	}
	f.Add("")
	f.Fuzz(func(t *testing.T, w string) {
		s := State(200)
		if err := s.UnmarshalText([]byte(w)); err != nil {
			if !errors.Is(err, ErrUnknownState) || s != 200 {
				t.Fatalf("%q: %v, left %d", w, err, s)
			}
		} else if b, err := s.MarshalText(); err != nil || string(b) != w {
			t.Fatalf("%q -> %s -> %q, %v", w, s, b, err)
		}
		e := Event(200)
		if err := e.UnmarshalText([]byte(w)); err != nil {
			if !errors.Is(err, ErrUnknownEvent) || e != 200 {
				t.Fatalf("%q: %v, left %d", w, err, e)
			}
		} else if b, err := e.MarshalText(); err != nil || string(b) != w {
			t.Fatalf("%q -> %s -> %q, %v", w, e, b, err)
		}
	})
}

func FuzzLicenseStatusUnmarshalText(f *testing.F) {
	for _, s := range LicenseStatuses {
		f.Add(s.String())
	}
	f.Add("Licensed")
	f.Add("")
	f.Fuzz(func(t *testing.T, w string) {
		s := LicenseStatus(200)
		if err := s.UnmarshalText([]byte(w)); err != nil {
			if !errors.Is(err, ErrUnknownStatus) || s != 200 {
				t.Fatalf("%q: %v, left %d", w, err, s)
			}
		} else if b, err := s.MarshalText(); err != nil || string(b) != w {
			t.Fatalf("%q -> %s -> %q, %v", w, s, b, err)
		}
		l := License(200)
		if err := l.UnmarshalText([]byte(w)); err != nil {
			if !errors.Is(err, ErrUnknownState) || l != 200 {
				t.Fatalf("%q: %v, left %d", w, err, l)
			}
		} else if b, err := l.MarshalText(); err != nil || string(b) != w {
			t.Fatalf("%q -> %s -> %q, %v", w, l, b, err)
		}
	})
}

func FuzzParseReason(f *testing.F) {
	for _, r := range Reasons {
		f.Add(uint8(FamilyHTTP), r.Text(FamilyHTTP))
		f.Add(uint8(FamilyPush), r.Text(FamilyPush))
		f.Add(uint8(FamilyPush), r.String())
	}
	f.Fuzz(func(t *testing.T, fam uint8, w string) {
		r, err := ParseReason(Family(fam), w)
		if err != nil {
			var re *ReasonError
			if r != ReasonNone || !(errors.As(err, &re) && re.Value == w || errors.Is(err, ErrUnknownProtocol)) {
				t.Fatalf("(%d, %q): %s, %v", fam, w, r, err)
			}
		} else if r.Text(Family(fam)) != w {
			t.Fatalf("(%d, %q) parsed as %s, whose sentence is %q", fam, w, r, r.Text(Family(fam)))
		}
		q := Reason(200)
		if err := q.UnmarshalText([]byte(w)); err != nil {
			if !errors.Is(err, ErrUnknownReason) || q != 200 {
				t.Fatalf("UnmarshalText(%q): %v, left %d", w, err, q)
			}
			return
		}
		b, err := q.MarshalText()
		back := Reason(200)
		if err != nil || back.UnmarshalText(b) != nil || back != q {
			t.Fatalf("%q -> %s does not round-trip", w, q)
		}
	})
}

func FuzzParseProtocol(f *testing.F) {
	for _, s := range []string{"LWM2M", "OMA-DM", "OMA", "OMD-DM", "OMADM", "HTTP", "http", "", "PUSH"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, w string) {
		p, err := ParseProtocol(w)
		if err != nil {
			var pe *ProtocolError
			if p != 0 || !errors.Is(err, ErrUnknownProtocol) || !errors.As(err, &pe) || pe.Value != w {
				t.Fatalf("%q: %d, %v", w, p, err)
			}
		} else {
			b, err := p.MarshalText()
			back, berr := ParseProtocol(string(b))
			if err != nil || berr != nil || back != p || p.Family() == 0 {
				t.Fatalf("%q -> %s does not round-trip", w, p)
			}
		}
		fam := Family(200)
		if err := fam.UnmarshalText([]byte(w)); err != nil {
			if !errors.Is(err, ErrUnknownProtocol) || fam != 200 {
				t.Fatalf("Family(%q): %v, left %d", w, err, fam)
			}
		} else if b, err := fam.MarshalText(); err != nil || string(b) != w {
			t.Fatalf("Family %q -> %q, %v", w, b, err)
		}
	})
}

func FuzzParseIMEI(f *testing.F) {
	for _, s := range []string{"490154203237518", "490154203237517", "", "49015420323751a", "4901542032375180"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseIMEI(s)
		if (err == nil) != ValidIMEI(s) || ValidIMEI(s) != refLuhn(s) {
			t.Fatalf("%q: ParseIMEI %v, ValidIMEI %v, reference %v", s, err, ValidIMEI(s), refLuhn(s))
		}
		if err != nil {
			var ie *IMEIError
			if got != "" || !errors.Is(err, ErrInvalidIMEI) || !errors.As(err, &ie) || ie.Value != s || ie.Why == "" {
				t.Fatalf("%q: %q, %v", s, got, err)
			}
		} else if got != s {
			t.Fatalf("%q parsed as %q", s, got)
		}
	})
}
