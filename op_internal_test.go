package fota

import (
	"reflect"
	"testing"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
)

// TestOpClearArgs: a pooled op goes back with nothing left of the call it
// served, whichever call that was (each names its device, as the calls
// require).
func TestOpClearArgs(t *testing.T) {
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for name, fill := range map[string]func(o *op){
		"checkIn": func(o *op) {
			o.checkIn = CheckInRequest{DeviceID: "350000000000001", ClientType: 6, Result: "ok"}
			o.answer, o.known = Instruction{Action: ActionDownload, CampaignID: "c1", Until: at}, true
		},
		"report": func(o *op) {
			o.report = reportArgs{campaignID: "c1", deviceID: "350000000000001", outcome: OutcomeInstalled}
			o.reportState = device.StateSucceeded
		},
		"confirm": func(o *op) {
			o.push.cmd = Command{CampaignID: "c1", DeviceID: "350000000000001", Kind: CommandObserve, Lease: 7}
			o.push.receipt = Receipt{Delivered: true, Status: 205, Value: &lwm2m.Observation{}}
			o.push.res = PushResult{State: device.StateNotified}
		},
		"observation": func(o *op) {
			o.push.deviceID, o.push.obs = "350000000000001", lwm2m.Observation{State: lwm2m.Downloading}
			o.push.res = PushResult{State: device.StateNotified}
		},
	} {
		var o op
		fill(&o)
		o.clearArgs()
		if !reflect.ValueOf(o).IsZero() {
			t.Errorf("%s: %+v left after clearArgs", name, o)
		}
	}
}
