package server_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
	"github.com/plgd-dev/go-coap/v3/net/responsewriter"
	"github.com/plgd-dev/go-coap/v3/options"
	"github.com/plgd-dev/go-coap/v3/udp"
	udpClient "github.com/plgd-dev/go-coap/v3/udp/client"

	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/client"
	"github.com/fotakit/fota/examples/lwm2m/server"
)

// harness is a server whose hooks record what they were handed.
type harness struct {
	*server.Server
	mu     sync.Mutex
	events []server.Event
	obs    []lwm2m.Observation
	errs   []error
}

func known(n int) map[string]bool {
	m := map[string]bool{}
	for i := 0; i < n; i++ {
		m[client.IMEI(i)] = true
	}
	return m
}

func start(t *testing.T, cfg server.Config) *harness {
	t.Helper()
	h := &harness{}
	if cfg.Known == nil {
		ids := known(50)
		cfg.Known = func(_ context.Context, id string) (bool, error) { return ids[id], nil }
	}
	cfg.OnRegistration = func(e server.Event) { h.mu.Lock(); h.events = append(h.events, e); h.mu.Unlock() }
	cfg.OnObservation = func(_ string, o lwm2m.Observation) { h.mu.Lock(); h.obs = append(h.obs, o); h.mu.Unlock() }
	cfg.Errors = func(err error) { h.mu.Lock(); h.errs = append(h.errs, err); h.mu.Unlock() }
	if cfg.AnswerTimeout == 0 {
		cfg.AnswerTimeout = 3 * time.Second
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { _ = s.Close() })
	h.Server = s
	return h
}

func (h *harness) observations() []lwm2m.Observation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]lwm2m.Observation(nil), h.obs...)
}

func (h *harness) kinds() []server.EventKind {
	h.mu.Lock()
	defer h.mu.Unlock()
	var k []server.EventKind
	for _, e := range h.events {
		k = append(k, e.Kind)
	}
	return k
}

func (h *harness) errors() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]error(nil), h.errs...)
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// device is a hand-driven LwM2M client for protocol-level tests: a CoAP
// endpoint whose answers the test writes.
type device struct {
	cc     *udpClient.Conn
	mu     sync.Mutex
	tokens map[string]message.Token // observed path -> token
	values map[string]string        // path -> plain-text value
	read   func(w *responsewriter.ResponseWriter[*udpClient.Conn]) bool
}

func dial(t *testing.T, s *server.Server) *device {
	t.Helper()
	d := &device{tokens: map[string]message.Token{}, values: map[string]string{"/5/0/3": "0", "/5/0/5": "0"}}
	cc, err := udp.Dial(s.Addr().String(), options.WithHandlerFunc(udpClient.HandlerFunc(d.handle)),
		options.WithErrors(func(error) {}), options.WithTransmission(1, 500*time.Millisecond, 2),
		// Oversize notifications must go out whole, not block-wise.
		options.WithBlockwise(false, blockwise.SZX1024, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	d.cc = cc
	return d
}

func (d *device) handle(w *responsewriter.ResponseWriter[*udpClient.Conn], r *pool.Message) {
	if r.Code() >= codes.Created || r.Code() == codes.Empty {
		return
	}
	path, _ := r.Options().Path()
	path = "/" + strings.TrimPrefix(path, "/")
	d.mu.Lock()
	defer d.mu.Unlock()
	if path == "/5/0" && d.read != nil && d.read(w) {
		return
	}
	v, ok := d.values[path]
	if !ok || r.Code() != codes.GET {
		_ = w.SetResponse(codes.NotFound, message.TextPlain, nil)
		return
	}
	var opts []message.Option
	if obs, err := r.Options().Observe(); err == nil && obs == 0 {
		d.tokens[path] = append(message.Token(nil), r.Token()...)
		opts = append(opts, message.Option{ID: message.Observe, Value: []byte{1}})
	}
	_ = w.SetResponse(codes.Content, message.TextPlain, bytes.NewReader([]byte(v)), opts...)
}

func (d *device) token(path string) message.Token {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tokens[path]
}

// register sends a Register with the given queries, Content-Format (-1:
// none) and payload, and returns the answer's code and location.
func (d *device) register(t *testing.T, path string, queries []string, cf int, payload []byte) (codes.Code, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := d.cc.NewPostRequest(ctx, path, message.AppLinkFormat, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer d.cc.ReleaseMessage(req)
	if cf < 0 {
		req.Remove(message.ContentFormat)
	} else {
		req.SetContentFormat(message.MediaType(cf))
	}
	for _, q := range queries {
		req.AddQuery(q)
	}
	resp, err := d.cc.Do(req)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	defer d.cc.ReleaseMessage(resp)
	loc, _ := resp.Options().LocationPath()
	return resp.Code(), loc
}

// notify sends a Confirmable 2.05 notification on token with Observe seq.
func (d *device) notify(t *testing.T, token message.Token, seq uint32, cf message.MediaType, body []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	m := d.cc.AcquireMessage(ctx)
	defer d.cc.ReleaseMessage(m)
	m.SetCode(codes.Content)
	m.SetToken(token)
	m.SetObserve(seq)
	m.SetContentFormat(cf)
	m.SetBody(bytes.NewReader(body))
	m.SetType(message.Confirmable)
	if err := d.cc.WriteMessage(m); err != nil {
		t.Fatalf("notify: %v", err)
	}
}
