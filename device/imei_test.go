package device

import (
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// refLuhn is the textbook Luhn check over the whole number: from the
// right, double every second digit, sum the digits, require a multiple of
// ten. Written independently of luhnSum.
func refLuhn(s string) bool {
	if len(s) != 15 {
		return false
	}
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[len(s)-1-i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i%2 == 1 {
			d *= 2
			d = d/10 + d%10
		}
		sum += d
	}
	return sum%10 == 0
}

func TestIMEIKnown(t *testing.T) {
	for _, c := range []struct {
		s     string
		valid bool
		why   string
	}{
		{"490154203237518", true, ""}, // a widely quoted example IMEI
		{"356938035643809", true, ""},
		{"000000000000000", true, ""},
		{"490154203237517", false, "check digit 7, want 8"},
		{"49015420323751", false, "14 characters, want 15 digits"},
		{"4901542032375180", false, "16 characters, want 15 digits"},
		{"", false, "0 characters, want 15 digits"},
		{"49015420323751a", false, "character 15 is not a digit"},
		{" 49015420323751", false, "character 1 is not a digit"},
		{"49015420323751８", false, "17 characters, want 15 digits"}, // a full-width digit is not ASCII
	} {
		if got := ValidIMEI(c.s); got != c.valid {
			t.Errorf("ValidIMEI(%q) = %v", c.s, got)
		}
		got, err := ParseIMEI(c.s)
		if c.valid {
			if err != nil || got != c.s {
				t.Errorf("ParseIMEI(%q) = (%q, %v)", c.s, got, err)
			}
			continue
		}
		var ie *IMEIError
		if got != "" || !errors.Is(err, ErrInvalidIMEI) || !errors.As(err, &ie) || ie.Value != c.s || ie.Why != c.why {
			t.Errorf("ParseIMEI(%q) = (%q, %#v), want why %q", c.s, got, err, c.why)
		}
		if !strings.Contains(err.Error(), "IMEI") {
			t.Errorf("error %q does not name the field", err)
		}
	}
}

func TestIMEIProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(
			rapid.StringMatching(`[0-9]{13,17}`),
			rapid.StringMatching(`[0-9]{15}`),
			rapid.String(),
		).Draw(t, "s")
		_, err := ParseIMEI(s)
		if ValidIMEI(s) != refLuhn(s) || (err == nil) != ValidIMEI(s) {
			t.Fatalf("%q: ValidIMEI %v, reference %v, ParseIMEI %v", s, ValidIMEI(s), refLuhn(s), err)
		}
	})
	// Exactly one check digit completes any 14-digit body, and changing
	// any one digit of a valid IMEI makes it invalid.
	rapid.Check(t, func(t *rapid.T) {
		body := rapid.StringMatching(`[0-9]{14}`).Draw(t, "body")
		valid := ""
		for d := '0'; d <= '9'; d++ {
			if ValidIMEI(body + string(d)) {
				if valid != "" {
					t.Fatalf("%s has two check digits", body)
				}
				valid = body + string(d)
			}
		}
		if valid == "" {
			t.Fatalf("%s has no check digit", body)
		}
		i := rapid.IntRange(0, 14).Draw(t, "position")
		d := byte(rapid.IntRange(1, 9).Draw(t, "delta"))
		b := []byte(valid)
		b[i] = '0' + (b[i]-'0'+d)%10
		if ValidIMEI(string(b)) {
			t.Fatalf("%s valid after changing digit %d of %s", b, i, valid)
		}
	})
}

// sinkBool keeps the compiler from dropping calls whose results a test
// only measures.
var sinkBool bool

func TestValidIMEIAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { sinkBool = ValidIMEI("490154203237518") != ValidIMEI("49015420323751x") }); n != 0 {
		t.Fatalf("ValidIMEI allocates %v times", n)
	}
}

func TestIMEIOf(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		body := rapid.StringMatching(`[0-9]{14}`).Draw(t, "body")
		id, err := IMEIOf(body)
		if err != nil || !ValidIMEI(id) || !refLuhn(id) || id[:14] != body {
			t.Fatalf("IMEIOf(%q) = %q, %v", body, id, err)
		}
		// One byte that is not a digit, anywhere (either side of the
		// eight-byte words the check digit is computed in).
		at := rapid.IntRange(0, 13).Draw(t, "at")
		c := rapid.SampledFrom([]byte{'/', ':', ' ', 'a', 0, 0xB0, 0x80 + '5'}).Draw(t, "c")
		bad := body[:at] + string([]byte{c}) + body[at+1:]
		if id, err := IMEIOf(bad); !errors.Is(err, ErrInvalidIMEI) {
			t.Fatalf("IMEIOf(%q) = %q, %v; want an invalid IMEI", bad, id, err)
		}
	})
	if id, _ := IMEIOf("49015420323751"); id != "490154203237518" {
		t.Fatalf("known IMEI: %q", id)
	}
	for _, bad := range []string{"", "4901542032375", "490154203237518", "4901542032375x"} {
		if _, err := IMEIOf(bad); !errors.Is(err, ErrInvalidIMEI) {
			t.Errorf("IMEIOf(%q): %v", bad, err)
		}
	}
}

// TestAppendIMEI: AppendIMEI appends what IMEIOf returns, keeps dst's
// head, refuses what IMEIOf refuses with dst as it was (naming the body),
// and allocates nothing when dst has room.
func TestAppendIMEI(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		head := rapid.StringMatching(`[a-z]{0,3}`).Draw(t, "head")
		body := rapid.OneOf(rapid.StringMatching(`[0-9]{14}`), rapid.StringMatching(`[0-9x]{0,16}`)).Draw(t, "body")
		want, wantErr := IMEIOf(body)
		got, err := AppendIMEI([]byte(head), body)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("AppendIMEI(%q): %v; IMEIOf: %v", body, err, wantErr)
		}
		if err != nil {
			var ie *IMEIError
			if !errors.Is(err, ErrInvalidIMEI) || !errors.As(err, &ie) || ie.Value != body || string(got) != head {
				t.Fatalf("AppendIMEI(%q) = %q, %v", body, got, err)
			}
			return
		}
		if string(got) != head+want {
			t.Fatalf("AppendIMEI(%q, %q) = %q, want %q", head, body, got, head+want)
		}
	})
	var rec [15]byte
	body := [14]byte{'4', '9', '0', '1', '5', '4', '2', '0', '3', '2', '3', '7', '5', '1'}
	if n := testing.AllocsPerRun(100, func() {
		id, err := AppendIMEI(rec[:0], string(body[:]))
		sinkBool = err != nil || len(id) != 15
	}); n != 0 {
		t.Fatalf("AppendIMEI allocates %v times", n)
	}
	if string(rec[:]) != "490154203237518" {
		t.Fatalf("minted in place: %q", rec[:])
	}
}
