package fota_test

import (
	"errors"
	"testing"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/device/omadm"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/verboselog"
)

// Every package's bad-input error matches fota.ErrBadRequest and names
// the field and the value it refused, so one errors.Is and one errors.As
// serve a host whichever package found the problem.
func TestEveryPackagesInputErrors(t *testing.T) {
	second := func(_ any, err error) error { return err }
	var st device.State
	var ev device.Event
	var cst lwm2m.State
	for name, err := range map[string]error{
		"campaign.ParseStatus":   second(campaign.ParseStatus("Nope")),
		"campaign.ParseEvent":    second(campaign.ParseEvent("nope")),
		"device.ParseProtocol":   second(device.ParseProtocol("CoAP")),
		"device.ParseIMEI":       second(device.ParseIMEI("123")),
		"device.ParseReason":     second(device.ParseReason(device.FamilyHTTP, "Nope.")),
		"device.ParseStatus":     second(device.ParseStatus(device.FamilyHTTP, "Nope")),
		"device.State":           st.UnmarshalText([]byte("Nope")),
		"device.Event":           ev.UnmarshalText([]byte("nope")),
		"lwm2m.ParseObservation": second(lwm2m.ParseObservation(9, 0)),
		"lwm2m.State":            cst.UnmarshalText([]byte("Nope")),
		"omadm.ParseAlert":       second(omadm.ParseAlert("1226", omadm.TypeUpdate, "./x", "", "999")),
		"omadm.ParseState":       second(omadm.ParseState(11)),
		"omadm.ParseResultCode":  second(omadm.ParseResultCode("2")),
		"schedule.ParseDate":     second(schedule.ParseDate("startDate", "2026-13-01")),
		"verboselog.CheckIn":     verboselog.CheckIn{}.Validate(),
		"pilot.Gate.Admit":       pilot.Gate{}.Admit(-1, pilot.DefaultPolicy()),
	} {
		var fv interface{ FieldValue() (string, string) }
		if !errors.Is(err, fota.ErrBadRequest) || !errors.As(err, &fv) {
			t.Errorf("%s: %v matches ErrBadRequest %v, names its field %v", name, err, errors.Is(err, fota.ErrBadRequest), errors.As(err, &fv))
			continue
		}
		if f, _ := fv.FieldValue(); f == "" {
			t.Errorf("%s: %v names no field", name, err)
		}
	}
	// A host's configuration is not a request: a bad policy is not a bad
	// request.
	if err := (schedule.Policy{RetryHour: 30}).Validate(); errors.Is(err, fota.ErrBadRequest) {
		t.Errorf("a bad schedule policy matches ErrBadRequest: %v", err)
	}
}
