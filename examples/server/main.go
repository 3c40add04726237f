// Command server serves a fota.Manager over HTTP in the shape of
// ThingSpace's Software Management API (/v2 for HTTP devices, the /v1
// routes that need no push campaign), with an in-memory store, a
// background Tick, callbacks to registered URLs and a device-side
// check-in protocol (see package
// github.com/fotakit/fota/examples/server/api for every route and the
// OpenAPI document it serves at /openapi.json).
//
//	go run ./examples/server -demo 20
//
// It is secure by default: it listens on loopback (-addr), every API
// call needs a bearer token mapped to its account, and every device call
// the HMAC of its body keyed by the device's secret.
//
//	-addr HOST:PORT       listen address (default 127.0.0.1:8080)
//	-tokens FILE          API tokens, one "TOKEN ACCOUNT" per line (# comments)
//	-device-secrets FILE  device secrets, one "DEVICE SECRET" per line
//	-subscriptions FILE   FOTA subscriptions, one "ACCOUNT LICENSES [PURCHASETYPE]" per line
//	-demo N               load N HTTP demo devices of -account (default acme), with a
//	                      new token for the account and a secret per device, and print
//	                      curl commands that use them
//	-demo-secrets FILE    write the demo devices' secrets there ("DEVICE SECRET" lines)
//	-insecure             accept every call without credentials (warns on stderr)
//	-db DSN               keep campaigns on PostgreSQL through sqlstore (e.g.
//	                      postgres://postgres@127.0.0.1:5432/test), in schema
//	-db-schema (default fota), migrated at start; default: in memory
//
// With -db, campaigns, devices' records, gates and logs survive a
// restart; the demo inventory, the tokens and secrets, the callback
// registrations and the count of licences in use (see package api) are
// the process's own and start anew.
//
// Every request is logged (slog, to stderr): method, route, status,
// duration. SIGINT or SIGTERM shuts the server down gracefully.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/examples/server/api"
	"github.com/fotakit/fota/examples/server/callback"
	"github.com/fotakit/fota/schedule"
	"github.com/fotakit/fota/sqlstore"
)

// maxSleep bounds the wait between Ticks: a campaign scheduled meanwhile
// may bring an earlier deadline than the one Tick last returned.
const maxSleep = time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr, nil))
}

// config is what the flags say.
type config struct {
	addr, account                      string
	demo                               int
	tokens, secrets, subs, demoSecrets string
	db, dbSchema                       string
	insecure                           bool
}

// run serves until ctx ends and returns the exit code. ready, if not nil,
// is told the address once the server listens.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) int {
	var cfg config
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address (loopback by default)")
	fs.IntVar(&cfg.demo, "demo", 0, "load this many demo HTTP devices (valid IMEIs), with a token for -account and a secret per device")
	fs.StringVar(&cfg.account, "account", "acme", "the demo devices' account")
	fs.StringVar(&cfg.tokens, "tokens", "", "API tokens: one \"TOKEN ACCOUNT\" per line")
	fs.StringVar(&cfg.secrets, "device-secrets", "", "device secrets: one \"DEVICE SECRET\" per line")
	fs.StringVar(&cfg.subs, "subscriptions", "", "subscriptions: one \"ACCOUNT LICENSES [PURCHASETYPE]\" per line")
	fs.StringVar(&cfg.demoSecrets, "demo-secrets", "", "write the demo devices' secrets to this file")
	fs.BoolVar(&cfg.insecure, "insecure", false, "accept every call without credentials")
	fs.StringVar(&cfg.db, "db", "", "PostgreSQL URL: keep campaigns there (sqlstore) instead of in memory")
	fs.StringVar(&cfg.dbSchema, "db-schema", "fota", "the PostgreSQL schema of -db")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.demo < 0 || cfg.demo > 1_000_000 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "server: -demo must be in [0, 1000000]")
		fs.Usage()
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts, demo, err := load(cfg, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	switch {
	case cfg.insecure:
		fmt.Fprintln(stderr, "server: WARNING: -insecure: every call is accepted without credentials; anyone who reaches "+cfg.addr+" can schedule, read and delete any account's campaigns")
	case cfg.tokens == "" && cfg.demo == 0:
		fmt.Fprintln(stderr, "server: no API tokens: every API call will be refused (401); pass -tokens FILE, -demo N or -insecure")
	}
	store, closeStore, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	defer closeStore()
	callbacks := callback.New(callback.Config{CampaignStatus: api.WireCampaignStatus, Logger: log})
	m, err := fota.New(fota.Config{Store: store, Inventory: demo.inv, Logger: log, Observer: callbacks})
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	opts.Inventory, opts.Logger, opts.Callbacks = demo.inv, log, callbacks
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	srv := &http.Server{
		Handler:           api.New(m, opts),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	background, stopBackground := context.WithCancel(context.Background())
	defer stopBackground()
	done := make(chan struct{}, 2)
	go func() { tick(background, m, log); done <- struct{}{} }()
	go func() { callbacks.Run(background); done <- struct{}{} }()
	log.Info("fota server listening", "addr", ln.Addr().String(), "demoDevices", len(demo.ids), "insecure", cfg.insecure)
	printTryIt(stderr, ln.Addr().String(), cfg.account, demo, time.Now())
	if ready != nil {
		ready(ln.Addr().String())
	}

	code := 0
	select {
	case err := <-served:
		log.Error("fota server stopped", "err", err)
		code = 1
	case <-ctx.Done():
		log.Info("fota server shutting down")
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			log.Error("fota server shutdown", "err", err)
			code = 1
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			log.Error("fota server stopped", "err", err)
			code = 1
		}
	}
	stopBackground()
	<-done
	<-done
	return code
}

// openStore opens and migrates the PostgreSQL store -db names, or
// returns nil (the Manager's in-memory default) without -db.
func openStore(ctx context.Context, cfg config) (fota.Store, func(), error) {
	if cfg.db == "" {
		return nil, func() {}, nil
	}
	db, err := sql.Open("pgx", cfg.db) // sqlstore registers pgx's driver
	if err != nil {
		return nil, nil, fmt.Errorf("-db: %w", err)
	}
	store, err := sqlstore.Open(ctx, db, sqlstore.Options{Schema: cfg.dbSchema})
	if err == nil {
		err = store.Migrate(ctx)
	}
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("-db: %w", err)
	}
	return store, func() { db.Close() }, nil
}

// demoSet is what -demo made: the inventory, the devices, the account's
// token and the devices' secrets.
type demoSet struct {
	inv     *fota.MemoryInventory
	ids     []string
	token   string
	secrets map[string]string
}

// load reads the files the flags name and makes the demo set.
func load(cfg config, now time.Time) (api.Options, demoSet, error) {
	opts := api.Options{Insecure: cfg.insecure, Tokens: &api.Tokens{}, Subscriptions: map[string]api.Subscription{}}
	demo := demoSet{inv: fota.NewMemoryInventory(), secrets: map[string]string{}}
	secrets := api.NewMemorySecrets()
	opts.Secrets = secrets
	read := func(name string, parse func(io.Reader) error) error {
		if name == "" {
			return nil
		}
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := parse(f); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := read(cfg.tokens, func(r io.Reader) (err error) { opts.Tokens, err = api.ParseTokens(r); return err }); err != nil {
		return opts, demo, err
	}
	if err := read(cfg.secrets, func(r io.Reader) (err error) {
		s, err := api.ParseSecrets(r)
		if s != nil {
			secrets = s
			opts.Secrets = s
		}
		return err
	}); err != nil {
		return opts, demo, err
	}
	if err := read(cfg.subs, func(r io.Reader) (err error) { opts.Subscriptions, err = api.ParseSubscriptions(r, now); return err }); err != nil {
		return opts, demo, err
	}
	if cfg.demo == 0 {
		return opts, demo, nil
	}
	demo.token = "demo-" + rand.Text()
	if err := opts.Tokens.Add(demo.token, cfg.account); err != nil {
		return opts, demo, err
	}
	if _, ok := opts.Subscriptions[cfg.account]; !ok {
		opts.Subscriptions[cfg.account] = api.Subscription{PurchaseType: "TS-HFOTA-EVNT,TS-HFOTA-MRC", LicenseCount: cfg.demo, UpdateTime: now}
	}
	var list strings.Builder
	for i := range cfg.demo {
		id, err := device.IMEIOf(fmt.Sprintf("35%012d", i))
		if err != nil {
			return opts, demo, err
		}
		demo.ids = append(demo.ids, id)
		demo.inv.Put(fota.DeviceInfo{DeviceID: id, Account: cfg.account, Protocol: device.HTTP, Make: "Acme", Model: "Lamp",
			Software: "1.0", FOTACapable: true, ActiveConnected: true})
		secret := rand.Text()
		demo.secrets[id] = secret
		secrets.Put(id, []byte(secret))
		fmt.Fprintf(&list, "%s %s\n", id, secret)
	}
	if cfg.demoSecrets != "" {
		if err := os.WriteFile(cfg.demoSecrets, []byte(list.String()), 0o600); err != nil {
			return opts, demo, err
		}
	}
	return opts, demo, nil
}

// tick runs Manager.Tick until ctx ends, sleeping until the deadline it
// returns (at most maxSleep, at least a moment so that a failing store is
// not hammered).
func tick(ctx context.Context, m *fota.Manager, log *slog.Logger) {
	for {
		next, err := m.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("fota tick", "err", err)
		}
		wait := maxSleep
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), 100*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// printTryIt prints the demo's credentials and curl commands that walk a
// campaign through the API, the device calls signed with openssl.
func printTryIt(w io.Writer, addr, account string, demo demoSet, now time.Time) {
	base := "http://" + addr
	if len(demo.ids) == 0 {
		fmt.Fprintf(w, "\nNo devices: start with -demo 20 to try the API, e.g.\n  curl -s -H 'Authorization: Bearer TOKEN' %s/api/fota/v2/reports/%s/campaigns\n\n", base, account)
		return
	}
	devs := demo.ids[:min(len(demo.ids), 20)] // the pilot gate admits 20 until a pilot succeeds
	list := `"` + strings.Join(devs, `","`) + `"`
	today := schedule.DateOf(now)
	fmt.Fprintf(w, `
Demo account %[2]s: API token (send "Authorization: Bearer TOKEN"):
  TOKEN=%[8]s
Each demo device signs its calls with X-Device-Signature, the hex HMAC-SHA256 of the body keyed by its secret
(-demo-secrets FILE writes every device's secret). Device %[7]s's:
  SECRET=%[9]s

Try it (an on-demand campaign of %[6]d devices, then one device's update):

  dev() { curl -s -X POST %[1]s/api/fota/device/$1 -d "$2" -H "X-Device-Signature: $(printf %%s "$2" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)"; echo; }
  ID=$(curl -s -X POST %[1]s/api/fota/v2/campaigns/software/%[2]s -H "Authorization: Bearer $TOKEN" \
    -d '{"campaignName":"demo","softwareName":"lamp-fw","softwareFrom":"1.0","softwareTo":"2.0","distributionType":"HTTP","make":"Acme","model":"Lamp","startDate":"%[3]s","endDate":"%[4]s","deviceList":[%[5]s]}' \
    | sed 's/.*"id":"\([^"]*\)".*/\1/'); echo "$ID"
  curl -s %[1]s/api/fota/v2/campaigns/%[2]s/$ID -H "Authorization: Bearer $TOKEN"
  dev checkin '{"deviceId":"%[7]s","clientType":6}'
  dev report '{"deviceId":"%[7]s","campaignId":"'$ID'","outcome":"downloaded"}'
  dev checkin '{"deviceId":"%[7]s"}'
  dev report '{"deviceId":"%[7]s","campaignId":"'$ID'","outcome":"installed"}'
  curl -s '%[1]s/api/fota/v2/reports/%[2]s/campaigns/'$ID'/devices?lastSeenDeviceId=0' -H "Authorization: Bearer $TOKEN"
  curl -s '%[1]s/api/fota/v2/reports/%[2]s/campaigns?campaignStatus=CampaignScheduled' -H "Authorization: Bearer $TOKEN"
  curl -s -X PUT %[1]s/api/fota/v2/logging/%[2]s/devices -d '{"deviceIds":["%[7]s"]}' -H "Authorization: Bearer $TOKEN"
  curl -s %[1]s/api/fota/v2/logging/%[2]s/devices/%[7]s/checkInHistory -H "Authorization: Bearer $TOKEN"
  curl -s -X DELETE %[1]s/api/fota/v2/campaigns/%[2]s/$ID -H "Authorization: Bearer $TOKEN"
  curl -s %[1]s/openapi.json

`, base, account, today, today.AddDays(7), list, len(devs), devs[0], demo.token, demo.secrets[devs[0]])
}
