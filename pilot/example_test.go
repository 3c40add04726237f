package pilot_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/fotakit/fota/pilot"
)

// A host keeps one gate per target. Until a pilot of 5 to 20 devices ends
// with at least half of them in UpgradeSuccess, campaigns of more than 20
// devices are refused.
func Example() {
	target := pilot.Target{Account: "acme", SoftwareName: "tracker-fw", SoftwareFrom: "1.0", SoftwareTo: "1.1"}
	policy := pilot.DefaultPolicy()
	gate := pilot.Gate{Target: target} // nothing stored yet: the gate stands
	now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

	err := gate.Admit(500, policy)
	var limit *pilot.LimitError
	if errors.Is(err, pilot.ErrPilotRequired) && errors.As(err, &limit) {
		fmt.Println("refused:", limit.Requested, "devices, limit", limit.Limit)
	}

	fmt.Println("12 devices is a pilot:", gate.IsPilot(12, policy))

	// The pilot asked for 12 devices; 2 were rejected, 4 of the other 10
	// upgraded: 40% is not enough.
	gate, lifted, _ := gate.Learn(pilot.Outcome{Ending: pilot.EndedNormally, Devices: 10, Succeeded: 4}, now, policy)
	fmt.Println("first pilot lifted the gate:", lifted, gate.State)

	// A second pilot: 5 of 10 is exactly 50%.
	gate, lifted, _ = gate.Learn(pilot.Outcome{Ending: pilot.EndedNormally, Devices: 10, Succeeded: 5}, now.Add(7*24*time.Hour), policy)
	fmt.Println("second pilot lifted the gate:", lifted, gate.State, "after", gate.Pilots, "pilots on", gate.LiftedAt.Format(time.DateOnly))

	fmt.Println("500 devices now:", gate.Admit(500, policy))
	// Output:
	// refused: 500 devices, limit 20
	// 12 devices is a pilot: true
	// first pilot lifted the gate: false Standing
	// second pilot lifted the gate: true Lifted after 2 pilots on 2024-03-08
	// 500 devices now: <nil>
}

// Gates keeps gates in memory for hosts without a store; its zero value
// applies ThingSpace's policy.
func ExampleGates() {
	var gates pilot.Gates
	target := pilot.Target{Account: "acme", SoftwareName: "tracker-fw", SoftwareFrom: "1.0", SoftwareTo: "1.1"}
	now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

	fmt.Println(gates.Admit(target, 21))
	// A cancelled campaign does not count, however well it went.
	_, lifted, _ := gates.Learn(target, pilot.Outcome{Ending: pilot.Cancelled, Devices: 8, Succeeded: 8}, now)
	fmt.Println("cancelled:", lifted)
	_, lifted, _ = gates.Learn(target, pilot.Outcome{Ending: pilot.EndedNormally, Devices: 5, Succeeded: 3}, now)
	fmt.Println("3 of 5:", lifted)
	fmt.Println(gates.Admit(target, 21))
	// Output:
	// fota: pilot gate acme:tracker-fw 1.0->1.1: campaign of 21 devices exceeds the pilot limit of 20 until a pilot campaign succeeds
	// cancelled: false
	// 3 of 5: true
	// <nil>
}
