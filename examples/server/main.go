// Command server serves a fota.Manager over HTTP in the shape of
// ThingSpace's Software Management /v2 API, with an in-memory store, a
// background Tick and a device-side check-in protocol (see package
// github.com/fotakit/fota/examples/server/api for every route).
//
//	go run ./examples/server -demo 20
//
// -demo N loads N HTTP devices with valid IMEIs into the inventory of
// account -account, so that the curl commands printed at start can be
// tried at once. SIGINT or SIGTERM shuts the server down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/api"
	"github.com/fotakit/fota/schedule"
)

// maxSleep bounds the wait between Ticks: a campaign scheduled meanwhile
// may bring an earlier deadline than the one Tick last returned.
const maxSleep = time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr, nil))
}

// run serves until ctx ends and returns the exit code. ready, if not nil,
// is told the address once the server listens.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	demo := fs.Int("demo", 0, "load this many demo HTTP devices (valid IMEIs) into the inventory")
	account := fs.String("account", "acme", "the demo devices' account")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *demo < 0 || *demo > 1_000_000 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "server: -demo must be in [0, 1000000]")
		fs.Usage()
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	inv := fota.NewMemoryInventory()
	ids, err := demoDevices(inv, *account, *demo)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	m, err := fota.New(fota.Config{Inventory: inv, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	srv := &http.Server{
		Handler:           api.New(m, api.Options{Inventory: inv, Logger: log}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		tick(ctx, m, log)
	}()
	log.Info("fota server listening", "addr", ln.Addr().String(), "demoDevices", len(ids))
	printTryIt(stderr, ln.Addr().String(), *account, ids, time.Now())
	if ready != nil {
		ready(ln.Addr().String())
	}

	code := 0
	select {
	case err := <-served:
		log.Error("fota server stopped", "err", err)
		code = 1
	case <-ctx.Done():
		log.Info("fota server shutting down")
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			log.Error("fota server shutdown", "err", err)
			code = 1
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			log.Error("fota server stopped", "err", err)
			code = 1
		}
	}
	<-ticked
	return code
}

// tick runs Manager.Tick until ctx ends, sleeping until the deadline it
// returns (at most maxSleep, at least a moment so that a failing store is
// not hammered).
func tick(ctx context.Context, m *fota.Manager, log *slog.Logger) {
	for {
		next, err := m.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("fota tick", "err", err)
		}
		wait := maxSleep
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), 100*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// demoDevices puts n HTTP devices of account into inv: Acme Lamps on
// software 1.0, FOTA-capable and connected, with valid IMEIs.
func demoDevices(inv *fota.MemoryInventory, account string, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		id, err := device.IMEIOf(fmt.Sprintf("35%012d", i))
		if err != nil {
			return nil, err
		}
		ids[i] = id
		inv.Put(fota.DeviceInfo{DeviceID: id, Account: account, Protocol: device.HTTP, Make: "Acme", Model: "Lamp",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	return ids, nil
}

// printTryIt prints curl commands that walk a campaign through the API.
func printTryIt(w io.Writer, addr, account string, ids []string, now time.Time) {
	base := "http://" + addr
	if len(ids) == 0 {
		fmt.Fprintf(w, "\nNo devices: start with -demo 20 to try the API, e.g.\n  curl -s %s/api/fota/v2/reports/%s/campaigns\n\n", base, account)
		return
	}
	devs := ids[:min(len(ids), 20)] // the pilot gate admits 20 until a pilot succeeds
	list := `"` + devs[0] + `"`
	for _, id := range devs[1:] {
		list += `,"` + id + `"`
	}
	today := schedule.DateOf(now)
	fmt.Fprintf(w, `
Try it (an on-demand campaign of %[6]d devices, then one device's update):

  ID=$(curl -s -X POST %[1]s/api/fota/v2/campaigns/software/%[2]s -H 'Content-Type: application/json' \
    -d '{"campaignName":"demo","softwareName":"lamp-fw","softwareFrom":"1.0","softwareTo":"2.0","distributionType":"HTTP","make":"Acme","model":"Lamp","startDate":"%[3]s","endDate":"%[4]s","deviceList":[%[5]s]}' \
    | sed 's/.*"id":"\([^"]*\)".*/\1/'); echo "$ID"
  curl -s %[1]s/api/fota/v2/campaigns/%[2]s/$ID
  curl -s -X POST %[1]s/api/fota/device/checkin -d '{"deviceId":"%[7]s","clientType":6}'
  curl -s -X POST %[1]s/api/fota/device/report -d '{"deviceId":"%[7]s","campaignId":"'$ID'","outcome":"downloaded"}'
  curl -s -X POST %[1]s/api/fota/device/checkin -d '{"deviceId":"%[7]s"}'
  curl -s -X POST %[1]s/api/fota/device/report -d '{"deviceId":"%[7]s","campaignId":"'$ID'","outcome":"installed"}'
  curl -s '%[1]s/api/fota/v2/reports/%[2]s/campaigns/'$ID'/devices?lastSeenDeviceId=0'
  curl -s '%[1]s/api/fota/v2/reports/%[2]s/campaigns?campaignStatus=CampaignInProgress'
  curl -s -X PUT %[1]s/api/fota/v2/logging/%[2]s/devices -d '{"deviceIds":["%[7]s"]}'
  curl -s %[1]s/api/fota/v2/logging/%[2]s/devices/%[7]s/checkInHistory
  curl -s -X DELETE %[1]s/api/fota/v2/campaigns/%[2]s/$ID

`, base, account, today, today.AddDays(7), list, len(devs), devs[0])
}
