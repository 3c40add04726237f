// Command simulate runs fota's deterministic fleet simulator: a pilot
// campaign, then the rollout of the rest of the fleet, on simulated time,
// through the public fota.Manager API (package sim). It prints a table of
// device statuses per simulated day and the final tally by status and
// reason, or the same report as JSON with -json.
//
//	go run ./examples/simulate                    # 100,000 devices
//	go run ./examples/simulate -devices 1000000   # a million, in seconds
//	go run ./examples/simulate -install-fail 1    # the pilot fails: rollout refused
//
// Standard output depends only on the flags: the same seed gives the same
// bytes. Wall time, events per second and memory go to standard error.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/fotakit/fota/sim"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is the command: 0 on success, 1 when the simulation failed, 2 for
// bad flags.
func run(args []string, stdout, stderr io.Writer) int {
	s := sim.DefaultScenario(100_000)
	b := &s.Behaviour
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: simulate [flags]\n\nSimulates a pilot FOTA campaign, then the rollout to the rest of the fleet.\n\nFlags:")
		fs.PrintDefaults()
	}
	fs.IntVar(&s.Devices, "devices", s.Devices, "fleet size")
	fs.Uint64Var(&s.Seed, "seed", s.Seed, "random seed: the same seed gives the same output")
	fs.IntVar(&s.Rollout.Days, "days", s.Rollout.Days, "days the rollout runs, start and end dates included")
	fs.IntVar(&s.PilotShape.Days, "pilot-days", s.PilotShape.Days, "days the pilot runs, start and end dates included")
	fs.IntVar(&s.Pilot, "pilot", s.Pilot, "devices in the pilot campaign (0: no pilot)")
	fs.Float64Var(&b.DownloadFail, "download-fail", b.DownloadFail, "chance that a download fails")
	fs.Float64Var(&b.InstallFail, "install-fail", b.InstallFail, "chance that an install fails")
	fs.Float64Var(&b.UnknownError, "unknown-error", b.UnknownError, "chance, per step, of an unknown device error")
	fs.Float64Var(&b.Offline, "offline", b.Offline, "chance that a device never checks in")
	zone := fs.String("zone", "", "IANA time zone the window hours are read in (default UTC)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "simulate: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	s.PilotShape.TimeZone, s.Rollout.TimeZone = *zone, *zone
	if err := s.Validate(); err != nil {
		fmt.Fprintln(stderr, "simulate:", err)
		fs.Usage()
		return 2
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "simulate:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "simulate:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}

	peak := watchHeap()
	start := time.Now()
	rep, err := sim.Run(context.Background(), s)
	wall := time.Since(start)
	heap, sys := peak()
	if err != nil {
		fmt.Fprintln(stderr, "simulate:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "simulate:", err)
		return 1
	}
	fmt.Fprintf(stderr, "simulate: %d devices, %d events in %v wall time: %.0f events/s; peak heap %.0f B/device (heap obtained from the OS %.0f B/device)\n",
		s.Devices, rep.Totals.Events, wall.Round(time.Millisecond), float64(rep.Totals.Events)/wall.Seconds(),
		float64(heap)/float64(s.Devices), float64(sys)/float64(s.Devices))
	return 0
}

// watchHeap samples the live heap every 20 ms until the returned function
// is called, which reports the highest sample and the heap obtained from
// the OS (which only grows, so it bounds the true peak from above).
func watchHeap() func() (peak, sys uint64) {
	var (
		mu   sync.Mutex
		high uint64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		high = max(high, ms.HeapAlloc)
		mu.Unlock()
	}
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() (uint64, uint64) {
		close(stop)
		<-done
		sample()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		defer mu.Unlock()
		return high, ms.HeapSys
	}
}
