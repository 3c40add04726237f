package schedule

import (
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestNewPush(t *testing.T) {
	now := utc(2026, 3, 5, 13, 20, 0)
	// "On-demand updates usually occur within two hours once they are
	// scheduled, to allow all the pre-validation checks to occur."
	p, err := NewPush(Date{2026, 3, 5}, now, DefaultPolicy())
	if err != nil || !p.OnDemand() || !p.StartsAt().Equal(now.Add(2*time.Hour)) {
		t.Errorf("on-demand: %v %v", p, err)
	}
	// "Updates in the future normally begin around 12:00 AM UTC."
	p, err = NewPush(Date{2026, 3, 6}, now, DefaultPolicy())
	if err != nil || p.OnDemand() || !p.StartsAt().Equal(utc(2026, 3, 6, 0, 0, 0)) {
		t.Errorf("future: %v %v", p, err)
	}
	for _, c := range []struct {
		start Date
		err   error
	}{
		{Date{2026, 3, 4}, ErrStartPassed},
		{Date{}, ErrMissingDate},
		{Date{2026, 2, 29}, ErrBadDate},
	} {
		p, err := NewPush(c.start, now, DefaultPolicy())
		var fe *FieldError
		if p != nil || !errors.Is(err, c.err) || !errors.As(err, &fe) || fe.Field != "startDate" {
			t.Errorf("NewPush(%v): %v %v, want %v", c.start, p, err, c.err)
		}
	}
}

func TestPushChange(t *testing.T) {
	now := utc(2026, 3, 5, 13, 0, 0)
	p, _ := NewPush(Date{2026, 3, 8}, now, DefaultPolicy())
	q, err := p.Change(Date{2026, 3, 10}, now.Add(time.Hour))
	if err != nil || !q.StartsAt().Equal(utc(2026, 3, 10, 0, 0, 0)) || !p.StartsAt().Equal(utc(2026, 3, 8, 0, 0, 0)) {
		t.Errorf("before the start: %v %v (receiver %v)", q, err, p.StartsAt())
	}
	if _, err := p.Change(Date{2026, 3, 10}, utc(2026, 3, 8, 0, 0, 0)); !errors.Is(err, ErrStartFixed) {
		t.Errorf("after the start: %v", err)
	}
	if q, err := p.Change(Date{2026, 3, 8}, utc(2026, 3, 9, 0, 0, 0)); err != nil || q != p {
		t.Errorf("unchanged after the start: %v %v", q, err)
	}
}

// TestAttemptPlanSpec: "if the device does not respond, the system tries
// again around 4:00 AM UTC, and repeats this for up to 3 days".
func TestAttemptPlanSpec(t *testing.T) {
	p := DefaultPolicy()
	first := utc(2026, 3, 6, 0, 0, 0) // a future campaign, 12:00 AM UTC
	want := []time.Time{first, utc(2026, 3, 6, 4, 0, 0), utc(2026, 3, 7, 4, 0, 0), utc(2026, 3, 8, 4, 0, 0)}
	for n, w := range want {
		if got, ok := p.Attempt(first, n); !ok || !got.Equal(w) {
			t.Errorf("attempt %d = %v %v, want %v", n, got, ok, w)
		}
	}
	if got, ok := p.Attempt(first, 4); ok {
		t.Errorf("attempt 4 = %v: more than 3 days of retries", got)
	}
	if g := p.GiveUpAt(first); !g.Equal(utc(2026, 3, 9, 4, 0, 0)) {
		t.Errorf("GiveUpAt = %v", g)
	}
	// On-demand at 04:00:00 exactly: the retry is strictly later.
	if got, _ := p.Attempt(utc(2026, 3, 6, 4, 0, 0), 1); !got.Equal(utc(2026, 3, 7, 4, 0, 0)) {
		t.Errorf("retry after a 04:00 start = %v", got)
	}
}

// TestAttemptPlan: attempts are strictly increasing, retries sit at
// RetryHour:00 UTC on consecutive days, and the plan never exceeds
// RetryDays.
func TestAttemptPlan(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := DefaultPolicy()
		p.RetryHour = rapid.IntRange(0, 23).Draw(t, "retryHour")
		p.RetryDays = rapid.IntRange(0, 10).Draw(t, "retryDays")
		p.ResponseWait = time.Duration(rapid.Int64Range(0, int64(72*time.Hour)).Draw(t, "wait"))
		loc := mustZone(t, rapid.SampledFrom(testZones).Draw(t, "zone")) // first may carry any zone
		first := time.Unix(rapid.Int64Range(1e9, 3e9).Draw(t, "first"), rapid.Int64Range(0, 999999999).Draw(t, "ns")).In(loc)
		prev := first
		for n := 0; ; n++ {
			at, ok := p.Attempt(first, n)
			if !ok {
				if n != p.RetryDays+1 {
					t.Fatalf("plan stopped at %d, RetryDays %d", n, p.RetryDays)
				}
				break
			}
			if n > p.RetryDays {
				t.Fatalf("attempt %d beyond RetryDays %d", n, p.RetryDays)
			}
			switch {
			case n == 0 && !at.Equal(first):
				t.Fatalf("attempt 0 = %v, not first %v", at, first)
			case n > 0 && !at.After(prev):
				t.Fatalf("attempt %d = %v not after %v", n, at, prev)
			case n > 0 && (at.UTC().Hour() != p.RetryHour || at.UTC().Minute() != 0 || at.UTC().Second() != 0 || at.Nanosecond() != 0):
				t.Fatalf("attempt %d = %v not at %02d:00 UTC", n, at.UTC(), p.RetryHour)
			case n == 1 && at.Sub(first) > 24*time.Hour:
				t.Fatalf("first retry %v more than a day after %v", at, first)
			case n > 1 && at.Sub(prev) != 24*time.Hour:
				t.Fatalf("retries %v and %v not a day apart", prev, at)
			}
			prev = at
		}
		if g := p.GiveUpAt(first); !g.Equal(prev.Add(p.ResponseWait)) {
			t.Fatalf("GiveUpAt %v, last attempt %v", g, prev)
		}
		if _, ok := p.Attempt(first, -1); ok {
			t.Fatal("attempt -1")
		}
	})
}

// TestAttemptAtNextAttempt: AttemptAt and NextAttempt find what a loop
// over Attempt finds, for instants around the plan's retries.
func TestAttemptAtNextAttempt(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := DefaultPolicy()
		p.RetryHour = rapid.IntRange(0, 23).Draw(t, "retryHour")
		p.RetryDays = rapid.IntRange(0, 6).Draw(t, "retryDays")
		loc := mustZone(t, rapid.SampledFrom(testZones).Draw(t, "zone"))
		first := time.Unix(rapid.Int64Range(1e9, 3e9).Draw(t, "first"), rapid.Int64Range(0, 999999999).Draw(t, "ns")).In(loc)
		// Near a retry (exactly on it, just before, just after) or anywhere
		// in the plan's days.
		var now time.Time
		if n := rapid.IntRange(0, p.RetryDays+1).Draw(t, "near"); n >= 1 && n <= p.RetryDays {
			at, _ := p.Attempt(first, n)
			now = at.Add(time.Duration(rapid.SampledFrom([]int64{0, -1, 1}).Draw(t, "off")))
		} else {
			now = first.Add(time.Duration(rapid.Int64Range(-int64(48*time.Hour), int64(24*time.Hour)*int64(p.RetryDays+2)).Draw(t, "delta")))
		}
		wantAt, wantNext, wantOK := 0, time.Time{}, false
		for n := 1; n <= p.RetryDays; n++ {
			at, _ := p.Attempt(first, n)
			if !at.After(now) {
				wantAt = n
			} else if !wantOK {
				wantNext, wantOK = at, true
			}
		}
		if got := p.Retries(first).AttemptAt(now); got != wantAt {
			t.Fatalf("AttemptAt(%v, %v) = %d, want %d", first, now, got, wantAt)
		}
		if got, ok := p.Retries(first).NextAttempt(now); ok != wantOK || !got.Equal(wantNext) {
			t.Fatalf("NextAttempt(%v, %v) = %v %v, want %v %v", first, now, got, ok, wantNext, wantOK)
		}
	})
	bad := DefaultPolicy()
	bad.RetryHour = 24
	first := utc(2026, 3, 6, 0, 0, 0)
	if n := bad.Retries(first).AttemptAt(first.Add(72 * time.Hour)); n != 0 {
		t.Errorf("an invalid policy's AttemptAt = %d", n)
	}
	if at, ok := bad.Retries(first).NextAttempt(first); ok {
		t.Errorf("an invalid policy's NextAttempt = %v", at)
	}
}

func TestAttemptBadPolicy(t *testing.T) {
	p := DefaultPolicy()
	p.RetryHour = -1
	first := utc(2026, 3, 6, 0, 0, 0)
	if _, ok := p.Attempt(first, 0); ok {
		t.Error("an invalid policy plans attempts")
	}
	if g := p.GiveUpAt(first); !g.Equal(first) {
		t.Errorf("GiveUpAt with invalid policy %v", g)
	}
}

// TestOMADMNotifyAt: "If the device is off, it is notified when it next
// connects (e.g. 3:00 AM UTC)" (§5.2).
func TestOMADMNotifyAt(t *testing.T) {
	start := utc(2026, 3, 6, 0, 0, 0)
	for _, c := range []struct {
		name      string
		connected time.Time
		want      time.Time
	}{
		{"off at the start, connects at 3:00 AM UTC", utc(2026, 3, 6, 3, 0, 0), utc(2026, 3, 6, 3, 0, 0)},
		{"connected before the start", utc(2026, 3, 5, 22, 0, 0), start},
		{"connects at the start", start, start},
	} {
		if got := OMADMNotifyAt(start, c.connected); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func(*Policy){
		func(p *Policy) { p.PreValidation = -1 },
		func(p *Policy) { p.OnDemandDays = -1 },
		func(p *Policy) { p.RetryHour = 24 },
		func(p *Policy) { p.RetryDays = -1 },
		func(p *Policy) { p.ChangeFloor = -1 },
		func(p *Policy) { p.ResponseWait = -1 },
	} {
		p := DefaultPolicy()
		f(&p)
		var fe *FieldError
		if err := p.Validate(); !errors.Is(err, ErrBadPolicy) || !errors.As(err, &fe) || fe.Field == "" {
			t.Errorf("%+v: %v", p, err)
		}
	}
}
