// Package callback delivers a fota.Manager's status changes to the URLs
// that accounts register, as ThingSpace's callback (webhook) service does
// ("send messages to your application when ... upgrades start and
// finish", https://thingspace.verizon.com/documentation/apis/software-management/getting-started/about-callback-services.html).
//
// A Dispatcher is the fota.Observer, behind fota.WireOnly: ThingSpace's
// callbacks report changes of the status it shows, and a device moving
// between two states of one wire status (HTTP Downloading, Downloaded and
// Installing are all UpgradePending) is no such change. Observe turns a
// fota.Change into a Message and puts it on a bounded queue without
// waiting: it is itself the non-blocking path between the Manager and the
// receivers (a fota.AsyncObserver in front of it would only add a second
// queue), so the Manager is never slowed by a receiver. Workers (Run) POST each message
// as JSON to the account's registered URL; a failed attempt (a transport
// error, a timeout, any status outside 2xx) is retried after a delay that
// doubles from Config.Backoff up to Config.MaxBackoff, until
// Config.MaxAttempts attempts have failed: the message is then a dead
// letter. Stats counts what happened to every change.
//
// # Registrations
//
// ThingSpace separates its callback registrations by resource path: /v1
// (the push family, LwM2M and OMA-DM devices) registers per service name,
// whose one value is "Fota" (ServiceV1); /v2 (HTTP devices) registers one
// URL per account (ServiceV2). A change of an HTTP-family campaign or
// device, or of a licence, goes to the account's ServiceV2 registration;
// a push-family change to its ServiceV1 one. The registration is read
// again before every attempt: an updated URL takes effect for queued
// messages, and a deregistered service receives nothing more (its queued
// messages are discarded and counted in Stats.Discarded).
//
// # Messages
//
// ThingSpace's callback page shows messages with accountName, type,
// username and password (the registration's, "as plain text in the
// callback message") and per-type elements. The per-type elements here
// are the SDK's models for the same facts: a campaign change carries
// campaignId and status (the campaign's wire status), a device change
// campaignId and a deviceList of one V2DeviceStatus {deviceId, status,
// resultReason}, a licence change a deviceList with the licence status.
// time is the change's instant (RFC 3339, UTC). Observe delivers every
// change it is given; wrapped in fota.WireOnly (as examples/server
// wires it), it is given only the changes a ThingSpace client sees.
//
// The Dispatcher posts to whatever URL an account registers, private
// addresses included: it is for a server whose accounts are trusted (a
// local ThingSpace for tests), not for one open to strangers.
//
// Delivery is at least once (a receiver that accepted a message but
// whose answer was lost gets it again) and unordered across retries.
// Messages still queued or waiting for a retry when Run returns are not
// delivered.
package callback

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fotakit/fota"
	"github.com/fotakit/fota/campaign"
	"github.com/fotakit/fota/device"
)

// The services a registration is for.
const (
	ServiceV1 = "Fota" // /v1's one service name (CallbackServiceEnum)
	ServiceV2 = "v2"   // the /v2 registration, which has no name on the wire
)

// MaxURLBytes bounds a callback URL.
const MaxURLBytes = 2048

// Registration is where an account wants one service's messages.
type Registration struct {
	Account  string
	Service  string // ServiceV1 or ServiceV2
	URL      string // absolute http or https URL
	Username string // echoed in every message, as ThingSpace does
	Password string
}

// Message is one callback body.
type Message struct {
	AccountName string         `json:"accountName"`
	Type        string         `json:"type"` // TypeCampaign, TypeDevice or TypeLicense
	Username    string         `json:"username,omitempty"`
	Password    string         `json:"password,omitempty"`
	CampaignID  string         `json:"campaignId,omitempty"`
	Status      string         `json:"status,omitempty"` // the campaign's status (TypeCampaign)
	DeviceList  []DeviceStatus `json:"deviceList,omitempty"`
	Time        time.Time      `json:"time"`
}

// The message types.
const (
	TypeCampaign = "CampaignStatus"
	TypeDevice   = "DeviceStatus"
	TypeLicense  = "LicenseStatus"
)

// DeviceStatus is one device's status (V2DeviceStatus).
type DeviceStatus struct {
	DeviceID     string `json:"deviceId"`
	Status       string `json:"status"`
	ResultReason string `json:"resultReason,omitempty"`
}

// Config tunes a Dispatcher; every zero field has a default.
type Config struct {
	// Client posts the messages; its Timeout bounds one attempt.
	// Default: a client with a 10 s timeout.
	Client *http.Client
	// QueueSize bounds the messages waiting for a worker (default 1024);
	// a change that finds the queue full is dropped and counted.
	QueueSize int
	// Workers is how many messages are posted at once (default 4).
	Workers int
	// MaxAttempts is how many failed attempts make a dead letter
	// (default 5).
	MaxAttempts int
	// Backoff is the wait before the first retry (default 1 s); each
	// further retry waits twice as long, at most MaxBackoff (default
	// 1 min).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// CampaignStatus spells a campaign status in messages. Default: the
	// status's own spelling (campaign.Status.String); a server that
	// rewrites statuses on its API passes the same function here.
	CampaignStatus func(campaign.Status) string
	// Logger receives a record per dead letter and dropped message.
	// Default: discard.
	Logger *slog.Logger
}

// Stats counts what became of the changes a Dispatcher observed. Every
// change is Unregistered, Dropped or Queued; every queued message ends
// Delivered, a dead letter or Discarded, so Queued minus those three is
// what is still on its way.
type Stats struct {
	Unregistered uint64 // no registration for the change's account and service: not queued
	Dropped      uint64 // the queue was full: not queued
	Queued       uint64 // put on the queue
	Delivered    uint64 // accepted by a receiver (2xx)
	Retried      uint64 // failed attempts followed by another
	DeadLetters  uint64 // given up: MaxAttempts attempts failed, or the queue was full for a retry
	Discarded    uint64 // the registration was gone when the message was due
}

// Dispatcher keeps the registrations and delivers messages. Create it
// with New, give it to the Manager as its Observer, and start Run.
type Dispatcher struct {
	cfg   Config
	log   *slog.Logger
	queue chan job

	mu   sync.RWMutex
	regs map[key]Registration

	unregistered, dropped, queued, delivered, retried, dead, discarded atomic.Uint64
}

type key struct{ account, service string }

// job is one message on its way, with the attempts it has failed.
type job struct {
	key
	msg    Message
	failed int
}

// New returns a Dispatcher with cfg's defaults filled in.
func New(cfg Config) *Dispatcher {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff < cfg.Backoff {
		cfg.MaxBackoff = max(cfg.Backoff, time.Minute)
	}
	if cfg.CampaignStatus == nil {
		cfg.CampaignStatus = campaign.Status.String
	}
	d := &Dispatcher{cfg: cfg, log: cfg.Logger, queue: make(chan job, cfg.QueueSize), regs: map[key]Registration{}}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d
}

// Register sets where the account's messages of reg.Service go,
// replacing an earlier registration. A URL that is not an absolute http
// or https URL, or is longer than MaxURLBytes, is a *fota.RequestError;
// so is a service other than ServiceV1 or ServiceV2.
func (d *Dispatcher) Register(reg Registration) error {
	if err := validate(reg); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.regs[key{reg.Account, reg.Service}] = reg
	return nil
}

// Update replaces an existing registration; without one it is a
// *fota.NotFoundError and nothing changes.
func (d *Dispatcher) Update(reg Registration) error {
	if err := validate(reg); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k := key{reg.Account, reg.Service}
	if _, ok := d.regs[k]; !ok {
		return &fota.NotFoundError{Kind: "callback registration", ID: reg.Service}
	}
	d.regs[k] = reg
	return nil
}

// Deregister removes the account's registration for service: nothing is
// delivered for it any more, queued messages included. Without one it is
// a *fota.NotFoundError.
func (d *Dispatcher) Deregister(account, service string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := key{account, service}
	if _, ok := d.regs[k]; !ok {
		return &fota.NotFoundError{Kind: "callback registration", ID: service}
	}
	delete(d.regs, k)
	return nil
}

// Registration returns the account's registration for service.
func (d *Dispatcher) Registration(account, service string) (Registration, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	reg, ok := d.regs[key{account, service}]
	return reg, ok
}

// Registrations returns the account's registrations, ordered by service.
func (d *Dispatcher) Registrations(account string) []Registration {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []Registration
	for k, reg := range d.regs {
		if k.account == account {
			out = append(out, reg)
		}
	}
	slices.SortFunc(out, func(a, b Registration) int { return strings.Compare(a.Service, b.Service) })
	return out
}

func validate(reg Registration) error {
	if reg.Service != ServiceV1 && reg.Service != ServiceV2 {
		return &fota.RequestError{Field: "name", Value: reg.Service, Reason: `want "` + ServiceV1 + `"`}
	}
	if len(reg.URL) > MaxURLBytes {
		return &fota.RequestError{Field: "url", Value: reg.URL[:64] + "…", Reason: "longer than 2048 bytes"}
	}
	u, err := url.Parse(reg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return &fota.RequestError{Field: "url", Value: reg.URL, Reason: "want an absolute http or https URL without user info"}
	}
	return nil
}

// Stats returns the counts so far.
func (d *Dispatcher) Stats() Stats {
	return Stats{Unregistered: d.unregistered.Load(), Dropped: d.dropped.Load(), Queued: d.queued.Load(),
		Delivered: d.delivered.Load(), Retried: d.retried.Load(), DeadLetters: d.dead.Load(), Discarded: d.discarded.Load()}
}

// Observe queues the change's message for the registration of its
// family's service, and returns at once: with no registration the change
// is counted and forgotten, with a full queue it is dropped and counted.
// It never blocks, so the Manager, which calls it after each commit, is
// never slowed by a receiver.
func (d *Dispatcher) Observe(c fota.Change) {
	k := key{c.Account, ServiceV2}
	if c.Family == device.FamilyPush && c.Kind != fota.LicenseChanged {
		k.service = ServiceV1
	}
	if _, ok := d.Registration(k.account, k.service); !ok {
		d.unregistered.Add(1)
		return
	}
	j := job{key: k, msg: d.message(c)}
	select {
	case d.queue <- j:
		d.queued.Add(1)
	default:
		d.dropped.Add(1)
		d.log.Warn("callback: queue full, message dropped", "account", j.account, "service", j.service, "type", j.msg.Type)
	}
}

// message is c as a callback body, without the registration's
// credentials (added at each attempt, from the registration as it is
// then).
func (d *Dispatcher) message(c fota.Change) Message {
	m := Message{AccountName: c.Account, CampaignID: c.CampaignID, Time: c.Time.UTC()}
	switch c.Kind {
	case fota.CampaignChanged:
		m.Type, m.Status = TypeCampaign, d.cfg.CampaignStatus(c.Campaign)
	case fota.DeviceChanged:
		m.Type = TypeDevice
		m.DeviceList = []DeviceStatus{{DeviceID: c.DeviceID, Status: c.Status(), ResultReason: c.Detail()}}
	default:
		m.Type = TypeLicense
		m.DeviceList = []DeviceStatus{{DeviceID: c.DeviceID, Status: c.Status(), ResultReason: c.Detail()}}
	}
	return m
}

// Run posts queued messages with Config.Workers workers until ctx ends.
// Retries wait on timers, not in a worker, so a receiver that never
// answers holds a worker for one attempt's timeout at a time. Run returns
// once every worker has stopped; pending retries are then abandoned.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	waiting := &retries{timers: map[*time.Timer]struct{}{}}
	for range d.cfg.Workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-d.queue:
					d.attempt(ctx, j, waiting)
				}
			}
		})
	}
	wg.Wait()
	waiting.mu.Lock()
	defer waiting.mu.Unlock()
	for t := range waiting.timers {
		t.Stop()
	}
	clear(waiting.timers)
}

// retries are the timers of the messages waiting for their next attempt.
type retries struct {
	mu     sync.Mutex
	timers map[*time.Timer]struct{}
}

// attempt posts one message once, and on failure schedules its retry or
// makes it a dead letter.
func (d *Dispatcher) attempt(ctx context.Context, j job, waiting *retries) {
	reg, ok := d.Registration(j.account, j.service)
	if !ok {
		d.discarded.Add(1)
		return
	}
	msg := j.msg
	msg.Username, msg.Password = reg.Username, reg.Password
	err := d.post(ctx, reg.URL, msg)
	if err == nil {
		d.delivered.Add(1)
		return
	}
	if ctx.Err() != nil {
		return // shutting down: not the receiver's failure
	}
	j.failed++
	if j.failed >= d.cfg.MaxAttempts {
		d.dead.Add(1)
		d.log.Warn("callback: dead letter", "account", j.account, "service", j.service, "type", j.msg.Type,
			"attempts", j.failed, "err", err)
		return
	}
	d.retried.Add(1)
	waiting.mu.Lock() // held until t is stored, so the timer's function sees it
	defer waiting.mu.Unlock()
	var t *time.Timer
	t = time.AfterFunc(d.backoff(j.failed), func() {
		waiting.mu.Lock()
		delete(waiting.timers, t)
		waiting.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		select {
		case d.queue <- j:
		default:
			d.dead.Add(1)
			d.log.Warn("callback: dead letter: queue full for a retry", "account", j.account, "service", j.service, "type", j.msg.Type)
		}
	})
	waiting.timers[t] = struct{}{}
}

// backoff is the wait after the failed-th failed attempt: Backoff,
// doubling, at most MaxBackoff.
func (d *Dispatcher) backoff(failed int) time.Duration {
	wait := d.cfg.Backoff
	for i := 1; i < failed && wait < d.cfg.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, d.cfg.MaxBackoff)
}

// post sends one message; anything but a 2xx answer is a failure.
func (d *Dispatcher) post(ctx context.Context, target string, msg Message) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection can be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Code: resp.StatusCode}
	}
	return nil
}

// StatusError is a receiver's answer outside 2xx.
type StatusError struct{ Code int }

// Error gives the status.
func (e *StatusError) Error() string {
	return "callback: receiver answered " + strconv.Itoa(e.Code) + " " + http.StatusText(e.Code)
}
