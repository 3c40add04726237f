package omadm

import (
	"errors"
	"strconv"
	"testing"

	"github.com/fotakit/fota/device"
	"pgregory.net/rapid"
)

func alert(typ, data string) Alert {
	return Alert{Code: 1226, Type: typ, Source: "./FwUpdate/x/Update", Correlator: "c-1", Data: data}
}

// Outcome, per type and code (FUMO's Exec and Generic Alert rules; the package doc's table).
func TestOutcomeTable(t *testing.T) {
	for _, c := range []struct {
		typ, data string
		event     device.Event
		final     bool
	}{
		{TypeUpdate, "200", device.EventSucceeded, true},
		{TypeDownloadAndUpdate, "200", device.EventSucceeded, true},
		{TypeDownloadAndUpdate, "251", device.EventSucceeded, true},
		{TypeDownload, "200", 0, false}, // a download-only success is not final
		{TypeDownload, "299", 0, false},
		{TypeUpdate, "401", device.EventUpdateFailed, true},
		{TypeUpdate, "402", device.EventUpdateFailed, true},
		{TypeDownloadAndUpdate, "403", device.EventModuleMismatch, true},
		{TypeUpdate, "404", device.EventUpdateFailed, true},
		{TypeUpdate, "405", device.EventUpdateFailed, true},
		{TypeDownload, "406", device.EventInternalError, true},
		{TypeDownload, "407", device.EventInternalError, true},
		{TypeUpdate, "409", device.EventUpdateFailed, true},
		{TypeUpdate, "410", device.EventUpdateFailed, true},
		{TypeDownload, "411", device.EventInternalError, true},
		{TypeDownload, "412", device.EventInternalError, true},
		{TypeDownload, "460", device.EventUpdateFailed, true},
		{TypeDownloadAndUpdate, "500", device.EventInternalError, true},
		{TypeDownload, "501", device.EventUpdateFailed, true},
		{TypeUpdate, "502", device.EventUpdateFailed, true},
		{TypeDownload, "503", device.EventUpdateFailed, true},
		{TypeDownload, "577", device.EventInternalError, true},
	} {
		e, final, err := Outcome(alert(c.typ, c.data))
		if err != nil || e != c.event || final != c.final {
			t.Errorf("%s %s: %v %v %v", c.typ, c.data, e, final, err)
		}
	}
}

// For any valid alert: final unless a download succeeded, an event exactly
// when final, and one the push lifecycle accepts from Notified.
func TestOutcomeProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		typ := rapid.SampledFrom([]string{TypeDownload, TypeUpdate, TypeDownloadAndUpdate}).Draw(t, "type")
		code := ResultCode(rapid.IntRange(200, 599).Draw(t, "code"))
		a := alert(typ, strconv.Itoa(int(code)))
		e, final, err := Outcome(a)
		if !code.Valid() {
			if !errors.Is(err, ErrInvalidAlert) || !errors.Is(err, ErrUnknownResultCode) || e != 0 || final {
				t.Fatalf("%+v: %v %v %v", a, e, final, err)
			}
			return
		}
		if err != nil || final == (code.Successful() && typ == TypeDownload) || (e != 0) != final {
			t.Fatalf("%+v: %v %v %v", a, e, final, err)
		}
		if final && !device.PushTable.Can(device.StateNotified, e) {
			t.Fatalf("%+v: %v refused from Notified", a, e)
		}
		if final && (e == device.EventSucceeded) != code.Successful() {
			t.Fatalf("%+v: %v", a, e)
		}
	})
}

func TestAlertValidation(t *testing.T) {
	good := alert(TypeUpdate, "200")
	for _, c := range []struct {
		a            Alert
		field, value string
	}{
		{Alert{Code: 1225, Type: TypeUpdate, Source: "x", Data: "200"}, "Code", "1225"},
		{Alert{Code: 1226, Type: "org.openmobilealliance.dm.firmwareupdate.Update", Source: "x", Data: "200"}, "Type", "org.openmobilealliance.dm.firmwareupdate.Update"},
		{Alert{Code: 1226, Type: "", Source: "x", Data: "200"}, "Type", ""},
		{Alert{Code: 1226, Type: TypeDownload, Source: "", Data: "200"}, "Source", ""},
		{Alert{Code: 1226, Type: TypeDownload, Source: "x", Data: "OK"}, "Data", "OK"},
		{Alert{Code: 1226, Type: TypeDownload, Source: "x", Data: "201"}, "Data", "201"},
	} {
		err := c.a.Validate()
		var ae *AlertError
		if !errors.Is(err, ErrInvalidAlert) || !errors.As(err, &ae) || ae.Field != c.field || ae.Value != c.value {
			t.Errorf("%+v: %v", c.a, err)
		}
		if e, final, err2 := Outcome(c.a); err2 == nil || e != 0 || final {
			t.Errorf("Outcome(%+v) = %v %v %v", c.a, e, final, err2)
		}
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	good.Correlator = ""
	if err := good.Validate(); err != nil {
		t.Errorf("empty correlator refused: %v", err)
	}
	if _, err := (Alert{Code: 1226, Type: TypeDownload, Source: "x", Data: "2000"}).Result(); !errors.Is(err, ErrUnknownResultCode) {
		t.Errorf("Data 2000: %v", err)
	}
}

func TestParseAlert(t *testing.T) {
	a, err := ParseAlert("1226", TypeDownloadAndUpdate, "./FUMO/DownloadAndUpdate", "abc", "403")
	if err != nil || a != (Alert{1226, TypeDownloadAndUpdate, "./FUMO/DownloadAndUpdate", "abc", "403"}) {
		t.Fatalf("%+v %v", a, err)
	}
	for _, code := range []string{"", "1225", "01226", "+1226", " 1226", "1226 ", "122６"} {
		a, err := ParseAlert(code, TypeUpdate, "x", "", "200")
		var ae *AlertError
		if !errors.As(err, &ae) || ae.Field != "Code" || ae.Value != code || a != (Alert{}) {
			t.Errorf("code %q: %+v %v", code, a, err)
		}
	}
	if a, err := ParseAlert("1226", TypeUpdate, "x", "", "abc"); !errors.Is(err, ErrUnknownResultCode) || a != (Alert{}) {
		t.Errorf("bad data: %+v %v", a, err)
	}
	if (&AlertError{Field: "Type", Value: "t"}).Error() != `fota: omadm: alert Type: invalid value "t"` {
		t.Error("message")
	}
}

// "The client MUST send a status 202 (asynchronous) for the 'Exec' … if
// accepted for later processing".
func TestExecAccepted(t *testing.T) {
	for status := -1; status < 1000; status++ {
		if ExecAccepted(status) != (status == 202) {
			t.Errorf("ExecAccepted(%d) = %v", status, ExecAccepted(status))
		}
	}
}
