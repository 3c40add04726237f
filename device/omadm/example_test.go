package omadm_test

import (
	"fmt"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/omadm"
)

// A server Execs DownloadAndUpdate; the client answers 202 and later
// sends Generic Alerts. Outcome says what each means for the device in
// its push campaign.
func ExampleOutcome() {
	fmt.Println("exec accepted:", omadm.ExecAccepted(202))
	for _, data := range []string{"200", "403", "412", "20"} {
		a, err := omadm.ParseAlert("1226", omadm.TypeDownloadAndUpdate, "./FwUpdate/x/DownloadAndUpdate", "corr-7", data)
		if err != nil {
			fmt.Println(err)
			continue
		}
		e, final, _ := omadm.Outcome(a)
		s, _ := device.Next(device.FamilyPush, device.StateNotified, e)
		c, _ := a.Result()
		fmt.Printf("%s %q: %v final=%v -> %q\n", data, c.Meaning(), e, final, s.Reason().Text(device.FamilyPush))
	}
	// A download alone succeeding is not the end: Exec Update comes next.
	e, final, _ := omadm.Outcome(omadm.Alert{Code: omadm.GenericAlert, Type: omadm.TypeDownload, Source: "./FwUpdate/x/Download", Data: "200"})
	fmt.Println(e, final)
	// Output:
	// exec accepted: true
	// 200 "Successful": succeeded final=true -> "The firmware upgrade was successful."
	// 403 "Package – Device Mismatch": moduleMismatch final=true -> "Current device module does not meet firmware prerequisites."
	// 412 "Alternate Download Server Unavailable": internalError final=true -> "Internal System Error. Please retry upgrade."
	// fota: omadm: alert Data: invalid value "20"
	// Event(0) false
}

// The client's machine for a DownloadAndUpdate: after the server's Exec,
// the client runs to the end on its own.
func ExampleStep() {
	s := omadm.Idle
	for _, e := range []omadm.Event{
		omadm.EventServerExecDownloadAndUpdate, omadm.EventClientDownloadComplete, omadm.EventClientReadyToUpdate,
		omadm.EventClientStartUpdate, omadm.EventClientUpdateSucceeded, omadm.EventClientCleanUp, omadm.EventServerExecUpdate,
	} {
		next, err := omadm.Step(s, e)
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Printf("%d %s -> %d %s\n", s, e, next, next.Label())
		s = next
	}
	// Output:
	// 10 serverExecDownloadAndUpdate -> 30 Download Progressing
	// 30 clientDownloadComplete -> 40 Download Complete
	// 40 clientReadyToUpdate -> 50 Ready to Update
	// 50 clientStartUpdate -> 60 Update Progressing
	// 60 clientUpdateSucceeded -> 90 Update Successful / Have Data
	// 90 clientCleanUp -> 100 Update Successful / No Data
	// fota: OMA-DM FUMO: event "serverExecUpdate" not allowed in state "UpdateSuccessfulNoData"
}
