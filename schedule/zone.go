package schedule

import (
	"math"
	"time"
)

// segment is a stretch of time over which the zone's UTC offset is
// constant: from (Unix seconds) until the next segment's from.
type segment struct {
	from int64 // Unix seconds; the first segment starts at math.MinInt64
	off  int64 // seconds east of UTC
}

// utcSegments is the single segment of UTC (shared, never written).
var utcSegments = []segment{{from: math.MinInt64, off: 0}}

// loadZone loads an IANA zone name once, at compile time. "" is UTC.
// "Local" is refused: it would make a campaign's windows depend on the
// machine that runs it.
func loadZone(name string) (*time.Location, error) {
	switch name {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		return nil, fieldErr("timeZone", name, ErrBadZone, "Local depends on the host; name an IANA zone")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fieldErr("timeZone", name, ErrBadZone, err.Error())
	}
	return loc, nil
}

// zoneKey is the name two requests are compared by: "" and "UTC" agree.
func zoneKey(name string) string {
	if name == "" {
		return "UTC"
	}
	return name
}

// zoneSegments lists the offsets loc uses over [from, to), merging
// adjacent periods with the same offset (e.g. a renamed abbreviation).
// Precomputing them lets queries find the wall-clock hour with one table
// lookup instead of time.Location's search (and its TZ-rule parsing beyond
// the last listed transition).
func zoneSegments(loc *time.Location, from, to time.Time) []segment {
	if loc == time.UTC {
		return utcSegments
	}
	var segs []segment
	for t := from; ; {
		lt := t.In(loc)
		_, off := lt.Zone()
		if len(segs) == 0 || segs[len(segs)-1].off != int64(off) {
			segs = append(segs, segment{from: t.Unix(), off: int64(off)})
		}
		_, end := lt.ZoneBounds()
		if end.IsZero() || !end.Before(to) || !end.After(t) {
			break
		}
		t = end
	}
	segs[0].from = math.MinInt64
	return segs
}

// segmentAt is the index of the segment containing Unix second sec.
func segmentAt(segs []segment, sec int64) int {
	lo, hi := 0, len(segs) // invariant: segs[lo].from <= sec; answer in [lo, hi)
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if segs[mid].from <= sec {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// floorDiv is a/b rounded towards minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
