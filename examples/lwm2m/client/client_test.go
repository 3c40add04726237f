package client_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

func TestIMEIsAreValid(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		id, err := server.EndpointIMEI("urn:imei:" + client.IMEI(i))
		if err != nil || seen[id] {
			t.Fatalf("IMEI(%d) = %q: %v (seen %v)", i, id, err, seen[id])
		}
		seen[id] = true
	}
}

// The client follows Object 5: a URI outside Idle is refused 4.00, a reset
// while Updating 4.05, an Execute outside Downloaded 4.05; a failing
// update ends with the knob's result; Stop de-registers.
func TestClientFollowsObject5(t *testing.T) {
	var mu sync.Mutex
	var kinds []server.EventKind
	s, err := server.New(server.Config{
		Known:          func(context.Context, string) (bool, error) { return true, nil },
		OnRegistration: func(e server.Event) { mu.Lock(); kinds = append(kinds, e.Kind); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Close()
	fw, _ := s.AddFirmware("fw", []byte("image"))
	id := client.IMEI(3)
	c, err := client.New(client.Config{Server: s.Addr().String(), Endpoint: "urn:imei:" + id,
		Knobs: client.Knobs{UpdateFailure: lwm2m.UpdateFailed, KeepImage: true, UpdateDelay: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	status := func(rc server.Receipt, err error) int {
		if err != nil {
			t.Fatal(err)
		}
		return rc.Status
	}
	if got := status(s.ExecuteUpdate(ctx, id)); got != 405 {
		t.Fatalf("Execute in Idle answered %d", got)
	}
	if got := status(s.WritePackageURI(ctx, id, fw.URI)); got != 204 {
		t.Fatalf("write answered %d", got)
	}
	wait := func(o lwm2m.Observation) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for c.Observation() != o {
			if time.Now().After(deadline) {
				t.Fatalf("client at %v, want %v", c.Observation(), o)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait(lwm2m.Observation{State: lwm2m.Downloaded})
	if got := status(s.WritePackageURI(ctx, id, fw.URI)); got != 400 {
		t.Fatalf("a URI in Downloaded answered %d", got)
	}
	if got := status(s.ExecuteUpdate(ctx, id)); got != 204 {
		t.Fatalf("Execute answered %d", got)
	}
	if got := status(s.Reset(ctx, id)); got != 405 {
		t.Fatalf("reset while Updating answered %d", got)
	}
	wait(lwm2m.Observation{State: lwm2m.Downloaded, Result: lwm2m.UpdateFailed})
	if got := status(s.Reset(ctx, id)); got != 204 {
		t.Fatalf("reset answered %d", got)
	}
	wait(lwm2m.Observation{State: lwm2m.Idle})
	c.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(kinds)
		last := server.EventKind(0)
		if n > 0 {
			last = kinds[n-1]
		}
		mu.Unlock()
		if last == server.Deregistered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %v, want a De-register last", kinds)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
