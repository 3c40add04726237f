// Command lwm2m runs an LwM2M server over UDP with a fleet of simulated
// LwM2M clients on loopback, and updates their firmware.
//
//	go run ./examples/lwm2m -demo 100
//
// starts the server (registration, Object 5 operations, Block2 firmware
// downloads), N simulated clients (package client: real CoAP endpoints on
// loopback, each running device/lwm2m's Object 5 machine), and drives
// every client through an update with package push's Plan and Runner,
// printing progress once a second and a final tally. Knobs make some
// clients fail their download or update, reboot while updating, or lose
// notifications; the Read fallback recovers the outcomes notifications
// lost.
//
// The Plan stands in for fota's Manager: its methods mirror the Manager's
// push API (Outbox, Confirm, Observation, Connected), so the Manager can
// take its place.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	var o options
	flag.IntVar(&o.demo, "demo", 0, "start the server and `N` simulated clients on loopback and update them all")
	flag.Float64Var(&o.loss, "loss", 0.1, "probability that a client's notification is lost")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the clients' notification loss")
	flag.IntVar(&o.failDownload, "fail-download", 0, "every `K`-th client fails its download (Update Result 5, integrity check failure); 0: none")
	flag.IntVar(&o.failUpdate, "fail-update", 0, "every `K`-th client fails its update (Update Result 8); 0: none")
	flag.IntVar(&o.reboot, "reboot", 0, "every `K`-th client reboots offline while updating and registers again; 0: none")
	flag.IntVar(&o.imageSize, "image", 8192, "firmware image size in `bytes`")
	flag.DurationVar(&o.readAfter, "read-after", 2*time.Second, "Read a waiting device after this much silence")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	flag.BoolVar(&o.verbose, "v", false, "print every command, observation and registration")
	flag.Parse()
	if o.demo <= 0 {
		fmt.Fprintln(os.Stderr, "usage: lwm2m -demo N [flags]   (the Manager-driven mode arrives with fota's push API)")
		flag.PrintDefaults()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lwm2m:", err)
		os.Exit(1)
	}
	if !sum.Done {
		os.Exit(1)
	}
}

// progress prints lines to w with the time since start.
type progress struct {
	w     io.Writer
	start time.Time
}

func (p progress) printf(format string, args ...any) {
	fmt.Fprintf(p.w, "%6.2fs "+format+"\n", append([]any{time.Since(p.start).Seconds()}, args...)...)
}
