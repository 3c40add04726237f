package verboselog

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fotakit/fota/device"
	"github.com/fotakit/fota/lifecycle"
	"pgregory.net/rapid"
)

// model is an independent, deliberately naive account: it keeps every fact
// forever and decides everything from times at the moment it is asked.
type model struct {
	p       Policy
	now     time.Time
	devices map[string]*modelDevice
}

type modelDevice struct {
	proto        device.Protocol
	everEnabled  bool
	enabledAt    time.Time
	disabled     bool
	disabledAt   time.Time
	collectingAt time.Time
	uploads      []Bundle  // every accepted upload, UploadedAt stamped
	checkIns     []CheckIn // every check-in, in arrival order
}

func (d *modelDevice) on(now time.Time, p Policy) bool {
	return d.everEnabled && !d.disabled && now.Before(d.enabledAt.Add(p.Duration))
}

func (d *modelDevice) endedAt(p Policy) time.Time {
	if d.disabled {
		return d.disabledAt
	}
	return d.enabledAt.Add(p.Duration)
}

func (d *modelDevice) state(now time.Time, p Policy) State {
	switch {
	case !d.everEnabled:
		return Off
	case d.on(now, p) && !d.collectingAt.IsZero():
		return Collecting
	case d.on(now, p):
		return Enabled
	case d.disabled:
		return Disabled
	}
	return Expired
}

func (m *model) onCount() int {
	n := 0
	for _, d := range m.devices {
		if d.on(m.now, m.p) {
			n++
		}
	}
	return n
}

// visible is the history a device shows at now, newest first: kept if
// fewer than HistoryMax check-ins come after it (by time, ties in arrival
// order) and younger than HistoryRetention.
func (m *model) visible(d *modelDevice) []CheckIn {
	all := slices.Clone(d.checkIns)
	slices.SortStableFunc(all, func(a, b CheckIn) int { return a.TimeCompleted.Compare(b.TimeCompleted) })
	all = all[max(0, len(all)-m.p.HistoryMax):]
	var out []CheckIn
	for i := len(all) - 1; i >= 0; i-- {
		if m.p.HistoryRetention == 0 || m.now.Before(all[i].TimeCompleted.Add(m.p.HistoryRetention)) {
			out = append(out, all[i])
		}
	}
	return out
}

// The 20-device limit, the 7-day expiry, the 24 h and 30 d gates on logs,
// and the check-in history, against the model, over random histories that
// are pushed onto every boundary.
func TestAccountAgainstModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := DefaultPolicy()
		p.MaxEnabled = rapid.SampledFrom([]int{1, 2, 3, 20}).Draw(t, "MaxEnabled")
		p.FetchDelay = rapid.SampledFrom([]time.Duration{24 * time.Hour, 0, 8 * 24 * time.Hour}).Draw(t, "FetchDelay")
		p.HistoryMax = rapid.SampledFrom([]int{1, 3, 1000}).Draw(t, "HistoryMax")
		p.HistoryRetention = rapid.SampledFrom([]time.Duration{0, 2 * 24 * time.Hour, 180 * 24 * time.Hour}).Draw(t, "HistoryRetention")
		a, err := NewAccount(p)
		if err != nil {
			t.Fatal(err)
		}
		m := &model{p: p, now: t0, devices: map[string]*modelDevice{}}
		var ids []string
		for i := range p.MaxEnabled + 3 {
			id := fmt.Sprintf("h%02d", i)
			ids = append(ids, id)
			m.devices[id] = &modelDevice{proto: device.HTTP}
		}
		for _, pr := range []device.Protocol{device.LWM2M, device.OMADM} {
			id := "push-" + pr.String()
			ids = append(ids, id)
			m.devices[id] = &modelDevice{proto: pr}
		}
		uploads := 0
		pick := func(t *rapid.T) (string, *modelDevice) {
			id := rapid.SampledFrom(ids).Draw(t, "device")
			return id, m.devices[id]
		}

		enable := func(t *rapid.T, id string, d *modelDevice) {
			wantOK := d.proto == device.HTTP && !d.on(m.now, p) && m.onCount() < p.MaxEnabled
			s, err := a.Enable(id, d.proto, m.now)
			switch {
			case wantOK && err != nil:
				t.Fatalf("enable %s: %v", id, err)
			case !wantOK && err == nil:
				t.Fatalf("enable %s succeeded; model refuses (on=%v, count=%d)", id, d.on(m.now, p), m.onCount())
			case err != nil:
				var want error = ErrLimit
				if d.proto != device.HTTP {
					want = ErrNotHTTP
				} else if d.on(m.now, p) {
					want = lifecycle.ErrInvalidTransition
				}
				if !errors.Is(err, want) {
					t.Fatalf("enable %s: %v, want %v", id, err, want)
				}
				return
			}
			if s.State != Enabled || !s.EnabledAt.Equal(m.now) {
				t.Fatalf("enable %s gave %+v", id, s)
			}
			d.everEnabled, d.enabledAt, d.disabled, d.collectingAt = true, m.now, false, time.Time{}
		}

		t.Repeat(map[string]func(*rapid.T){
			"enable": func(t *rapid.T) {
				id, d := pick(t)
				enable(t, id, d)
			},
			"enable every device": func(t *rapid.T) {
				for _, id := range ids {
					enable(t, id, m.devices[id])
				}
			},
			"disable": func(t *rapid.T) {
				id, d := pick(t)
				wantOK := d.on(m.now, p)
				_, err := a.Disable(id, m.now)
				if wantOK != (err == nil) {
					t.Fatalf("disable %s: %v; model on=%v", id, err, wantOK)
				}
				if err != nil && !errors.Is(err, lifecycle.ErrInvalidTransition) {
					t.Fatalf("disable %s: %v", id, err)
				}
				if wantOK {
					d.disabled, d.disabledAt = true, m.now
				}
			},
			"check in": func(t *rapid.T) {
				id, d := pick(t)
				c := CheckIn{
					DeviceID:      id,
					ClientType:    rapid.SampledFrom(ClientTypes).Draw(t, "clientType"),
					Result:        rapid.SampledFrom([]string{"Success", "Failure"}).Draw(t, "result"),
					TimeCompleted: m.now.Add(-rapid.SampledFrom([]time.Duration{0, 0, time.Minute, 3 * 24 * time.Hour}).Draw(t, "age")),
				}
				if _, err := a.CheckIn(c, m.now); err != nil {
					t.Fatalf("check in %s: %v", id, err)
				}
				d.checkIns = append(d.checkIns, c)
				if d.on(m.now, p) && d.collectingAt.IsZero() {
					d.collectingAt = m.now
				}
			},
			"upload": func(t *rapid.T) {
				id, d := pick(t)
				uploads++
				b := Bundle{
					DeviceID: id,
					LogType:  rapid.SampledFrom(LogTypes).Draw(t, "logType"),
					LogTime:  m.now.Add(-rapid.SampledFrom([]time.Duration{0, time.Hour, 24 * time.Hour}).Draw(t, "logAge")),
					EventLog: fmt.Sprint("log ", uploads),
				}
				wantOK := !d.collectingAt.IsZero() && (d.on(m.now, p) || b.LogTime.Before(d.endedAt(p)))
				err := a.Upload(b, m.now)
				if wantOK != (err == nil) {
					t.Fatalf("upload %s (logTime %s): %v; model accepts=%v", id, b.LogTime, err, wantOK)
				}
				if err != nil && !errors.Is(err, ErrUploadRefused) {
					t.Fatalf("upload %s: %v", id, err)
				}
				if wantOK {
					b.UploadedAt = m.now
					d.uploads = append(d.uploads, b)
				}
			},
			"fetch": func(t *rapid.T) {
				id, d := pick(t)
				got, err := a.Fetch(id, m.now)
				switch {
				case !d.everEnabled:
					if !errors.Is(err, ErrNeverEnabled) {
						t.Fatalf("fetch %s, never enabled: %v", id, err)
					}
					return
				case m.now.Before(d.enabledAt.Add(p.FetchDelay)):
					var nr *NotReadyError
					if !errors.As(err, &nr) || !nr.ReadyAt.Equal(d.enabledAt.Add(p.FetchDelay)) || got != nil {
						t.Fatalf("fetch %s before it is ready: %v, %d bundles", id, err, len(got))
					}
					return
				case err != nil:
					t.Fatalf("fetch %s: %v", id, err)
				}
				var want []Bundle
				for _, b := range d.uploads {
					if m.now.Before(b.UploadedAt.Add(p.Retention)) {
						want = append(want, b)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("fetch %s: %d bundles, model %d", id, len(got), len(want))
				}
				for _, b := range got {
					if !m.now.Before(b.UploadedAt.Add(30*24*time.Hour)) || m.now.Before(d.enabledAt.Add(p.FetchDelay)) {
						t.Fatalf("served %+v at %s", b, m.now)
					}
				}
			},
			"history": func(t *rapid.T) {
				id, d := pick(t)
				limit := rapid.IntRange(0, 4).Draw(t, "limit")
				var got []CheckIn
				var cur Cursor
				for pages := 0; ; pages++ {
					if pages > len(d.checkIns)+1 {
						t.Fatalf("history %s: %d pages for %d check-ins", id, pages, len(d.checkIns))
					}
					page, next, more := a.History(id, cur, limit, m.now)
					got = append(got, page...)
					if !more {
						break
					}
					if len(page) == 0 {
						t.Fatalf("an empty page with more")
					}
					cur = next
				}
				if want := m.visible(d); !slices.Equal(got, want) {
					t.Fatalf("history %s:\n got %v\nwant %v", id, got, want)
				}
			},
			"advance": func(t *rapid.T) {
				m.now = m.now.Add(rapid.SampledFrom([]time.Duration{time.Nanosecond, time.Hour, 23 * time.Hour, 3 * 24 * time.Hour}).Draw(t, "step"))
			},
			"advance to a boundary": func(t *rapid.T) {
				var marks []time.Time
				for _, d := range m.devices {
					if d.everEnabled {
						marks = append(marks, d.enabledAt.Add(p.Duration), d.enabledAt.Add(p.FetchDelay))
					}
					for _, b := range d.uploads {
						marks = append(marks, b.UploadedAt.Add(p.Retention))
					}
					for _, c := range d.checkIns {
						marks = append(marks, c.TimeCompleted.Add(p.HistoryRetention))
					}
				}
				marks = slices.DeleteFunc(marks, func(x time.Time) bool { return !x.After(m.now.Add(time.Nanosecond)) })
				if len(marks) == 0 {
					t.Skip("no boundary ahead")
				}
				to := rapid.SampledFrom(marks).Draw(t, "boundary")
				m.now = to.Add(-rapid.SampledFrom([]time.Duration{0, time.Nanosecond}).Draw(t, "offset"))
			},
			"tick": func(t *rapid.T) {
				next := a.Tick(m.now)
				var want time.Time
				earliest := func(x time.Time) {
					if want.IsZero() || x.Before(want) {
						want = x
					}
				}
				for _, d := range m.devices {
					if d.on(m.now, p) {
						earliest(d.enabledAt.Add(p.Duration))
					}
					for _, b := range d.uploads {
						if at := b.UploadedAt.Add(p.Retention); m.now.Before(at) {
							earliest(at)
						}
					}
					if p.HistoryRetention > 0 {
						for _, c := range m.visible(d) {
							earliest(c.TimeCompleted.Add(p.HistoryRetention))
						}
					}
				}
				if !next.Equal(want) {
					t.Fatalf("Tick(%s) = %s, model %s", m.now, next, want)
				}
			},
			"": func(t *rapid.T) {
				on := a.Enabled(m.now)
				if len(on) > p.MaxEnabled || len(on) != m.onCount() {
					t.Fatalf("%d sessions on, model %d, limit %d", len(on), m.onCount(), p.MaxEnabled)
				}
				for _, id := range ids {
					d := m.devices[id]
					s := a.Session(id, m.now)
					if s.DeviceID != id || s.State != d.state(m.now, p) {
						t.Fatalf("%s: session %+v, model state %s", id, s, d.state(m.now, p))
					}
					if d.everEnabled && (!s.EnabledAt.Equal(d.enabledAt) || !s.CollectingAt.Equal(d.collectingAt)) {
						t.Fatalf("%s: session %+v, model enabled %s collecting %s", id, s, d.enabledAt, d.collectingAt)
					}
					if !s.On() && d.everEnabled && !s.EndedAt.Equal(d.endedAt(p)) {
						t.Fatalf("%s: ended at %s, model %s", id, s.EndedAt, d.endedAt(p))
					}
				}
			},
		})
	})
}

// "for up to 20 devices": the 21st is refused, and a slot frees when one
// is disabled or expires.
func TestAccountTwentyDevices(t *testing.T) {
	p := DefaultPolicy()
	a, _ := NewAccount(p)
	for i := range 20 {
		if _, err := a.Enable(fmt.Sprint("d", i), device.HTTP, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
	}
	var le *LimitError
	if _, err := a.Enable("d20", device.HTTP, t0.Add(time.Hour)); !errors.As(err, &le) || le.Limit != 20 || le.Device != "d20" {
		t.Fatalf("21st: %v", err)
	}
	if got := a.Session("d20", t0.Add(time.Hour)); got.State != Off {
		t.Errorf("refused device has session %+v", got)
	}
	if _, err := a.Disable("d3", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Enable("d20", device.HTTP, t0.Add(time.Hour)); err != nil {
		t.Fatalf("after a disable: %v", err)
	}
	if _, err := a.Enable("d3", device.HTTP, t0.Add(time.Hour)); !errors.Is(err, ErrLimit) {
		t.Fatalf("re-enable at the limit: %v", err)
	}
	// d0 expires at exactly t0+7d: one nanosecond earlier there is no room.
	exp := t0.Add(7 * 24 * time.Hour)
	if _, err := a.Enable("d3", device.HTTP, exp.Add(-time.Nanosecond)); !errors.Is(err, ErrLimit) {
		t.Fatalf("1ns before d0 expires: %v", err)
	}
	if _, err := a.Enable("d3", device.HTTP, exp); err != nil {
		t.Fatalf("as d0 expires: %v", err)
	}
	if _, err := a.Enable("d21", device.HTTP, exp.Add(-time.Second)); !errors.Is(err, ErrTime) {
		t.Errorf("time going backwards: %v", err)
	}
}

func TestAccountCheckInHistoryWithoutLogging(t *testing.T) {
	// Check-in history is "independent of enabled or disabled logging".
	a, _ := NewAccount(DefaultPolicy())
	c := CheckIn{DeviceID: "d1", ClientType: ClientRovaClient, Result: "Success", TimeCompleted: t0}
	s, err := a.CheckIn(c, t0)
	if err != nil || s.State != Off {
		t.Fatalf("check-in: %+v, %v", s, err)
	}
	page, _, more := a.History("d1", Cursor{}, 10, t0)
	if !slices.Equal(page, []CheckIn{c}) || more {
		t.Errorf("history %v, more %v", page, more)
	}
	if _, err := a.CheckIn(CheckIn{DeviceID: "d1"}, t0); !errors.Is(err, ErrTime) {
		t.Errorf("check-in without time: %v", err)
	}
	if _, err := NewAccount(Policy{}); !errors.Is(err, ErrPolicy) {
		t.Errorf("zero policy: %v", err)
	}
}
