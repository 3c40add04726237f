package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/directory"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

// TestDirectory: two replicas share registrations. A client registered
// with a reaches b's operations at its address, and b's observation of it
// reports to b; when the client comes back from a new address, b follows
// it; once it de-registers from a, b no longer reaches it.
func TestDirectory(t *testing.T) {
	dir := directory.NewMemory()
	a := start(t, server.Config{Directory: dir, Replica: "a"})
	b := start(t, server.Config{Directory: dir, Replica: "b"})
	id := client.IMEI(20)
	c, err := client.New(client.Config{Server: a.Addr().String(), Endpoint: "urn:imei:" + id, AckTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	eventually(t, "the directory entry", func() bool { _, ok, _ := dir.Lookup(ctx, id); return ok })
	if _, ok := b.Registration(id); ok || len(b.Registered()) != 0 {
		t.Fatal("b lists a registration it does not hold")
	}
	if rc, err := b.Observe(ctx, id); err != nil || rc.Status != 205 {
		t.Fatalf("b's Observe of a's client: %v, %v", rc, err)
	}
	if err := b.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := b.observations(); len(got) != 1 || got[0] != (lwm2m.Observation{}) {
		t.Fatalf("after Flush, b was handed %v, want the current value (Idle, Initial)", got)
	}
	if len(a.observations()) != 0 {
		t.Fatal("a was handed b's observation")
	}
	first, _ := a.Registration(id)
	c.Offline(50 * time.Millisecond) // back from a new socket: registered anew with a
	// The server publishes the new registration before its 2.01 reaches
	// the client: wait for the client to know its new location too, or its
	// De-register below would name the old one.
	eventually(t, "the new registration", func() bool {
		e, ok, _ := dir.Lookup(ctx, id)
		return ok && e.Location != first.Location && c.Stats().Registrations == 2
	})
	if rc, err := b.Reset(ctx, id); err != nil || rc.Status != 204 {
		t.Fatalf("b's Reset at the client's new address: %v, %v", rc, err)
	}
	loc, _ := a.Registration(id)
	c.Stop() // de-registers from a
	eventually(t, "the withdrawal", func() bool { _, ok, _ := dir.Lookup(ctx, id); return !ok })
	if _, err := b.Reset(ctx, id); !errors.Is(err, server.ErrNotRegistered) {
		t.Fatalf("b's Reset of a client gone from %s: %v", loc.Location, err)
	}
}

// TestFlushWithNothingQueued returns at once for a device with nothing
// queued or one the server never saw.
func TestFlushWithNothingQueued(t *testing.T) {
	h := start(t, server.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := h.Flush(ctx, client.IMEI(1)); err != nil {
		t.Fatal(err)
	}
}
