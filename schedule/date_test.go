package schedule

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestParseDate: "Dates are YYYY-MM-DD strings" (§5.1), strictly.
func TestParseDate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2020-08-21", Date{2020, 8, 21}, true}, // the SDK's example
		{"2024-02-29", Date{2024, 2, 29}, true},
		{"0001-01-01", Date{1, 1, 1}, true},
		{"9999-12-31", Date{9999, 12, 31}, true},
		{"2025-02-29", Date{}, false}, // not a leap year
		{"2026-04-31", Date{}, false},
		{"2026-13-01", Date{}, false},
		{"2026-00-10", Date{}, false},
		{"2026-01-00", Date{}, false},
		{"0000-01-01", Date{}, false},
		{"2026-1-01", Date{}, false},
		{"2026/01/01", Date{}, false},
		{"2026-01-01T00:00:00Z", Date{}, false},
		{" 2026-01-01", Date{}, false},
		{"+026-01-01", Date{}, false},
		{"2026-0a-01", Date{}, false},
		{"", Date{}, false},
	} {
		got, err := ParseDate("startDate", c.in)
		if c.ok {
			if err != nil || got != c.want || got.String() != c.in {
				t.Errorf("ParseDate(%q) = %v, %v", c.in, got, err)
			}
			continue
		}
		var fe *FieldError
		if err == nil || !errors.Is(err, ErrBadDate) || !errors.As(err, &fe) || fe.Field != "startDate" || fe.Value != c.in || got != (Date{}) {
			t.Errorf("ParseDate(%q) = %v, %v; want ErrBadDate naming startDate", c.in, got, err)
		}
	}
}

func TestDateMethods(t *testing.T) {
	d := Date{2026, time.February, 28}
	if d.AddDays(1) != (Date{2026, 3, 1}) || d.AddDays(-59) != (Date{2025, 12, 31}) {
		t.Errorf("AddDays: %v %v", d.AddDays(1), d.AddDays(-59))
	}
	if !d.Start().Equal(utc(2026, 2, 28, 0, 0, 0)) || !d.End().Equal(utc(2026, 3, 1, 0, 0, 0)) {
		t.Errorf("Start %v End %v", d.Start(), d.End())
	}
	ny, _ := time.LoadLocation("America/New_York")
	// 22:00 in New York on the 27th is already the 28th in UTC.
	if got := DateOf(time.Date(2026, 2, 27, 22, 0, 0, 0, ny)); got != d {
		t.Errorf("DateOf = %v", got)
	}
	if !(Date{}).IsZero() || d.IsZero() {
		t.Error("IsZero")
	}
	if b, err := (Date{}).MarshalText(); err != nil || len(b) != 0 {
		t.Errorf("zero MarshalText %q %v", b, err)
	}
	if _, err := (Date{2026, 2, 30}).MarshalText(); !errors.Is(err, ErrBadDate) {
		t.Errorf("invalid MarshalText: %v", err)
	}
	var u Date = d
	if err := u.UnmarshalText([]byte("2026-02-30")); err == nil || u != d {
		t.Errorf("failed UnmarshalText changed %v (%v)", u, err)
	}
	if err := u.UnmarshalText(nil); err != nil || !u.IsZero() {
		t.Errorf(`"" reads as %v %v`, u, err)
	}
}

// TestDateOrder: Before/After/Equal agree with the days' start instants,
// and AddDays with 24-hour steps in UTC.
func TestDateOrder(t *testing.T) {
	gen := rapid.Custom(func(t *rapid.T) Date {
		return Date{1, 1, 1}.AddDays(rapid.IntRange(0, 3652058).Draw(t, "days")) // ..9999-12-31
	})
	rapid.Check(t, func(t *rapid.T) {
		a, b := gen.Draw(t, "a"), gen.Draw(t, "b")
		as, bs := a.Start(), b.Start()
		if a.Before(b) != as.Before(bs) || a.After(b) != as.After(bs) || a.Equal(b) != as.Equal(bs) {
			t.Fatalf("order of %v and %v", a, b)
		}
		n := rapid.IntRange(-1000, 1000).Draw(t, "n")
		if got := a.AddDays(n).Start(); !got.Equal(as.Add(time.Duration(n) * 24 * time.Hour)) {
			t.Fatalf("%v + %d = %v", a, n, a.AddDays(n))
		}
		if DateOf(as) != a || DateOf(a.End().Add(-time.Nanosecond)) != a || DateOf(a.End()) != a.AddDays(1) {
			t.Fatalf("DateOf around %v", a)
		}
		if p, err := ParseDate("d", a.String()); err != nil || p != a {
			t.Fatalf("round trip %v: %v %v", a, p, err)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-05", "2024-02-29", "2025-02-29", "9999-12-31", "0000-01-01", "2026-1-1", "", "２０２６-01-01", "2026-03-05\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate("endDate", s)
		if err != nil {
			var fe *FieldError
			if !errors.Is(err, ErrBadDate) || !errors.As(err, &fe) || fe.Field != "endDate" || fe.Value != s || d != (Date{}) {
				t.Fatalf("ParseDate(%q): %v, %v", s, d, err)
			}
			_ = err.Error()
			return
		}
		// Accepted: it is exactly what String prints, and agrees with the
		// time package's reading.
		tm, terr := time.Parse(time.DateOnly, s)
		if d.String() != s || terr != nil || DateOf(tm) != d {
			t.Fatalf("ParseDate(%q) = %v; time.Parse %v %v", s, d, tm, terr)
		}
		b, err := json.Marshal(d)
		var back Date
		if err != nil || json.Unmarshal(b, &back) != nil || back != d {
			t.Fatalf("JSON round trip of %v: %s %v", d, b, err)
		}
	})
}
