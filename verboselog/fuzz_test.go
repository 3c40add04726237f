package verboselog

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
)

// A DeviceLog either decodes to a valid bundle that survives a round trip,
// or is refused with a typed error and the target untouched.
func FuzzBundleJSON(f *testing.F) {
	for _, s := range []string{
		`{"deviceId":"d1","logTime":"2025-03-01T09:30:00Z","logType":"SoftwareUpdate","eventLog":"ok","binaryLogFileBase64":"aGk=","binaryLogFilename":"a.bin"}`,
		`{"deviceId":"d1","logTime":"2025-03-01T09:30:00Z","logType":"WindowsMDM","uploadedAt":"2025-03-02T00:00:00Z"}`,
		`{"deviceId":"d1","logTime":"2025-03-01T09:30:00Z","logType":"Kernel"}`,
		`{"deviceId":"","logTime":"2025-03-01T09:30:00Z","logType":"Event"}`,
		`{"deviceId":"d1","logType":"Event"}`,
		`{"deviceId":"d1","logTime":"yesterday","logType":"Event"}`,
		`{"deviceId":1}`, `null`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sentinel := Bundle{DeviceID: "untouched"}
		b := sentinel
		err := json.Unmarshal(data, &b)
		if err != nil {
			if b != sentinel {
				t.Fatalf("failed decode changed the bundle: %+v", b)
			}
			var fe *FieldError
			var se *json.SyntaxError
			if !errors.As(err, &fe) && !errors.As(err, &se) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if fe != nil && !slices.Contains([]error{ErrJSON, ErrDeviceID, ErrTime, ErrLogType}, fe.Err) {
				t.Fatalf("unexpected sentinel %v", fe.Err)
			}
			return
		}
		if string(data) == "null" {
			return // encoding/json: null leaves the value alone
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("decoded an invalid bundle %+v: %v", b, err)
		}
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		var back Bundle
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("round trip of %s: %v", out, err)
		}
		if !back.LogTime.Equal(b.LogTime) || !back.UploadedAt.Equal(b.UploadedAt) {
			t.Fatalf("times changed: %+v vs %+v", back, b)
		}
		back.LogTime, back.UploadedAt = b.LogTime, b.UploadedAt // equal instants, maybe other locations
		if back != b {
			t.Fatalf("round trip: %+v vs %+v", back, b)
		}
	})
}

// A CheckInHistoryItem decodes to a valid check-in or is refused untouched.
func FuzzCheckInJSON(f *testing.F) {
	for _, s := range []string{
		`{"deviceId":"d1","clientType":6,"result":"Success","failureType":"","timeCompleted":"2025-03-01T09:30:00Z"}`,
		`{"deviceId":"d1","clientType":42,"timeCompleted":"2025-03-01T09:30:00Z"}`,
		`{"deviceId":"d1","clientType":-1,"timeCompleted":"2025-03-01T09:30:00Z"}`,
		`{"deviceId":"d1","clientType":"6","timeCompleted":"2025-03-01T09:30:00Z"}`,
		`{"deviceId":"d1","clientType":1.5,"timeCompleted":"2025-03-01T09:30:00Z"}`,
		`{"deviceId":"d1","clientType":null,"timeCompleted":"2025-03-01T09:30:00Z"}`,
		`{"deviceId":"d1"}`, `{}`, `null`, `{"clientType":99999999999}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sentinel := CheckIn{DeviceID: "untouched", ClientType: 3}
		c := sentinel
		if err := json.Unmarshal(data, &c); err != nil {
			if c != sentinel {
				t.Fatalf("failed decode changed the check-in: %+v", c)
			}
			var fe *FieldError
			var se *json.SyntaxError
			if !errors.As(err, &fe) && !errors.As(err, &se) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if string(data) == "null" {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("decoded an invalid check-in %+v: %v", c, err)
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back CheckIn
		if err := json.Unmarshal(out, &back); err != nil || back.ClientType != c.ClientType || !back.TimeCompleted.Equal(c.TimeCompleted) {
			t.Fatalf("round trip of %s: %+v, %v", out, back, err)
		}
	})
}

// Client types parse from their names or numbers and print back to the same
// value; anything else is ErrClientType with the value untouched.
func FuzzClientTypeUnmarshalText(f *testing.F) {
	for _, s := range []string{"Uknown", "Unknown", "Device", "RovaContainer", "WiFiClient", "RovaClient", "RovaClientAppStore", "0", "2", "7", "-1", "+3", "1e3", "", "device", "2147483648"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := ClientType(3)
		err := c.UnmarshalText([]byte(s))
		if err != nil {
			var fe *FieldError
			if c != 3 || !errors.As(err, &fe) || !errors.Is(err, ErrClientType) || fe.Value != s {
				t.Fatalf("%q: %v, value %d", s, err, c)
			}
			return
		}
		if c < 0 {
			t.Fatalf("%q parsed to %d", s, c)
		}
		b, err := c.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back ClientType
		if err := back.UnmarshalText(b); err != nil || back != c {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, c, b, back, err)
		}
		j, err := c.MarshalJSON()
		if err != nil || string(j) != strconv.Itoa(int(c)) {
			t.Fatalf("JSON of %d: %s, %v", c, j, err)
		}
	})
}

// States parse only from their exact names.
func FuzzStateUnmarshalText(f *testing.F) {
	for _, s := range []string{"Off", "Enabled", "Collecting", "Expired", "Disabled", "enabled", "", "On", "State(5)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st := Expired
		err := st.UnmarshalText([]byte(s))
		if err != nil {
			if st != Expired || !errors.Is(err, ErrState) {
				t.Fatalf("%q: %v, state %s", s, err, st)
			}
			return
		}
		if !slices.Contains(States, st) || st.String() != s {
			t.Fatalf("%q parsed to %s", s, st)
		}
	})
}
