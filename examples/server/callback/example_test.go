package callback_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/callback"
)

// A Dispatcher as a Manager's Observer: an account registers its URL,
// and every change of its campaigns is posted there.
func ExampleDispatcher() {
	received := make(chan string, 1)
	listener := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		received <- string(b)
	}))
	defer listener.Close()

	d := callback.New(callback.Config{})
	if err := d.Register(callback.Registration{Account: "acme", Service: callback.ServiceV2, URL: listener.URL}); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)

	// fota.New(fota.Config{Observer: d}) makes the Manager call this.
	d.Observe(fota.Change{Kind: fota.CampaignChanged, Time: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		Account: "acme", CampaignID: "c1", Family: device.FamilyHTTP, Campaign: campaign.HTTPScheduled})
	fmt.Println(<-received)
	// Output:
	// {"accountName":"acme","type":"CampaignStatus","campaignId":"c1","status":"CampaignScheduled","time":"2026-03-02T00:00:00Z"}
}
