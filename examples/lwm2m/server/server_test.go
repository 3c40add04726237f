package server_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/options"
	"github.com/plgd-dev/go-coap/v3/udp"

	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/content"
	"github.com/fotakit/fota/examples/lwm2m/linkformat"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

func regQueries(imei string, extra ...string) []string {
	return append([]string{"ep=urn:imei:" + imei, "lt=60", "lwm2m=1.1", "b=U"}, extra...)
}

func TestRegistrationLifecycle(t *testing.T) {
	h := start(t, server.Config{})
	d := dial(t, h.Server)
	code, loc := d.register(t, "/rd", regQueries(client.IMEI(1)), 40, []byte(`</>;rt="oma.lwm2m",</1/0>,</5/0>`))
	loc = strings.TrimPrefix(loc, "/")
	if code != codes.Created || !strings.HasPrefix(loc, "rd/") {
		t.Fatalf("Register answered %v at %q, want 2.01 Created at rd/...", code, loc)
	}
	reg, ok := h.Registration(client.IMEI(1))
	if !ok || reg.Location != "/"+loc || reg.Lifetime != time.Minute || reg.Version != "1.1" || !reg.Objects.Has(5, 0) {
		t.Fatalf("registration %+v", reg)
	}
	if code, _ := d.register(t, "/"+loc, []string{"lt=120"}, -1, nil); code != codes.Changed {
		t.Fatalf("Update answered %v", code)
	}
	if reg, _ := h.Registration(client.IMEI(1)); reg.Lifetime != 2*time.Minute {
		t.Fatalf("Update did not change the lifetime: %v", reg.Lifetime)
	}
	ctx := context.Background()
	del, err := d.cc.Delete(ctx, "/"+loc)
	if err != nil || del.Code() != codes.Deleted {
		t.Fatalf("De-register: %v, %v", del, err)
	}
	if code, _ := d.register(t, "/"+loc, nil, -1, nil); code != codes.NotFound {
		t.Fatalf("Update of an ended registration answered %v, want 4.04", code)
	}
	if _, ok := h.Registration(client.IMEI(1)); ok {
		t.Fatal("still registered after De-register")
	}
	// A registration whose lifetime runs out without an Update expires.
	if code, _ := d.register(t, "/rd", []string{"ep=urn:imei:" + client.IMEI(1), "lt=1"}, 40, []byte("</5/0>")); code != codes.Created {
		t.Fatalf("Register answered %v", code)
	}
	eventually(t, "expiry", func() bool {
		k := h.kinds()
		return len(k) > 0 && k[len(k)-1] == server.Expired
	})
	want := []server.EventKind{server.Registered, server.Updated, server.Deregistered, server.Registered, server.Expired}
	if got := h.kinds(); !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if len(h.Registered()) != 0 {
		t.Fatalf("registered after expiry: %v", h.Registered())
	}
}

func TestRegistrationRefusals(t *testing.T) {
	failing := errors.New("inventory down")
	h := start(t, server.Config{MaxPayload: 128, Known: func(_ context.Context, id string) (bool, error) {
		if id == client.IMEI(9) {
			return false, failing
		}
		return known(5)[id], nil
	}})
	d := dial(t, h.Server)
	good := []byte("</5/0>")
	tests := []struct {
		name    string
		queries []string
		cf      int
		payload []byte
		code    codes.Code
		field   string
		cause   error
	}{
		{"unknown endpoint", regQueries(client.IMEI(7)), 40, good, codes.Forbidden, "ep", nil},
		{"inventory failing", regQueries(client.IMEI(9)), 40, good, codes.ServiceUnavailable, "ep", failing},
		{"not an IMEI", []string{"ep=urn:imei:12345"}, 40, good, codes.BadRequest, "ep", nil},
		{"not urn:imei", []string{"ep=device-1"}, 40, good, codes.BadRequest, "ep", nil},
		{"no endpoint", []string{"lt=60"}, 40, good, codes.BadRequest, "ep", nil},
		{"lifetime not a number", []string{"ep=urn:imei:" + client.IMEI(1), "lt=soon"}, 40, good, codes.BadRequest, "lt", nil},
		{"lifetime zero", []string{"ep=urn:imei:" + client.IMEI(1), "lt=0"}, 40, good, codes.BadRequest, "lt", nil},
		{"lifetime given twice", regQueries(client.IMEI(1), "lt=30"), 40, good, codes.BadRequest, "query", nil},
		{"LwM2M 2.0", []string{"ep=urn:imei:" + client.IMEI(1), "lwm2m=2.0"}, 40, good, codes.PreconditionFailed, "lwm2m", nil},
		{"SMS binding", []string{"ep=urn:imei:" + client.IMEI(1), "b=S"}, 40, good, codes.BadRequest, "b", nil},
		{"unknown parameter", []string{"ep=urn:imei:" + client.IMEI(1), "x=1"}, 40, good, codes.BadRequest, "query", nil},
		{"JSON object list", regQueries(client.IMEI(1)), 50, good, codes.UnsupportedMediaType, "Content-Format", nil},
		{"bad link format", regQueries(client.IMEI(1)), 40, []byte("</5/0>, </3/0>"), codes.BadRequest, "payload", linkformat.ErrSyntax},
		{"resource in the object list", regQueries(client.IMEI(1)), 40, []byte("</5/0/1>"), codes.BadRequest, "payload", linkformat.ErrObjectList},
		{"oversize object list", regQueries(client.IMEI(1)), 40, []byte(strings.Repeat("</1/0>,", 30) + "</5/0>"), codes.RequestEntityTooLarge, "payload", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.errors())
			code, _ := d.register(t, "/rd", tt.queries, tt.cf, tt.payload)
			if code != tt.code {
				t.Fatalf("answered %v, want %v", code, tt.code)
			}
			errs := h.errors()[before:]
			var e *server.ArgError
			if len(errs) == 0 || !errors.As(errs[len(errs)-1], &e) || !errors.Is(e, server.ErrRegistration) || e.Field != tt.field {
				t.Fatalf("reported %v, want an *ArgError on field %q matching ErrRegistration", errs, tt.field)
			}
			if tt.cause != nil && !errors.Is(e, tt.cause) {
				t.Fatalf("%v does not wrap %v", e, tt.cause)
			}
		})
	}
	if len(h.Registered()) != 0 || len(h.kinds()) != 0 {
		t.Fatalf("a refused registration left %v and events %v", h.Registered(), h.kinds())
	}
	if st := h.Stats(); st.Refused != int64(len(tests)) {
		t.Fatalf("Refused = %d, want %d", st.Refused, len(tests))
	}
}

// TestMalformedDatagrams throws garbage at the server: it drops or resets
// it and keeps serving.
func TestMalformedDatagrams(t *testing.T) {
	h := start(t, server.Config{})
	raw, err := net.DialUDP("udp", nil, h.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	garbage := [][]byte{
		{},
		{0x40},                         // truncated header
		{0x80, 0x01, 0x00, 0x01},       // version 2
		{0x48, 0x01, 0x00, 0x01, 0x01}, // token length 8, one byte present
		{0x40, 0x01, 0x00, 0x02, 0xff}, // payload marker with no payload
		{0x40, 0x01, 0x00, 0x03, 0xdd, 0xff, 0xff},                                           // option length running past the end
		{0x40, 0x02, 0x00, 0x04, 0xb2, 'r', 'd', 0x41, 'x', 0xff, 1},                         // Register with a broken query
		append([]byte{0x40, 0x02, 0x00, 0x05, 0xb2, 'r', 'd', 0xff}, make([]byte, 60000)...), // oversize
		{0x5f, 0x45, 0x00, 0x06},                                                             // token length 15 (reserved)
		{0x70, 0x00, 0x12, 0x34},                                                             // a stray Reset
		{0x40, 0x45, 0x12, 0x35, 0xff, '1'},                                                  // a 2.05 response to nothing
	}
	for _, g := range garbage {
		if _, err := raw.Write(g); err != nil {
			t.Fatal(err)
		}
	}
	// Still serving: a client registers and is observed.
	c, err := client.New(client.Config{Server: h.Addr().String(), Endpoint: "urn:imei:" + client.IMEI(2)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	eventually(t, "registration", func() bool { return len(h.Registered()) == 1 })
	if rc, err := h.Observe(context.Background(), client.IMEI(2)); err != nil || rc.Code != codes.Content {
		t.Fatalf("Observe after garbage: %v, %v", rc, err)
	}
}

func TestNewer(t *testing.T) {
	t0 := time.Unix(0, 0)
	tests := []struct {
		v1, v2 uint32
		dt     time.Duration
		want   bool
	}{
		{1, 2, 0, true},
		{2, 1, 0, false},
		{2, 2, 0, false},
		{1 << 23, 1<<23 + 1, 0, true},
		{0xfffffe, 1, 0, true},   // wrapped around
		{1, 0xfffffe, 0, false},  // older across the wrap
		{5, 1<<23 + 6, 0, false}, // too far ahead: taken as older
		{5, 4, 129 * time.Second, true},
	}
	for _, tt := range tests {
		if got := server.Newer(tt.v1, t0, tt.v2, t0.Add(tt.dt)); got != tt.want {
			t.Errorf("Newer(%d, %d after %v) = %v, want %v", tt.v1, tt.v2, tt.dt, got, tt.want)
		}
	}
}

// TestNotifications drives a hand-written device: reordered notifications
// are dropped by their Observe numbers, and malformed ones, ones about
// another object, oversize ones, ones from another address and ones on
// unknown tokens are refused without reaching the handler.
func TestNotifications(t *testing.T) {
	h := start(t, server.Config{})
	d := dial(t, h.Server)
	if code, _ := d.register(t, "/rd", regQueries(client.IMEI(3)), 40, []byte("</5/0>")); code != codes.Created {
		t.Fatalf("Register answered %v", code)
	}
	ctx := context.Background()
	if rc, err := h.Observe(ctx, client.IMEI(3)); err != nil || rc.Status != 205 {
		t.Fatalf("Observe: %v, %v", rc, err)
	}
	eventually(t, "the first observation", func() bool { return len(h.observations()) == 1 })
	st, res := d.token("/5/0/3"), d.token("/5/0/5")
	if st == nil || res == nil {
		t.Fatal("the server did not observe /5/0/3 and /5/0/5")
	}
	d.notify(t, st, 5, message.TextPlain, []byte("1"))                                                     // (Downloading, Initial)
	d.notify(t, st, 4, message.TextPlain, []byte("0"))                                                     // older: dropped
	d.notify(t, st, 7, message.TextPlain, []byte("2"))                                                     // (Downloaded, Initial)
	d.notify(t, st, 6, message.TextPlain, []byte("1"))                                                     // older: dropped
	d.notify(t, st, 8, message.TextPlain, []byte("9"))                                                     // no State: refused
	d.notify(t, st, 9, message.TextPlain, []byte("two"))                                                   // not a number: refused
	d.notify(t, st, 10, message.MediaType(content.SenMLJSON), []byte(`[{"bn":"/3/0/","n":"0","vs":"x"}]`)) // another object
	d.notify(t, st, 11, message.MediaType(content.TLV), []byte{0xC1, 4, 1})                                // another resource
	d.notify(t, st, 12, message.TextPlain, []byte(strings.Repeat("1", 1100)))                              // oversize
	d.notify(t, st, 13, message.MediaType(60), []byte{0x01})                                               // unsupported format
	d.notify(t, message.Token("stranger"), 1, message.TextPlain, []byte("3"))                              // unknown token: Reset
	other := dial(t, h.Server)
	other.notify(t, st, 14, message.TextPlain, []byte("3")) // right token, wrong address
	d.notify(t, res, 2, message.TextPlain, []byte("0"))     // (Downloaded, Initial) again
	want := []lwm2m.Observation{{State: lwm2m.Idle}, {State: lwm2m.Downloading}, {State: lwm2m.Downloaded}, {State: lwm2m.Downloaded}}
	eventually(t, "the observations", func() bool { return len(h.observations()) >= len(want) })
	time.Sleep(100 * time.Millisecond)
	if got := h.observations(); !reflect.DeepEqual(got, want) {
		t.Fatalf("observations %v, want %v", got, want)
	}
	s := h.Stats()
	if s.Reordered != 2 || s.Refusals != 7 || s.Resets != 1 {
		t.Fatalf("reordered %d, refused %d, reset %d; want 2, 7, 1", s.Reordered, s.Refusals, s.Resets)
	}
	var foreign, rangeErr bool
	for _, err := range h.errors() {
		foreign = foreign || errors.Is(err, content.ErrForeignPath)
		rangeErr = rangeErr || errors.Is(err, lwm2m.ErrOutOfRange)
		if !errors.Is(err, server.ErrNotification) {
			t.Errorf("reported %v, want ErrNotification", err)
		}
	}
	if !foreign || !rangeErr {
		t.Fatalf("errors %v lack a foreign path or an out-of-range value", h.errors())
	}
}

// TestHeldPair: a client that notifies the Update Result before the State
// shows (Updating, Success) for a moment; the server holds that pair back.
func TestHeldPair(t *testing.T) {
	h := start(t, server.Config{})
	d := dial(t, h.Server)
	d.values["/5/0/3"] = "3"
	if code, _ := d.register(t, "/rd", regQueries(client.IMEI(4)), 40, []byte("</5/0>")); code != codes.Created {
		t.Fatal(code)
	}
	if _, err := h.Observe(context.Background(), client.IMEI(4)); err != nil {
		t.Fatal(err)
	}
	d.notify(t, d.token("/5/0/5"), 2, message.TextPlain, []byte("1"))
	d.notify(t, d.token("/5/0/3"), 2, message.TextPlain, []byte("0"))
	want := []lwm2m.Observation{{State: lwm2m.Updating}, {State: lwm2m.Idle, Result: lwm2m.Success}}
	eventually(t, "two observations", func() bool { return len(h.observations()) == 2 })
	if got := h.observations(); !reflect.DeepEqual(got, want) || h.Stats().Held != 1 {
		t.Fatalf("observations %v (held %d), want %v with one held", got, h.Stats().Held, want)
	}
}

func TestOperationsRefuse(t *testing.T) {
	h := start(t, server.Config{})
	ctx := context.Background()
	if _, err := h.Reset(ctx, client.IMEI(1)); !errors.Is(err, server.ErrNotRegistered) {
		t.Fatalf("Reset of an unregistered device: %v", err)
	}
	d := dial(t, h.Server)
	if code, _ := d.register(t, "/rd", regQueries(client.IMEI(1)), 40, []byte("</3/0>")); code != codes.Created {
		t.Fatal(code)
	}
	if _, err := h.ExecuteUpdate(ctx, client.IMEI(1)); !errors.Is(err, server.ErrNoFirmwareObject) {
		t.Fatalf("Execute on a device without /5/0: %v", err)
	}
	for _, uri := range []string{"", strings.Repeat("u", 256), "coap://x/\n"} {
		var e *server.ArgError
		if _, err := h.WritePackageURI(ctx, client.IMEI(1), uri); !errors.As(err, &e) || !errors.Is(err, server.ErrBadRequest) || e.Field != "uri" {
			t.Fatalf("WritePackageURI(%q) = %v", uri, err)
		}
	}
	for _, bad := range []struct {
		name  string
		image []byte
	}{{"", []byte{1}}, {"a/b", []byte{1}}, {"x", nil}, {"y", make([]byte, server.MaxImage+1)}} {
		if _, err := h.AddFirmware(bad.name, bad.image); !errors.Is(err, server.ErrBadRequest) {
			t.Fatalf("AddFirmware(%q, %d bytes) = %v", bad.name, len(bad.image), err)
		}
	}
	if _, err := h.AddFirmware("x", []byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.AddFirmware("x", []byte{2}); !errors.Is(err, server.ErrBadRequest) {
		t.Fatalf("a second image under one name: %v", err)
	}
	if _, err := server.New(server.Config{}); !errors.Is(err, server.ErrBadRequest) {
		t.Fatalf("New without Known: %v", err)
	}
	if _, err := server.New(server.Config{Known: func(context.Context, string) (bool, error) { return true, nil }, BlockSize: 100}); !errors.Is(err, server.ErrBadRequest) {
		t.Fatalf("New with block size 100: %v", err)
	}
}

// TestOperationsOnAClient runs every operation against a simulated client
// per Read format, then takes it offline: no answer.
func TestOperationsOnAClient(t *testing.T) {
	for i, f := range []content.Format{content.TLV, content.SenMLJSON, content.SenMLCBOR} {
		t.Run(f.String(), func(t *testing.T) {
			h := start(t, server.Config{AnswerTimeout: time.Second, AckTimeout: 200 * time.Millisecond, MaxRetransmit: 1})
			fw, err := h.AddFirmware("fw", []byte(strings.Repeat("firmware", 300)))
			if err != nil {
				t.Fatal(err)
			}
			id := client.IMEI(10 + i)
			c, err := client.New(client.Config{Server: h.Addr().String(), Endpoint: "urn:imei:" + id, Knobs: client.Knobs{ReadFormat: f}, AckTimeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := c.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer c.Stop()
			eventually(t, "registration", func() bool { return len(h.Registered()) == 1 })
			step := func(name string, rc server.Receipt, err error, want int) {
				t.Helper()
				if err != nil || rc.Status != want {
					t.Fatalf("%s: %v, %v; want %d", name, rc, err, want)
				}
			}
			rc, err := h.Observe(ctx, id)
			step("observe", rc, err, 205)
			rc, err = h.Reset(ctx, id)
			step("reset", rc, err, 204)
			rc, err = h.WritePackageURI(ctx, id, fw.URI)
			step("write", rc, err, 204)
			eventually(t, "the download", func() bool { return c.Observation().State == lwm2m.Downloaded })
			rc, o, err := h.Read(ctx, id)
			step("read", rc, err, 205)
			if o != (lwm2m.Observation{State: lwm2m.Downloaded}) {
				t.Fatalf("Read gave %v", o)
			}
			rc, err = h.ExecuteUpdate(ctx, id)
			step("execute", rc, err, 204)
			eventually(t, "(Idle, Success)", func() bool {
				obs := h.observations()
				return len(obs) > 0 && obs[len(obs)-1] == lwm2m.Observation{State: lwm2m.Idle, Result: lwm2m.Success}
			})
			rc, err = h.ExecuteUpdate(ctx, id)
			step("execute in Idle", rc, err, 405)
			if st := c.Stats(); st.ImageSHA256 != sha256.Sum256([]byte(strings.Repeat("firmware", 300))) {
				t.Fatal("the client's image is not the server's")
			}
			rc, err = h.CancelObservations(ctx, id)
			step("cancel", rc, err, 205)
			// The client forgot the observations; were it not to, its
			// notifications would now be answered with Reset.
			n := len(h.observations())
			rc, err = h.Reset(ctx, id)
			step("reset", rc, err, 204)
			time.Sleep(200 * time.Millisecond)
			if len(h.observations()) != n {
				t.Fatalf("an observation arrived after the cancel: %v", h.observations()[n:])
			}
			if s := h.Stats(); s.ReadFallbacks != 0 || s.Reads != 1 {
				t.Fatalf("reads %d, fallbacks %d; want 1 and 0", s.Reads, s.ReadFallbacks)
			}
			c.Offline(time.Hour)
			rc, err = h.Reset(ctx, id)
			if err != nil || rc.Delivered {
				t.Fatalf("Reset of an offline client: %v, %v; want no answer", rc, err)
			}
		})
	}
}

// TestReadFallback: a client that refuses the Read of /5/0 is read
// resource by resource.
func TestReadFallback(t *testing.T) {
	h := start(t, server.Config{})
	d := dial(t, h.Server)
	d.values["/5/0/3"], d.values["/5/0/5"] = "2", "0"
	if code, _ := d.register(t, "/rd", regQueries(client.IMEI(5)), 40, []byte("</5/0>")); code != codes.Created {
		t.Fatal(code)
	}
	for i := 0; i < 2; i++ {
		rc, o, err := h.Read(context.Background(), client.IMEI(5))
		if err != nil || rc.Status != 205 || o != (lwm2m.Observation{State: lwm2m.Downloaded}) {
			t.Fatalf("Read: %v, %v, %v", rc, o, err)
		}
	}
	if s := h.Stats(); s.ReadFallbacks != 2 || s.Requests != 5 {
		t.Fatalf("fallbacks %d, requests %d; want 2 and 5 (one refused instance Read, then resources only)", s.ReadFallbacks, s.Requests)
	}
}

// TestReobserve: a client that comes back registers anew; the old
// observations are gone and a new Observe works.
func TestReobserve(t *testing.T) {
	h := start(t, server.Config{})
	id := client.IMEI(6)
	c, _ := client.New(client.Config{Server: h.Addr().String(), Endpoint: "urn:imei:" + id})
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	eventually(t, "registration", func() bool { return len(h.kinds()) == 1 })
	if _, err := h.Observe(ctx, id); err != nil {
		t.Fatal(err)
	}
	first, _ := h.Registration(id)
	c.Offline(50 * time.Millisecond)
	eventually(t, "the second registration", func() bool { return len(h.kinds()) == 2 })
	second, _ := h.Registration(id)
	if second.Location == first.Location || second.Addr.String() == first.Addr.String() {
		t.Fatalf("the new registration kept %v at %v", second.Location, second.Addr)
	}
	n := len(h.observations())
	if rc, err := h.Observe(ctx, id); err != nil || rc.Status != 205 {
		t.Fatalf("re-observe: %v, %v", rc, err)
	}
	eventually(t, "the re-observed value", func() bool { return len(h.observations()) == n+1 })
}

// TestFirmwareDownloadsAtOnce: 300 clients fetch the image block-wise at
// the same time; every one gets it whole.
func TestFirmwareDownloadsAtOnce(t *testing.T) {
	h := start(t, server.Config{})
	image := make([]byte, 8192)
	for i := range image {
		image[i] = byte(i % 251)
	}
	fw, err := h.AddFirmware("fw", image)
	if err != nil {
		t.Fatal(err)
	}
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc, err := udp.Dial(h.Addr().String(), options.WithMaxMessageSize(1<<20), options.WithErrors(func(error) {}))
			if err != nil {
				return
			}
			defer cc.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := cc.Get(ctx, "/fw/fw")
			if err != nil {
				return
			}
			body, err := resp.ReadBody()
			size, _ := resp.Options().GetUint32(message.Size2)
			if err == nil && sha256.Sum256(body) == fw.SHA256 && (size == 0 || int(size) == fw.Size) {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 300 {
		t.Fatalf("%d of 300 downloads complete", ok.Load())
	}
	cc, err := udp.Dial(h.Addr().String(), options.WithErrors(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	resp, err := cc.Get(context.Background(), "/fw/none")
	if err != nil || resp.Code() != codes.NotFound {
		t.Fatalf("GET of an unknown image: %v, %v", resp, err)
	}
}
