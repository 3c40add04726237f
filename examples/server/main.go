// Command server is a local ThingSpace: it serves a fota.Manager over HTTP
// in the shape of ThingSpace's Software Management API, /v2 for HTTP
// devices and /v1 for push (LwM2M and OMA-DM) upgrades, with callbacks to
// registered URLs, a software catalog and a device-side check-in protocol
// for HTTP devices (see package github.com/fotakit/fota/examples/server/api
// for every route and the OpenAPI document it serves at /openapi.json).
// Manager.Run applies starts and ends as they fall due.
//
//	go run ./examples/server -demo 20
//	go run ./examples/server -demo 20 -push mixed -speed 3600
//
// It is secure by default: it listens on loopback (-addr), every API
// call needs a bearer token mapped to its account, and every device call
// the HMAC of its body keyed by the device's secret.
//
//	-addr HOST:PORT       listen address (default 127.0.0.1:8080)
//	-tokens FILE          API tokens, one "TOKEN ACCOUNT" per line (# comments)
//	-device-secrets FILE  device secrets, one "DEVICE SECRET" per line
//	-subscriptions FILE   FOTA subscriptions, one "ACCOUNT LICENSES [PURCHASETYPE]" per line
//	-packages FILE        the software catalog, a JSON object from account to packages
//	                      (api.ParsePackages): a schedule naming a package takes its
//	                      make, model and versions, and devices get its URL, size, hash
//	-demo N               load N HTTP demo devices of -account (default acme), with a
//	                      new token for the account, a secret per device and a package
//	                      lamp-fw in the catalog, and print curl commands that use them
//	-push KIND            with -demo N, also N push devices (lwm2m, omadm or mixed:
//	                      both in turn) and their package meter-fw; a simulated
//	                      transport inside the server answers for them (package
//	                      pushsim), and a printed /v1 upgrade runs to the end
//	-speed F              the Manager's clock runs F times as fast as the wall clock
//	                      (default 1; 3600: an hour a second), from the start's
//	                      wall-clock time on
//	-demo-secrets FILE    write the demo devices' secrets there ("DEVICE SECRET" lines)
//	-insecure             accept every call without credentials (warns on stderr)
//	-lenient              ignore unknown fields in request bodies; by default a body
//	                      with a field its ThingSpace model lacks is refused (400),
//	                      naming the field
//	-db DSN               keep campaigns on PostgreSQL through sqlstore (e.g.
//	                      postgres://postgres@127.0.0.1:5432/test), in schema
//	-db-schema (default fota), migrated at start; default: in memory
//
// Push devices talk LwM2M or OMA-DM to their server, never to
// ThingSpace's REST API, so this server has no device route for them:
// the demo's push devices live inside the process, and a real LwM2M
// transport over CoAP is the separate LwM2M example (examples/lwm2m).
//
// -speed moves the Manager's clock only: dates, windows, the 2-hour
// pre-validation of an on-demand push upgrade, retries and ends pass
// faster; HTTP timeouts, callback retries and tokens keep the wall clock.
// With -db, speed and restarts do not mix: a restarted server's clock
// starts again at the wall clock's time, which may be before what the
// store has seen.
//
// With -db, campaigns, devices' records and licences, gates and logs
// survive a restart; the demo inventory and catalog, the uploaded
// configuration files, the licence cancel lists, the tokens and secrets
// and the callback registrations are the process's own and start anew.
// -speed moves the cancel lists' billing cycle too: a listed licence is
// released when the Manager's clock reaches the next month.
//
// Every request is logged (slog, to stderr): method, route, status,
// duration. SIGINT or SIGTERM shuts the server down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/examples/server/api"
	"github.com/fotakit/fota/examples/server/callback"
	"github.com/fotakit/fota/examples/server/pushsim"
	"github.com/fotakit/fota/sqlstore"
)

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
	packages, push                     string
	speed                              float64
	db, dbSchema                       string
	insecure, lenient                  bool
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
	fs.StringVar(&cfg.packages, "packages", "", "software catalog: a JSON object from account to packages (see api.ParsePackages)")
	fs.StringVar(&cfg.demoSecrets, "demo-secrets", "", "write the demo devices' secrets to this file")
	fs.StringVar(&cfg.push, "push", "", "with -demo N, also N push devices simulated in this process: lwm2m, omadm or mixed")
	fs.Float64Var(&cfg.speed, "speed", 1, "the Manager's clock runs this many times as fast as the wall clock (3600: an hour a second)")
	fs.BoolVar(&cfg.insecure, "insecure", false, "accept every call without credentials")
	fs.BoolVar(&cfg.lenient, "lenient", false, "ignore unknown fields in request bodies (default: refuse them, naming the field)")
	fs.StringVar(&cfg.db, "db", "", "PostgreSQL URL: keep campaigns there (sqlstore) instead of in memory")
	fs.StringVar(&cfg.dbSchema, "db-schema", "fota", "the PostgreSQL schema of -db")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if msg := checkFlags(cfg, fs.NArg()); msg != "" {
		fmt.Fprintln(stderr, "server:", msg)
		fs.Usage()
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	// clock is the Manager's: the wall clock, -speed times as fast (at 1,
	// the wall clock itself). The bound on the background loops' sleeps is
	// a minute of the wall clock's.
	clock := scaledClock{origin: time.Now(), speed: cfg.speed}
	poll := time.Duration(float64(time.Minute) * cfg.speed)
	opts, demo, err := load(cfg, clock.Now())
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
	m, err := fota.New(fota.Config{Store: store, Inventory: demo.inv, Packages: opts.Packages, Clock: clock, RunPoll: poll, Logger: log,
		Observer: fota.WireOnly(callbacks)}) // a callback reports a change of the status ThingSpace shows
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	opts.Inventory, opts.Logger, opts.Callbacks, opts.Clock = demo.inv, log, callbacks, clock
	transport := pushsim.New(m, pushsim.Config{Clock: clock, Poll: poll, Logger: log})
	for _, d := range demo.push {
		if err := transport.Add(d.id, d.protocol); err != nil {
			fmt.Fprintln(stderr, "server:", err)
			return 1
		}
	}
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
	// The background: the Tick loop, the callback workers and, with push
	// devices, their simulated transport. They stop before run returns.
	ctxBackground, stopBackground := context.WithCancel(context.Background())
	var background sync.WaitGroup
	defer func() { stopBackground(); background.Wait() }()
	background.Go(func() { _ = m.Run(ctxBackground) })
	background.Go(func() { callbacks.Run(ctxBackground) })
	if len(demo.push) > 0 {
		background.Go(func() { _ = transport.Run(ctxBackground) })
	}
	log.Info("fota server listening", "addr", ln.Addr().String(), "demoDevices", len(demo.ids), "pushDevices", len(demo.push),
		"speed", cfg.speed, "insecure", cfg.insecure)
	printTryIt(stderr, ln.Addr().String(), cfg.account, demo, clock.Now(), cfg.speed)
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
	return code
}

// checkFlags says what is wrong with the flags, or "".
func checkFlags(cfg config, args int) string {
	switch {
	case args > 0:
		return "unexpected arguments"
	case cfg.demo < 0 || cfg.demo > 1_000_000:
		return "-demo must be in [0, 1000000]"
	case cfg.push != "" && pushProtocols[cfg.push] == nil:
		return "-push must be lwm2m, omadm or mixed"
	case cfg.push != "" && cfg.demo == 0:
		return "-push needs -demo N: it adds N push devices beside the N HTTP ones"
	case !(cfg.speed > 0 && cfg.speed <= 1_000_000):
		return "-speed must be in (0, 1000000]"
	}
	return ""
}

// openStore opens and migrates the PostgreSQL store -db names, or
// returns nil (the Manager's in-memory default) without -db.
func openStore(ctx context.Context, cfg config) (fota.Store, func(), error) {
	if cfg.db == "" {
		return nil, func() {}, nil
	}
	pool, err := pgxpool.New(ctx, cfg.db)
	if err != nil {
		return nil, nil, fmt.Errorf("-db: %w", err)
	}
	store, err := sqlstore.OpenPool(ctx, pool, sqlstore.Options{Schema: cfg.dbSchema})
	if err == nil {
		err = store.Migrate(ctx)
	}
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("-db: %w", err)
	}
	return store, pool.Close, nil
}

// load reads the files the flags name and makes the demo set (see
// makeDemo).
func load(cfg config, now time.Time) (api.Options, demoSet, error) {
	opts := api.Options{Insecure: cfg.insecure, Lenient: cfg.lenient, Tokens: &api.Tokens{}, Subscriptions: map[string]api.Subscription{},
		Packages: api.NewCatalog()}
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
		return opts, demoSet{}, err
	}
	if err := read(cfg.secrets, func(r io.Reader) (err error) {
		s, err := api.ParseSecrets(r)
		if s != nil {
			secrets = s
			opts.Secrets = s
		}
		return err
	}); err != nil {
		return opts, demoSet{}, err
	}
	if err := read(cfg.subs, func(r io.Reader) (err error) { opts.Subscriptions, err = api.ParseSubscriptions(r, now); return err }); err != nil {
		return opts, demoSet{}, err
	}
	if err := read(cfg.packages, func(r io.Reader) (err error) { opts.Packages, err = api.ParsePackages(r, now); return err }); err != nil {
		return opts, demoSet{}, err
	}
	demo, err := makeDemo(cfg, &opts, secrets, now)
	return opts, demo, err
}
