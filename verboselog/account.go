package verboselog

import (
	"slices"
	"strings"
	"time"

	"github.com/fotakit/fota/device"
)

// Account is the in-memory reference for one account's verbose logging:
// sessions, uploaded bundles and check-in histories, every rule enforced
// through this package's functions. It is the model the tests check and a
// ready store for hosts that keep nothing else. It is not safe for
// concurrent use.
//
// Calls that change it refuse a now earlier than the latest they saw
// (ErrTime), so an expiry once applied is never undone; queries accept any
// now. Tick costs O(devices): a host with many devices keeps its own
// deadline index instead (the Manager does).
type Account struct {
	policy    Policy
	last      time.Time
	sessions  map[string]Session
	on        map[string]struct{} // devices whose stored session is on
	bundles   map[string][]Bundle // per device, in upload order
	histories map[string]*History
}

// NewAccount returns an empty account following p (ErrPolicy if invalid).
func NewAccount(p Policy) (*Account, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Account{
		policy:    p,
		sessions:  map[string]Session{},
		on:        map[string]struct{}{},
		bundles:   map[string][]Bundle{},
		histories: map[string]*History{},
	}, nil
}

// Policy is the account's policy.
func (a *Account) Policy() Policy { return a.policy }

// advance refuses a now before the latest seen, else records it.
func (a *Account) advance(now time.Time) error {
	if now.Before(a.last) {
		return &FieldError{Field: "now", Value: now.Format(time.RFC3339Nano), Reason: "earlier than " + a.last.Format(time.RFC3339Nano), Err: ErrTime}
	}
	a.last = now
	return nil
}

// put stores a session and keeps the on set in step.
func (a *Account) put(s Session) {
	a.sessions[s.DeviceID] = s
	if s.On() {
		a.on[s.DeviceID] = struct{}{}
	} else {
		delete(a.on, s.DeviceID)
	}
}

// settle applies the expiries due at now: at most MaxEnabled sessions.
func (a *Account) settle(now time.Time) {
	for id := range a.on {
		if s, expired := a.sessions[id].Expire(now, a.policy); expired {
			a.put(s)
		}
	}
}

// Session is deviceID's session as it is at now (Off if never enabled).
func (a *Account) Session(deviceID string, now time.Time) Session {
	s, ok := a.sessions[deviceID]
	if !ok {
		return Session{DeviceID: deviceID}
	}
	return s.Current(now, a.policy)
}

// Enabled lists the sessions on at now, by device id: ThingSpace's "list
// devices with logging enabled", which "returns at most 20 devices".
func (a *Account) Enabled(now time.Time) []Session {
	out := make([]Session, 0, len(a.on))
	for id := range a.on {
		if s := a.sessions[id].Current(now, a.policy); s.On() {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(x, y Session) int { return strings.Compare(x.DeviceID, y.DeviceID) })
	return out
}

// Enable turns logging on for deviceID at now (see the function Enable for
// the checks and errors). On error nothing changes.
func (a *Account) Enable(deviceID string, proto device.Protocol, now time.Time) (Session, error) {
	if err := a.advance(now); err != nil {
		return Session{}, err
	}
	a.settle(now)
	s, err := Enable(a.Session(deviceID, now), deviceID, proto, len(a.on), now, a.policy)
	if err != nil {
		return s, err
	}
	a.put(s)
	return s, nil
}

// Disable turns deviceID's logging off early at now (*SessionError if it is
// not on). On error nothing changes.
func (a *Account) Disable(deviceID string, now time.Time) (Session, error) {
	if err := a.advance(now); err != nil {
		return Session{}, err
	}
	a.settle(now)
	s, err := a.Session(deviceID, now).Disable(now)
	if err != nil {
		return s, err
	}
	a.put(s)
	return s, nil
}

// CheckIn records a device's check-in at now in its history, whatever its
// logging, and starts collection if logging is Enabled. It returns the
// device's session. An invalid check-in changes nothing.
func (a *Account) CheckIn(c CheckIn, now time.Time) (Session, error) {
	h := a.histories[c.DeviceID]
	if h == nil {
		h = &History{}
	}
	if err := h.check(c); err != nil {
		return Session{}, err
	}
	if err := a.advance(now); err != nil {
		return Session{}, err
	}
	h.insert(c, a.policy)
	a.histories[c.DeviceID] = h
	s, ok := a.sessions[c.DeviceID]
	if !ok {
		return Session{DeviceID: c.DeviceID}, nil
	}
	s = s.CheckIn(now, a.policy)
	a.put(s)
	return s, nil
}

// Upload stores a bundle the device uploads at now, stamped with
// UploadedAt = now, if its session accepts it (see the function Upload).
// On error nothing changes.
func (a *Account) Upload(b Bundle, now time.Time) error {
	if err := Upload(a.Session(b.DeviceID, now), b, now); err != nil {
		return err
	}
	if err := a.advance(now); err != nil {
		return err
	}
	b.UploadedAt = now
	a.bundles[b.DeviceID] = append(a.bundles[b.DeviceID], b)
	return nil
}

// Fetch returns deviceID's logs kept at now (see the function Fetch).
func (a *Account) Fetch(deviceID string, now time.Time) ([]Bundle, error) {
	return Fetch(a.Session(deviceID, now), a.bundles[deviceID], now, a.policy)
}

// History pages deviceID's check-in history as it is at now (check-ins past
// HistoryRetention are left out even before Tick prunes them).
func (a *Account) History(deviceID string, cursor Cursor, limit int, now time.Time) ([]CheckIn, Cursor, bool) {
	h := a.histories[deviceID]
	if h == nil {
		return []CheckIn{}, cursor, false
	}
	if due := h.NextPrune(a.policy); !due.IsZero() && !now.Before(due) {
		c := History{deviceID: h.deviceID, entries: slices.Clone(h.entries)}
		c.Prune(now, a.policy)
		h = &c
	}
	return h.Page(cursor, limit)
}

// Tick applies everything due at now (expiries, bundle purges, history
// pruning) and returns the next instant something falls due, zero if
// nothing will. A now earlier than one already seen does nothing.
func (a *Account) Tick(now time.Time) (next time.Time) {
	if a.advance(now) != nil {
		return a.nextDeadline()
	}
	a.settle(now)
	for id, bs := range a.bundles {
		if kept, _ := Purge(bs, now, a.policy); len(kept) == 0 {
			delete(a.bundles, id)
		} else {
			a.bundles[id] = kept
		}
	}
	for id, h := range a.histories {
		h.Prune(now, a.policy)
		if h.Len() == 0 {
			delete(a.histories, id)
		}
	}
	return a.nextDeadline()
}

func (a *Account) nextDeadline() time.Time {
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for id := range a.on {
		earliest(a.sessions[id].ExpiresAt(a.policy))
	}
	for _, bs := range a.bundles {
		earliest(bs[0].PurgeAt(a.policy)) // upload order is UploadedAt order
	}
	for _, h := range a.histories {
		earliest(h.NextPrune(a.policy))
	}
	return next
}
