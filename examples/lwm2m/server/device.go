package server

import (
	"context"
	"time"

	"github.com/fotakit/fota/device/lwm2m"
)

// dev is what the server holds of one fota device across its
// registrations. Every field is guarded by Server.mu.
type dev struct {
	id  string
	s   *Server
	reg *registration
	gen uint64 // bumped at every Register: older observations are stale

	obs           [2]*observation // /5/0/3 and /5/0/5
	state, result reading         // the last values read or notified

	noInstanceRead bool // the client refused a Read of /5/0 (lwm2m-node-lib answers 4.04)

	queue    []item // registration events and observations not yet delivered
	draining bool
}

type registration struct {
	Registration
	timer *time.Timer
	// remote: another replica holds the registration (Directory); this one
	// only sends to its address.
	remote  bool
	replica string
}

type reading struct {
	v     int64
	known bool
}

// item is one delivery to the host: a registration event or an
// observation; or a mark that Flush waits for.
type item struct {
	event   *Event
	obs     *lwm2m.Observation
	flushed chan struct{}
}

// Resource indexes in device.obs.
const (
	stateIdx  = 0
	resultIdx = 1
)

// enqueue hands it to the host after everything queued before it for this
// device. One goroutine per device drains the queue while it is not empty,
// so a handler may call the server's operations for the same device. The
// caller holds s.mu.
func (d *dev) enqueue(it item) {
	s := d.s
	if s.closed {
		return
	}
	d.queue = append(d.queue, it)
	if d.draining {
		return
	}
	d.draining = true
	s.wg.Add(1)
	go d.drain()
}

func (d *dev) drain() {
	s := d.s
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if len(d.queue) == 0 || s.closed {
			d.queue, d.draining = nil, false
			s.mu.Unlock()
			return
		}
		it := d.queue[0]
		d.queue[0] = item{}
		d.queue = d.queue[1:]
		s.mu.Unlock()
		switch {
		case it.event != nil:
			s.share(d.id, *it.event)
			if s.cfg.OnRegistration != nil {
				s.cfg.OnRegistration(*it.event)
			}
		case it.obs != nil:
			s.stats.delivered.Add(1)
			if s.cfg.OnObservation != nil {
				s.cfg.OnObservation(d.id, *it.obs)
			}
		case it.flushed != nil:
			close(it.flushed)
		}
	}
}

// Flush waits until everything about the device that the server queued
// for the host before the call (registration events, observations) was
// handed on and the hook returned, or until ctx ends or the server closes.
// A host that reports a command's answer before what the device notified
// meanwhile, and the notifications before its next command, calls it
// between the two (package push does).
func (s *Server) Flush(ctx context.Context, deviceID string) error {
	s.mu.Lock()
	d := s.devices[deviceID]
	if d == nil || s.closed || (!d.draining && len(d.queue) == 0) {
		s.mu.Unlock()
		return nil
	}
	done := make(chan struct{})
	d.enqueue(item{flushed: done})
	s.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// offerLocked delivers the pair of the last state and result when both are
// known and the pair is a state of the Object 5 machine. A pair that is
// not (a client that notifies /5/0/5 before /5/0/3 shows (Updating,
// Success) for a moment) is held until the other resource catches up.
func (d *dev) offerLocked() {
	if !d.state.known || !d.result.known {
		return
	}
	o, err := lwm2m.ParseObservation(d.state.v, d.result.v)
	if err != nil || !isMachineState(o) {
		d.s.stats.held.Add(1)
		return
	}
	d.enqueue(item{obs: &o})
}

// isMachineState reports whether o is a (State, Result) pair some
// transition of Object 5 produces: a Tracker that knows nothing refuses
// exactly the others (lwm2m.JumpError with Known false).
func isMachineState(o lwm2m.Observation) bool {
	_, _, err := lwm2m.Tracker{}.Observe(o)
	return err == nil
}
