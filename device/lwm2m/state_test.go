package lwm2m

import (
	"errors"
	"testing"
)

// the object's resource table: "3 | State | R | M | 0 Idle, 1 Downloading, 2 Downloaded, 3 Updating"
func TestStateValues(t *testing.T) {
	for _, c := range []struct {
		wire int64
		want State
		name string
	}{{0, Idle, "Idle"}, {1, Downloading, "Downloading"}, {2, Downloaded, "Downloaded"}, {3, Updating, "Updating"}} {
		s, err := ParseState(c.wire)
		if err != nil || s != c.want || s.String() != c.name {
			t.Errorf("ParseState(%d) = %v (%q), %v; want %s", c.wire, s, s.String(), err, c.name)
		}
	}
}

// the object's Update Result table, "Code | Meaning" (codes 10 and 11 are v1.1).
func TestResultMeanings(t *testing.T) {
	for _, c := range []struct {
		code    int64
		want    Result
		meaning string
	}{
		{0, Initial, "Initial value"},
		{1, Success, "Firmware updated successfully"},
		{2, NotEnoughFlash, "Not enough flash memory"},
		{3, OutOfRAM, "Out of RAM during download"},
		{4, ConnectionLost, "Connection lost during download"},
		{5, IntegrityCheckFailure, "Integrity check failure"},
		{6, UnsupportedPackageType, "Unsupported package type"},
		{7, InvalidURI, "Invalid URI"},
		{8, UpdateFailed, "Firmware update failed"},
		{9, UnsupportedProtocol, "Unsupported protocol (URI scheme)"},
		{10, Cancelled, "Firmware update cancelled"},
		{11, Deferred, "Firmware update deferred"},
	} {
		r, err := ParseResult(c.code)
		if err != nil || r != c.want || r.Meaning() != c.meaning {
			t.Errorf("ParseResult(%d) = %v %q, %v; want %v %q", c.code, r, r.Meaning(), err, c.want, c.meaning)
		}
	}
	if len(Results) != 12 || Result(12).Meaning() != "" {
		t.Errorf("v1.1 range is 0..11: %d results", len(Results))
	}
}

func TestParseOutOfRange(t *testing.T) {
	for _, c := range []struct {
		state, result int64
		resource      string
		value         int64
	}{
		{4, 0, "/5/0/3", 4}, {-1, 0, "/5/0/3", -1}, {1 << 40, 0, "/5/0/3", 1 << 40},
		{0, 12, "/5/0/5", 12}, {2, -3, "/5/0/5", -3}, {9, 99, "/5/0/3", 9},
	} {
		o, err := ParseObservation(c.state, c.result)
		var re *RangeError
		if !errors.Is(err, ErrOutOfRange) || !errors.As(err, &re) || re.Resource != c.resource || re.Value != c.value || o != (Observation{}) {
			t.Errorf("ParseObservation(%d, %d) = %v, %v", c.state, c.result, o, err)
		}
	}
	if _, err := ParseState(4); err == nil || err.Error() != "fota: lwm2m: /5/0/3: value 4 out of range" {
		t.Errorf("message: %v", err)
	}
}

func TestTextRoundTrip(t *testing.T) {
	for _, s := range States {
		b, err := s.MarshalText()
		var back State = 3
		if err != nil || back.UnmarshalText(b) != nil || back != s {
			t.Errorf("%v does not round-trip: %q %v", s, b, err)
		}
	}
	for _, r := range Results {
		b, err := r.MarshalText()
		var back Result = 5
		if err != nil || back.UnmarshalText(b) != nil || back != r {
			t.Errorf("%v does not round-trip: %q %v", r, b, err)
		}
	}
	if _, err := State(4).MarshalText(); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("State(4).MarshalText: %v", err)
	}
	if _, err := Result(12).MarshalText(); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Result(12).MarshalText: %v", err)
	}
	s, r := Updating, Deferred
	var ne *NameError
	if err := s.UnmarshalText([]byte("idle")); !errors.Is(err, ErrUnknownName) || !errors.As(err, &ne) || ne.Field != "state" || ne.Value != "idle" || s != Updating {
		t.Errorf("State.UnmarshalText(idle) = %v, left %v", err, s)
	}
	if err := r.UnmarshalText([]byte("1")); !errors.As(err, &ne) || ne.Field != "result" || r != Deferred {
		t.Errorf("Result.UnmarshalText(1) = %v, left %v", err, r)
	}
	if State(7).String() != "State(7)" || Result(200).String() != "Result(200)" || Event(0).String() != "Event(0)" {
		t.Error("names of values off the range")
	}
}
