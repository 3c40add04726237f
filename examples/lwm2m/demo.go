package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/push"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

// options are the command's flags.
type options struct {
	demo                     int
	loss                     float64
	seed                     uint64
	failDownload, failUpdate int
	reboot                   int
	imageSize                int
	readAfter, timeout       time.Duration
	verbose                  bool
}

// summary is what a demo run did.
type summary struct {
	Done     bool           // every device ended in a terminal state
	Elapsed  time.Duration  // from the first registration to the last settled device
	Tally    map[string]int // devices by campaign status
	Devices  []push.Device
	Server   server.Stats
	Sent     map[push.CommandKind]int64
	Refused  int64    // observations the Plan could not place
	Dropped  int      // notifications the clients lost on purpose
	Unsent   []bool   // per device: its outcome never went out in a notification
	Clients  []string // per device: the client's own Object 5 state and counters at the end
	Images   int      // clients holding an image identical to the server's
	Firmware server.Firmware
}

func knobs(o options) func(i int) client.Knobs {
	return func(i int) client.Knobs {
		k := client.Knobs{NotificationLoss: o.loss}
		n := i + 1
		switch {
		case o.failDownload > 0 && n%o.failDownload == 0:
			k.DownloadFailure = lwm2m.IntegrityCheckFailure
		case o.failUpdate > 0 && n%o.failUpdate == 0:
			k.UpdateFailure = lwm2m.UpdateFailed
		}
		if o.reboot > 0 && n%o.reboot == 0 {
			k.RebootOffline = 300 * time.Millisecond
		}
		// Answer Reads in each format the server reads.
		k.ReadFormat = []client.Knobs{{ReadFormat: 11542}, {ReadFormat: 110}, {ReadFormat: 112}}[i%3].ReadFormat
		return k
	}
}

// run starts a server and o.demo clients, updates them all and reports.
func run(ctx context.Context, o options, w io.Writer) (summary, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	p := progress{w: w, start: time.Now()}
	ids := make([]string, o.demo)
	known := make(map[string]bool, o.demo)
	for i := range ids {
		ids[i] = client.IMEI(i)
		known[ids[i]] = true
	}
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		if o.verbose {
			mu.Lock()
			p.printf(format, args...)
			mu.Unlock()
		}
	}
	image := make([]byte, o.imageSize)
	if _, err := rand.Read(image); err != nil {
		return summary{}, err
	}
	// The package URI names this server's address, known once it listens.
	var plan *push.Plan
	planReady := make(chan struct{})
	var runner *push.Runner
	srv, err := server.New(server.Config{
		Known: func(_ context.Context, id string) (bool, error) { return known[id], nil },
		OnRegistration: func(ev server.Event) {
			<-planReady
			runner.HandleRegistration(ev)
		},
		OnObservation: func(id string, ob lwm2m.Observation) {
			<-planReady
			runner.HandleObservation(id, ob)
		},
		Errors:        func(err error) { logf("server: %v", err) },
		AnswerTimeout: 5 * time.Second,
		AckTimeout:    time.Second,
	})
	if err != nil {
		return summary{}, err
	}
	srv.Start()
	defer srv.Close()
	fw, err := srv.AddFirmware("fw-2.0.bin", image)
	if err != nil {
		return summary{}, err
	}
	plan = push.NewPlan(fw.URI, ids, push.Policy{ReadAfter: o.readAfter, RetryAfter: time.Second, MaxAttempts: 5}, nil)
	runner = push.NewRunner(ctx, plan, 64)
	runner.Server = srv
	runner.Logf = logf
	close(planReady)
	p.printf("server on %v, firmware %s: %d bytes, sha256 %s", srv.Addr(), fw.URI, fw.Size, fw.Hash()[:16])

	fleet, err := client.StartFleet(ctx, client.FleetConfig{
		Server: srv.Addr().String(), Size: o.demo, Seed: o.seed, Lifetime: time.Minute,
		Knobs: knobs(o), AckTimeout: time.Second,
		Errors: func(err error) { logf("%v", err) },
	})
	if err != nil {
		return summary{}, err
	}
	defer fleet.Stop()
	start := time.Now()
	p.printf("%d clients registered", o.demo)

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = runner.Run()
	}()
	// Check for the end often, print progress once a second.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastPrint := time.Now()
	for finished := false; !finished; {
		select {
		case <-ctx.Done():
			finished = true
		case <-tick.C:
			finished = plan.Done()
			if time.Since(lastPrint) >= time.Second {
				lastPrint = time.Now()
				p.printf("%s", strings.Join(push.SortedTally(plan.Tally()), ", "))
			}
		}
	}
	elapsed := time.Since(start)
	cancel()
	<-done

	sum := summary{Done: plan.Done(), Elapsed: elapsed, Tally: plan.Tally(), Devices: plan.Devices(), Server: srv.Stats(),
		Sent: runner.Sent(), Refused: runner.Refused(), Firmware: fw}
	for _, c := range fleet.Clients {
		st := c.Stats()
		sum.Dropped += st.NotificationsDropped
		sum.Unsent = append(sum.Unsent, st.OutcomeUnsent)
		sum.Clients = append(sum.Clients, fmt.Sprintf("%v, %d registrations, %d downloads, %d updates, %d notifications sent, %d lost",
			c.Observation(), st.Registrations, st.Downloads, st.Updates, st.NotificationsSent, st.NotificationsDropped))
		if st.ImageSHA256 == fw.SHA256 {
			sum.Images++
		}
	}
	p.printf("final tally after %v: %s", elapsed.Round(time.Millisecond), strings.Join(push.SortedTally(sum.Tally), ", "))
	reasons := map[string]int{}
	for _, d := range sum.Devices {
		if r := d.State.Reason().Text(device.FamilyPush); d.State.Status() == device.Failed && r != "" {
			reasons[fmt.Sprintf("%q (Update Result %d, %v)", r, d.Last.Result, d.Last.Result)]++
		}
	}
	for _, line := range push.SortedTally(reasons) {
		p.printf("  Upgrade Failed: %s", line)
	}
	s := sum.Server
	p.printf("commands: observe %d, reset %d, write %d, execute %d, read %d; CoAP messages in %d, requests out %d (no answer %d)",
		sum.Sent[push.CommandObserve], sum.Sent[push.CommandReset], sum.Sent[push.CommandWritePackage], sum.Sent[push.CommandExecute],
		sum.Sent[push.CommandRead], s.MessagesIn, s.Requests, s.NoAnswer)
	p.printf("notifications: %d received, %d delivered, %d held, %d stale, %d reordered, %d lost by the clients; downloads %d, images verified %d",
		s.Notifications, s.Delivered, s.Held, s.Stale, s.Reordered, sum.Dropped, s.Downloads, sum.Images)
	if !sum.Done {
		return sum, fmt.Errorf("not every device settled within %v", o.timeout)
	}
	return sum, nil
}
