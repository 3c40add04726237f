package schedule

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Open agrees with the hour rule computed independently: convert t to the
// zone, take the hour, check each list, check the dates.
func TestOpenMatchesHourRule(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h, req, loc := genHTTP(t)
		for i := range 16 {
			at := genInstant(t, h, "t"+string(rune('a'+i)))
			for ph := range numPhases {
				if got, want := h.Open(ph, at), oracleOpen(req, loc, ph, at); got != want {
					t.Fatalf("Open(%v, %v [%v]) = %v, want %v; req %+v", ph, at, at.In(loc), got, want, req)
				}
			}
		}
	})
}

// NextOpen(t) >= t, is open, and is the first open instant (by a naive
// scan of every quarter hour); false exactly when the scan finds nothing.
func TestNextOpen(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h, req, loc := genHTTP(t)
		ph := genPhase(t)
		at := genInstant(t, h, "t")
		got, ok := h.NextOpen(ph, at)
		want, wantOK := naiveNext(req, loc, ph, at, true)
		if ok != wantOK || !got.Equal(want) {
			t.Fatalf("NextOpen(%v, %v) = %v %v, want %v %v", ph, at, got, ok, want, wantOK)
		}
		if !ok {
			return
		}
		if got.Before(at) || !h.Open(ph, got) {
			t.Fatalf("NextOpen(%v, %v) = %v: before t or not open", ph, at, got)
		}
		if h.Open(ph, at) && !got.Equal(at) {
			t.Fatalf("open at %v but NextOpen = %v", at, got)
		}
	})
}

// When open, NextClose(t) > t, everything sampled in between is open, and
// NextClose is closed or is EndsAt; it is the first closed instant.
func TestNextClose(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h, req, loc := genHTTP(t)
		ph := genPhase(t)
		at := genInstant(t, h, "t")
		got, ok := h.NextClose(ph, at)
		if !h.Open(ph, at) {
			if ok {
				t.Fatalf("closed at %v but NextClose = %v", at, got)
			}
			return
		}
		if !ok || !got.After(at) || got.After(h.EndsAt()) {
			t.Fatalf("NextClose(%v, %v) = %v %v", ph, at, got, ok)
		}
		if h.Open(ph, got) {
			t.Fatalf("NextClose(%v, %v) = %v is open", ph, at, got)
		}
		if want, found := naiveNext(req, loc, ph, at, false); found && !got.Equal(want) || !found && !got.Equal(h.EndsAt()) {
			t.Fatalf("NextClose(%v, %v) = %v, naive %v %v", ph, at, got, want, found)
		}
		span := got.Sub(at)
		for i := range 8 {
			s := at.Add(time.Duration(rapid.Int64Range(0, int64(span)-1).Draw(t, "sample"+string(rune('0'+i)))))
			if !h.Open(ph, s) {
				t.Fatalf("closed at %v, between %v and NextClose %v", s, at, got)
			}
		}
		if !h.Open(ph, got.Add(-time.Nanosecond)) {
			t.Fatalf("closed just before NextClose %v", got)
		}
	})
}

// Several windows in one list form their union: Open with A∪B is Open with
// A or Open with B (for the hour part, so both lists must be non-empty:
// an empty list means all hours).
func TestWindowsUnion(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		zone := rapid.SampledFrom(testZones).Draw(t, "zone")
		now := genNow(t, zone)
		req := genRequest(t, now, zone)
		a := append(genList(t, "A", 4), genWindow(t, "a"))
		b := append(genList(t, "B", 4), genWindow(t, "b"))
		compile := func(ws []Window) *HTTP {
			r := req
			r.CampaignTimeWindowList = ws
			h, err := NewHTTP(r, now, DefaultPolicy())
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		ha, hb, hab := compile(a), compile(b), compile(append(append([]Window{}, a...), b...))
		for i := range 16 {
			at := genInstant(t, hab, "t"+string(rune('a'+i)))
			if hab.Open(PhaseCampaign, at) != (ha.Open(PhaseCampaign, at) || hb.Open(PhaseCampaign, at)) {
				t.Fatalf("union broken at %v: A %v B %v", at, a, b)
			}
		}
	})
}

// Queries never open outside [StartsAt, EndsAt), and download/install are
// never open when the campaign is closed.
func TestPhasesInsideCampaign(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h, _, _ := genHTTP(t)
		at := genInstant(t, h, "t")
		for _, ph := range []Phase{PhaseDownload, PhaseInstall} {
			if h.Open(ph, at) && !h.Open(PhaseCampaign, at) {
				t.Fatalf("%v open at %v while the campaign is closed", ph, at)
			}
		}
		if h.Open(PhaseCampaign, at) && (at.Before(h.StartsAt()) || !at.Before(h.EndsAt())) {
			t.Fatalf("open at %v outside [%v, %v)", at, h.StartsAt(), h.EndsAt())
		}
	})
}

func TestUnknownPhase(t *testing.T) {
	h, err := NewHTTP(HTTPRequest{StartDate: Date{2026, 3, 1}, EndDate: Date{2026, 3, 7}}, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	if h.Open(numPhases, at) {
		t.Error("unknown phase open")
	}
	if _, ok := h.NextOpen(numPhases, at); ok {
		t.Error("unknown phase opens")
	}
	if _, ok := h.NextClose(numPhases, at); ok {
		t.Error("unknown phase closes")
	}
	if s := numPhases.String(); s != "Phase(3)" {
		t.Errorf("String = %q", s)
	}
}

// Queries allocate nothing (checked by count, not by time).
func TestQueriesAllocationFree(t *testing.T) {
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	h, err := NewHTTP(HTTPRequest{
		StartDate: Date{2026, 3, 5}, EndDate: Date{2026, 3, 12},
		CampaignTimeWindowList: []Window{{1, 3}, {5, 6}},
		DownloadTimeWindowList: []Window{{2, 3}},
		TimeZone:               "America/New_York",
	}, now, DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		_ = h.Open(PhaseDownload, now)
		o, _ := h.NextOpen(PhaseDownload, now)
		_, _ = h.NextClose(PhaseDownload, o)
	})
	if allocs != 0 {
		t.Fatalf("queries allocate %v times", allocs)
	}
}

// TestLongCampaign: campaigns of up to four years cross many clock
// changes, so the offset table has many segments; queries still agree with
// the hour rule and the naive scan.
func TestLongCampaign(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		zone := rapid.SampledFrom(testZones[2:5]).Draw(t, "zone") // New York, Berlin, Lord Howe
		loc := mustZone(t, zone)
		now := genNow(t, "")
		start := DateOf(now)
		req := HTTPRequest{
			StartDate:              start,
			EndDate:                start.AddDays(rapid.IntRange(0, 1500).Draw(t, "days")),
			CampaignTimeWindowList: append(genList(t, "campaign", 2), genWindow(t, "w")),
			TimeZone:               zone,
		}
		h, err := NewHTTP(req, now, DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		span := h.EndsAt().Sub(h.StartsAt())
		for i := range 8 {
			at := h.StartsAt().Add(time.Duration(rapid.Int64Range(0, int64(span/time.Second)).Draw(t, "t"+string(rune('a'+i)))) * time.Second)
			if h.Open(PhaseCampaign, at) != oracleOpen(req, loc, PhaseCampaign, at) {
				t.Fatalf("Open(%v) disagrees", at)
			}
			got, ok := h.NextOpen(PhaseCampaign, at)
			want, wantOK := naiveNext(req, loc, PhaseCampaign, at, true)
			if ok != wantOK || !got.Equal(want) {
				t.Fatalf("NextOpen(%v) = %v %v, naive %v %v", at, got, ok, want, wantOK)
			}
			if !ok {
				continue
			}
			c, _ := h.NextClose(PhaseCampaign, got)
			want, found := naiveNext(req, loc, PhaseCampaign, got, false)
			if !found {
				want = h.EndsAt()
			}
			if !c.Equal(want) {
				t.Fatalf("NextClose(%v) = %v, naive %v", got, c, want)
			}
		}
	})
}
