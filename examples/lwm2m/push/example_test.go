package push_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/push"
)

// A Plan driven by hand, as a Runner drives it: hand out a command, say
// what the device answered, report what it observed.
func ExamplePlan() {
	ctx := context.Background()
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	p := push.NewPlan("coap://fota.example/fw/fw-2.0.bin", []string{"350000000000014"}, push.Policy{}, func() time.Time { return now })
	ok := push.Receipt{Delivered: true, Status: 204}

	cmds, _, _ := p.Outbox(ctx, 10)
	r, _ := p.Confirm(ctx, cmds[0], push.Receipt{Delivered: true, Status: 205}) // observed
	fmt.Println(cmds[0].Kind, "->", r.Next.Kind)
	p.Observation(ctx, "350000000000014", lwm2m.Observation{State: lwm2m.Idle})
	r, _ = p.Confirm(ctx, *r.Next, ok) // reset
	fmt.Println("reset ->", r.Next.Kind, r.Next.PackageURI)
	r, _ = p.Confirm(ctx, *r.Next, ok) // the URI written
	fmt.Println(r.State.Status())
	r, _ = p.Observation(ctx, "350000000000014", lwm2m.Observation{State: lwm2m.Downloaded})
	fmt.Println("downloaded ->", r.Next.Kind)
	p.Confirm(ctx, *r.Next, ok)
	r, _ = p.Observation(ctx, "350000000000014", lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Success})
	fmt.Println(push.SortedTally(p.Tally()))
	// Output:
	// observe -> reset
	// reset -> writePackage coap://fota.example/fw/fw-2.0.bin
	// Pending
	// downloaded -> execute
	// [Upgrade Success: 1]
}
