package server

import (
	"net"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/message/pool"

	"github.com/fotakit/fota/examples/lwm2m/content"
)

// observation is one observation of /5/0/3 or /5/0/5. seq and at are the
// last accepted notification's Observe value and arrival (RFC 7641 §3.4);
// they are guarded by Server.mu.
type observation struct {
	d     *dev
	gen   uint64
	idx   int
	path  content.Path
	token message.Token
	addr  string

	seq  uint32
	at   time.Time
	seen bool
}

// sequenceTimeout is RFC 7641 §3.4's 128 seconds, after which any
// notification counts as newer.
const sequenceTimeout = 128 * time.Second

// Newer reports whether a notification with Observe value v2 arriving at
// t2 is newer than one with v1 that arrived at t1 (RFC 7641 §3.4): the
// 24-bit sequence numbers compare in serial number arithmetic, and after
// 128 seconds any value is newer.
func Newer(v1 uint32, t1 time.Time, v2 uint32, t2 time.Time) bool {
	return (v1 < v2 && v2-v1 < 1<<23) || (v1 > v2 && v1-v2 > 1<<23) || t2.After(t1.Add(sequenceTimeout))
}

// notification takes one notification (or the answer to the Observe
// request) on ob: it must come from the registered address, be 2.05
// Content, hold the observed resource in a readable format and a legal
// value, and be newer than the last one. Then the resource's value is
// updated and the pair offered to the host.
func (s *Server) notification(ob *observation, from net.Addr, m *pool.Message) {
	s.stats.notifications.Add(1)
	if from.String() != ob.addr {
		s.refuseNotification(&ArgError{Field: "address", Value: from.String(), Reason: "not the address that was observed", kind: ErrNotification})
		return
	}
	if m.Code() != codes.Content {
		// RFC 7641 §3.2: a notification with an error code ends the observation.
		s.stats.stale.Add(1)
		s.dropObservation(ob)
		return
	}
	v, err := s.valueOf(ob.path, m)
	if err != nil {
		s.refuseNotification(err)
		return
	}
	seq, seqErr := m.Observe()
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	d := ob.d
	if s.tokens[string(ob.token)] != ob || d.gen != ob.gen || d.reg == nil {
		s.stats.stale.Add(1)
		return
	}
	if seqErr == nil {
		if ob.seen && !Newer(ob.seq, ob.at, seq, now) {
			s.stats.reordered.Add(1)
			return
		}
		ob.seq, ob.at, ob.seen = seq, now, true
	} else if ob.seen {
		// A 2.05 without Observe after notifications ends the observation
		// (RFC 7641 §3.2); its value is still current.
		delete(s.tokens, string(ob.token))
		d.obs[ob.idx] = nil
	}
	r := reading{v: v, known: true}
	if ob.idx == stateIdx {
		d.state = r
	} else {
		d.result = r
	}
	d.offerLocked()
}

func (s *Server) refuseNotification(err error) {
	s.stats.refusals.Add(1)
	s.report(err)
}
