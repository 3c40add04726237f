package callback_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/callback"
)

// receiver is a callback URL that answers each attempt with the status
// answer returns, and keeps the bodies it accepted.
type receiver struct {
	*httptest.Server
	attempts atomic.Int64
	mu       sync.Mutex
	got      []callback.Message
}

func newReceiver(t *testing.T, answer func(attempt int64, r *http.Request) int) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := rc.attempts.Add(1)
		body, _ := io.ReadAll(r.Body)
		status := answer(n, r)
		if status == http.StatusOK {
			var m callback.Message
			if err := json.Unmarshal(body, &m); err != nil {
				t.Errorf("callback body %s: %v", body, err)
			}
			rc.mu.Lock()
			rc.got = append(rc.got, m)
			rc.mu.Unlock()
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) messages() []callback.Message {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]callback.Message(nil), rc.got...)
}

// start runs the dispatcher until the test ends.
func start(t *testing.T, d *callback.Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor polls until cond holds; the bound only turns a hang into a
// failure, it asserts nothing about speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

var at = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

func deviceChange(acc string) fota.Change {
	return fota.Change{Kind: fota.DeviceChanged, Time: at, Account: acc, CampaignID: "c1", DeviceID: "350000000000006",
		Family: device.FamilyHTTP, State: device.StateSucceeded, Reason: device.ReasonUpgraded}
}

// A receiver that fails its first two attempts gets the message on the
// third, with the registration's credentials in it, and nothing is a
// dead letter.
func TestRetriesUntilDelivered(t *testing.T) {
	rc := newReceiver(t, func(n int64, _ *http.Request) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	d := callback.New(callback.Config{Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, MaxAttempts: 5})
	if err := d.Register(callback.Registration{Account: "acme", Service: callback.ServiceV2, URL: rc.URL, Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	start(t, d)
	d.Observe(deviceChange("acme"))
	waitFor(t, "delivered", func() bool { return d.Stats().Delivered == 1 })
	if st := d.Stats(); st.Queued != 1 || st.Retried != 2 || st.DeadLetters != 0 || st.Dropped != 0 || rc.attempts.Load() != 3 {
		t.Fatalf("stats %+v after %d attempts", st, rc.attempts.Load())
	}
	got := rc.messages()
	want := callback.Message{AccountName: "acme", Type: callback.TypeDevice, Username: "u", Password: "p", CampaignID: "c1",
		DeviceList: []callback.DeviceStatus{{DeviceID: "350000000000006", Status: "UpgradeSuccess", ResultReason: device.ReasonUpgraded.Text(device.FamilyHTTP)}},
		Time:       at}
	if len(got) != 1 || got[0].Type != want.Type || got[0].Username != "u" || got[0].Password != "p" ||
		len(got[0].DeviceList) != 1 || got[0].DeviceList[0] != want.DeviceList[0] || !got[0].Time.Equal(at) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// A receiver that never answers: every attempt times out (the client's
// short timeout), and after MaxAttempts the message is a dead letter.
// Meanwhile Observe still returns at once.
func TestReceiverThatNeverAnswers(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(_ int64, r *http.Request) int {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return http.StatusOK
	})
	defer close(release) // before the server closes (cleanups run after defers)
	d := callback.New(callback.Config{Client: &http.Client{Timeout: 20 * time.Millisecond},
		Backoff: time.Millisecond, MaxAttempts: 3, Workers: 1})
	if err := d.Register(callback.Registration{Account: "acme", Service: callback.ServiceV2, URL: rc.URL}); err != nil {
		t.Fatal(err)
	}
	start(t, d)
	d.Observe(deviceChange("acme"))
	waitFor(t, "a dead letter", func() bool { return d.Stats().DeadLetters == 1 })
	if st := d.Stats(); st.Delivered != 0 || st.Retried != 2 || rc.attempts.Load() != 3 {
		t.Fatalf("stats %+v after %d attempts", st, rc.attempts.Load())
	}
}

// Observe never waits: with the queue full and no worker running, a
// change is dropped and counted; a change of an account without a
// registration is counted and forgotten.
func TestObserveNeverBlocks(t *testing.T) {
	d := callback.New(callback.Config{QueueSize: 1})
	if err := d.Register(callback.Registration{Account: "acme", Service: callback.ServiceV2, URL: "http://127.0.0.1:1/cb"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		d.Observe(deviceChange("acme"))
	}
	d.Observe(deviceChange("other"))
	d.Observe(fota.Change{Kind: fota.CampaignChanged, Account: "acme", Family: device.FamilyPush, Campaign: campaign.PushQueued}) // /v1: not registered
	if st := d.Stats(); st.Queued != 1 || st.Dropped != 2 || st.Unregistered != 2 || st.Delivered != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Deregistering stops delivery: a queued message is not sent, and a
// message waiting for its retry is not retried.
func TestDeregistrationStopsDelivery(t *testing.T) {
	t.Run("queued", func(t *testing.T) {
		rc := newReceiver(t, func(int64, *http.Request) int { return http.StatusOK })
		d := callback.New(callback.Config{})
		if err := d.Register(callback.Registration{Account: "acme", Service: callback.ServiceV2, URL: rc.URL}); err != nil {
			t.Fatal(err)
		}
		d.Observe(deviceChange("acme")) // queued, no worker yet
		if err := d.Deregister("acme", callback.ServiceV2); err != nil {
			t.Fatal(err)
		}
		start(t, d)
		waitFor(t, "the queued message discarded", func() bool { return d.Stats().Discarded == 1 })
		if rc.attempts.Load() != 0 || d.Stats().Delivered != 0 {
			t.Fatalf("delivered after deregistration: %d attempts, %+v", rc.attempts.Load(), d.Stats())
		}
	})
	t.Run("waiting for a retry", func(t *testing.T) {
		var d *callback.Dispatcher
		rc := newReceiver(t, func(int64, *http.Request) int {
			if err := d.Deregister("acme", callback.ServiceV2); err != nil {
				t.Error(err)
			}
			return http.StatusInternalServerError
		})
		d = callback.New(callback.Config{Backoff: time.Millisecond})
		if err := d.Register(callback.Registration{Account: "acme", Service: callback.ServiceV2, URL: rc.URL}); err != nil {
			t.Fatal(err)
		}
		start(t, d)
		d.Observe(deviceChange("acme"))
		waitFor(t, "the retry discarded", func() bool { return d.Stats().Discarded == 1 })
		if st := d.Stats(); rc.attempts.Load() != 1 || st.Retried != 1 || st.DeadLetters != 0 {
			t.Fatalf("%d attempts, %+v", rc.attempts.Load(), st)
		}
	})
}

// The family picks the registration: HTTP-family changes and licences go
// to the /v2 one, push-family changes to /v1's "Fota"; an updated URL
// takes effect for what is queued; a campaign status is spelled by
// Config.CampaignStatus.
func TestRoutingAndUpdate(t *testing.T) {
	old := newReceiver(t, func(int64, *http.Request) int { return http.StatusOK })
	v2 := newReceiver(t, func(int64, *http.Request) int { return http.StatusOK })
	v1 := newReceiver(t, func(int64, *http.Request) int { return http.StatusOK })
	d := callback.New(callback.Config{CampaignStatus: func(s campaign.Status) string { return "spelled " + s.String() }})
	for _, reg := range []callback.Registration{
		{Account: "acme", Service: callback.ServiceV2, URL: old.URL},
		{Account: "acme", Service: callback.ServiceV1, URL: v1.URL},
	} {
		if err := d.Register(reg); err != nil {
			t.Fatal(err)
		}
	}
	d.Observe(fota.Change{Kind: fota.CampaignChanged, Time: at, Account: "acme", CampaignID: "c1", Family: device.FamilyHTTP, Campaign: campaign.HTTPQueued})
	d.Observe(fota.Change{Kind: fota.LicenseChanged, Time: at, Account: "acme", DeviceID: "d1", Family: device.FamilyHTTP, License: device.LicenseAssignSuccess})
	d.Observe(fota.Change{Kind: fota.CampaignChanged, Time: at, Account: "acme", CampaignID: "u1", Family: device.FamilyPush, Campaign: campaign.PushQueued})
	if err := d.Update(callback.Registration{Account: "acme", Service: callback.ServiceV2, URL: v2.URL}); err != nil {
		t.Fatal(err)
	}
	start(t, d)
	waitFor(t, "three deliveries", func() bool { return d.Stats().Delivered == 3 })
	if old.attempts.Load() != 0 {
		t.Fatal("the old URL got messages after the update")
	}
	got2, got1 := v2.messages(), v1.messages()
	if len(got2) != 2 || len(got1) != 1 {
		t.Fatalf("v2 got %+v, v1 got %+v", got2, got1)
	}
	kinds := map[string]callback.Message{got2[0].Type: got2[0], got2[1].Type: got2[1]}
	if c := kinds[callback.TypeCampaign]; c.Status != "spelled CampaignQueued" || c.CampaignID != "c1" {
		t.Errorf("campaign message %+v", c)
	}
	if l := kinds[callback.TypeLicense]; len(l.DeviceList) != 1 || l.DeviceList[0].Status != "LicenseAssignSuccess" {
		t.Errorf("licence message %+v", l)
	}
	if got1[0].Status != "spelled Queued" || got1[0].CampaignID != "u1" {
		t.Errorf("/v1 message %+v", got1[0])
	}
}

// Registrations are checked, and a missing one is not found.
func TestRegistrationErrors(t *testing.T) {
	d := callback.New(callback.Config{})
	for _, reg := range []callback.Registration{
		{Account: "acme", Service: callback.ServiceV2, URL: "ftp://example.test/cb"},
		{Account: "acme", Service: callback.ServiceV2, URL: "/relative"},
		{Account: "acme", Service: callback.ServiceV2, URL: "http://user:pw@example.test/cb"},
		{Account: "acme", Service: callback.ServiceV2, URL: "http://example.test/" + string(make([]byte, callback.MaxURLBytes))},
		{Account: "acme", Service: "Sms", URL: "http://example.test/cb"},
	} {
		if err := d.Register(reg); !errors.Is(err, fota.ErrBadRequest) {
			t.Errorf("Register(%.60q) = %v", reg.URL, err)
		}
	}
	if err := d.Update(callback.Registration{Account: "acme", Service: callback.ServiceV2, URL: "http://example.test/cb"}); !errors.Is(err, fota.ErrNotFound) {
		t.Errorf("Update without a registration: %v", err)
	}
	if err := d.Deregister("acme", callback.ServiceV1); !errors.Is(err, fota.ErrNotFound) {
		t.Errorf("Deregister without a registration: %v", err)
	}
	if regs := d.Registrations("acme"); len(regs) != 0 {
		t.Errorf("refused registrations kept: %+v", regs)
	}
}
