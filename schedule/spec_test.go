package schedule

import (
	"errors"
	"testing"
	"time"
)

func utc(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
}

func mustHTTP(t *testing.T, req HTTPRequest, now time.Time) *HTTP {
	t.Helper()
	h, err := NewHTTP(req, now, DefaultPolicy())
	if err != nil {
		t.Fatalf("NewHTTP(%+v): %v", req, err)
	}
	return h
}

// TestCampaignDates checks whole UTC days with an inclusive end date.
func TestCampaignDates(t *testing.T) {
	// "the start date could be on a Sunday at 12:00 AM UTC and the end date
	// could be on a Saturday at 11:59:59 PM UTC" (about-campaigns.txt)
	sunday, saturday := Date{2026, time.March, 1}, Date{2026, time.March, 7}
	if sunday.Start().Weekday() != time.Sunday || saturday.Start().Weekday() != time.Saturday {
		t.Fatal("test dates are not Sunday..Saturday")
	}
	h := mustHTTP(t, HTTPRequest{StartDate: sunday, EndDate: saturday}, utc(2026, 2, 27, 9, 0, 0))
	for _, c := range []struct {
		quote string
		at    time.Time
		open  bool
	}{
		{"start date ... Sunday at 12:00 AM UTC", utc(2026, 3, 1, 0, 0, 0), true},
		{"(the instant before the start date)", utc(2026, 3, 1, 0, 0, 0).Add(-time.Nanosecond), false},
		{"end date ... Saturday at 11:59:59 PM UTC", utc(2026, 3, 7, 23, 59, 59), true},
		{"(23:59:59.999999999 UTC is still the end date)", utc(2026, 3, 8, 0, 0, 0).Add(-time.Nanosecond), true},
		{"(Sunday after the end date)", utc(2026, 3, 8, 0, 0, 0), false},
	} {
		if got := h.Open(PhaseCampaign, c.at); got != c.open {
			t.Errorf("%s: Open(%v) = %v, want %v", c.quote, c.at, got, c.open)
		}
	}
	if !h.StartsAt().Equal(utc(2026, 3, 1, 0, 0, 0)) || !h.EndsAt().Equal(utc(2026, 3, 8, 0, 0, 0)) {
		t.Errorf("StartsAt %v EndsAt %v", h.StartsAt(), h.EndsAt())
	}
	if got := saturday.End().Add(-time.Nanosecond); got.Format("15:04:05.999999999") != "23:59:59.999999999" {
		t.Errorf("inclusive end %v", got)
	}
	if h.OnDemand() {
		t.Error("a campaign starting in two days is not on-demand")
	}
}

// TestWindowHourRule checks the V2TimeWindow wording at the edges.
func TestWindowHourRule(t *testing.T) {
	h := mustHTTP(t, HTTPRequest{
		StartDate: Date{2026, 3, 1}, EndDate: Date{2026, 3, 7},
		CampaignTimeWindowList: []Window{{StartTime: 2, EndTime: 4}},
	}, utc(2026, 3, 1, 0, 0, 0))
	for _, c := range []struct {
		quote string
		at    time.Time
		open  bool
	}{
		{"current hour >= startTime (hour 1 < 2)", utc(2026, 3, 2, 1, 59, 59), false},
		{"current hour >= startTime (hour 2 = 2)", utc(2026, 3, 2, 2, 0, 0), true},
		{"current hour < endTime (hour 3 < 4)", utc(2026, 3, 2, 3, 59, 59), true},
		{"current hour < endTime (hour 4 = 4)", utc(2026, 3, 2, 4, 0, 0), false},
	} {
		if got := h.Open(PhaseCampaign, c.at); got != c.open {
			t.Errorf("%s: Open(%v) = %v, want %v", c.quote, c.at, got, c.open)
		}
	}
	// "End hour in range [1..24]": 24 closes at midnight.
	h = mustHTTP(t, HTTPRequest{
		StartDate: Date{2026, 3, 1}, EndDate: Date{2026, 3, 7},
		CampaignTimeWindowList: []Window{{StartTime: 22, EndTime: 24}},
	}, utc(2026, 3, 1, 0, 0, 0))
	if c, _ := h.NextClose(PhaseCampaign, utc(2026, 3, 2, 22, 30, 0)); !c.Equal(utc(2026, 3, 3, 0, 0, 0)) {
		t.Errorf("endTime 24 closes at %v", c)
	}
}

// TestDownloadInstallPhases: separate windows and after-dates, inside the
// campaign's own windows.
func TestDownloadInstallPhases(t *testing.T) {
	// "If null, client will download as soon as possible" (§3.2).
	h := mustHTTP(t, HTTPRequest{
		StartDate: Date{2026, 3, 1}, EndDate: Date{2026, 3, 7},
		CampaignTimeWindowList: []Window{{8, 20}},
		DownloadTimeWindowList: []Window{{10, 12}},
		InstallAfterDate:       Date{2026, 3, 3},
		InstallTimeWindowList:  []Window{{18, 23}},
	}, utc(2026, 3, 1, 0, 0, 0))
	for _, c := range []struct {
		name string
		ph   Phase
		at   time.Time
		open bool
	}{
		{"download at once, in its window", PhaseDownload, utc(2026, 3, 1, 10, 0, 0), true},
		{"download outside its window", PhaseDownload, utc(2026, 3, 1, 12, 0, 0), false},
		{"install before installAfterDate", PhaseInstall, utc(2026, 3, 2, 18, 0, 0), false},
		{"install from installAfterDate 00:00 UTC", PhaseInstall, utc(2026, 3, 3, 18, 0, 0), true},
		{"install window beyond the campaign window", PhaseInstall, utc(2026, 3, 3, 20, 0, 0), false},
	} {
		if got := h.Open(c.ph, c.at); got != c.open {
			t.Errorf("%s: Open(%v, %v) = %v, want %v", c.name, c.ph, c.at, got, c.open)
		}
	}
	if o, _ := h.NextOpen(PhaseInstall, utc(2026, 3, 1, 0, 0, 0)); !o.Equal(utc(2026, 3, 3, 18, 0, 0)) {
		t.Errorf("install first opens %v", o)
	}
	if c, _ := h.NextClose(PhaseInstall, utc(2026, 3, 3, 18, 0, 0)); !c.Equal(utc(2026, 3, 3, 20, 0, 0)) {
		t.Errorf("install closes %v (campaign window ends at 20)", c)
	}
}

// TestOnDemandHTTP: start today is on-demand; an omitted end is start + 7.
func TestOnDemandHTTP(t *testing.T) {
	now := utc(2026, 3, 5, 15, 4, 5)
	// "For an on-demand campaign, the end date is one week after the start
	// date" (campaign-lifecycle-flow-for-v2).
	h := mustHTTP(t, HTTPRequest{StartDate: Date{2026, 3, 5}}, now)
	if !h.OnDemand() || h.Request().EndDate != (Date{2026, 3, 12}) || !h.EndsAt().Equal(utc(2026, 3, 13, 0, 0, 0)) {
		t.Errorf("on-demand: %v end %v ends %v", h.OnDemand(), h.Request().EndDate, h.EndsAt())
	}
	if !h.Open(PhaseCampaign, now) {
		t.Error("an on-demand campaign is open on the day it is scheduled")
	}
	// An explicit end date is kept.
	h = mustHTTP(t, HTTPRequest{StartDate: Date{2026, 3, 5}, EndDate: Date{2026, 3, 6}}, now)
	if h.Request().EndDate != (Date{2026, 3, 6}) {
		t.Errorf("explicit end replaced: %v", h.Request().EndDate)
	}
}

// TestNewHTTPErrors: every bad input is a *FieldError naming the field and
// the value, matching its sentinel; nothing is returned with it.
func TestNewHTTPErrors(t *testing.T) {
	now := utc(2026, 3, 5, 12, 0, 0)
	ok := HTTPRequest{StartDate: Date{2026, 3, 10}, EndDate: Date{2026, 3, 20}}
	with := func(f func(*HTTPRequest)) HTTPRequest { r := ok; f(&r); return r }
	for _, c := range []struct {
		quote string
		req   HTTPRequest
		err   error
		field string
		value string
	}{
		{"startDate required", with(func(r *HTTPRequest) { r.StartDate = Date{} }), ErrMissingDate, "startDate", ""},
		{"endDate required (future campaign)", with(func(r *HTTPRequest) { r.EndDate = Date{} }), ErrMissingDate, "endDate", ""},
		{"a future campaign whose start date has passed", with(func(r *HTTPRequest) { r.StartDate = Date{2026, 3, 4} }), ErrStartPassed, "startDate", "2026-03-04"},
		{"an end date before the start date", with(func(r *HTTPRequest) { r.EndDate = Date{2026, 3, 9} }), ErrEndBeforeStart, "endDate", "2026-03-09"},
		{"a malformed date", with(func(r *HTTPRequest) { r.EndDate = Date{2026, 2, 30} }), ErrBadDate, "endDate", "2026-02-30"},
		{"downloadAfterDate before the start", with(func(r *HTTPRequest) { r.DownloadAfterDate = Date{2026, 3, 9} }), ErrDateOutside, "downloadAfterDate", "2026-03-09"},
		{"installAfterDate after the end", with(func(r *HTTPRequest) { r.InstallAfterDate = Date{2026, 3, 21} }), ErrDateOutside, "installAfterDate", "2026-03-21"},
		{"Start hour in range [0..23]", with(func(r *HTTPRequest) { r.DownloadTimeWindowList = []Window{{1, 2}, {24, 24}} }), ErrBadWindow, "downloadTimeWindowList[1].startTime", "24"},
		{"Start hour in range [0..23] (negative)", with(func(r *HTTPRequest) { r.CampaignTimeWindowList = []Window{{-1, 2}} }), ErrBadWindow, "campaignTimeWindowList[0].startTime", "-1"},
		{"End hour in range [1..24]", with(func(r *HTTPRequest) { r.InstallTimeWindowList = []Window{{0, 25}} }), ErrBadWindow, "installTimeWindowList[0].endTime", "25"},
		{"End hour in range [1..24] (zero)", with(func(r *HTTPRequest) { r.InstallTimeWindowList = []Window{{0, 0}} }), ErrBadWindow, "installTimeWindowList[0].endTime", "0"},
		{"startTime >= endTime", with(func(r *HTTPRequest) { r.CampaignTimeWindowList = []Window{{5, 5}} }), ErrBadWindow, "campaignTimeWindowList[0]", `{"startTime":5,"endTime":5}`},
		{"an unknown time zone", with(func(r *HTTPRequest) { r.TimeZone = "Mars/Olympus_Mons" }), ErrBadZone, "timeZone", "Mars/Olympus_Mons"},
		{"the host's zone", with(func(r *HTTPRequest) { r.TimeZone = "Local" }), ErrBadZone, "timeZone", "Local"},
	} {
		h, err := NewHTTP(c.req, now, DefaultPolicy())
		var fe *FieldError
		if h != nil || !errors.Is(err, c.err) || !errors.As(err, &fe) || fe.Field != c.field || fe.Value != c.value {
			t.Errorf("%s: got %v, %v; want %v on %s %q", c.quote, h, err, c.err, c.field, c.value)
		}
	}
	bad := DefaultPolicy()
	bad.RetryHour = 24
	if _, err := NewHTTP(ok, now, bad); !errors.Is(err, ErrBadPolicy) {
		t.Errorf("bad policy: %v", err)
	}
}

// TestRequestIsACopy: the compiled campaign owns its windows.
func TestRequestIsACopy(t *testing.T) {
	ws := []Window{{2, 4}}
	h := mustHTTP(t, HTTPRequest{StartDate: Date{2026, 3, 5}, CampaignTimeWindowList: ws}, utc(2026, 3, 5, 0, 0, 0))
	ws[0] = Window{0, 24}
	r := h.Request()
	r.CampaignTimeWindowList[0] = Window{0, 24}
	if h.Open(PhaseCampaign, utc(2026, 3, 5, 5, 0, 0)) || h.Request().CampaignTimeWindowList[0] != (Window{2, 4}) {
		t.Error("caller's slices alias the campaign")
	}
}

type interval struct{ from, to time.Time }

// openings lists the campaign's open stretches via NextOpen/NextClose.
func openings(t *testing.T, h *HTTP, ph Phase) []interval {
	var out []interval
	for at := h.StartsAt(); len(out) < 100; {
		o, ok := h.NextOpen(ph, at)
		if !ok {
			return out
		}
		c, ok := h.NextClose(ph, o)
		if !ok || !c.After(o) {
			t.Fatalf("open at %v but NextClose %v %v", o, c, ok)
		}
		out = append(out, interval{o, c})
		at = c
	}
	t.Fatalf("more than 100 openings: %v", out[:3])
	return nil
}

// TestDaylightSaving: windows are wall-clock hours in the campaign's zone.
// An hour skipped by a clock change is skipped (Lord Howe skips only half
// an hour, so the other half of hour 2 stays open); a repeated hour is open
// for both occurrences, which are adjacent, so the window opens once and
// stays open longer.
func TestDaylightSaving(t *testing.T) {
	z := func(y int, m time.Month, d, hh, mm int) time.Time { return utc(y, m, d, hh, mm, 0) }
	for _, c := range []struct {
		name       string
		zone       string
		start, end Date
		window     Window
		want       []interval
	}{
		{"New York spring forward: 02:00 EST -> 03:00 EDT, hour 2 skipped", "America/New_York",
			Date{2026, 3, 7}, Date{2026, 3, 9}, Window{2, 3}, []interval{
				{z(2026, 3, 7, 7, 0), z(2026, 3, 7, 8, 0)},
				{z(2026, 3, 9, 6, 0), z(2026, 3, 9, 7, 0)},
			}},
		{"New York spring forward, window across the gap", "America/New_York",
			Date{2026, 3, 8}, Date{2026, 3, 8}, Window{1, 4}, []interval{
				{z(2026, 3, 8, 6, 0), z(2026, 3, 8, 8, 0)}, // 01:00 EST .. 04:00 EDT: two real hours
			}},
		{"New York fall back: hour 1 repeated, open once for two hours", "America/New_York",
			Date{2026, 10, 31}, Date{2026, 11, 1}, Window{1, 2}, []interval{
				{z(2026, 10, 31, 5, 0), z(2026, 10, 31, 6, 0)},
				{z(2026, 11, 1, 5, 0), z(2026, 11, 1, 7, 0)},
			}},
		{"Berlin spring forward: 02:00 CET -> 03:00 CEST, hour 2 skipped", "Europe/Berlin",
			Date{2026, 3, 28}, Date{2026, 3, 30}, Window{2, 3}, []interval{
				{z(2026, 3, 28, 1, 0), z(2026, 3, 28, 2, 0)},
				{z(2026, 3, 30, 0, 0), z(2026, 3, 30, 1, 0)},
			}},
		{"Berlin fall back: hour 2 repeated", "Europe/Berlin",
			Date{2026, 10, 24}, Date{2026, 10, 25}, Window{2, 3}, []interval{
				{z(2026, 10, 24, 0, 0), z(2026, 10, 24, 1, 0)},
				{z(2026, 10, 25, 0, 0), z(2026, 10, 25, 2, 0)},
			}},
		{"Lord Howe spring forward: 02:00 +10:30 -> 02:30 +11, half of hour 2 skipped", "Australia/Lord_Howe",
			Date{2026, 10, 2}, Date{2026, 10, 4}, Window{2, 3}, []interval{
				{z(2026, 10, 2, 15, 30), z(2026, 10, 2, 16, 30)},
				{z(2026, 10, 3, 15, 30), z(2026, 10, 3, 16, 0)},
				{z(2026, 10, 4, 15, 0), z(2026, 10, 4, 16, 0)},
			}},
		{"Lord Howe fall back: 02:00 +11 -> 01:30 +10:30, half of hour 1 repeated", "Australia/Lord_Howe",
			Date{2026, 4, 3}, Date{2026, 4, 5}, Window{1, 2}, []interval{
				{z(2026, 4, 3, 14, 0), z(2026, 4, 3, 15, 0)},
				{z(2026, 4, 4, 14, 0), z(2026, 4, 4, 15, 30)},
				{z(2026, 4, 5, 14, 30), z(2026, 4, 5, 15, 30)},
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := mustHTTP(t, HTTPRequest{StartDate: c.start, EndDate: c.end,
				CampaignTimeWindowList: []Window{c.window}, TimeZone: c.zone}, c.start.Start().Add(-time.Hour))
			got := openings(t, h, PhaseCampaign)
			if len(got) != len(c.want) {
				t.Fatalf("openings %v, want %v", got, c.want)
			}
			for i := range got {
				if !got[i].from.Equal(c.want[i].from) || !got[i].to.Equal(c.want[i].to) {
					t.Errorf("opening %d: %v, want %v", i, got[i], c.want[i])
				}
			}
		})
	}
}
