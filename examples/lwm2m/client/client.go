package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"
	coapNet "github.com/plgd-dev/go-coap/v3/net"
	"github.com/plgd-dev/go-coap/v3/net/blockwise"
	"github.com/plgd-dev/go-coap/v3/net/responsewriter"
	"github.com/plgd-dev/go-coap/v3/options"
	"github.com/plgd-dev/go-coap/v3/udp"
	udpClient "github.com/plgd-dev/go-coap/v3/udp/client"
	udpServer "github.com/plgd-dev/go-coap/v3/udp/server"

	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/content"
)

// Knobs make a client misbehave, or behave slowly, on purpose.
type Knobs struct {
	// DownloadFailure, when not Initial, ends every download with this
	// Update Result (2..7 or 9: Object 5 T3) instead of Downloaded.
	DownloadFailure lwm2m.Result
	// UpdateFailure, when not Initial, ends every update with this result
	// (5 or 8). With KeepImage a failure 8 goes back to Downloaded (T9),
	// else to Idle (T10).
	UpdateFailure lwm2m.Result
	KeepImage     bool
	// NotificationLoss is the probability that a notification is never
	// sent (0..1), drawn from the client's seeded source.
	NotificationLoss float64
	// RebootOffline, when positive, makes the client go offline for that
	// long while Updating, as a device that reboots into its new firmware:
	// it comes back with the outcome and registers anew (observations gone).
	RebootOffline time.Duration
	// DownloadDelay and UpdateDelay stretch the download (after the image
	// arrived) and the update.
	DownloadDelay, UpdateDelay time.Duration
	// ReadFormat answers a Read of /5/0 without an Accept option: TLV (the
	// default), SenMLJSON or SenMLCBOR.
	ReadFormat content.Format
	// Garbage sends, before each notification of /5/0/3, two that a server
	// must refuse on the same observation: one about another object
	// (/3/0/0, SenML JSON) and one of 1,100 bytes.
	Garbage bool
}

// Config configures one simulated client.
type Config struct {
	Server   string        // the LwM2M server's UDP address (host:port)
	Endpoint string        // the endpoint name, "urn:imei:<IMEI>"
	Lifetime time.Duration // the registration lifetime; Updates go out at half of it; 5 min when zero
	Seed     uint64        // seeds notification loss
	Knobs
	// AckTimeout is CoAP's acknowledgement timeout for the client's
	// Confirmable messages; 2 s when zero.
	AckTimeout time.Duration
	// Errors receives what went wrong on the client's side; nil drops it.
	Errors func(error)
}

// Stats counts what a client did.
type Stats struct {
	Registrations        int // Registers answered 2.01
	NotificationsSent    int
	NotificationsDropped int // lost on purpose (NotificationLoss)
	Downloads            int // completed downloads
	Updates              int // updates started (Execute accepted)
	// PackageWrites counts the non-empty writes of /5/0/1 received,
	// accepted or refused; Resets the empty ones; Executes the Executes of
	// /5/0/2 received, accepted or refused.
	PackageWrites, Resets, Executes int
	// Ignored counts the datagrams dropped while silent (Silence);
	// Garbage the notifications sent on purpose to be refused (Knobs.Garbage).
	Ignored, Garbage int
	// OutcomeUnsent is true when the client's current State or Update
	// Result never went out in a notification or observe answer (lost on
	// purpose, or the sender was stuck): a server knows it only by Reading.
	OutcomeUnsent bool
	Image         []byte
	ImageSHA256   [32]byte
}

// Client is one simulated LwM2M client: a CoAP endpoint on its own UDP
// socket holding Object 5 (/5/0), moved by device/lwm2m's machine.
type Client struct {
	cfg Config

	mu        sync.Mutex
	sock      *udpServer.Server // listens on the client's port, for whichever server replica asks
	cc        *udpClient.Conn   // to the LwM2M server the client registers with
	online    bool
	silent    bool // registered, but deaf and mute (Silence)
	location  string
	state     lwm2m.State
	result    lwm2m.Result
	uri       string
	observers [2]*observer // /5/0/3 and /5/0/5
	told      [2]int64     // the last State and Result values sent to an observer, -1 none
	rng       *rand.Rand
	stats     Stats
	outbox    chan notice
	stop      chan struct{}
	stopped   bool
	wg        sync.WaitGroup
	gen       uint64 // bumped when the client goes offline: its pending work is void
}

type observer struct {
	token message.Token
	seq   uint32
	cc    *udpClient.Conn // where notifications go: the peer that observed
}

type notice struct {
	cc     *udpClient.Conn
	token  message.Token
	seq    uint32
	body   []byte
	format message.MediaType
}

const (
	stateIdx  = 0
	resultIdx = 1
)

var (
	pathInstance = content.MustPath(5, 0)
	resourcePath = [2]content.Path{stateIdx: content.MustPath(5, 0, 3), resultIdx: content.MustPath(5, 0, 5)}
)

// New makes a client in (Idle, Initial); Start puts it online.
func New(cfg Config) (*Client, error) {
	if cfg.Server == "" || cfg.Endpoint == "" {
		return nil, fmt.Errorf("lwm2m client: Server and Endpoint are required (got %q, %q)", cfg.Server, cfg.Endpoint)
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = 5 * time.Minute
	}
	if cfg.Lifetime < time.Second {
		return nil, fmt.Errorf("lwm2m client: Lifetime %v is below a second", cfg.Lifetime)
	}
	if cfg.AckTimeout == 0 {
		cfg.AckTimeout = 2 * time.Second
	}
	if cfg.ReadFormat == 0 {
		cfg.ReadFormat = content.TLV
	}
	if cfg.NotificationLoss < 0 || cfg.NotificationLoss > 1 {
		return nil, fmt.Errorf("lwm2m client: NotificationLoss %v outside 0..1", cfg.NotificationLoss)
	}
	return &Client{
		told:   [2]int64{-1, -1},
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		outbox: make(chan notice, 64),
		stop:   make(chan struct{}),
	}, nil
}

// Start opens the client's socket, registers and keeps the registration
// up to date until Stop.
func (c *Client) Start(ctx context.Context) error {
	c.wg.Add(1)
	go c.send()
	return c.connect(ctx)
}

func (c *Client) report(err error) {
	if c.cfg.Errors != nil && err != nil {
		c.cfg.Errors(fmt.Errorf("lwm2m client %s: %w", c.cfg.Endpoint, err))
	}
}

// connect opens a fresh socket and registers from it. The socket listens
// (it is not connected to the server's address), so requests from any
// replica of the server reach the client, as they reach a device on its
// port; answers and notifications go back to whoever asked.
func (c *Client) connect(ctx context.Context) error {
	raddr, err := net.ResolveUDPAddr("udp", c.cfg.Server)
	if err != nil {
		return fmt.Errorf("lwm2m client %s: server %s: %w", c.cfg.Endpoint, c.cfg.Server, err)
	}
	uc, err := net.ListenUDP("udp", &net.UDPAddr{IP: raddr.IP})
	if err != nil {
		uc, err = net.ListenUDP("udp", nil)
	}
	if err != nil {
		return fmt.Errorf("lwm2m client %s: listen: %w", c.cfg.Endpoint, err)
	}
	sock := udp.NewServer(
		options.WithHandlerFunc(udpClient.HandlerFunc(c.handle)),
		options.WithTransmission(1, c.cfg.AckTimeout, 4),
		// The server's requests are small; the read buffer is this big
		// for every client of a fleet.
		options.WithMaxMessageSize(16<<10),
		// Answers and notifications go out whole (a server refuses what is
		// too big); downloads use a connection of their own.
		options.WithBlockwise(false, blockwise.SZX1024, time.Second),
		options.WithErrors(func(error) {}),
		options.WithRequestMonitor(c.monitor),
		// The client's conversations live as long as its socket.
		options.WithInactivityMonitor(24*time.Hour, func(*udpClient.Conn) {}),
	)
	l := coapNet.NewUDPConn("udp", uc)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		_ = sock.Serve(l)
	}()
	// NewConn works once Serve has taken the socket, a moment from now.
	var cc *udpClient.Conn
	for wait := time.Now().Add(5 * time.Second); ; {
		if cc, err = sock.NewConn(raddr); err == nil || time.Now().After(wait) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		sock.Stop()
		return fmt.Errorf("lwm2m client %s: connection to %s: %w", c.cfg.Endpoint, c.cfg.Server, err)
	}
	c.mu.Lock()
	c.sock, c.cc = sock, cc
	c.online = true
	// A new registration starts without observations (the server
	// re-observes, LwM2M Core §6.2.1).
	c.observers = [2]*observer{}
	gen := c.gen
	c.mu.Unlock()
	if err := c.register(ctx, cc); err != nil {
		sock.Stop()
		c.mu.Lock()
		c.online = false
		c.mu.Unlock()
		return err
	}
	c.wg.Add(1)
	go c.keepRegistered(cc, gen)
	return nil
}

func (c *Client) register(ctx context.Context, cc *udpClient.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	lt := strconv.Itoa(int(c.cfg.Lifetime / time.Second))
	resp, err := cc.Post(ctx, "/rd", message.AppLinkFormat, bytes.NewReader([]byte("</1/0>,</3/0>,</5/0>")),
		message.Option{ID: message.URIQuery, Value: []byte("ep=" + c.cfg.Endpoint)},
		message.Option{ID: message.URIQuery, Value: []byte("lt=" + lt)},
		message.Option{ID: message.URIQuery, Value: []byte("lwm2m=1.1")},
		message.Option{ID: message.URIQuery, Value: []byte("b=U")},
	)
	if err != nil {
		return fmt.Errorf("lwm2m client %s: register: %w", c.cfg.Endpoint, err)
	}
	defer cc.ReleaseMessage(resp)
	if resp.Code() != codes.Created {
		return fmt.Errorf("lwm2m client %s: register answered %v", c.cfg.Endpoint, resp.Code())
	}
	loc, err := resp.Options().LocationPath()
	if err != nil {
		return fmt.Errorf("lwm2m client %s: register answered no location: %w", c.cfg.Endpoint, err)
	}
	c.mu.Lock()
	c.location = "/" + strings.TrimPrefix(loc, "/")
	c.stats.Registrations++
	c.mu.Unlock()
	return nil
}

// keepRegistered sends an Update at half the lifetime until the client
// goes offline or stops.
func (c *Client) keepRegistered(cc *udpClient.Conn, gen uint64) {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.Lifetime / 2)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-cc.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		loc, current, silent := c.location, c.gen == gen && c.online, c.silent
		c.mu.Unlock()
		if !current {
			return
		}
		if silent {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := cc.Post(ctx, loc, message.AppLinkFormat, nil)
		cancel()
		if err != nil {
			c.report(fmt.Errorf("update: %w", err))
			continue
		}
		if resp.Code() != codes.Changed {
			c.report(fmt.Errorf("update answered %v", resp.Code()))
		}
		cc.ReleaseMessage(resp)
	}
}

// Stop de-registers (best effort) and closes the client.
func (c *Client) Stop() {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	c.stopped = true
	cc, sock, loc, online := c.cc, c.sock, c.location, c.online
	c.online = false
	c.gen++
	c.mu.Unlock()
	if online && cc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if resp, err := cc.Delete(ctx, loc); err == nil {
			cc.ReleaseMessage(resp)
		}
		cancel()
	}
	close(c.stop)
	if sock != nil {
		sock.Stop()
	}
	c.wg.Wait()
}

// Offline closes the client's socket without de-registering, as a device
// that loses its network; after d it opens a new one and registers again.
// Its Object 5 state is kept, as Anjay restores it after a reboot.
func (c *Client) Offline(d time.Duration) {
	c.mu.Lock()
	if !c.online || c.stopped {
		c.mu.Unlock()
		return
	}
	c.online = false
	c.gen++
	sock := c.sock
	c.mu.Unlock()
	sock.Stop()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		select {
		case <-c.stop:
			return
		case <-time.After(d):
		}
		c.mu.Lock()
		stopped := c.stopped
		c.mu.Unlock()
		if stopped {
			return
		}
		for attempt := 0; ; attempt++ {
			err := c.connect(context.Background())
			if err == nil {
				return
			}
			c.report(err)
			select {
			case <-c.stop:
				return
			case <-time.After(time.Second):
			}
		}
	}()
}

// Silence makes the client deaf and mute while on is true, without
// closing its socket or de-registering: every datagram it receives is
// dropped unanswered (not even acknowledged), and it sends no
// notifications and no registration Updates, as a device whose radio is
// off while its registration still stands on the server. Silence(false)
// brings it back on the same address; what changed meanwhile goes out in
// the next notification of each resource.
func (c *Client) Silence(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.silent = on
}

// monitor drops every incoming datagram while the client is silent.
func (c *Client) monitor(*udpClient.Conn, *pool.Message) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.silent {
		c.stats.Ignored++
		return true, nil
	}
	return false, nil
}

// Observation is the client's Object 5 state now.
func (c *Client) Observation() lwm2m.Observation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return lwm2m.Observation{State: c.state, Result: c.result}
}

// Stats returns the client's counters and the last image it downloaded.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Image = bytes.Clone(s.Image)
	s.OutcomeUnsent = c.told[stateIdx] != int64(c.state) || c.told[resultIdx] != int64(c.result)
	return s
}

// Endpoint is the client's endpoint name.
func (c *Client) Endpoint() string { return c.cfg.Endpoint }

// handle answers the server's requests on /5/0.
func (c *Client) handle(w *responsewriter.ResponseWriter[*udpClient.Conn], r *pool.Message) {
	if r.Code() >= codes.Created || r.Code() == codes.Empty {
		return // a stray response; nothing to answer
	}
	path, err := r.Options().Path()
	if err != nil {
		path = ""
	}
	p, err := content.ParsePath("/" + strings.TrimPrefix(path, "/"))
	if err != nil {
		c.respond(w, codes.NotFound, nil, 0)
		return
	}
	switch {
	case r.Code() == codes.GET && p == pathInstance:
		c.readInstance(w, r)
	case r.Code() == codes.GET && (p == resourcePath[stateIdx] || p == resourcePath[resultIdx] || p == content.MustPath(5, 0, 1)):
		c.readResource(w, r, p)
	case r.Code() == codes.PUT && p == content.MustPath(5, 0, 1):
		c.writeURI(w, r)
	case r.Code() == codes.POST && p == content.MustPath(5, 0, 2):
		c.execute(w)
	case pathInstance.Contains(p):
		c.respond(w, codes.MethodNotAllowed, nil, 0)
	default:
		c.respond(w, codes.NotFound, nil, 0)
	}
}

func (c *Client) respond(w *responsewriter.ResponseWriter[*udpClient.Conn], code codes.Code, body []byte, f content.Format, opts ...message.Option) {
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var err error
	if rd == nil {
		err = w.SetResponse(code, message.MediaType(f), nil, opts...)
	} else {
		err = w.SetResponse(code, message.MediaType(f), rd, opts...)
	}
	if err != nil {
		c.report(err)
	}
}

func (c *Client) readInstance(w *responsewriter.ResponseWriter[*udpClient.Conn], r *pool.Message) {
	f := c.cfg.ReadFormat
	if accept, err := r.Options().Accept(); err == nil {
		f = content.Format(accept)
	}
	c.mu.Lock()
	recs := []content.Record{
		{Path: content.MustPath(5, 0, 1), Value: content.StringValue(c.uri)},
		{Path: resourcePath[stateIdx], Value: content.IntValue(int64(c.state))},
		{Path: resourcePath[resultIdx], Value: content.IntValue(int64(c.result))},
		{Path: content.MustPath(5, 0, 9), Value: content.IntValue(0)}, // pull only
	}
	c.mu.Unlock()
	body, err := content.Encode(f, pathInstance, recs)
	if err != nil {
		c.respond(w, codes.NotAcceptable, nil, 0)
		return
	}
	c.respond(w, codes.Content, body, f)
}

func (c *Client) valueLocked(p content.Path) string {
	switch p {
	case resourcePath[stateIdx]:
		return strconv.Itoa(int(c.state))
	case resourcePath[resultIdx]:
		return strconv.Itoa(int(c.result))
	}
	return c.uri
}

func (c *Client) valueOfLocked(idx int) int64 {
	if idx == stateIdx {
		return int64(c.state)
	}
	return int64(c.result)
}

func (c *Client) readResource(w *responsewriter.ResponseWriter[*udpClient.Conn], r *pool.Message, p content.Path) {
	obs, err := r.Options().Observe()
	idx := stateIdx
	if p == resourcePath[resultIdx] {
		idx = resultIdx
	}
	c.mu.Lock()
	body := []byte(c.valueLocked(p))
	var opts []message.Option
	if err == nil && p != content.MustPath(5, 0, 1) {
		switch obs {
		case 0:
			// One observer per resource: a new Observe replaces the last.
			ob := &observer{token: bytes.Clone(r.Token()), seq: 2, cc: w.Conn()}
			c.observers[idx] = ob
			c.told[idx] = c.valueOfLocked(idx)
			opts = append(opts, observeOption(ob.seq))
		case 1:
			if ob := c.observers[idx]; ob != nil && bytes.Equal(ob.token, r.Token()) {
				c.observers[idx] = nil
			}
		}
	}
	c.mu.Unlock()
	c.respond(w, codes.Content, body, content.TextPlain, opts...)
}

func observeOption(seq uint32) message.Option {
	var buf [4]byte
	n, _ := message.EncodeUint32(buf[:], seq)
	return message.Option{ID: message.Observe, Value: bytes.Clone(buf[:n])}
}

func (c *Client) writeURI(w *responsewriter.ResponseWriter[*udpClient.Conn], r *pool.Message) {
	var body []byte
	if r.Body() != nil {
		b, err := r.ReadBody()
		if err != nil || len(b) > 255 {
			c.respond(w, codes.BadRequest, nil, 0)
			return
		}
		body = b
	}
	uri := string(body)
	c.mu.Lock()
	ev := lwm2m.EventWritePackage
	if uri == "" {
		ev = lwm2m.EventReset
		c.stats.Resets++
	} else {
		c.stats.PackageWrites++
	}
	next, err := lwm2m.Step(c.state, ev)
	if err != nil {
		c.mu.Unlock()
		if ev == lwm2m.EventReset {
			c.respond(w, codes.MethodNotAllowed, nil, 0) // Anjay: a reset while Updating
		} else {
			c.respond(w, codes.BadRequest, nil, 0) // Anjay: a URI outside Idle
		}
		return
	}
	c.uri = uri
	c.setLocked(next, lwm2m.Initial)
	gen := c.gen
	c.mu.Unlock()
	c.respond(w, codes.Changed, nil, 0)
	if ev == lwm2m.EventWritePackage {
		c.wg.Add(1)
		go c.download(uri, gen)
	}
}

func (c *Client) execute(w *responsewriter.ResponseWriter[*udpClient.Conn]) {
	c.mu.Lock()
	c.stats.Executes++
	next, err := lwm2m.Step(c.state, lwm2m.EventUpdate)
	if err != nil {
		c.mu.Unlock()
		c.respond(w, codes.MethodNotAllowed, nil, 0)
		return
	}
	c.setLocked(next, lwm2m.Initial)
	c.stats.Updates++
	gen := c.gen
	c.mu.Unlock()
	c.respond(w, codes.Changed, nil, 0)
	c.wg.Add(1)
	go c.update(gen)
}

// download fetches the package block-wise from uri, then moves to
// Downloaded, or to Idle with a failure result.
func (c *Client) download(uri string, gen uint64) {
	defer c.wg.Done()
	image, result := c.fetch(uri)
	if !c.sleep(c.cfg.DownloadDelay) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.state != lwm2m.Downloading || c.uri != uri {
		return // reset, cancelled or offline meanwhile
	}
	if result == lwm2m.Initial && c.cfg.DownloadFailure != lwm2m.Initial {
		result = c.cfg.DownloadFailure
	}
	if result != lwm2m.Initial {
		next, _ := lwm2m.Step(c.state, lwm2m.EventDownloadFailed)
		c.setLocked(next, result)
		return
	}
	c.stats.Downloads++
	c.stats.Image = image
	c.stats.ImageSHA256 = sha256.Sum256(image)
	next, _ := lwm2m.Step(c.state, lwm2m.EventDownloaded)
	c.setLocked(next, lwm2m.Initial)
}

// fetch GETs the image; a failure is the Update Result it means.
func (c *Client) fetch(uri string) ([]byte, lwm2m.Result) {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return nil, lwm2m.InvalidURI
	}
	if u.Scheme != "coap" {
		return nil, lwm2m.UnsupportedProtocol
	}
	cc, err := udp.Dial(u.Host, options.WithMaxMessageSize(32<<20), options.WithErrors(func(error) {}),
		options.WithTransmission(1, c.cfg.AckTimeout, 4))
	if err != nil {
		return nil, lwm2m.InvalidURI
	}
	defer func() { _ = cc.Close() }()
	// A transfer that stalls is started over, as clients resume downloads;
	// three stalls are a lost connection (Update Result 4).
	var resp *pool.Message
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		resp, err = cc.Get(ctx, u.Path)
		cancel()
		if err == nil {
			break
		}
		c.report(fmt.Errorf("download %s, try %d: %w", uri, try, err))
		if try == 3 {
			return nil, lwm2m.ConnectionLost
		}
	}
	defer cc.ReleaseMessage(resp)
	if resp.Code() != codes.Content {
		return nil, lwm2m.InvalidURI
	}
	image, err := resp.ReadBody()
	if err != nil {
		return nil, lwm2m.ConnectionLost
	}
	return bytes.Clone(image), lwm2m.Initial
}

// update installs the image: Idle with Success, or the failure knob's
// outcome; with RebootOffline the client is offline meanwhile.
func (c *Client) update(gen uint64) {
	defer c.wg.Done()
	if !c.sleep(c.cfg.UpdateDelay) {
		return
	}
	if c.cfg.RebootOffline > 0 {
		c.Offline(c.cfg.RebootOffline)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != lwm2m.Updating || (c.gen != gen && c.cfg.RebootOffline <= 0) {
		return
	}
	switch f := c.cfg.UpdateFailure; {
	case f == lwm2m.Initial:
		next, _ := lwm2m.Step(c.state, lwm2m.EventUpdated)
		c.setLocked(next, lwm2m.Success)
	case f == lwm2m.UpdateFailed && c.cfg.KeepImage:
		next, _ := lwm2m.Step(c.state, lwm2m.EventUpdateFailedImageKept)
		c.setLocked(next, f)
	default:
		next, _ := lwm2m.Step(c.state, lwm2m.EventUpdateFailedImageLost)
		c.setLocked(next, f)
	}
}

func (c *Client) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-c.stop:
		return false
	case <-time.After(d):
		return true
	}
}

// setLocked moves Object 5 and notifies the observers of what changed,
// the Update Result before the State (so a server never sees a new State
// with a stale failure result, sdk-nrf PR #8834's concern).
func (c *Client) setLocked(s lwm2m.State, r lwm2m.Result) {
	changedResult, changedState := c.result != r, c.state != s
	c.state, c.result = s, r
	if changedResult {
		c.notifyLocked(resultIdx)
	}
	if changedState {
		c.notifyLocked(stateIdx)
	}
}

func (c *Client) notifyLocked(idx int) {
	ob := c.observers[idx]
	if ob == nil || !c.online || c.silent {
		return
	}
	ob.seq = (ob.seq + 1) & 0xffffff
	if c.cfg.NotificationLoss > 0 && c.rng.Float64() < c.cfg.NotificationLoss {
		c.stats.NotificationsDropped++
		return
	}
	if c.cfg.Garbage && idx == stateIdx {
		for _, g := range []notice{
			{body: []byte(`[{"bn":"/3/0/","n":"0","vs":"Acme"}]`), format: message.MediaType(content.SenMLJSON)},
			{body: bytes.Repeat([]byte("1"), 1100), format: message.TextPlain},
		} {
			g.cc, g.token, g.seq = ob.cc, ob.token, ob.seq
			ob.seq = (ob.seq + 1) & 0xffffff
			select {
			case c.outbox <- g:
				c.stats.Garbage++
			default:
			}
		}
	}
	n := notice{cc: ob.cc, token: ob.token, seq: ob.seq, body: []byte(c.valueLocked(resourcePath[idx])), format: message.TextPlain}
	select {
	case c.outbox <- n:
		c.told[idx] = c.valueOfLocked(idx)
	default:
		c.stats.NotificationsDropped++ // the sender is stuck; a Read will tell the server
	}
}

// send writes queued notifications in order, each Confirmable.
func (c *Client) send() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		case n := <-c.outbox:
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			m := n.cc.AcquireMessage(ctx)
			m.SetCode(codes.Content)
			m.SetToken(n.token)
			m.SetObserve(n.seq)
			m.SetContentFormat(n.format)
			m.SetBody(bytes.NewReader(n.body))
			m.SetType(message.Confirmable)
			err := n.cc.WriteMessage(m)
			n.cc.ReleaseMessage(m)
			cancel()
			c.mu.Lock()
			if err == nil {
				c.stats.NotificationsSent++
			}
			c.mu.Unlock()
			if err != nil && !errors.Is(err, context.Canceled) {
				c.report(fmt.Errorf("notify: %w", err))
			}
		}
	}
}
