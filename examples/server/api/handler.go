package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/examples/server/callback"
)

// The URL prefixes: ThingSpace's /v1 and /v2 resource paths, and this
// server's own device-side path (ThingSpace publishes no device protocol).
const (
	V1Prefix     = "/api/fota/v1"
	V2Prefix     = "/api/fota/v2"
	DevicePrefix = "/api/fota/device"
)

// Bounds on what a request may carry, when Options leaves them zero.
const (
	// DefaultMaxBodyBytes bounds a request body: 1 MiB holds a deviceList
	// of some 50,000 IMEIs.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxStringBytes bounds every string a request carries (a JSON
	// string, a path segment, a query value): ids, names and URLs are far
	// shorter; a 900 KB software name is not a name.
	DefaultMaxStringBytes = 2048
	// maxQueryBytes bounds a whole query string.
	maxQueryBytes = 16 << 10
)

// Options configures the handler. The zero value authenticates every
// call and knows no tokens and no device secrets, so it refuses every
// call but GET /openapi.json: pass Tokens and Secrets, or set Insecure.
type Options struct {
	// Tokens maps the bearer tokens of API clients to their accounts
	// (see Tokens). A /v1 or /v2 call without a known token is 401; with
	// another account's token it is 403.
	Tokens *Tokens
	// Secrets holds each device's secret: a device call must carry the
	// HMAC of its body keyed by it (see Sign); otherwise it is 401.
	Secrets DeviceSecrets
	// Insecure turns authentication off: every call is accepted whatever
	// its credentials. For experiments on loopback only.
	Insecure bool
	// Inventory is the Manager's inventory (fota.Config.Inventory): the
	// account device routes list it, when it is a DeviceLister such as
	// fota.MemoryInventory, and a configuration-file campaign reads its
	// devices' software version from it. The Manager itself scopes
	// devices to accounts.
	Inventory fota.Inventory
	// Callbacks, if set, keeps the accounts' callback registrations and
	// delivers the Manager's changes to them; the Manager must have it as
	// (or among) its Observer. nil: the callback routes answer
	// CodeUnsupported.
	Callbacks *callback.Dispatcher
	// Subscriptions is each account's FOTA subscription, as the
	// subscription routes report it (see Subscription). An account
	// without one has none (CodeNotFound) and a licence total of 0.
	Subscriptions map[string]Subscription
	// Packages is the software catalog the routes GET /software/{acc}
	// and /v1 GET /firmware/{acc} list, and where the configuration files
	// uploaded through POST /files/{acc} are kept; the Manager must read
	// the same one (fota.Config.Packages). nil: an empty catalog, and the
	// configuration-file routes answer CodeUnsupported.
	Packages *Catalog
	// MaxBodyBytes bounds request bodies (DefaultMaxBodyBytes when zero or
	// negative); MaxStringBytes bounds every string in a request
	// (DefaultMaxStringBytes when zero or negative).
	MaxBodyBytes   int64
	MaxStringBytes int
	// PageSize is how many devices or campaigns one report page holds,
	// 1..fota.MaxPageSize; anything else means fota.MaxPageSize (1,000, as
	// ThingSpace's reports).
	PageSize int
	// Lenient ignores unknown fields in request bodies, for clients that
	// send more than their model's fields. By default a body's unknown
	// top-level field is refused (400) with its name.
	Lenient bool
	// Clock is the Manager's clock (fota.Config.Clock): the licence
	// cancel lists release their licences at the end of the billing cycle
	// by it, and uploaded files are dated by it. Default: the system
	// clock.
	Clock fota.Clock
	// Logger receives one Info record per request (method, route,
	// status, duration), the refused credentials and every 500.
	// Default: discard.
	Logger *slog.Logger
}

// server is the http.Handler New returns.
type server struct {
	fleet   fleet
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	spec    []byte // the OpenAPI document, as JSON
	cancels cancelLists
}

// New returns the handler serving the ThingSpace routes under V1Prefix
// and V2Prefix, the device routes under DevicePrefix and the OpenAPI
// document at GET /openapi.json, backed by m (see the package
// documentation for every route). A nil m gives a handler that answers
// every request 500.
func New(m *fota.Manager, opts Options) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxStringBytes <= 0 {
		opts.MaxStringBytes = DefaultMaxStringBytes
	}
	if opts.PageSize < 1 || opts.PageSize > fota.MaxPageSize {
		opts.PageSize = fota.MaxPageSize
	}
	s := &server{opts: opts, log: opts.Logger, mux: http.NewServeMux(), spec: specJSON}
	if m != nil {
		s.fleet = fleet{m: m}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.opts.Clock == nil {
		s.opts.Clock = systemClock{}
	}
	s.routes()
	return s
}

// endpoint answers one ThingSpace route for the authenticated account:
// the value to send with 200, or an error that Classify turns into a
// status and an errorCode.
type endpoint func(r *http.Request, account string) (any, error)

// deviceEndpoint answers one device-side route from the body it was
// sent; it authenticates the device the body names (authDevice) before
// acting.
type deviceEndpoint func(r *http.Request, body []byte) (any, error)

// thingSpace registers a route under prefix (V1Prefix or V2Prefix): the
// caller's token is checked against the {acc} segment, and the path's
// values and the query are bounded, before fn runs. A route without
// {acc} (/v1 POST /upgrades, whose account is in the body) gets the
// token's account ("" when insecure) and checks the body against it.
func (s *server) thingSpace(prefix, pattern string, fn endpoint) {
	method, path, _ := strings.Cut(pattern, " ")
	inPath := strings.Contains(path, "{acc}")
	s.mux.HandleFunc(method+" "+prefix+path, func(w http.ResponseWriter, r *http.Request) {
		acc := r.PathValue("acc")
		var err error
		if inPath {
			err = s.authenticate(r, acc)
		} else {
			acc, err = s.tokenAccount(r)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.checkRequest(r); err != nil {
			s.fail(w, r, err)
			return
		}
		// A cancel list whose billing cycle ended is acted on before the
		// account is answered, so every answer is as of now.
		if err := s.releaseDue(r.Context(), acc); err != nil {
			s.fail(w, r, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		v, err := fn(r, acc)
		s.reply(w, r, v, err)
	})
}

// device registers a device-side route: the body is read (bounded) and
// handed to fn, which authenticates the device it names.
func (s *server) device(pattern string, fn deviceEndpoint) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(method+" "+DevicePrefix+path, func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkRequest(r); err != nil {
			s.fail(w, r, err)
			return
		}
		body, err := readBody(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v, err := fn(r, body)
		s.reply(w, r, v, err)
	})
}

// now is the time by Options.Clock, in UTC.
func (s *server) now() time.Time { return s.opts.Clock.Now().UTC() }

// systemClock is the default Options.Clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// checkRequest bounds the path's values and the query string.
func (s *server) checkRequest(r *http.Request) error {
	if len(r.URL.RawQuery) > maxQueryBytes {
		return &fota.RequestError{Field: "query", Value: r.URL.RawQuery[:32] + "…", Reason: "longer than 16 KiB"}
	}
	for _, name := range []string{"acc", "campaignId", "deviceId", "service", "upgradeStatus", "startIndex", "fileId"} {
		if err := checkText(name, r.PathValue(name), s.opts.MaxStringBytes); err != nil {
			return err
		}
	}
	for name, values := range r.URL.Query() {
		for _, v := range values {
			if err := checkText(name, v, s.opts.MaxStringBytes); err != nil {
				return err
			}
		}
	}
	return nil
}

// ServeHTTP routes the request and logs it. Unknown routes and wrong
// methods get the same JSON error body as every other failure (the
// ServeMux alone would answer in plain text), and a panic anywhere
// becomes a 500.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	_, pattern := s.mux.Handler(r)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("api: panic", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if rec.status == 0 {
				s.fail(rec, r, errInternal)
			}
		}
		route := pattern
		if route == "" {
			route = "(none)"
		}
		s.log.Info("request", "method", r.Method, "route", route, "status", rec.status, "duration", time.Since(began))
	}()
	switch {
	case s.fleet.m == nil:
		s.fail(rec, r, errInternal)
	case pattern != "":
		s.mux.ServeHTTP(rec, r)
	default:
		s.noRoute(rec, r)
	}
}

// noRoute answers a request no pattern matches: the mux decides between
// 404 and 405 (it knows the allowed methods), the answer is JSON.
func (s *server) noRoute(w http.ResponseWriter, r *http.Request) {
	probe := &capture{header: http.Header{}}
	h, _ := s.mux.Handler(r)
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		s.fail(w, r, &httpError{status: http.StatusMethodNotAllowed, code: CodeMethodNotAllowed,
			msg: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + allow})
		return
	}
	s.fail(w, r, &httpError{status: http.StatusNotFound, code: CodeNotFound, msg: "no route " + r.Method + " " + r.URL.Path})
}

// capture records what the mux's fallback handler answered.
type capture struct {
	header http.Header
	status int
}

func (c *capture) Header() http.Header         { return c.header }
func (c *capture) Write(b []byte) (int, error) { return len(b), nil }
func (c *capture) WriteHeader(status int)      { c.status = status }

// statusRecorder remembers the status sent, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// reply sends v as JSON with 200, or the error.
func (s *server) reply(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(b, '\n'))
}

// fail sends err as ThingSpace's error body with the status Classify
// gives it; under the ThingSpace prefixes, with the status a ThingSpace
// client can read (ThingSpaceStatus). An unexpected error is logged and
// answered 500 without its text.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := Classify(err)
	if status == http.StatusInternalServerError && !errors.Is(err, errInternal) {
		s.log.Error("api: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if isThingSpace(r.URL.Path) {
		status = ThingSpaceStatus(status)
	}
	b, _ := json.Marshal(body) // two strings: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// isThingSpace reports whether path is under the /v1 or /v2 prefix.
func isThingSpace(path string) bool {
	return strings.HasPrefix(path, V1Prefix+"/") || strings.HasPrefix(path, V2Prefix+"/")
}

// readBody reads a whole body (bounded by the MaxBytesReader around it).
func readBody(body io.Reader) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	return io.ReadAll(body)
}

// decode reads a JSON body into v (see unmarshal).
func (s *server) decode(r *http.Request, v any) error {
	b, err := readBody(r.Body)
	if err != nil {
		return err
	}
	return s.unmarshal(b, v)
}

// unmarshal checks a JSON body's strings (checkJSON) and decodes it into
// v, strictly (checkFields) unless Options.Lenient. Every failure is a
// bad request naming the field (or "body"). The Content-Type is not
// looked at: the SDK sends some JSON bodies as */*.
func (s *server) unmarshal(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return &fota.RequestError{Field: "body", Value: "", Reason: "empty: a JSON object is required"}
	}
	if err := checkJSON(b, s.opts.MaxStringBytes); err != nil {
		return err
	}
	if s.opts.Lenient {
		return jsonError(fota.UnmarshalLenient(b, v))
	}
	if err := checkFields(b, v); err != nil {
		return err
	}
	return jsonError(json.Unmarshal(b, v))
}
