package schedule

import (
	"testing"
	"time"
)

// benchRequest has 24 windows: twelve one-hour campaign windows (06..18)
// and twelve one-hour download windows (12..24), so download is open
// 12..18 and most queries must search.
func benchRequest(zone string) HTTPRequest {
	r := HTTPRequest{StartDate: Date{2026, 3, 1}, EndDate: Date{2026, 3, 31}, TimeZone: zone}
	for h := range 12 {
		r.CampaignTimeWindowList = append(r.CampaignTimeWindowList, Window{6 + h, 7 + h})
		r.DownloadTimeWindowList = append(r.DownloadTimeWindowList, Window{12 + h, 13 + h})
	}
	return r
}

// benchTimes spread over the campaign (which spans New York's March
// clock change), at odd seconds.
func benchTimes() []time.Time {
	ts := make([]time.Time, 1024)
	for i := range ts {
		ts[i] = utc(2026, 3, 1, 0, 0, 0).Add(time.Duration(i)*43*time.Minute + 17*time.Second)
	}
	return ts
}

// naiveHourly is the baseline: check the hour rule at t, then at every
// whole hour after it (exact for zones with whole-hour offsets).
func naiveHourly(r HTTPRequest, loc *time.Location, ph Phase, t time.Time, want bool) (time.Time, bool) {
	end := r.EndDate.End()
	for c := t; c.Before(end); c = c.Truncate(time.Hour).Add(time.Hour) {
		if oracleOpen(r, loc, ph, c) == want {
			return c, true
		}
	}
	return time.Time{}, false
}

var (
	sinkTime time.Time
	sinkBool bool
)

func BenchmarkNextOpen(b *testing.B) {
	for _, zone := range []string{"UTC", "America/New_York"} {
		req := benchRequest(zone)
		loc := mustZone(b, zone)
		h, err := NewHTTP(req, utc(2026, 3, 1, 0, 0, 0), DefaultPolicy())
		if err != nil {
			b.Fatal(err)
		}
		ts := benchTimes()
		for i, at := range ts { // the baseline must agree before it is timed
			got, _ := h.NextOpen(PhaseDownload, at)
			if want, _ := naiveHourly(req, loc, PhaseDownload, at, true); !got.Equal(want) {
				b.Fatalf("%d: %v vs naive %v", i, got, want)
			}
		}
		b.Run("compiled/"+zone, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				sinkTime, sinkBool = h.NextOpen(PhaseDownload, ts[i%len(ts)])
			}
		})
		b.Run("naive-hourly/"+zone, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				sinkTime, sinkBool = naiveHourly(req, loc, PhaseDownload, ts[i%len(ts)], true)
			}
		})
	}
}

func BenchmarkNextClose(b *testing.B) {
	req := benchRequest("America/New_York")
	loc := mustZone(b, req.TimeZone)
	h, _ := NewHTTP(req, utc(2026, 3, 1, 0, 0, 0), DefaultPolicy())
	var ts []time.Time // open instants only
	for _, at := range benchTimes() {
		if h.Open(PhaseCampaign, at) {
			ts = append(ts, at)
		}
	}
	b.Run("compiled", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sinkTime, sinkBool = h.NextClose(PhaseCampaign, ts[i%len(ts)])
		}
	})
	b.Run("naive-hourly", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sinkTime, sinkBool = naiveHourly(req, loc, PhaseCampaign, ts[i%len(ts)], false)
		}
	})
}

func BenchmarkOpen(b *testing.B) {
	req := benchRequest("America/New_York")
	loc := mustZone(b, req.TimeZone)
	h, _ := NewHTTP(req, utc(2026, 3, 1, 0, 0, 0), DefaultPolicy())
	ts := benchTimes()
	b.Run("compiled", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sinkBool = h.Open(PhaseDownload, ts[i%len(ts)])
		}
	})
	b.Run("naive", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sinkBool = oracleOpen(req, loc, PhaseDownload, ts[i%len(ts)])
		}
	})
}
