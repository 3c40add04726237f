package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"
	udpClient "github.com/plgd-dev/go-coap/v3/udp/client"

	"github.com/fotakit/fota/device/lwm2m"
	"github.com/fotakit/fota/examples/lwm2m/content"
)

// Receipt is what the device answered one operation: Delivered false when
// it did not answer in time (or could not be sent to), else the CoAP code,
// also as a number (204 for 2.04 Changed), as fota's push API takes it.
type Receipt struct {
	Delivered bool
	Status    int
	Code      codes.Code
}

func receiptOf(c codes.Code) Receipt {
	return Receipt{Delivered: true, Status: int(c>>5)*100 + int(c&31), Code: c}
}

// String writes "2.04 Changed" or "no answer".
func (r Receipt) String() string {
	if !r.Delivered {
		return "no answer"
	}
	return fmt.Sprintf("%d.%02d %v", r.Status/100, r.Status%100, r.Code)
}

// OK reports whether the device answered with a success code (2.xx).
func (r Receipt) OK() bool { return r.Delivered && r.Status >= 200 && r.Status < 300 }

// The Object 5 resources the operations use.
var (
	pathInstance = content.MustPath(5, 0)
	pathURI      = content.MustPath(5, 0, 1)
	pathUpdate   = content.MustPath(5, 0, 2)
	pathState    = content.MustPath(5, 0, 3)
	pathResult   = content.MustPath(5, 0, 5)
	observed     = [2]content.Path{stateIdx: pathState, resultIdx: pathResult}
)

// maxURI is /5/0/1's range (String 0..255).
const maxURI = 255

// WritePackageURI writes uri to /5/0/1: the device starts downloading it
// (Object 5 T1). A URI that is empty, longer than 255 bytes or not
// printable ASCII is an *ArgError matching ErrBadRequest; use Reset to
// write "".
func (s *Server) WritePackageURI(ctx context.Context, deviceID, uri string) (Receipt, error) {
	if uri == "" || len(uri) > maxURI || !printable(uri) {
		return Receipt{}, badRequest("uri", uri, "a package URI is 1..255 printable ASCII bytes (write \"\" with Reset)")
	}
	return s.write(ctx, deviceID, uri)
}

// Reset writes "" to /5/0/1, which resets the firmware update machine
// (Object 5 T4).
func (s *Server) Reset(ctx context.Context, deviceID string) (Receipt, error) {
	return s.write(ctx, deviceID, "")
}

func (s *Server) write(ctx context.Context, deviceID, uri string) (Receipt, error) {
	t, err := s.target(deviceID)
	if err != nil {
		return Receipt{}, err
	}
	body := []byte(uri)
	resp, rc := s.do(ctx, t, codes.PUT, pathURI, &body, nil)
	s.release(t, resp)
	return rc, nil
}

// ExecuteUpdate executes /5/0/2 (Object 5 T6).
func (s *Server) ExecuteUpdate(ctx context.Context, deviceID string) (Receipt, error) {
	t, err := s.target(deviceID)
	if err != nil {
		return Receipt{}, err
	}
	resp, rc := s.do(ctx, t, codes.POST, pathUpdate, nil, nil)
	s.release(t, resp)
	return rc, nil
}

// Observe observes /5/0/5 and then /5/0/3, replacing any earlier
// observations of the device (notifications on their tokens are rejected
// from then on). The answers are the current values: once both are in,
// they reach OnObservation as the first observation. The receipt is the
// first answer that was not 2.05 Content, else the last.
func (s *Server) Observe(ctx context.Context, deviceID string) (Receipt, error) {
	t, err := s.target(deviceID)
	if err != nil {
		return Receipt{}, err
	}
	var rc Receipt
	for _, idx := range []int{resultIdx, stateIdx} {
		rc = s.observe(ctx, t, idx)
		if rc.Code != codes.Content {
			break
		}
	}
	return rc, nil
}

func (s *Server) observe(ctx context.Context, t target, idx int) Receipt {
	token, err := message.GetToken()
	if err != nil {
		return Receipt{}
	}
	ob := &observation{d: t.d, gen: t.gen, idx: idx, path: observed[idx], token: token, addr: t.addr.String()}
	s.mu.Lock()
	if t.d.gen != t.gen || t.d.reg == nil {
		s.mu.Unlock()
		return Receipt{}
	}
	if old := t.d.obs[idx]; old != nil {
		delete(s.tokens, string(old.token))
	}
	t.d.obs[idx] = ob
	s.tokens[string(token)] = ob
	s.mu.Unlock()
	obs := uint32(0)
	resp, rc := s.do(ctx, t, codes.GET, ob.path, nil, &requestOpts{token: token, observe: &obs})
	defer s.release(t, resp)
	if resp != nil && resp.Code() == codes.Content {
		s.notification(ob, t.addr, resp)
	}
	if resp == nil || resp.Code() != codes.Content || !resp.HasOption(message.Observe) {
		// Not observed: refused, not answered, or answered without Observe
		// (RFC 7641 §3.1: the resource is not observable).
		s.dropObservation(ob)
	}
	return rc
}

func (s *Server) dropObservation(ob *observation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens[string(ob.token)] == ob {
		delete(s.tokens, string(ob.token))
	}
	if ob.d.obs[ob.idx] == ob {
		ob.d.obs[ob.idx] = nil
	}
}

// CancelObservations ends the device's observations of /5/0/3 and /5/0/5:
// from now on their notifications are rejected with Reset, and each is
// deregistered with a GET carrying Observe 1 (RFC 7641 §3.6). The receipt
// is the first answer that was not 2.05, else the last; with nothing
// observed it is a 2.05 receipt of nothing sent.
func (s *Server) CancelObservations(ctx context.Context, deviceID string) (Receipt, error) {
	t, err := s.target(deviceID)
	if err != nil {
		return Receipt{}, err
	}
	s.mu.Lock()
	obs := t.d.obs
	t.d.obs = [2]*observation{}
	for _, ob := range obs {
		if ob != nil {
			delete(s.tokens, string(ob.token))
		}
	}
	s.mu.Unlock()
	rc := receiptOf(codes.Content)
	for _, ob := range obs {
		if ob == nil {
			continue
		}
		one := uint32(1)
		resp, r := s.do(ctx, t, codes.GET, ob.path, nil, &requestOpts{token: ob.token, observe: &one})
		s.release(t, resp)
		if rc.Code == codes.Content {
			rc = r
		}
	}
	return rc, nil
}

// Read reads /5/0 and hands the State and Update Result it holds to
// OnObservation, in order with the notifications. A client that refuses
// the instance Read (lwm2m-node-lib answers 4.04) or answers it in a form
// this server cannot read is read resource by resource from then on. The
// observation is returned too; a pair that is no state of the machine is
// returned with an *ArgError matching ErrNotification and not delivered.
func (s *Server) Read(ctx context.Context, deviceID string) (Receipt, lwm2m.Observation, error) {
	t, err := s.target(deviceID)
	if err != nil {
		return Receipt{}, lwm2m.Observation{}, err
	}
	s.stats.reads.Add(1)
	s.mu.Lock()
	byResource := t.d.noInstanceRead
	s.mu.Unlock()
	var vals [2]int64
	rc := Receipt{}
	if !byResource {
		resp, r := s.do(ctx, t, codes.GET, pathInstance, nil, nil)
		rc = r
		if !r.Delivered {
			return r, lwm2m.Observation{}, nil
		}
		err = errNotContent
		if resp.Code() == codes.Content {
			vals, err = s.instanceValues(resp)
		}
		s.release(t, resp)
		if err != nil {
			s.report(err)
			byResource = true
			s.mu.Lock()
			t.d.noInstanceRead = true
			s.mu.Unlock()
		}
	}
	if byResource {
		s.stats.readFallbacks.Add(1)
		for _, idx := range []int{resultIdx, stateIdx} {
			resp, r := s.do(ctx, t, codes.GET, observed[idx], nil, nil)
			rc = r
			if !r.Delivered || resp.Code() != codes.Content {
				s.release(t, resp)
				return r, lwm2m.Observation{}, nil
			}
			v, err := s.valueOf(observed[idx], resp)
			s.release(t, resp)
			if err != nil {
				return rc, lwm2m.Observation{}, err
			}
			vals[idx] = v
		}
	}
	o, err := lwm2m.ParseObservation(vals[stateIdx], vals[resultIdx])
	if err != nil {
		return rc, lwm2m.Observation{}, &ArgError{Field: pathInstance.String(), Value: fmt.Sprint(vals), Reason: "out of range", kind: ErrNotification, cause: err}
	}
	if !isMachineState(o) {
		return rc, o, &ArgError{Field: pathInstance.String(), Value: o.String(), Reason: "no state of the Object 5 machine", kind: ErrNotification}
	}
	s.mu.Lock()
	if t.d.gen == t.gen && t.d.reg != nil {
		t.d.state = reading{v: vals[stateIdx], known: true}
		t.d.result = reading{v: vals[resultIdx], known: true}
		t.d.enqueue(item{obs: &o})
	}
	s.mu.Unlock()
	return rc, o, nil
}

var errNotContent = errors.New("lwm2m server: the Read of /5/0 was not answered 2.05 Content")

// instanceValues reads /5/0/3 and /5/0/5 out of an answer to a Read of
// /5/0.
func (s *Server) instanceValues(m *pool.Message) ([2]int64, error) {
	recs, err := s.records(pathInstance, m)
	if err != nil {
		return [2]int64{}, err
	}
	var vals [2]int64
	var found [2]bool
	for _, r := range recs {
		for idx, p := range observed {
			if r.Path == p {
				v, err := checkValue(idx, r.Value)
				if err != nil {
					return [2]int64{}, err
				}
				vals[idx], found[idx] = v, true
			}
		}
	}
	if !found[stateIdx] || !found[resultIdx] {
		return [2]int64{}, &ArgError{Field: pathInstance.String(), Value: strconv.Itoa(len(recs)) + " records", Reason: "no State or no Update Result in the answer", kind: ErrNotification}
	}
	return vals, nil
}

// records decodes a response body for base, refusing an oversize one.
func (s *Server) records(base content.Path, m *pool.Message) ([]content.Record, error) {
	var body []byte
	if m.Body() != nil {
		b, err := m.ReadBody()
		if err != nil {
			return nil, &ArgError{Field: base.String(), Value: "", Reason: "unreadable body", kind: ErrNotification, cause: err}
		}
		body = b
	}
	if len(body) > s.cfg.MaxPayload {
		return nil, &ArgError{Field: base.String(), Value: strconv.Itoa(len(body)) + " bytes", Reason: "above MaxPayload " + strconv.Itoa(s.cfg.MaxPayload), kind: ErrNotification}
	}
	f := content.TextPlain
	if cf, err := m.ContentFormat(); err == nil {
		f = content.Format(cf)
	}
	recs, err := content.Decode(f, base, body)
	if err != nil {
		return nil, &ArgError{Field: base.String(), Value: string(body), Reason: "cannot read the " + f.String() + " body", kind: ErrNotification, cause: err}
	}
	return recs, nil
}

// valueOf reads the one resource p out of a notification or Read answer.
func (s *Server) valueOf(p content.Path, m *pool.Message) (int64, error) {
	recs, err := s.records(p, m)
	if err != nil {
		return 0, err
	}
	if len(recs) != 1 || recs[0].Path != p {
		return 0, &ArgError{Field: p.String(), Value: strconv.Itoa(len(recs)) + " records", Reason: "expected exactly the resource itself", kind: ErrNotification}
	}
	idx := stateIdx
	if p == pathResult {
		idx = resultIdx
	}
	return checkValue(idx, recs[0].Value)
}

func checkValue(idx int, v content.Value) (int64, error) {
	p := observed[idx]
	n, err := v.Int()
	if err == nil {
		if idx == stateIdx {
			_, err = lwm2m.ParseState(n)
		} else {
			_, err = lwm2m.ParseResult(n)
		}
	}
	if err != nil {
		return 0, &ArgError{Field: p.String(), Value: v.String(), Reason: "not a value of the resource", kind: ErrNotification, cause: err}
	}
	return n, nil
}

// target is a registered device and where to reach it.
type target struct {
	d    *dev
	gen  uint64
	addr *net.UDPAddr
	cc   *udpClient.Conn
}

func (s *Server) target(deviceID string) (target, error) {
	if s.cfg.Directory != nil {
		s.mu.Lock()
		d := s.devices[deviceID]
		local := d != nil && d.reg != nil && !d.reg.remote
		s.mu.Unlock()
		if !local {
			if err := s.remote(deviceID); err != nil {
				return target{}, err
			}
		}
	}
	s.mu.Lock()
	d := s.devices[deviceID]
	if d == nil || d.reg == nil || s.closed {
		s.mu.Unlock()
		return target{}, &DeviceError{DeviceID: deviceID, kind: ErrNotRegistered}
	}
	if !d.reg.Objects.Has(5, 0) {
		s.mu.Unlock()
		return target{}, &DeviceError{DeviceID: deviceID, kind: ErrNoFirmwareObject}
	}
	t := target{d: d, gen: d.gen, addr: d.reg.Addr}
	s.mu.Unlock()
	cc, err := s.coap.NewConn(t.addr)
	if err != nil {
		return target{}, &DeviceError{DeviceID: deviceID, kind: ErrNotRegistered}
	}
	t.cc = cc
	return t, nil
}

type requestOpts struct {
	token   message.Token
	observe *uint32
}

// do sends one Confirmable request and waits for the answer within
// AnswerTimeout. resp is nil when there was none; the caller releases it.
func (s *Server) do(ctx context.Context, t target, code codes.Code, p content.Path, body *[]byte, o *requestOpts) (*pool.Message, Receipt) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AnswerTimeout)
	defer cancel()
	req := t.cc.AcquireMessage(ctx)
	defer t.cc.ReleaseMessage(req)
	token := message.Token(nil)
	if o != nil {
		token = o.token
	}
	if token == nil {
		var err error
		if token, err = message.GetToken(); err != nil {
			return nil, Receipt{}
		}
	}
	req.SetCode(code)
	req.SetToken(token)
	if err := req.SetPath(p.String()); err != nil {
		return nil, Receipt{}
	}
	if body != nil {
		req.SetContentFormat(message.TextPlain)
		req.SetBody(bytes.NewReader(*body))
	}
	if o != nil && o.observe != nil {
		req.SetObserve(*o.observe)
	}
	key := string(token)
	s.mu.Lock()
	s.pending[key] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, key)
		s.mu.Unlock()
	}()
	s.stats.requests.Add(1)
	resp, err := t.cc.Do(req)
	if err != nil {
		s.stats.noAnswer.Add(1)
		if ctx.Err() == nil {
			s.report(fmt.Errorf("lwm2m server: %v %v to %s: %w", code, p, t.d.id, err))
		}
		return nil, Receipt{}
	}
	s.stats.answered.Add(1)
	return resp, receiptOf(resp.Code())
}

func (s *Server) release(t target, m *pool.Message) {
	if m != nil {
		t.cc.ReleaseMessage(m)
	}
}
