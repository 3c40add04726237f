package server

import (
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
}

type reading struct {
	v     int64
	known bool
}

// item is one delivery to the host: a registration event or an observation.
type item struct {
	event *Event
	obs   *lwm2m.Observation
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
		case it.event != nil && s.cfg.OnRegistration != nil:
			s.cfg.OnRegistration(*it.event)
		case it.obs != nil:
			s.stats.delivered.Add(1)
			if s.cfg.OnObservation != nil {
				s.cfg.OnObservation(d.id, *it.obs)
			}
		}
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
