package sim_test

import (
	"context"
	"fmt"
	"strings"

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
	//     4 UpgradeFailed: RovaClientDownloadedInstallFailed
	//    16 UpgradeSuccess: Download and install succeeded.
	// rollout sim-2: 30 devices, CampaignEnded at Wed 14 Jan 00:00
	//     1 UpgradeFailed: RovaClientDidNotReportStatus
	//     3 UpgradeFailed: RovaClientDownloadedInstallFailed
	//    26 UpgradeSuccess: Download and install succeeded.
	// pilot gate: Lifted
}

// A scenario file, read on top of the defaults: a fleet of two groups
// and a rollout whose window is two hours a night.
func ExampleReadScenario() {
	file := `{
	  "fleet": [
	    {"name": "meters", "count": 900},
	    {"name": "kiosks", "count": 100, "checkInJitter": "10m", "followRetry": false}
	  ],
	  "rollout": {
	    "softwareName": "sensor-fw", "softwareFrom": "1.0", "softwareTo": "2.0",
	    "startDate": "+24h", "endDate": "+96h",
	    "downloadTimeWindowList": [{"startTime": 2, "endTime": 4}]
	  }
	}`
	s, err := sim.ReadScenario(strings.NewReader(file), sim.DefaultScenario(100_000))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Devices(), "devices;", s.Fleet[1].Name, "check in within", s.Fleet[1].CheckInJitter, "of their hour")
	fmt.Println("rollout:", s.Rollout.StartDate, "to", s.Rollout.EndDate, "after it is sent at", s.Rollout.ScheduleAt)

	_, err = sim.ReadScenario(strings.NewReader(`{"fleet": [{"name": "a", "chekInEvery": "24h"}]}`), s)
	fmt.Println(err)
	// Output:
	// 1000 devices; kiosks check in within 10m of their hour
	// rollout: +24h to +96h after it is sent at pilotEnd
	// sim: fleet[0].chekInEvery "24h": unknown field
}

// The forecast of the default scenario: the rollout's devices all check in
// on its first day, so its last five days add nothing.
func ExampleScenario_Forecast() {
	s := sim.DefaultScenario(100_000)
	f, err := s.Forecast()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range f.Campaigns {
		fmt.Printf("%s: %.1f%% reachable, 90%% finished by %s; %d days add nothing\n",
			c.Name, 100*c.Reachable, c.Finish90.Format("Mon 15:04"), len(c.QuietDays))
	}
	// Output:
	// pilot: 99.0% reachable, 90% finished by Tue 02:15; 0 days add nothing
	// rollout: 99.0% reachable, 90% finished by Thu 02:15; 5 days add nothing
}

// The default fleet as LwM2M devices: no pilot, one week-long /v1 push
// rollout that starts two hours after it is sent; a device that is never
// online fails once the 04:00 UTC retries run out.
func ExampleScenario_SetProtocol() {
	s := sim.DefaultScenario(200)
	if err := s.SetProtocol("lwm2m"); err != nil {
		fmt.Println(err)
		return
	}
	s.Fleet[0].NotificationLoss = 0.05 // the Manager reads /5/0 when a notification is lost
	rep, err := sim.Run(context.Background(), s)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := rep.Campaigns[0]
	fmt.Printf("%s %s: %d devices, %s at %s\n", c.Name, c.ID, c.Devices, c.Status, c.EndedAt.Format("Mon 02 Jan 15:04"))
	for _, row := range c.Tally {
		fmt.Printf("  %3d %s: %s\n", row.Count, row.Status, row.Reason)
	}
	fmt.Println("notifications lost:", rep.Totals.Lost > 0)
	// Output:
	// upgrade sim-1: 200 devices, Finished at Mon 12 Jan 00:00
	//     2 Upgrade Failed: Device is not in an active state or is not connected.
	//    12 Upgrade Failed: Firmware update to device failed.
	//   186 Upgrade Success: The firmware upgrade was successful.
	// notifications lost: true
}
