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

	"github.com/fotakit/fota"
)

// The URL prefixes: ThingSpace's /v2 resource path, and this server's own
// device-side path (ThingSpace publishes no device protocol).
const (
	V2Prefix     = "/api/fota/v2"
	DevicePrefix = "/api/fota/device"
)

// DefaultMaxBodyBytes bounds a request body when Options.MaxBodyBytes is
// zero: 1 MiB holds a deviceList of some 50,000 IMEIs.
const DefaultMaxBodyBytes = 1 << 20

// Options configures the handler. The zero value serves every route with
// no authentication, 1 MiB bodies and ThingSpace's page size.
type Options struct {
	// Authorize checks the credentials of a /v2 call for account (the
	// {acc} path segment). ThingSpace sends "Authorization: Bearer <token>"
	// and "VZ-M2M-Token: <session token>"; both are read by this function,
	// if any. A non-nil error answers 401 Unauthorized (its text is logged,
	// not sent). nil accepts every call and ignores both headers.
	Authorize func(r *http.Request, account string) error
	// AuthorizeDevice checks a device-side call for the device the body
	// names. nil accepts every call.
	AuthorizeDevice func(r *http.Request, deviceID string) error
	// Inventory, if set, scopes device ids to accounts: a call under
	// account A that names a device the inventory records for another
	// account (a non-empty DeviceInfo.Account) is answered 404, as if the
	// device did not exist. Pass the Manager's own inventory. nil: no
	// device-level scoping (the Manager records no owner per device).
	Inventory fota.Inventory
	// MaxBodyBytes bounds request bodies; a larger body is 413. Zero or
	// negative means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// PageSize is how many devices or campaigns one report page holds,
	// 1..fota.MaxPageSize; anything else means fota.MaxPageSize (1,000, as
	// ThingSpace's reports).
	PageSize int
	// Logger receives a record for every 500 and refused credential.
	// Default: discard.
	Logger *slog.Logger
}

// server is the http.Handler New returns.
type server struct {
	m    *fota.Manager
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the handler serving the ThingSpace /v2 routes under
// V2Prefix and the device routes under DevicePrefix, backed by m (see the
// package documentation for every route). A nil m gives a handler that
// answers every request 500.
func New(m *fota.Manager, opts Options) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.PageSize < 1 || opts.PageSize > fota.MaxPageSize {
		opts.PageSize = fota.MaxPageSize
	}
	s := &server{m: m, opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.routes()
	return s
}

// endpoint answers one /v2 route: the value to send with 200, or an error
// that the error mapping turns into a status and an errorCode.
type endpoint func(r *http.Request, account string) (any, error)

// deviceEndpoint answers one device-side route.
type deviceEndpoint func(r *http.Request) (any, error)

// v2 registers a ThingSpace route: credentials are checked for the {acc}
// segment before fn runs.
func (s *server) v2(pattern string, fn endpoint) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(method+" "+V2Prefix+path, func(w http.ResponseWriter, r *http.Request) {
		acc := r.PathValue("acc")
		if s.opts.Authorize != nil {
			if err := s.opts.Authorize(r, acc); err != nil {
				s.log.Info("api: credentials refused", "account", acc, "err", err)
				s.fail(w, r, errUnauthorized)
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		v, err := fn(r, acc)
		s.reply(w, r, v, err)
	})
}

// device registers a device-side route; fn checks the device's
// credentials itself, once it has read which device is calling.
func (s *server) device(pattern string, fn deviceEndpoint) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(method+" "+DevicePrefix+path, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		v, err := fn(r)
		s.reply(w, r, v, err)
	})
}

// authorizeDevice runs Options.AuthorizeDevice.
func (s *server) authorizeDevice(r *http.Request, deviceID string) error {
	if s.opts.AuthorizeDevice == nil {
		return nil
	}
	if err := s.opts.AuthorizeDevice(r, deviceID); err != nil {
		s.log.Info("api: device credentials refused", "device", deviceID, "err", err)
		return errUnauthorized
	}
	return nil
}

// ServeHTTP routes the request. Unknown routes and wrong methods get the
// same JSON error body as every other failure (the ServeMux alone would
// answer in plain text), and a panic anywhere becomes a 500.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("api: panic", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			s.fail(w, r, errInternal)
		}
	}()
	if s.m == nil {
		s.fail(w, r, errInternal)
		return
	}
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// No route: let the mux decide between 404 and 405 (it knows the
	// allowed methods), then answer in JSON.
	rec := &capture{header: http.Header{}}
	h, _ := s.mux.Handler(r)
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.fail(w, r, &httpError{status: http.StatusMethodNotAllowed, code: CodeMethodNotAllowed,
			msg: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + rec.header.Get("Allow")})
	default:
		s.fail(w, r, &httpError{status: http.StatusNotFound, code: CodeNotFound, msg: "no route " + r.URL.Path})
	}
}

// capture records what the mux's fallback handler answered.
type capture struct {
	header http.Header
	status int
}

func (c *capture) Header() http.Header         { return c.header }
func (c *capture) Write(b []byte) (int, error) { return len(b), nil }
func (c *capture) WriteHeader(status int)      { c.status = status }

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

// fail sends err as ThingSpace's error body with the status the mapping
// gives it. An unexpected error is logged and answered 500 without its
// text.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := Classify(err)
	if status == http.StatusInternalServerError && !errors.Is(err, errInternal) {
		s.log.Error("api: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	b, _ := json.Marshal(body) // two strings: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// readBody reads the whole body (bounded by MaxBytesReader).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(r.Body)
}

// decode reads a JSON body into v. Every failure is a bad request naming
// the field (or "body"), except a body over the limit (413).
func decode(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return unmarshal(b, v)
}

// unmarshal is decode's JSON half, shared with bodies read first.
func unmarshal(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return &fota.RequestError{Field: "body", Value: "", Reason: "empty: a JSON object is required"}
	}
	return jsonError(json.Unmarshal(b, v))
}
