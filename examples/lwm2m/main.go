// Command lwm2m runs a fota push campaign (/v1) over a real LwM2M
// transport: an LwM2M server over UDP and CoAP, and a fleet of simulated
// LwM2M clients on loopback.
//
//	go run ./examples/lwm2m -demo 100
//
// starts one replica of the host (package replica: a fota Manager over an
// in-memory store with its Run loop, the LwM2M server, and the push Runner
// that carries the Manager's commands out over CoAP), N simulated clients
// (package client: real CoAP endpoints, each running device/lwm2m's
// Object 5 machine) that register with it, schedules a /v1 campaign for
// them through the Manager (ScheduleUpgrade; the firmware package's URL is
// the server's Block2 download of the image), and runs the campaign to
// Finished, printing progress once a second and the final tally in /v1
// spelling ("Upgrade Success", "Upgrade Failed" with the reason and the
// LwM2M Update Result).
//
// The Manager's clock (package simtime) runs in real time while anything is
// under way and jumps over idle stretches: to the campaign's start (00:00
// UTC tomorrow), to a 04:00 UTC retry of devices that did not answer, and,
// once every device has its outcome, to the campaign's end, when the Run
// loop makes it Finished. The devices and the CoAP exchanges always run in
// real time.
//
// Flags:
//
//	-demo N               the number of simulated clients
//	-loss P               probability that a client loses a notification (0.1);
//	                      the Manager's Read fallback recovers the outcomes lost
//	-fail-download K      every K-th client fails its download (Update Result 5)
//	-fail-update K        every K-th client fails its update (Update Result 8)
//	-reboot K             every K-th client reboots offline while updating and
//	                      registers again (re-observed through Connected)
//	-observe-timeout D    the Manager's wait for a notification before it reads
//	                      /5/0 (fota.PushPolicy.ObserveTimeout; 2s here, 30 min
//	                      by default in fota)
//	-lease D              how long a command stays leased (PushPolicy.LeaseTTL)
//	-replicas R           run R replicas of the host over one store, clients
//	                      spread among them (a registration directory lets any
//	                      replica reach any device)
//	-db DSN               keep the campaign in PostgreSQL through sqlstore
//	                      (postgres://user@host/db); each replica opens its own
//	                      pool; -db-schema names the schema ("fota_lwm2m")
//	-v                    print every command, observation and registration
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
	o := defaultOptions()
	flag.IntVar(&o.demo, "demo", 0, "start the server and `N` simulated clients on loopback and run a campaign for them to Finished")
	flag.Float64Var(&o.loss, "loss", o.loss, "probability that a client's notification is lost")
	flag.Uint64Var(&o.seed, "seed", o.seed, "seed of the clients' notification loss")
	flag.IntVar(&o.failDownload, "fail-download", 0, "every `K`-th client fails its download (Update Result 5, integrity check failure); 0: none")
	flag.IntVar(&o.failUpdate, "fail-update", 0, "every `K`-th client fails its update (Update Result 8); 0: none")
	flag.IntVar(&o.reboot, "reboot", 0, "every `K`-th client reboots offline while updating and registers again; 0: none")
	flag.IntVar(&o.imageSize, "image", o.imageSize, "firmware image size in `bytes`")
	flag.DurationVar(&o.observeTimeout, "observe-timeout", o.observeTimeout, "the Manager reads /5/0 of a device silent this long")
	flag.DurationVar(&o.lease, "lease", o.lease, "how long a handed-out command is leased")
	flag.IntVar(&o.workers, "workers", o.workers, "commands in flight per replica")
	flag.IntVar(&o.replicas, "replicas", o.replicas, "replicas of the host sharing the store")
	flag.StringVar(&o.db, "db", "", "PostgreSQL `DSN`: keep the campaign there (sqlstore) instead of in memory")
	flag.StringVar(&o.dbSchema, "db-schema", o.dbSchema, "the PostgreSQL schema for -db")
	flag.DurationVar(&o.timeout, "timeout", o.timeout, "give up after this long")
	flag.BoolVar(&o.verbose, "v", false, "print every command, observation and registration")
	flag.Parse()
	if o.demo <= 0 {
		fmt.Fprintln(os.Stderr, "usage: lwm2m -demo N [flags]")
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
	if !sum.Finished {
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
