package omadm

import (
	"errors"
	"testing"

	"github.com/fotakit/fota/device"
	"pgregory.net/rapid"
)

// FUMO's result codes, "Code | Meaning", with the device event of the package doc's
// table.
var resultTable = []struct {
	code    string
	want    ResultCode
	meaning string
	event   device.Event
}{
	{"200", Successful, "Successful", device.EventSucceeded},
	{"250", 250, "Successful – Vendor Specified", device.EventSucceeded},
	{"299", 299, "Successful – Vendor Specified", device.EventSucceeded},
	{"400", ManagementClientError, "Management Client Error", device.EventUpdateFailed},
	{"401", UserCancelled, "User Cancelled", device.EventUpdateFailed},
	{"402", CorruptedPackage, "Corrupted Firmware Update Package", device.EventUpdateFailed},
	{"403", PackageDeviceMismatch, "Package – Device Mismatch", device.EventModuleMismatch},
	{"404", FailedPackageValidation, "Failed Package Validation", device.EventUpdateFailed},
	{"405", PackageNotAcceptable, "Package Not Acceptable", device.EventUpdateFailed},
	{"406", AlternateDownloadAuthenticationFailure, "Alternate Download Authentication Failure", device.EventInternalError},
	{"407", AlternateDownloadRequestTimeOut, "Alternate Download Request Time-Out", device.EventInternalError},
	{"408", NotImplemented, "Not Implemented", device.EventUpdateFailed},
	{"409", UndefinedError, "Undefined Error", device.EventUpdateFailed},
	{"410", FirmwareUpdateFailed, "Firmware Update Failed", device.EventUpdateFailed},
	{"411", MalformedOrBadURL, "Malformed or Bad URL", device.EventInternalError},
	// KGM and Microsoft; the transcription omits 412 (package doc).
	{"412", AlternateDownloadServerUnavailable, "Alternate Download Server Unavailable", device.EventInternalError},
	{"450", 450, "Client Error – Vendor Specified", device.EventUpdateFailed},
	{"499", 499, "Client Error – Vendor Specified", device.EventUpdateFailed},
	// KGM and Microsoft; the transcription says "Firmware Update Failed".
	{"500", AlternateDownloadServerError, "Alternate Download Server Error", device.EventInternalError},
	{"501", DownloadOutOfMemory, "Download fails: device out of memory", device.EventUpdateFailed},
	{"502", UpdateOutOfMemory, "Update fails: device out of memory", device.EventUpdateFailed},
	{"503", DownloadNetworkIssues, "Download fails: network issues", device.EventUpdateFailed},
	{"550", 550, "Alternate Download Server Error – Vendor Specified", device.EventInternalError},
	{"599", 599, "Alternate Download Server Error – Vendor Specified", device.EventInternalError},
}

func TestResultCodeTable(t *testing.T) {
	for _, c := range resultTable {
		got, err := ParseResultCode(c.code)
		if err != nil || got != c.want || got.Meaning() != c.meaning || got.Event() != c.event {
			t.Errorf("%s: %v %q %v, %v", c.code, got, got.Meaning(), got.Event(), err)
		}
		// "2xx … successful outcome. The series 4xx and 5xx … failure"
		if got.Successful() != (c.code[0] == '2') {
			t.Errorf("%s: Successful() = %v", c.code, got.Successful())
		}
		if !device.PushTable.Can(device.StateNotified, got.Event()) {
			t.Errorf("%s: %v is refused from Notified", c.code, got.Event())
		}
	}
}

// Valid is exactly the named codes and the vendor ranges, over all ints
// near the table.
func TestResultCodeRanges(t *testing.T) {
	named := map[ResultCode]bool{}
	for _, c := range ResultCodes {
		named[c] = true
	}
	for c := ResultCode(-5); c < 1000; c++ {
		want := named[c] || c >= 250 && c <= 299 || c >= 450 && c <= 499 || c >= 550 && c <= 599
		if c.Valid() != want || (c.Meaning() != "") != want || (c.Event() != 0) != want {
			t.Errorf("%d: valid %v, meaning %q, event %v", c, c.Valid(), c.Meaning(), c.Event())
		}
		if c.Successful() != (c == 200 || c >= 250 && c <= 299) {
			t.Errorf("%d: Successful() = %v", c, c.Successful())
		}
	}
	if len(ResultCodes) != len(codeInfos) {
		t.Errorf("ResultCodes lists %d of %d codes", len(ResultCodes), len(codeInfos))
	}
}

func TestParseResultCodeRefusals(t *testing.T) {
	for _, s := range []string{"", "20", "0200", "201", "249", "300", "413", "449", "504", "549", "600", " 200", "200 ", "+20", "2e2", "９９９"} {
		c, err := ParseResultCode(s)
		var re *ResultCodeError
		if !errors.Is(err, ErrUnknownResultCode) || !errors.As(err, &re) || re.Field != "Data" || re.Value != s || c != 0 {
			t.Errorf("ParseResultCode(%q) = %v, %v", s, c, err)
		}
	}
}

func TestResultCodeText(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := ResultCode(rapid.IntRange(-1, 1000).Draw(t, "code"))
		b, err := c.MarshalText()
		if !c.Valid() {
			if !errors.Is(err, ErrUnknownResultCode) {
				t.Fatalf("%d marshalled: %q %v", c, b, err)
			}
			return
		}
		back := ResultCode(7)
		if err != nil || back.UnmarshalText(b) != nil || back != c {
			t.Fatalf("%d does not round-trip: %q", c, b)
		}
	})
	c := Successful
	if err := c.UnmarshalText([]byte("Successful")); !errors.Is(err, ErrUnknownResultCode) || c != Successful {
		t.Errorf("UnmarshalText(name) = %v, left %v", err, c)
	}
	if PackageDeviceMismatch.String() != "PackageDeviceMismatch" || ResultCode(451).String() != "VendorClientError(451)" || ResultCode(201).String() != "ResultCode(201)" {
		t.Error("names")
	}
}
