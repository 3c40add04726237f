package sim_test

import (
	"context"
	"fmt"

	"github.com/fotakit/fota/sim"
)

// A pilot of 20 devices, then the rollout to the other 30: two days of
// pilot and a week of rollout, simulated in milliseconds.
func ExampleRun() {
	s := sim.DefaultScenario(50)
	s.Fleet[0].InstallFail = 0.1
	rep, err := sim.Run(context.Background(), s)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range rep.Campaigns {
		fmt.Printf("%s %s: %d devices, %s at %s\n", c.Name, c.ID, c.Devices, c.Status, c.EndedAt.Format("Mon 02 Jan 15:04"))
		for _, row := range c.Tally {
			fmt.Printf("  %3d %s: %s\n", row.Count, row.Status, row.Reason)
		}
	}
	fmt.Println("pilot gate:", rep.PilotGate)
	// Output:
	// pilot sim-1: 20 devices, CampaignEnded at Wed 07 Jan 00:00
	//     2 UpgradeFailed: RovaClientDownloadedInstallFailed
	//    18 UpgradeSuccess: Download and install succeeded.
	// rollout sim-2: 30 devices, CampaignEnded at Wed 14 Jan 00:00
	//     1 UpgradeFailed: RovaClientDidNotReportStatus
	//     1 UpgradeFailed: RovaClientDownloadFailed
	//     4 UpgradeFailed: RovaClientDownloadedInstallFailed
	//    24 UpgradeSuccess: Download and install succeeded.
	// pilot gate: Lifted
}
