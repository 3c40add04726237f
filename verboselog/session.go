package verboselog

import (
	"fmt"
	"strconv"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/lifecycle"
	"github.com/looplab/fsm"
)

// State is where a device's logging session is.
type State uint8

// The session states. The zero value, Off, is a device whose logging was
// never enabled, so a zero Session is a valid "nothing yet".
const (
	Off        State = iota // never enabled
	Enabled                 // on, waiting for the device's next check-in
	Collecting              // on, the device has checked in and collects logs
	Expired                 // ended by itself, Policy.Duration after enabling
	Disabled                // ended early on request
)

// States lists every state.
var States = []State{Off, Enabled, Collecting, Expired, Disabled}

// Event is something that happens to a session.
type Event uint8

// The session events.
const (
	EventEnable  Event = iota // the developer enables logging
	EventCheckIn              // the device checks in
	EventExpire               // Policy.Duration has passed since enabling
	EventDisable              // the developer disables logging
)

// EventList lists every event.
var EventList = []Event{EventEnable, EventCheckIn, EventExpire, EventDisable}

// Events declares the logging-session lifecycle, once; Table is compiled
// from it and tests check the two agree. A check-in changes only an Enabled
// session; in every other state it is recorded in the history and nothing
// else happens, so it is not declared there. Ended sessions may be enabled
// again, so no state is terminal.
var Events = fsm.Events{
	{Name: "enable", Src: []string{"Off", "Expired", "Disabled"}, Dst: "Enabled"},
	{Name: "checkIn", Src: []string{"Enabled"}, Dst: "Collecting"},
	{Name: "expire", Src: []string{"Enabled", "Collecting"}, Dst: "Expired"},
	{Name: "disable", Src: []string{"Enabled", "Collecting"}, Dst: "Disabled"},
}

// Table is the compiled logging-session lifecycle, named "logging session".
var Table = lifecycle.MustCompile("logging session", Events, States, State.String, EventList, Event.String)

var stateNames = [...]string{Off: "Off", Enabled: "Enabled", Collecting: "Collecting", Expired: "Expired", Disabled: "Disabled"}

var eventNames = [...]string{EventEnable: "enable", EventCheckIn: "checkIn", EventExpire: "expire", EventDisable: "disable"}

// String is the state's name, as in Events: "Off", "Enabled", ...
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText writes the state's name; a value that is not a state is an
// error matching ErrState.
func (s State) MarshalText() ([]byte, error) {
	if int(s) >= len(stateNames) {
		return nil, &FieldError{Field: "state", Value: s.String(), Reason: "not a logging session state", Err: ErrState}
	}
	return []byte(stateNames[s]), nil
}

// UnmarshalText reads a state's name exactly as String writes it. On error
// (matching ErrState) the receiver is unchanged.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return &FieldError{Field: "state", Value: string(b), Reason: "not a logging session state", Err: ErrState}
}

// String is the event's name, as in Events.
func (e Event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "Event(" + strconv.Itoa(int(e)) + ")"
}

// Session is one device's verbose-logging session, as a value: the
// functions below return a new Session and never change their argument.
// Only the latest session per device is kept; enabling again starts over.
type Session struct {
	DeviceID     string    `json:"deviceId"`
	State        State     `json:"state"`
	EnabledAt    time.Time `json:"enabledAt,omitzero"`    // when logging was last enabled
	CollectingAt time.Time `json:"collectingAt,omitzero"` // the first check-in after EnabledAt, if any
	EndedAt      time.Time `json:"endedAt,omitzero"`      // expiry (ExpiresAt) or the disable request
}

// ExpiresAt is when the session turns off by itself: EnabledAt + Duration.
// At that instant it is off; one nanosecond before, it is on.
func (s Session) ExpiresAt(p Policy) time.Time { return s.EnabledAt.Add(p.Duration) }

// ReadyAt is the first instant logs may be fetched: EnabledAt + FetchDelay.
func (s Session) ReadyAt(p Policy) time.Time { return s.EnabledAt.Add(p.FetchDelay) }

// On reports whether logging is on: Enabled or Collecting. It reads the
// stored state; use s.Current(now, p).On() to account for a due expiry.
func (s Session) On() bool { return s.State == Enabled || s.State == Collecting }

// Enable starts a logging session for deviceID at now, replacing s, the
// device's previous session (a zero Session if it has none). enabledNow is
// how many sessions of the account are on at now, counted by the caller
// with Current(now, p).On(), this device's included.
//
// Checks, in order, each a typed error:
//   - deviceID empty, or not the device s belongs to: ErrDeviceID;
//   - proto not in the HTTP family: *NotHTTPError (ErrNotHTTP);
//   - now zero or before the previous session ended: ErrTime;
//   - enabledNow negative: ErrCount;
//   - logging already on: *SessionError (lifecycle.ErrInvalidTransition).
//     Enabling is not idempotent because a second enable would otherwise
//     have to either restart the seven days (letting logging run past
//     "turns off automatically after seven days") or silently do nothing;
//     the caller can tell "already on" from the error and skip it;
//   - enabledNow >= MaxEnabled: *LimitError (ErrLimit).
func Enable(s Session, deviceID string, proto device.Protocol, enabledNow int, now time.Time, p Policy) (Session, error) {
	if deviceID == "" {
		return s, &FieldError{Field: "deviceId", Value: deviceID, Reason: "empty", Err: ErrDeviceID}
	}
	if s.DeviceID != "" && s.DeviceID != deviceID {
		return s, &FieldError{Field: "deviceId", Value: deviceID, Reason: fmt.Sprintf("the session belongs to device %q", s.DeviceID), Err: ErrDeviceID}
	}
	if proto.Family() != device.FamilyHTTP {
		return s, &NotHTTPError{Device: deviceID, Protocol: proto}
	}
	if now.IsZero() {
		return s, &FieldError{Field: "now", Value: "0001-01-01T00:00:00Z", Reason: "zero time", Err: ErrTime}
	}
	cur := s.Current(now, p)
	if !cur.EndedAt.IsZero() && now.Before(cur.EndedAt) {
		return s, &FieldError{Field: "now", Value: now.Format(time.RFC3339Nano), Reason: "before the previous session ended", Err: ErrTime}
	}
	if enabledNow < 0 {
		return s, &FieldError{Field: "enabledNow", Value: strconv.Itoa(enabledNow), Reason: "negative", Err: ErrCount}
	}
	if _, err := Table.Next(cur.State, EventEnable); err != nil {
		return s, &SessionError{Device: deviceID, Err: err}
	}
	if enabledNow >= p.MaxEnabled {
		return s, &LimitError{Limit: p.MaxEnabled, Device: deviceID}
	}
	return Session{DeviceID: deviceID, State: Enabled, EnabledAt: now}, nil
}

// Expire turns an on session off if now is at or after ExpiresAt, and
// reports whether it did. EndedAt is ExpiresAt, not now: a late tick does
// not lengthen the session. Off and ended sessions are returned unchanged.
func (s Session) Expire(now time.Time, p Policy) (Session, bool) {
	if !s.On() || now.Before(s.ExpiresAt(p)) {
		return s, false
	}
	s.State, _ = Table.Lookup(s.State, EventExpire)
	s.EndedAt = s.ExpiresAt(p)
	return s, true
}

// Current is the session as it is at now: a due expiry is applied without
// waiting for a tick.
func (s Session) Current(now time.Time, p Policy) Session {
	s, _ = s.Expire(now, p)
	return s
}

// CheckIn applies a device check-in at now: "When the device checks in
// after that setting is enabled, the device starts collecting logs." An
// Enabled session becomes Collecting from now; a session past its expiry
// expires instead; any other session, and a check-in stamped before
// EnabledAt, change nothing (check-ins are recorded in History either way).
func (s Session) CheckIn(now time.Time, p Policy) Session {
	s = s.Current(now, p)
	if now.Before(s.EnabledAt) {
		return s
	}
	if next, ok := Table.Lookup(s.State, EventCheckIn); ok {
		s.State, s.CollectingAt = next, now
	}
	return s
}

// Disable ends an on session early at now. s must be current (pass
// s.Current(now, p)) so that an expiry already due is not recorded as a
// disable. A session that is not on gives a *SessionError; a now before
// EnabledAt gives ErrTime. On error s is returned unchanged.
func (s Session) Disable(now time.Time) (Session, error) {
	next, err := Table.Next(s.State, EventDisable)
	if err != nil {
		return s, &SessionError{Device: s.DeviceID, Err: err}
	}
	if now.Before(s.EnabledAt) {
		return s, &FieldError{Field: "now", Value: now.Format(time.RFC3339Nano), Reason: "before logging was enabled", Err: ErrTime}
	}
	s.State, s.EndedAt = next, now
	return s, nil
}
