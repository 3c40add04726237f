package lwm2m_test

import (
	"errors"
	"fmt"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/lifecycle"
)

// A server drives one device through an update: it asks Next, sends the
// command, records the acknowledgement with Sent, and feeds every Read or
// Notify to Observe. A notification the device sent before the reset
// arrives after its acknowledgement and is refused; the package write
// waits for the reset's own (Idle, Initial). The Downloaded notification
// is lost here; the Read that follows is still accepted.
func ExampleTracker() {
	var tr lwm2m.Tracker
	push := device.StateNotified
	observe := func(state, result int64) {
		o, err := lwm2m.ParseObservation(state, result)
		if err != nil {
			fmt.Println(err)
			return
		}
		var out lwm2m.Outcome
		tr, out, err = tr.Observe(o)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(o, out.Verdict)
		if out.Event != 0 {
			push, _ = device.Next(device.FamilyPush, push, out.Event)
			fmt.Println("device in campaign:", push, push.Status().Wire(device.FamilyPush))
		}
	}
	observe(2, 0) // the device holds an earlier download
	fmt.Println("next:", tr.Next())
	tr, _ = tr.Sent(lwm2m.CommandReset) // the device answered 2.04 Changed
	fmt.Println("next:", tr.Next())
	observe(2, 0) // sent before the reset, delivered after its 2.04
	observe(0, 0) // the reset done
	fmt.Println("next:", tr.Next())
	tr, _ = tr.Sent(lwm2m.CommandWritePackage)
	observe(1, 0)
	observe(1, 0) // a repeated notification
	observe(2, 0) // read after a timeout: Downloaded
	fmt.Println("next:", tr.Next())
	tr, _ = tr.Sent(lwm2m.CommandExecuteUpdate)
	observe(0, 1) // Updating was never seen
	observe(2, 0) // a stale notification
	fmt.Println("next:", tr.Next())
	// Output:
	// (Downloaded, Initial) InProgress
	// next: reset
	// next: wait
	// fota: lwm2m: observation (Downloaded, Initial) cannot follow (Idle, Initial)
	// (Idle, Initial) InProgress
	// next: writePackage
	// (Downloading, Initial) InProgress
	// (Downloading, Initial) InProgress
	// (Downloaded, Initial) InProgress
	// next: executeUpdate
	// (Idle, Success) Succeeded
	// device in campaign: Succeeded Upgrade Success
	// fota: lwm2m: observation (Downloaded, Initial) cannot follow (Idle, Success)
	// next: done
}

// The device's own view: Step moves through the table and refuses what
// the machine does not allow.
func ExampleStep() {
	s := lwm2m.Idle
	for _, e := range []lwm2m.Event{lwm2m.EventWritePackage, lwm2m.EventDownloaded, lwm2m.EventDefer, lwm2m.EventUpdate, lwm2m.EventCancel} {
		next, err := lwm2m.Step(s, e)
		if errors.Is(err, lifecycle.ErrInvalidTransition) {
			fmt.Println(err)
			continue
		}
		fmt.Println(s, "--", e, "->", next, e.Results())
		s = next
	}
	// Output:
	// Idle -- writePackage -> Downloading [Initial]
	// Downloading -- downloaded -> Downloaded [Initial]
	// Downloaded -- defer -> Downloaded [Deferred]
	// Downloaded -- update -> Updating [Initial]
	// fota: LwM2M firmware update: event "cancel" not allowed in state "Updating"
}

// Update Result values as a device reports them, with the device event a
// final one means.
func ExampleParseResult() {
	for _, v := range []int64{1, 5, 9, 11, 12} {
		r, err := lwm2m.ParseResult(v)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%d %s %q %v\n", v, r, r.Meaning(), r.Event())
	}
	// Output:
	// 1 Success "Firmware updated successfully" succeeded
	// 5 IntegrityCheckFailure "Integrity check failure" updateFailed
	// 9 UnsupportedProtocol "Unsupported protocol (URI scheme)" internalError
	// 11 Deferred "Firmware update deferred" Event(0)
	// fota: lwm2m: /5/0/5: value 12 out of range
}
