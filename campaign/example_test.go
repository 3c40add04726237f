package campaign_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
)

// An on-demand HTTP campaign skips Queued; a push campaign cannot be
// aborted.
func ExampleNext() {
	s := campaign.InitialStatus(device.FamilyHTTP)
	for _, e := range []campaign.Event{campaign.AcceptOnDemand, campaign.Begin, campaign.End} {
		s, _ = campaign.Next(s, e)
		fmt.Println(e, "→", s)
	}

	_, err := campaign.Next(campaign.PushInProgress, campaign.Abort)
	fmt.Println(errors.Is(err, campaign.ErrInvalidTransition))
	fmt.Println(err)
	// Output:
	// acceptOnDemand → CampaignScheduled
	// begin → CampaignInProgress
	// end → CampaignEnded
	// true
	// fota: campaign (push): event "abort" not allowed in state "InProgress"
}

// ThingSpace's one DELETE call cancels before the start and aborts after it.
func ExampleDelete() {
	start := time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC) // start date 2024-06-02
	end := time.Date(2024, 6, 9, 0, 0, 0, 0, time.UTC)   // end date 2024-06-08, inclusive

	e, err := campaign.Delete(campaign.HTTPQueued, start.Add(-time.Hour), start, end)
	fmt.Println(e, err)

	e, err = campaign.Delete(campaign.HTTPInProgress, start.Add(72*time.Hour), start, end)
	fmt.Println(e, err)

	_, err = campaign.Delete(campaign.HTTPInProgress, end, start, end)
	fmt.Println(errors.Is(err, campaign.ErrEnded))
	fmt.Println(err)
	// Output:
	// cancel <nil>
	// abort <nil>
	// true
	// fota: campaign abort refused in status CampaignInProgress: campaign has ended (now 2024-06-09T00:00:00Z, end 2024-06-09T00:00:00Z)
}

func ExampleParseStatus() {
	for _, in := range []string{"Queued", "CampaignQueued", "CampaignRequestQueued", "Campaign Queued"} {
		s, err := campaign.ParseStatus(in)
		if err != nil {
			fmt.Println(errors.Is(err, campaign.ErrUnknownStatus), err)
			continue
		}
		fmt.Println(in, "→", s.Family(), s)
	}
	// Output:
	// Queued → PUSH Queued
	// CampaignQueued → HTTP CampaignQueued
	// CampaignRequestQueued → HTTP CampaignQueued
	// true fota: status: unknown campaign status "Campaign Queued"
}
