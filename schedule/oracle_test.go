package schedule

import (
	"slices"
	"time"
	_ "time/tzdata" // hermetic zone data: tests do not depend on the host's

	"pgregory.net/rapid"
)

// The test oracle: the hour rule computed independently of the compiled
// masks and offset tables, straight from the request, with time.Location.

var testZones = []string{"", "UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "Asia/Kolkata"}

func mustZone(t interface {
	Helper()
	Fatal(...any)
}, name string) *time.Location {
	t.Helper()
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// inList: "current hour >= startTime", "current hour < endTime", for any
// window of the list; an empty list is all hours.
func inList(ws []Window, hour int) bool {
	if len(ws) == 0 {
		return true
	}
	for _, w := range ws {
		if hour >= w.StartTime && hour < w.EndTime {
			return true
		}
	}
	return false
}

// oracleOpen decides Open from the normalised request alone.
func oracleOpen(r HTTPRequest, loc *time.Location, ph Phase, t time.Time) bool {
	if t.Before(r.StartDate.Start()) || !t.Before(r.EndDate.End()) {
		return false
	}
	hour := t.In(loc).Hour()
	if !inList(r.CampaignTimeWindowList, hour) {
		return false
	}
	switch ph {
	case PhaseDownload:
		return (r.DownloadAfterDate.IsZero() || !t.Before(r.DownloadAfterDate.Start())) &&
			inList(r.DownloadTimeWindowList, hour)
	case PhaseInstall:
		return (r.InstallAfterDate.IsZero() || !t.Before(r.InstallAfterDate.Start())) &&
			inList(r.InstallTimeWindowList, hour)
	}
	return true
}

// quarter: every UTC offset of the test zones in the test years is a
// multiple of 15 minutes, so every opening and closing instant lies on this
// UTC grid (or is t itself). The naive scans step along it.
const quarter = 15 * time.Minute

// naiveNext scans forward for the first instant >= t where Open == want.
func naiveNext(r HTTPRequest, loc *time.Location, ph Phase, t time.Time, want bool) (time.Time, bool) {
	end := r.EndDate.End()
	for c := t; c.Before(end); c = c.Truncate(quarter).Add(quarter) {
		if oracleOpen(r, loc, ph, c) == want {
			return c, true
		}
	}
	return time.Time{}, false
}

// Generators.

func genWindow(t *rapid.T, label string) Window {
	s := rapid.IntRange(0, 23).Draw(t, label+".start")
	e := rapid.IntRange(s+1, 24).Draw(t, label+".end")
	return Window{StartTime: s, EndTime: e}
}

func genList(t *rapid.T, label string, maxLen int) []Window {
	n := rapid.IntRange(0, maxLen).Draw(t, label+".len")
	var ws []Window
	for i := range n {
		ws = append(ws, genWindow(t, label+"["+string(rune('0'+i))+"]"))
	}
	return ws
}

// transitions are, per test zone, the instants in 2025..2028 where it
// changes offset, so that generated campaigns often straddle one.
var transitions = func() map[string][]time.Time {
	m := map[string][]time.Time{}
	for _, name := range testZones {
		loc, _ := time.LoadLocation(name)
		for t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC); t.Year() < 2029; {
			_, end := t.In(loc).ZoneBounds()
			if end.IsZero() {
				break
			}
			m[name] = append(m[name], end)
			t = end
		}
	}
	return m
}()

// genNow is a scheduling instant: anywhere in 2025..2035, or up to four
// days before one of zone's transitions.
func genNow(t *rapid.T, zone string) time.Time {
	if trs := transitions[zone]; len(trs) > 0 && rapid.IntRange(0, 3).Draw(t, "nearTransition") > 0 {
		tr := rapid.SampledFrom(trs).Draw(t, "transition")
		return tr.Add(-time.Duration(rapid.Int64Range(0, 4*24*3600).Draw(t, "before")) * time.Second)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return base.Add(time.Duration(rapid.Int64Range(0, 10*365*24*3600).Draw(t, "now")) * time.Second)
}

// genRequest is a valid request in zone scheduled at now (start today or
// within three days; at most ten days long).
func genRequest(t *rapid.T, now time.Time, zone string) HTTPRequest {
	start := DateOf(now).AddDays(rapid.IntRange(0, 3).Draw(t, "startIn"))
	end := start.AddDays(rapid.IntRange(0, 10).Draw(t, "days"))
	after := func(label string) Date {
		if rapid.Bool().Draw(t, label+"Absent") {
			return Date{}
		}
		n := int(end.Start().Sub(start.Start()) / (24 * time.Hour))
		return start.AddDays(rapid.IntRange(0, n).Draw(t, label))
	}
	return HTTPRequest{
		StartDate:              start,
		EndDate:                end,
		CampaignTimeWindowList: genList(t, "campaign", 3),
		DownloadAfterDate:      after("downloadAfter"),
		DownloadTimeWindowList: genList(t, "download", 3),
		InstallAfterDate:       after("installAfter"),
		InstallTimeWindowList:  genList(t, "install", 3),
		TimeZone:               zone,
	}
}

// genInstant is a query time around the campaign: from a day before its
// start to a day after its end, at second (or, sometimes, nanosecond)
// resolution, often on a quarter-hour boundary.
func genInstant(t *rapid.T, h *HTTP, label string) time.Time {
	from := h.StartsAt().Add(-24 * time.Hour)
	span := h.EndsAt().Add(24 * time.Hour).Sub(from)
	// Often within three hours of the zone's first transition in the campaign.
	trs := transitions[h.Request().TimeZone]
	if i, _ := slices.BinarySearchFunc(trs, h.StartsAt(), time.Time.Compare); i < len(trs) && trs[i].Before(h.EndsAt()) &&
		rapid.IntRange(0, 3).Draw(t, label+".nearTransition") > 0 {
		from, span = trs[i].Add(-3*time.Hour), 6*time.Hour
	}
	at := from.Add(time.Duration(rapid.Int64Range(0, int64(span/time.Second)).Draw(t, label)) * time.Second)
	switch rapid.IntRange(0, 2).Draw(t, label+".kind") {
	case 0:
		at = at.Truncate(quarter)
	case 1:
		at = at.Add(time.Duration(rapid.Int64Range(0, int64(time.Second)-1).Draw(t, label+".ns")))
	}
	return at
}

// genPhase draws one of the three phases.
func genPhase(t *rapid.T) Phase {
	return Phase(rapid.IntRange(0, int(numPhases)-1).Draw(t, "phase"))
}

func genHTTP(t *rapid.T) (*HTTP, HTTPRequest, *time.Location) {
	zone := rapid.SampledFrom(testZones).Draw(t, "zone")
	now := genNow(t, zone)
	req := genRequest(t, now, zone)
	h, err := NewHTTP(req, now, DefaultPolicy())
	if err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	if !slices.Equal(h.Request().CampaignTimeWindowList, req.CampaignTimeWindowList) {
		t.Fatalf("Request() lost windows")
	}
	return h, h.Request(), mustZone(t, req.TimeZone)
}
