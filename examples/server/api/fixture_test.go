package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/api"
	"github.com/fotakit/fota/examples/server/callback"
	"github.com/fotakit/fota/pilot"
	"github.com/fotakit/fota/schedule"
)

// fakeClock is a fota.Clock the test moves by hand. (benbjohnson's Mock
// sleeps on every Set, which adds up in loops.)
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *fakeClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// start is the fixture's first instant: 22:00 UTC, so a campaign starting
// tomorrow opens two hours later.
var start = time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)

const (
	today    = "2026-03-01"
	tomorrow = "2026-03-02"
)

// fixture is a Manager over an in-memory store with an inventory of HTTP
// devices: ids (account "acme"), others (account "other"), lwm2m (an
// "acme" Lamp that is not HTTP) and push (acme's LwM2M and OMA-DM
// Meters), and the catalog testCatalog, served by api.New.
type fixture struct {
	t      testing.TB
	clk    *fakeClock
	inv    *fota.MemoryInventory
	m      *fota.Manager
	h      http.Handler
	ids    []string
	others []string
	lwm2m  string   // an acme Lamp that is not HTTP
	push   []string // acme's Meters: LwM2M, OMA-DM, LwM2M, OMA-DM
	tok    string   // if set, the token every ThingSpace call carries instead of its path account's

	options api.Options
}

// opts are the Options the handler was built with.
func (f *fixture) opts() api.Options { return f.options }

type fixtureConfig struct {
	devices   int
	pilot     pilot.Policy
	opts      api.Options
	callbacks bool // a running callback.Dispatcher as the Manager's Observer and Options.Callbacks
}

func newFixture(t testing.TB, cfg fixtureConfig) *fixture {
	t.Helper()
	if cfg.devices == 0 {
		cfg.devices = 25
	}
	f := &fixture{t: t, clk: &fakeClock{now: start}, inv: fota.NewMemoryInventory()}
	imei := func(n int) string {
		id, err := device.IMEIOf(fmt.Sprintf("35%012d", n))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	put := func(id, acc string, p device.Protocol) {
		f.inv.Put(fota.DeviceInfo{DeviceID: id, Account: acc, Protocol: p, Make: "Acme", Model: "Lamp",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	for i := range cfg.devices {
		f.ids = append(f.ids, imei(i))
		put(f.ids[i], "acme", device.HTTP)
	}
	for i := range 3 {
		f.others = append(f.others, imei(900000+i))
		put(f.others[i], "other", device.HTTP)
	}
	f.lwm2m = imei(800000)
	put(f.lwm2m, "acme", device.LWM2M)
	for i := range 4 { // acme's meters: LwM2M and OMA-DM in turn
		f.push = append(f.push, imei(700000+i))
		f.inv.Put(fota.DeviceInfo{DeviceID: f.push[i], Account: "acme", Protocol: []device.Protocol{device.LWM2M, device.OMADM}[i%2],
			Make: "Acme", Model: "Meter", Software: "1.0", FOTACapable: true, ActiveConnected: true})
	}
	var observer fota.Observer
	if cfg.callbacks {
		d := callback.New(callback.Config{CampaignStatus: api.WireCampaignStatus, Backoff: time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { d.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		observer, cfg.opts.Callbacks = fota.WireOnly(d), d
	}
	if cfg.opts.Packages == nil {
		cfg.opts.Packages = testCatalog(t)
	}
	m, err := fota.New(fota.Config{
		Inventory: f.inv, Clock: f.clk, Pilot: cfg.pilot, Observer: observer, Packages: cfg.opts.Packages,
		NewID: func(seq uint64) string { return fmt.Sprintf("c%d", seq) },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	if cfg.opts.Inventory == nil {
		cfg.opts.Inventory = f.inv
	}
	if cfg.opts.Clock == nil {
		cfg.opts.Clock = f.clk // the Manager's
	}
	if cfg.opts.Tokens == nil {
		cfg.opts.Tokens = &api.Tokens{}
		for acc, tok := range tokens {
			if err := cfg.opts.Tokens.Add(tok, acc); err != nil {
				t.Fatal(err)
			}
		}
	}
	if cfg.opts.Subscriptions == nil {
		cfg.opts.Subscriptions = map[string]api.Subscription{"acme": {PurchaseType: "TS-HFOTA-EVNT,TS-HFOTA-MRC", LicenseCount: 100, UpdateTime: start}}
	}
	if cfg.opts.Secrets == nil {
		secrets := api.NewMemorySecrets()
		for _, id := range slices.Concat([]string{f.lwm2m}, f.ids, f.others, f.push) {
			secrets.Put(id, secretOf(id))
		}
		cfg.opts.Secrets = secrets
	}
	if cfg.opts.Logger == nil {
		cfg.opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	f.options = cfg.opts
	f.h = api.New(m, cfg.opts)
	return f
}

// The fixture's catalog: acme's HTTP package lamp-fw (Acme Lamp 1.0 to
// 2.0, with its download URL, size and hash) and its push package
// meter-fw (Acme Meter 1.0 to 2.0, LwM2M and OMA-DM).
const (
	lampURL    = "https://downloads.example.com/acme/lamp-fw-2.0.bin"
	lampSize   = 1 << 20
	lampSHA256 = "30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58" // of 1 MiB of zero bytes
)

func testCatalog(t testing.TB) *api.Catalog {
	c := api.NewCatalog()
	for _, p := range []api.Package{
		{Package: fota.Package{Name: "lamp-fw", Make: "Acme", Model: "Lamp", From: "1.0", To: "2.0", URL: lampURL, Size: lampSize, SHA256: lampSHA256},
			Listing: api.Listing{Protocols: []device.Protocol{device.HTTP}, LaunchDate: schedule.Date{Year: 2026, Month: 2, Day: 1}, ReleaseNote: "brighter"}},
		{Package: fota.Package{Name: "meter-fw", Make: "Acme", Model: "Meter", From: "1.0", To: "2.0"},
			Listing: api.Listing{Protocols: []device.Protocol{device.OMADM, device.LWM2M}, LaunchDate: schedule.Date{Year: 2026, Month: 2, Day: 2}}},
	} {
		if err := c.Put("acme", p); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// testWriter sends the handler's log to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// tokens are the fixture's API tokens, one per account.
var tokens = map[string]string{"acme": "acme-token-0123456789", "other": "other-token-0123456789"}

// secretOf is a fixture device's secret.
func secretOf(deviceID string) []byte { return []byte("secret-of-" + deviceID) }

// do sends one request as the SDK would and returns the status and body,
// after checking the answer against the OpenAPI document. A ThingSpace
// call carries the token of the account its path names (and a
// VZ-M2M-Token, as the SDK sends both); a device call is signed with the
// secret of the device its body names.
func (f *fixture) do(method, path, body string) (int, []byte) {
	f.t.Helper()
	req := newRequest(method, path, body)
	if strings.HasPrefix(path, dev) {
		var named struct{ DeviceID string }
		if json.Unmarshal([]byte(body), &named) == nil && named.DeviceID != "" {
			req.Header.Set(api.DeviceSignatureHeader, api.Sign(secretOf(named.DeviceID), []byte(body)))
		}
	} else if f.tok != "" {
		req.Header.Set("Authorization", "Bearer "+f.tok)
		req.Header.Set("VZ-M2M-Token", "session-"+f.tok)
	} else {
		for _, seg := range strings.Split(path, "/") {
			if tok, ok := tokens[strings.SplitN(seg, "?", 2)[0]]; ok {
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("VZ-M2M-Token", "session-"+tok)
				break
			}
		}
	}
	return f.send(req)
}

// newRequest is a request with the SDK's header set: its user agent,
// Accept, and the */* Content-Type it sends with most JSON bodies.
func newRequest(method, path, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("User-Agent", "APIMATIC 3.0")
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "*/*")
	}
	return req
}

// send serves req and checks the answer against the OpenAPI document.
func (f *fixture) send(req *http.Request) (int, []byte) {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	checkContract(f.t, req, rec.Code, rec.Header(), rec.Body.Bytes())
	return rec.Code, rec.Body.Bytes()
}

// ok sends a request that must answer 200 and decodes the answer into out
// (if not nil).
func (f *fixture) ok(method, path, body string, out any) {
	f.t.Helper()
	code, b := f.do(method, path, body)
	if code != http.StatusOK {
		f.t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			f.t.Fatalf("%s %s: answer %s: %v", method, path, b, err)
		}
	}
}

// fails sends a request that must fail with status and code, and returns
// the error message.
func (f *fixture) fails(method, path, body string, status int, code string) string {
	f.t.Helper()
	got, b := f.do(method, path, body)
	var e api.Error
	if err := json.Unmarshal(b, &e); err != nil {
		f.t.Fatalf("%s %s: error body %q is not JSON: %v", method, path, b, err)
	}
	if got != status || e.ErrorCode != code {
		f.t.Fatalf("%s %s %s: got %d %s (%s), want %d %s", method, path, body, got, e.ErrorCode, e.ErrorMessage, status, code)
	}
	if e.ErrorMessage == "" {
		f.t.Fatalf("%s %s: empty errorMessage", method, path)
	}
	return e.ErrorMessage
}

func (f *fixture) tick() {
	f.t.Helper()
	if _, err := f.m.Tick(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// campaignBody is a schedule request for devs, with extra JSON fields
// (without braces) appended.
func campaignBody(start, end string, devs []string, extra string) string {
	b, _ := json.Marshal(devs)
	s := fmt.Sprintf(`{"campaignName":"lamp 2.0","softwareName":"lamp-fw","softwareFrom":"1.0","softwareTo":"2.0",`+
		`"distributionType":"HTTP","make":"Acme","model":"Lamp","startDate":%q,"endDate":%q,"deviceList":%s`, start, end, b)
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func list(ids ...string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

const (
	v1  = "/api/fota/v1"
	v2  = "/api/fota/v2"
	dev = "/api/fota/device"
)

// quietLogger drops the handler's log, for tests that make many calls.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func quietOptions() api.Options { return api.Options{Logger: quietLogger()} }
