// Command rollout runs a pilot and then a full HTTP campaign over a
// simulated fleet on simulated time, and prints how the campaigns went.
// It is a small, deterministic demonstration of fota's Manager: every
// device checks in once a day at its own hour, downloads and installs in
// the campaign's windows, and some installs fail.
//
//	go run ./examples/rollout -devices 2000 -seed 7
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/schedule"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type fleetDevice struct {
	id       string
	hour     int     // the UTC hour it checks in every day
	failRate float64 // chance its install fails
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rollout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("devices", 1000, "fleet size (at least 21: a pilot of 20, then the rest)")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same run")
	failRate := fs.Float64("fail", 0.05, "chance that an install fails")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *n < 21 || *n > 10_000_000 || *failRate < 0 || *failRate > 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "rollout: -devices must be in [21, 10000000] and -fail in [0, 1]")
		fs.Usage()
		return 2
	}
	if err := simulate(stdout, *n, *seed, *failRate); err != nil {
		fmt.Fprintln(stderr, "rollout:", err)
		return 1
	}
	return 0
}

func simulate(out io.Writer, n int, seed uint64, failRate float64) error {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
	inv := fota.NewMemoryInventory()
	fleet := make([]fleetDevice, n)
	for i := range fleet {
		id, err := device.IMEIOf(fmt.Sprintf("35%012d", i))
		if err != nil {
			return err
		}
		fleet[i] = fleetDevice{id: id, hour: rng.IntN(24), failRate: failRate}
		inv.Put(fota.DeviceInfo{DeviceID: fleet[i].id, Account: "acme", Protocol: device.HTTP, Make: "Acme",
			Model: "Lamp", Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	statusChanges := map[string]int{}
	m, err := fota.New(fota.Config{
		Inventory: inv, Clock: clk,
		NewID:    func(seq uint64) string { return fmt.Sprintf("campaign-%d", seq) },
		Observer: fota.ObserverFunc(func(c fota.Change) { statusChanges[c.Kind.String()]++ }),
	})
	if err != nil {
		return err
	}
	ids := func(devs []fleetDevice) []string {
		out := make([]string, len(devs))
		for i, d := range devs {
			out[i] = d.id
		}
		return out
	}
	request := func(devs []fleetDevice, days int) fota.CampaignRequest {
		today := schedule.DateOf(clk.Now())
		return fota.CampaignRequest{
			CampaignName: "lamp 2.0", SoftwareName: "lamp-fw", SoftwareFrom: "1.0", SoftwareTo: "2.0",
			Make: "Acme", Model: "Lamp",
			Timing: schedule.HTTPRequest{
				StartDate: today, EndDate: today.AddDays(days),
				// Download at night, install in the early morning.
				DownloadTimeWindowList: []schedule.Window{{StartTime: 0, EndTime: 6}, {StartTime: 20, EndTime: 24}},
				InstallTimeWindowList:  []schedule.Window{{StartTime: 2, EndTime: 7}},
			},
			DeviceList: ids(devs),
		}
	}

	// A full rollout is refused while no pilot has succeeded.
	if _, err := m.Schedule(ctx, "acme", request(fleet, 6)); err != nil {
		fmt.Fprintf(out, "full rollout before a pilot: %v\n", err)
	}
	pilot, err := m.Schedule(ctx, "acme", request(fleet[:20], 6))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "pilot %s: %d devices, %s\n", pilot.ID, pilot.Counts.Accepted(), pilot.Status)
	if err := runCampaign(ctx, out, m, clk, rng, fleet[:20], pilot.ID); err != nil {
		return err
	}
	full, err := m.Schedule(ctx, "acme", request(fleet[20:], 6))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "rollout %s: %d devices, %s\n", full.ID, full.Counts.Accepted(), full.Status)
	if err := runCampaign(ctx, out, m, clk, rng, fleet[20:], full.ID); err != nil {
		return err
	}
	fmt.Fprintf(out, "observer saw %d campaign and %d device status changes\n", statusChanges["campaign"], statusChanges["device"])
	return nil
}

// runCampaign steps simulated time an hour at a time until the campaign
// ends. A device checks in every day at its hour, and also when the
// Manager told it to come back (RetryAt); it downloads, installs and
// reports as told.
func runCampaign(ctx context.Context, out io.Writer, m *fota.Manager, clk *clock.Mock, rng *rand.Rand, devs []fleetDevice, id string) error {
	next := make([]time.Time, len(devs))
	day := clk.Now().Truncate(24 * time.Hour)
	for i, d := range devs {
		next[i] = day.Add(time.Duration(d.hour) * time.Hour)
	}
	for {
		if _, err := m.Tick(ctx); err != nil {
			return err
		}
		info, err := m.Campaign(ctx, "acme", id)
		if err != nil {
			return err
		}
		if info.Status.Terminal() {
			return report(ctx, out, m, info)
		}
		now := clk.Now()
		if now.Hour() == 0 {
			fmt.Fprintf(out, "  %s  %-18s upgraded %d of %d\n", now.Format("Mon 02 Jan"), info.Status,
				info.Counts.Of(device.StateSucceeded), info.Counts.Accepted())
		}
		for i, d := range devs {
			if next[i].After(now) {
				continue
			}
			daily := now.Truncate(24 * time.Hour).Add(time.Duration(24+d.hour) * time.Hour)
			next[i] = daily
			in, err := m.CheckIn(ctx, fota.CheckInRequest{DeviceID: d.id, ClientType: 6, Result: "ok"})
			if err != nil {
				return err
			}
			outcome := fota.Outcome(0)
			switch in.Action {
			case fota.ActionNone:
				if !in.RetryAt.IsZero() && in.RetryAt.Before(daily) {
					next[i] = in.RetryAt
				}
			case fota.ActionDownload:
				outcome, next[i] = fota.OutcomeDownloaded, now.Add(time.Hour)
			case fota.ActionInstall:
				outcome = fota.OutcomeInstalled
				if rng.Float64() < d.failRate {
					outcome = fota.OutcomeInstallFailed
				}
			}
			if outcome != 0 {
				if _, err := m.Report(ctx, id, d.id, outcome); err != nil {
					return err
				}
			}
		}
		clk.Add(time.Hour)
	}
}

func report(ctx context.Context, out io.Writer, m *fota.Manager, info fota.CampaignInfo) error {
	fmt.Fprintf(out, "  %s  %s\n", info.UpdatedAt.Format("Mon 02 Jan 15:04"), info.Status)
	tally := map[string]int{}
	last := ""
	for {
		page, err := m.Devices(ctx, "acme", info.ID, last, 0)
		if err != nil {
			return err
		}
		for _, d := range page.DeviceList {
			tally[d.Status+"\t"+d.ResultReason]++
		}
		if !page.HasMoreData {
			break
		}
		last = page.LastSeenDeviceID
	}
	keys := make([]string, 0, len(tally))
	for k := range tally {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		fmt.Fprintf(tw, "    %d\t%s\n", tally[k], k)
	}
	return tw.Flush()
}
