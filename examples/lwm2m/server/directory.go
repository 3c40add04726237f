package server

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Directory shares registrations among replicas of this server that serve
// one fleet: a replica handed a command for a device registered with
// another (fota's outbox leases each command to whichever replica asks
// first) finds the device's address there and sends the request itself.
//
// The server calls Publish after it accepted a Register or an Update, and
// Withdraw after a De-register or a lifetime expiry, from the device's
// delivery queue (in order with its events, before OnRegistration sees
// them); an error is reported through Config.Errors and changes nothing
// here. Lookup is asked when an operation names a device this replica holds
// no registration of.
type Directory interface {
	// Publish records that the device is registered with replica.
	Publish(ctx context.Context, deviceID string, e Entry) error
	// Withdraw removes the device's entry if it is still the one replica
	// published at location (a later registration elsewhere stays).
	Withdraw(ctx context.Context, deviceID, replica, location string) error
	// Lookup returns the device's latest entry, if any.
	Lookup(ctx context.Context, deviceID string) (Entry, bool, error)
}

// Entry is one device's registration as a Directory shares it: the
// replica that holds it (its Config.Replica name) and the registration.
type Entry struct {
	Replica string
	Registration
}

// String writes the entry for logs.
func (e Entry) String() string {
	return fmt.Sprintf("%s at %v via %s until %s", e.Location, e.Addr, e.Replica, e.Expires.UTC().Format(time.RFC3339))
}

// directoryTimeout bounds one directory call.
const directoryTimeout = 5 * time.Second

// share tells the directory about a registration event.
func (s *Server) share(deviceID string, ev Event) {
	dir := s.cfg.Directory
	if dir == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), directoryTimeout)
	defer cancel()
	var err error
	switch ev.Kind {
	case Registered, Updated:
		err = dir.Publish(ctx, deviceID, Entry{Replica: s.cfg.Replica, Registration: ev.Registration})
	case Deregistered, Expired:
		err = dir.Withdraw(ctx, deviceID, s.cfg.Replica, ev.Location)
	}
	if err != nil {
		s.report(fmt.Errorf("lwm2m server: directory, %v of %s: %w", ev.Kind, deviceID, err))
	}
}

// remote looks a device that this replica holds no registration of up in
// the directory and, when another replica holds a live one, makes it the
// device's registration here: operations go to its address, observations
// are made from this replica. A changed entry (the device moved, or
// registered anew) ends the observations made at the old one.
func (s *Server) remote(deviceID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), directoryTimeout)
	defer cancel()
	e, ok, err := s.cfg.Directory.Lookup(ctx, deviceID)
	if err != nil {
		s.report(fmt.Errorf("lwm2m server: directory, lookup of %s: %w", deviceID, err))
		return &DeviceError{DeviceID: deviceID, kind: ErrNotRegistered}
	}
	if !ok || e.Replica == s.cfg.Replica || !time.Now().Before(e.Expires) || e.Addr == nil {
		return &DeviceError{DeviceID: deviceID, kind: ErrNotRegistered}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return &DeviceError{DeviceID: deviceID, kind: ErrNotRegistered}
	}
	d := s.devices[deviceID]
	if d == nil {
		d = &dev{id: deviceID, s: s}
		s.devices[deviceID] = d
	}
	if d.reg != nil && !d.reg.remote {
		return nil // registered here meanwhile
	}
	if d.reg != nil && d.reg.replica == e.Replica && d.reg.Location == e.Location && sameAddr(d.reg.Addr, e.Addr) {
		d.reg.Registration = e.Registration // lifetime, objects
		return nil
	}
	s.endLocked(d)
	d.reg = &registration{Registration: e.Registration, remote: true, replica: e.Replica}
	d.gen++
	return nil
}

func sameAddr(a, b *net.UDPAddr) bool {
	return a != nil && b != nil && a.String() == b.String()
}
