package device_test

import (
	"errors"
	"fmt"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/lifecycle"
)

// Scheduling a device into an HTTP campaign: the eligibility checks run in
// order and the first failure is the reason reported.
func ExampleCheck() {
	campaign := device.Prerequisites{Protocol: device.HTTP, Make: "Acme", Model: "Lamp", SoftwareFrom: "1.0"}
	lamp := device.Facts{
		Exists: true, IMEI: "490154203237518", Protocol: device.HTTP,
		Make: "Acme", Model: "Lamp", Software: "1.0",
		FOTACapable: true, ActiveConnected: true,
	}
	v := device.Check(&lamp, &campaign)
	fmt.Println(v.Status.Wire(device.FamilyHTTP), v.Reason.Text(device.FamilyHTTP))

	lamp.Software = "0.9"
	lamp.InOtherCampaign = true // also fails a later check
	v = device.Check(&lamp, &campaign)
	fmt.Println(v.Status.Wire(device.FamilyHTTP), v.Reason.Text(device.FamilyHTTP))
	// Output:
	// Accepted Device cleared all checks so it can be added to the scheduled list.
	// DeviceRejected Current device software version does not meet software prerequisites.
}

// An HTTP device checks in, downloads, is told to install and reports
// success; a repeated report is recognised rather than treated as bad input.
func ExampleNext() {
	s := device.StateAccepted
	for _, e := range []device.Event{device.EventDownload, device.EventDownloaded, device.EventInstall, device.EventInstalled} {
		s, _ = device.Next(device.FamilyHTTP, s, e)
		fmt.Println(e, "->", s, s.Status().Wire(device.FamilyHTTP))
	}
	fmt.Println(s.Reason().Text(device.FamilyHTTP))

	_, err := device.Next(device.FamilyHTTP, s, device.EventInstalled)
	fmt.Println(errors.Is(err, lifecycle.ErrInvalidTransition), device.DuplicateOf(device.FamilyHTTP, s, device.EventInstalled))
	// Output:
	// download -> Downloading UpgradePending
	// downloaded -> Downloaded UpgradePending
	// install -> Installing UpgradePending
	// installed -> Succeeded UpgradeSuccess
	// Download and install succeeded.
	// true true
}

func ExampleParseIMEI() {
	imei, err := device.ParseIMEI("490154203237518")
	fmt.Println(imei, err)

	_, err = device.ParseIMEI("490154203237517")
	var ie *device.IMEIError
	fmt.Println(errors.Is(err, device.ErrInvalidIMEI), errors.As(err, &ie), ie.Why)
	// Output:
	// 490154203237518 <nil>
	// true true check digit 7, want 8
}

// A device that has ever upgraded keeps its licence; that is an outcome,
// not an error.
func ExampleRemoveLicense() {
	l, out, err := device.RemoveLicense(device.Licensed, true)
	fmt.Println(l, out.Status, out.Reason.Text(device.FamilyPush), err)
	// Output:
	// Licensed LicenseRemoveFailed License removal not allowed for devices that have ever upgraded firmware. <nil>
}

func ExampleCatalog() {
	for _, e := range device.Catalog()[:3] {
		fmt.Printf("%s %s: %s\n", e.Family, e.Status, e.Detail)
	}
	// Output:
	// PUSH Device Accepted: Device cleared all check so it can be added to the scheduled list.
	// PUSH Device Rejected: Device not found.
	// PUSH Device Rejected: Invalid Device IMEI.
}
