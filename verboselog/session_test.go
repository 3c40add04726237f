package verboselog

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/lifecycle"
)

var t0 = time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)

func enabled(t *testing.T, id string, at time.Time) Session {
	t.Helper()
	s, err := Enable(Session{}, id, device.HTTP, 0, at, DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// "Logging turns off automatically after seven days": on at 1 ns before the
// seventh day ends, off at it, whether checked in or not.
func TestExpiryAtSevenDayBoundary(t *testing.T) {
	p := DefaultPolicy()
	boundary := t0.Add(7 * 24 * time.Hour)
	for _, tc := range []struct {
		name    string
		checkIn bool
		at      time.Time
		on      bool
		want    State
	}{
		{"enabled, 1ns before", false, boundary.Add(-time.Nanosecond), true, Enabled},
		{"enabled, at", false, boundary, false, Expired},
		{"enabled, a day after", false, boundary.Add(24 * time.Hour), false, Expired},
		{"collecting, 1ns before", true, boundary.Add(-time.Nanosecond), true, Collecting},
		{"collecting, at", true, boundary, false, Expired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := enabled(t, "d1", t0)
			if tc.checkIn {
				s = s.CheckIn(t0.Add(time.Hour), p)
			}
			if got := s.ExpiresAt(p); !got.Equal(boundary) {
				t.Fatalf("ExpiresAt = %s, want %s", got, boundary)
			}
			cur := s.Current(tc.at, p)
			if cur.On() != tc.on || cur.State != tc.want {
				t.Errorf("at %s: %s (on=%v), want %s (on=%v)", tc.at, cur.State, cur.On(), tc.want, tc.on)
			}
			exp, did := s.Expire(tc.at, p)
			if did == tc.on || exp != cur {
				t.Errorf("Expire = %+v, %v; Current = %+v", exp, did, cur)
			}
			if !tc.on && !cur.EndedAt.Equal(boundary) {
				t.Errorf("EndedAt = %s; a late expiry must still end at %s", cur.EndedAt, boundary)
			}
		})
	}
}

// "When the device checks in after that setting is enabled, the device
// starts collecting logs."
func TestCheckInStartsCollection(t *testing.T) {
	p := DefaultPolicy()
	s := enabled(t, "d1", t0)
	if got := s.CheckIn(t0.Add(-time.Second), p); got != s {
		t.Errorf("a check-in before enabling changed the session: %+v", got)
	}
	c := s.CheckIn(t0.Add(3*time.Hour), p)
	if c.State != Collecting || !c.CollectingAt.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("after check-in: %+v", c)
	}
	if again := c.CheckIn(t0.Add(5*time.Hour), p); again != c {
		t.Errorf("a second check-in moved collection: %+v", again)
	}
	late := s.CheckIn(s.ExpiresAt(p), p)
	if late.State != Expired || !late.CollectingAt.IsZero() {
		t.Errorf("a check-in at the expiry must expire, not collect: %+v", late)
	}
	off := Session{DeviceID: "d1"}
	if got := off.CheckIn(t0, p); got != off {
		t.Errorf("a check-in without logging changed the session: %+v", got)
	}
}

// "enable and fetch logs for up to 20 devices"; only HTTP devices; typed
// errors; a refused enable changes nothing.
func TestEnableRefusals(t *testing.T) {
	p := DefaultPolicy()
	on := enabled(t, "d1", t0)
	ended, _ := on.Disable(t0.Add(time.Hour))
	for _, tc := range []struct {
		name       string
		s          Session
		id         string
		proto      device.Protocol
		count      int
		now        time.Time
		sentinel   error
		wantFields string
	}{
		{"21st device", Session{}, "d21", device.HTTP, 20, t0, ErrLimit, `{Limit:20 Device:d21}`},
		{"LwM2M device", Session{}, "d1", device.LWM2M, 0, t0, ErrNotHTTP, `{Device:d1 Protocol:LWM2M}`},
		{"OMA-DM device", Session{}, "d1", device.OMADM, 0, t0, ErrNotHTTP, `{Device:d1 Protocol:OMA-DM}`},
		{"no protocol", Session{}, "d1", 0, 0, t0, ErrNotHTTP, `{Device:d1 Protocol:Protocol(0)}`},
		{"empty device id", Session{}, "", device.HTTP, 0, t0, ErrDeviceID, ""},
		{"someone else's session", on, "d2", device.HTTP, 0, t0, ErrDeviceID, ""},
		{"already on", on, "d1", device.HTTP, 1, t0.Add(time.Hour), lifecycle.ErrInvalidTransition, ""},
		{"already on, at the limit", on, "d1", device.HTTP, 20, t0.Add(time.Hour), lifecycle.ErrInvalidTransition, ""},
		{"zero time", Session{}, "d1", device.HTTP, 0, time.Time{}, ErrTime, ""},
		{"before the last session ended", ended, "d1", device.HTTP, 0, t0.Add(time.Minute), ErrTime, ""},
		{"negative count", Session{}, "d1", device.HTTP, -1, t0, ErrCount, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Enable(tc.s, tc.id, tc.proto, tc.count, tc.now, p)
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want %v", err, tc.sentinel)
			}
			if got != tc.s {
				t.Errorf("a refused enable returned %+v, want the session unchanged", got)
			}
			var le *LimitError
			var ne *NotHTTPError
			switch {
			case errors.As(err, &le):
				if f := fmt.Sprintf("%+v", *le); f != tc.wantFields {
					t.Errorf("fields %s, want %s", f, tc.wantFields)
				}
			case errors.As(err, &ne):
				if f := fmt.Sprintf("%+v", *ne); f != tc.wantFields {
					t.Errorf("fields %s, want %s", f, tc.wantFields)
				}
			}
		})
	}
	if _, err := Enable(Session{}, "d20", device.HTTP, 19, t0, p); err != nil {
		t.Errorf("20th device refused: %v", err)
	}
}

// Re-enable after it ended, whichever way: a new session, new seven days.
func TestReEnable(t *testing.T) {
	p := DefaultPolicy()
	s := enabled(t, "d1", t0).CheckIn(t0.Add(time.Hour), p)
	dis, err := s.Disable(t0.Add(2 * time.Hour))
	if err != nil || dis.State != Disabled || !dis.EndedAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("disable: %+v, %v", dis, err)
	}
	if _, err := dis.Disable(t0.Add(3 * time.Hour)); !errors.Is(err, lifecycle.ErrInvalidTransition) {
		t.Errorf("disable twice: %v", err)
	}
	var se *SessionError
	var te *lifecycle.TransitionError
	_, err = dis.Disable(t0.Add(3 * time.Hour))
	if !errors.As(err, &se) || se.Device != "d1" || !errors.As(err, &te) || te.State != "Disabled" || te.Event != "disable" {
		t.Errorf("disable twice: %#v", err)
	}
	for _, ended := range []Session{dis, s.Current(s.ExpiresAt(p), p)} {
		at := ended.EndedAt.Add(time.Minute)
		again, err := Enable(ended, "d1", device.HTTP, 0, at, p)
		if err != nil {
			t.Fatalf("re-enable from %s: %v", ended.State, err)
		}
		want := Session{DeviceID: "d1", State: Enabled, EnabledAt: at}
		if again != want {
			t.Errorf("re-enable from %s: %+v, want %+v", ended.State, again, want)
		}
	}
	// A session due to expire but not yet ticked is re-enabled as expired.
	due := s.ExpiresAt(p)
	again, err := Enable(s, "d1", device.HTTP, 0, due, p)
	if err != nil || !again.EnabledAt.Equal(due) {
		t.Errorf("re-enable at the expiry: %+v, %v", again, err)
	}
	if _, err := enabled(t, "d1", t0).Disable(t0.Add(-time.Second)); !errors.Is(err, ErrTime) {
		t.Errorf("disable before enabling: %v, want ErrTime", err)
	}
}

// "After at least 24 hours, the developer can call the Verbose Logging API
// again to fetch the logs"; "After 30 days, the logs are purged from
// ThingSpace."
func TestFetchBoundaries(t *testing.T) {
	p := DefaultPolicy()
	s := enabled(t, "d1", t0).CheckIn(t0.Add(time.Hour), p)
	up := t0.Add(2 * time.Hour)
	b := Bundle{DeviceID: "d1", LogTime: up, LogType: LogEvent, EventLog: "boot", UploadedAt: up}
	other := b
	other.DeviceID = "d2"
	bundles := []Bundle{b, other}
	ready := t0.Add(24 * time.Hour)
	purge := up.Add(30 * 24 * time.Hour)
	for _, tc := range []struct {
		name string
		at   time.Time
		n    int
		err  error
	}{
		{"just after enabling", t0, 0, ErrNotReady},
		{"1ns before 24 h", ready.Add(-time.Nanosecond), 0, ErrNotReady},
		{"at 24 h", ready, 1, nil},
		{"after expiry", t0.Add(8 * 24 * time.Hour), 1, nil},
		{"1ns before purge", purge.Add(-time.Nanosecond), 1, nil},
		{"at purge", purge, 0, nil},
		{"a year on", purge.Add(365 * 24 * time.Hour), 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Fetch(s, bundles, tc.at, p)
			if !errors.Is(err, tc.err) || len(got) != tc.n {
				t.Fatalf("Fetch = %d bundles, %v; want %d, %v", len(got), err, tc.n, tc.err)
			}
			var nr *NotReadyError
			if errors.As(err, &nr) && (nr.Device != "d1" || !nr.ReadyAt.Equal(ready)) {
				t.Errorf("NotReadyError %+v, want ready at %s", nr, ready)
			}
			if err == nil && got == nil {
				t.Error("Fetch returned nil; want an empty slice")
			}
		})
	}
	if _, err := Fetch(Session{DeviceID: "d9"}, nil, t0, p); !errors.Is(err, ErrNeverEnabled) {
		t.Errorf("never enabled: %v", err)
	}
	if b.PurgeAt(p) != purge {
		t.Errorf("PurgeAt = %s", b.PurgeAt(p))
	}
	kept, next := Purge(bundles, purge, p)
	if len(kept) != 0 || !next.IsZero() {
		t.Errorf("Purge at the purge time kept %d, next %s", len(kept), next)
	}
	kept, next = Purge(bundles, purge.Add(-1), p)
	if len(kept) != 2 || !next.Equal(purge) {
		t.Errorf("Purge before kept %d, next %s", len(kept), next)
	}
}

// "The device periodically uploads those logs to ThingSpace": accepted while
// collecting, and late for logs collected before logging ended.
func TestUpload(t *testing.T) {
	p := DefaultPolicy()
	en := enabled(t, "d1", t0)
	col := en.CheckIn(t0.Add(time.Hour), p)
	dis, _ := col.Disable(t0.Add(2 * time.Hour))
	disNever, _ := en.Disable(t0.Add(2 * time.Hour))
	exp := col.Current(col.ExpiresAt(p), p)
	log := func(at time.Time) Bundle {
		return Bundle{DeviceID: "d1", LogTime: at, LogType: LogSoftwareUpdate}
	}
	for _, tc := range []struct {
		name string
		s    Session
		b    Bundle
		err  error
	}{
		{"collecting", col, log(t0.Add(90 * time.Minute)), nil},
		{"collecting, device clock behind", col, log(t0.Add(-time.Hour)), nil},
		{"never enabled", Session{DeviceID: "d1"}, log(t0), ErrUploadRefused},
		{"no session at all", Session{}, log(t0), ErrUploadRefused},
		{"enabled, not checked in", en, log(t0), ErrUploadRefused},
		{"disabled, log from before", dis, log(t0.Add(90 * time.Minute)), nil},
		{"disabled, log from the end", dis, log(t0.Add(2 * time.Hour)), ErrUploadRefused},
		{"expired, log from before", exp, log(exp.EndedAt.Add(-time.Nanosecond)), nil},
		{"expired, log from after", exp, log(exp.EndedAt.Add(time.Hour)), ErrUploadRefused},
		{"disabled without collecting", disNever, log(t0), ErrUploadRefused},
		{"another device", col, Bundle{DeviceID: "d2", LogTime: t0, LogType: LogEvent}, ErrDeviceID},
		{"bad log type", col, Bundle{DeviceID: "d1", LogTime: t0, LogType: "Kernel"}, ErrLogType},
		{"no log time", col, Bundle{DeviceID: "d1", LogType: LogEvent}, ErrTime},
		{"no device", col, Bundle{LogTime: t0, LogType: LogEvent}, ErrDeviceID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Upload(tc.s, tc.b, t0.Add(3*time.Hour))
			if !errors.Is(err, tc.err) {
				t.Fatalf("Upload = %v, want %v", err, tc.err)
			}
			var ue *UploadError
			if errors.As(err, &ue) && (ue.Device != "d1" || ue.State != tc.s.State || !ue.LogTime.Equal(tc.b.LogTime)) {
				t.Errorf("UploadError %+v does not carry the facts", ue)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	for field, mutate := range map[string]func(*Policy){
		"Policy.MaxEnabled":       func(p *Policy) { p.MaxEnabled = 0 },
		"Policy.Duration":         func(p *Policy) { p.Duration = 0 },
		"Policy.FetchDelay":       func(p *Policy) { p.FetchDelay = -1 },
		"Policy.Retention":        func(p *Policy) { p.Retention = 0 },
		"Policy.HistoryRetention": func(p *Policy) { p.HistoryRetention = -time.Hour },
		"Policy.HistoryMax":       func(p *Policy) { p.HistoryMax = -3 },
	} {
		p := DefaultPolicy()
		mutate(&p)
		var fe *FieldError
		if err := p.Validate(); !errors.Is(err, ErrPolicy) || !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	p := DefaultPolicy()
	p.FetchDelay, p.HistoryRetention = 0, 0
	if err := p.Validate(); err != nil {
		t.Errorf("zero FetchDelay and HistoryRetention are allowed: %v", err)
	}
}
