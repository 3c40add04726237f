package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
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
)

// Config configures a Server. Known is required; the rest has defaults.
type Config struct {
	// Addr is the UDP address to listen on; "127.0.0.1:0" when empty.
	Addr string
	// Known says whether a device ID belongs to a fota device; Register is
	// refused with 4.03 Forbidden when it does not, 5.03 when it fails.
	Known func(ctx context.Context, deviceID string) (bool, error)
	// DeviceID maps an endpoint name to a device ID; EndpointIMEI when nil.
	DeviceID func(endpoint string) (string, error)
	// OnRegistration receives every registration event.
	OnRegistration func(Event)
	// OnObservation receives every accepted Read or Notify of /5/0/3 and
	// /5/0/5 as an Object 5 observation. Calls for one device come one at a
	// time, in order, interleaved with its registration events.
	OnObservation func(deviceID string, o lwm2m.Observation)
	// Errors receives what the server refused or failed to do; nil drops it.
	Errors func(error)

	// AnswerTimeout bounds how long an operation waits for the device's
	// answer, retransmissions included; 10 s when zero. A context deadline
	// that comes first wins.
	AnswerTimeout time.Duration
	// AckTimeout and MaxRetransmit set CoAP's retransmission of Confirmable
	// requests (RFC 7252 §4.8: 2 s and 4 when zero).
	AckTimeout    time.Duration
	MaxRetransmit uint32
	// MinLifetime and MaxLifetime bound a registration's lt; 1 s and 30 days
	// when zero.
	MinLifetime, MaxLifetime time.Duration
	// MaxPayload bounds a registration payload, a notification and a read
	// answer; 1024 bytes when zero. Larger ones are refused.
	MaxPayload int
	// BlockSize is the Block2 size firmware is served in (16..1024, a power
	// of two); 512 when zero.
	BlockSize int
	// IdleTimeout closes the CoAP state of an address that holds no
	// registration after that long without traffic; 1 min when zero.
	IdleTimeout time.Duration

	// Directory, when set, shares registrations with other replicas of
	// this server serving the same fleet (see Directory); Replica names
	// this one there, the listen address when empty.
	Directory Directory
	Replica   string
}

// readBuffer is the socket receive buffer the server asks for.
const readBuffer = 4 << 20

// Server is an LwM2M server over UDP: the Registration interface, the
// device operations a firmware update needs, and firmware downloads.
type Server struct {
	cfg    Config
	coap   *udpServer.Server
	listen *coapNet.UDPConn
	addr   *net.UDPAddr
	done   chan struct{}
	wg     sync.WaitGroup // Serve, delivery goroutines, expiry callbacks

	mu        sync.Mutex
	closed    bool
	devices   map[string]*dev         // by device ID
	locations map[string]*dev         // by registration location
	addrs     map[string]*dev         // by registered address
	tokens    map[string]*observation // active observation tokens
	pending   map[string]bool         // tokens of requests awaiting an answer
	firmware  map[string]*Firmware    // by name
	nextLoc   uint64

	stats stats
}

// New checks cfg and listens on its address. Start serving with Start.
func New(cfg Config) (*Server, error) {
	if cfg.Known == nil {
		return nil, badRequest("Known", "nil", "the server must be able to ask whether an endpoint is a fota device")
	}
	if cfg.DeviceID == nil {
		cfg.DeviceID = EndpointIMEI
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.AnswerTimeout, 10*time.Second)
	def(&cfg.AckTimeout, 2*time.Second)
	def(&cfg.MinLifetime, time.Second)
	def(&cfg.MaxLifetime, 30*24*time.Hour)
	def(&cfg.IdleTimeout, time.Minute)
	if cfg.MaxRetransmit == 0 {
		cfg.MaxRetransmit = 4
	}
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = 1024
	}
	if cfg.BlockSize == 0 {
		cfg.BlockSize = 512
	}
	szx, ok := blockSZX(cfg.BlockSize)
	if !ok {
		return nil, badRequest("BlockSize", strconv.Itoa(cfg.BlockSize), "a power of two from 16 to 1024")
	}
	if cfg.MaxPayload < 64 || cfg.MaxPayload > 60000 {
		return nil, badRequest("MaxPayload", strconv.Itoa(cfg.MaxPayload), "outside 64..60000")
	}
	if cfg.MinLifetime > cfg.MaxLifetime {
		return nil, badRequest("MinLifetime", cfg.MinLifetime.String(), "above MaxLifetime "+cfg.MaxLifetime.String())
	}
	laddr, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return nil, badRequest("Addr", cfg.Addr, "not a UDP address: "+err.Error())
	}
	uc, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("lwm2m server: listen on %s: %w", cfg.Addr, err)
	}
	// One socket takes every client's datagrams: a fleet downloading at once
	// overflows the default buffer, and every lost block costs a CoAP
	// retransmission timeout. The kernel caps this at net.core.rmem_max.
	_ = uc.SetReadBuffer(readBuffer)
	l := coapNet.NewUDPConn("udp", uc)
	if cfg.Replica == "" {
		cfg.Replica = l.LocalAddr().String()
	}
	s := &Server{
		cfg:       cfg,
		listen:    l,
		addr:      l.LocalAddr().(*net.UDPAddr),
		done:      make(chan struct{}),
		devices:   map[string]*dev{},
		locations: map[string]*dev{},
		addrs:     map[string]*dev{},
		tokens:    map[string]*observation{},
		pending:   map[string]bool{},
		firmware:  map[string]*Firmware{},
	}
	s.coap = udp.NewServer(
		options.WithHandlerFunc(udpClient.HandlerFunc(s.handle)),
		options.WithRequestMonitor(udpClient.RequestMonitorFunc(s.monitor)),
		// A datagram or block-wise body beyond this is dropped by go-coap before
		// any handler runs; handlers check MaxPayload themselves.
		options.WithMaxMessageSize(uint32(cfg.MaxPayload+256)),
		options.WithBlockwise(true, szx, 30*time.Second),
		options.WithTransmission(1, cfg.AckTimeout, cfg.MaxRetransmit),
		options.WithInactivityMonitor(cfg.IdleTimeout, s.idle),
		options.WithErrors(func(err error) { s.report(err) }),
	)
	return s, nil
}

func blockSZX(n int) (blockwise.SZX, bool) {
	for szx := blockwise.SZX16; szx <= blockwise.SZX1024; szx++ {
		if int(szx.Size()) == n {
			return szx, true
		}
	}
	return 0, false
}

// Start serves in a goroutine until Close.
func (s *Server) Start() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.coap.Serve(s.listen); err != nil {
			s.report(fmt.Errorf("lwm2m server: serve: %w", err))
		}
	}()
}

// Close stops serving, ends every registration without events, and waits
// for deliveries under way.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, d := range s.devices {
		if d.reg != nil && d.reg.timer != nil {
			d.reg.timer.Stop()
		}
	}
	s.mu.Unlock()
	close(s.done)
	s.coap.Stop()
	s.wg.Wait()
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() *net.UDPAddr { return s.addr }

func (s *Server) report(err error) {
	if s.cfg.Errors != nil && err != nil {
		s.cfg.Errors(err)
	}
}

// idle closes the CoAP state of an address without a registration; a
// registered client's connection stays, since its observations live there.
func (s *Server) idle(cc *udpClient.Conn) {
	s.mu.Lock()
	_, held := s.addrs[cc.RemoteAddr().String()]
	s.mu.Unlock()
	if !held {
		_ = cc.Close()
	}
}

// monitor sees every incoming message first. It counts them, and rejects
// with Reset a notification whose token is neither an observation nor a
// request of this server (RFC 7641 §3.6: a stale or foreign observation).
// A response-class message without a token is dropped silently.
func (s *Server) monitor(cc *udpClient.Conn, m *pool.Message) (bool, error) {
	s.stats.messagesIn.Add(1)
	if m.Code() < codes.Created || (m.Type() != message.Confirmable && m.Type() != message.NonConfirmable) {
		return false, nil
	}
	tok := m.Token()
	if len(tok) == 0 {
		// No observation has an empty token; answering one with Reset could
		// ping-pong with a peer that answers Resets.
		return true, nil
	}
	s.mu.Lock()
	_, active := s.tokens[string(tok)]
	waiting := s.pending[string(tok)]
	s.mu.Unlock()
	if active || waiting {
		return false, nil
	}
	s.stats.notificationsReset.Add(1)
	s.reset(cc, m.MessageID())
	return true, nil
}

// reset sends an empty Reset for message mid.
func (s *Server) reset(cc *udpClient.Conn, mid int32) {
	raddr, ok := cc.RemoteAddr().(*net.UDPAddr)
	if !ok || mid < 0 || mid > 0xffff {
		return
	}
	d := []byte{0x70, 0x00, 0, 0}
	binary.BigEndian.PutUint16(d[2:], uint16(mid))
	if err := s.listen.WriteWithOptions(d, coapNet.WithRemoteAddr(raddr)); err != nil {
		s.report(fmt.Errorf("lwm2m server: reset to %v: %w", raddr, err))
	}
}

// handle serves the Registration interface and firmware downloads, and
// routes notifications to their observation.
func (s *Server) handle(w *responsewriter.ResponseWriter[*udpClient.Conn], r *pool.Message) {
	if r.Code() >= codes.Created {
		s.mu.Lock()
		ob := s.tokens[string(r.Token())]
		s.mu.Unlock()
		if ob != nil {
			s.notification(ob, w.Conn().RemoteAddr(), r)
		}
		return
	}
	path, _ := r.Options().Path()
	path = "/" + strings.TrimPrefix(path, "/")
	switch {
	case r.Code() == codes.POST && path == "/rd":
		s.register(w, r)
	case r.Code() == codes.POST && strings.HasPrefix(path, "/rd/"):
		s.update(w, r, path)
	case r.Code() == codes.DELETE && strings.HasPrefix(path, "/rd/"):
		s.deregister(w, path)
	case r.Code() == codes.GET && strings.HasPrefix(path, firmwarePrefix):
		s.serveFirmware(w, r, strings.TrimPrefix(path, firmwarePrefix))
	default:
		s.answer(w, codes.NotFound)
	}
}

func (s *Server) answer(w *responsewriter.ResponseWriter[*udpClient.Conn], c codes.Code, opts ...message.Option) {
	if err := w.SetResponse(c, message.TextPlain, nil, opts...); err != nil {
		s.report(fmt.Errorf("lwm2m server: answer %v: %w", c, err))
	}
}

// readBody reads a request's payload up to MaxPayload; ok is false (and
// 4.13 answered) beyond it.
func (s *Server) readBody(w *responsewriter.ResponseWriter[*udpClient.Conn], r *pool.Message, field string) ([]byte, bool) {
	if r.Body() == nil {
		return nil, true
	}
	b, err := r.ReadBody()
	if err != nil {
		s.answer(w, codes.BadRequest)
		return nil, false
	}
	if len(b) > s.cfg.MaxPayload {
		s.stats.refused.Add(1)
		s.report(regError(field, strconv.Itoa(len(b))+" bytes", "above MaxPayload "+strconv.Itoa(s.cfg.MaxPayload), "4.13", nil))
		s.answer(w, codes.RequestEntityTooLarge)
		return nil, false
	}
	return bytes.Clone(b), true
}

func codeOf(code string) codes.Code {
	switch code {
	case "4.00":
		return codes.BadRequest
	case "4.03":
		return codes.Forbidden
	case "4.04":
		return codes.NotFound
	case "4.12":
		return codes.PreconditionFailed
	case "4.13":
		return codes.RequestEntityTooLarge
	case "4.15":
		return codes.UnsupportedMediaType
	}
	return codes.ServiceUnavailable
}

func (s *Server) refuse(w *responsewriter.ResponseWriter[*udpClient.Conn], e *ArgError) {
	s.stats.refused.Add(1)
	s.report(e)
	s.answer(w, codeOf(e.Code))
}

func (s *Server) register(w *responsewriter.ResponseWriter[*udpClient.Conn], r *pool.Message) {
	body, ok := s.readBody(w, r, "payload")
	if !ok {
		return
	}
	req, aerr := s.parse(false, r, body)
	if aerr != nil {
		s.refuse(w, aerr)
		return
	}
	id, err := s.cfg.DeviceID(req.endpoint)
	if err != nil {
		var e *ArgError
		if !errors.As(err, &e) {
			e = regError("ep", req.endpoint, err.Error(), "4.00", err)
		}
		s.refuse(w, e)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.AnswerTimeout)
	known, err := s.cfg.Known(ctx, id)
	cancel()
	switch {
	case err != nil:
		s.refuse(w, regError("ep", req.endpoint, "cannot ask whether the device is known: "+err.Error(), "5.03", err))
		return
	case !known:
		s.refuse(w, regError("ep", req.endpoint, "not a fota device", "4.03", nil))
		return
	}
	addr, ok := w.Conn().RemoteAddr().(*net.UDPAddr)
	if !ok {
		s.answer(w, codes.InternalServerError)
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.answer(w, codes.ServiceUnavailable)
		return
	}
	s.nextLoc++
	loc := "/rd/" + strconv.FormatUint(s.nextLoc, 10)
	d := s.devices[id]
	if d == nil {
		d = &dev{id: id, s: s}
		s.devices[id] = d
	}
	reg := &registration{Registration: Registration{
		Endpoint: req.endpoint, Location: loc, Lifetime: req.lifetime, Version: req.version,
		Binding: "U", Objects: req.objects, Addr: addr, Expires: time.Now().Add(req.lifetime),
	}}
	// A Register replaces the device's last registration: its observations
	// belong to a client that has restarted (LwM2M Core §6.2.1).
	s.endLocked(d)
	d.reg = reg
	d.gen++
	s.locations[loc] = d
	s.addrs[addr.String()] = d
	s.armLocked(d, reg)
	ev := Event{Kind: Registered, DeviceID: id, Registration: reg.Registration}
	d.enqueue(item{event: &ev})
	s.mu.Unlock()
	s.stats.registrations.Add(1)
	segs := strings.Split(strings.TrimPrefix(loc, "/"), "/")
	opts := make([]message.Option, 0, len(segs))
	for _, seg := range segs {
		opts = append(opts, message.Option{ID: message.LocationPath, Value: []byte(seg)})
	}
	s.answer(w, codes.Created, opts...)
}

func (s *Server) parse(update bool, r *pool.Message, body []byte) (regRequest, *ArgError) {
	queries, _ := r.Options().Queries()
	cf, err := r.ContentFormat()
	return parseRegistration(update, queries, err == nil, uint16(cf), body, s.cfg.MinLifetime, s.cfg.MaxLifetime)
}

func (s *Server) update(w *responsewriter.ResponseWriter[*udpClient.Conn], r *pool.Message, loc string) {
	body, ok := s.readBody(w, r, "payload")
	if !ok {
		return
	}
	req, aerr := s.parse(true, r, body)
	if aerr != nil {
		s.refuse(w, aerr)
		return
	}
	addr, _ := w.Conn().RemoteAddr().(*net.UDPAddr)
	s.mu.Lock()
	d := s.locations[loc]
	if d == nil || d.reg == nil || addr == nil {
		s.mu.Unlock()
		s.refuse(w, regError("location", loc, "no such registration", "4.04", nil))
		return
	}
	reg := d.reg
	if req.hasLifetime {
		reg.Lifetime = req.lifetime
	}
	if req.hasObjects {
		reg.Objects = req.objects
	}
	// LwM2M Core §6.2.2: the client's address may have changed (a NAT
	// rebinding, or a client such as lwm2m-node-lib that sends from a new port).
	if s.addrs[reg.Addr.String()] == d {
		delete(s.addrs, reg.Addr.String())
	}
	reg.Addr = addr
	s.addrs[addr.String()] = d
	reg.Expires = time.Now().Add(reg.Lifetime)
	s.armLocked(d, reg)
	ev := Event{Kind: Updated, DeviceID: d.id, Registration: reg.Registration}
	d.enqueue(item{event: &ev})
	s.mu.Unlock()
	s.stats.updates.Add(1)
	s.answer(w, codes.Changed)
}

func (s *Server) deregister(w *responsewriter.ResponseWriter[*udpClient.Conn], loc string) {
	s.mu.Lock()
	d := s.locations[loc]
	if d == nil || d.reg == nil {
		s.mu.Unlock()
		s.refuse(w, regError("location", loc, "no such registration", "4.04", nil))
		return
	}
	ev := Event{Kind: Deregistered, DeviceID: d.id, Registration: d.reg.Registration}
	s.endLocked(d)
	d.enqueue(item{event: &ev})
	s.mu.Unlock()
	s.stats.deregistrations.Add(1)
	s.answer(w, codes.Deleted)
}

// armLocked (re)starts the lifetime timer of reg.
func (s *Server) armLocked(d *dev, reg *registration) {
	if reg.timer != nil {
		reg.timer.Stop()
	}
	expires := reg.Expires
	reg.timer = time.AfterFunc(time.Until(expires), func() { s.expire(d, reg, expires) })
}

func (s *Server) expire(d *dev, reg *registration, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || d.reg != reg || !reg.Expires.Equal(expires) {
		return // updated, replaced or ended since the timer was set
	}
	ev := Event{Kind: Expired, DeviceID: d.id, Registration: reg.Registration}
	s.endLocked(d)
	d.enqueue(item{event: &ev})
	s.stats.expirations.Add(1)
}

// endLocked ends d's registration, if any: its location, its timer and its
// observations go.
func (s *Server) endLocked(d *dev) {
	if d.reg == nil {
		return
	}
	if d.reg.timer != nil {
		d.reg.timer.Stop()
	}
	if s.locations[d.reg.Location] == d {
		delete(s.locations, d.reg.Location)
	}
	if d.reg.Addr != nil && s.addrs[d.reg.Addr.String()] == d {
		delete(s.addrs, d.reg.Addr.String())
	}
	for _, ob := range d.obs {
		if ob != nil {
			delete(s.tokens, string(ob.token))
		}
	}
	d.obs = [2]*observation{}
	d.state, d.result = reading{}, reading{}
	d.reg = nil
}

// Registration returns the device's current registration with this
// replica.
func (s *Server) Registration(deviceID string) (Registration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[deviceID]
	if d == nil || d.reg == nil || d.reg.remote {
		return Registration{}, false
	}
	return d.reg.Registration, true
}

// Registered lists the devices registered with this replica now, in no
// particular order.
func (s *Server) Registered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, d := range s.devices {
		if d.reg != nil && !d.reg.remote {
			ids = append(ids, id)
		}
	}
	return ids
}
