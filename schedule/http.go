package schedule

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
	"time"
)

// Phase names what a device of an HTTP campaign may do at a given time.
type Phase uint8

// The phases. PhaseCampaign is the campaign as a whole (date range and
// campaign windows); download and install are further restricted by their
// own windows and after-dates.
const (
	PhaseCampaign Phase = iota
	PhaseDownload
	PhaseInstall
	numPhases
)

// String is "campaign", "download" or "install".
func (ph Phase) String() string {
	switch ph {
	case PhaseCampaign:
		return "campaign"
	case PhaseDownload:
		return "download"
	case PhaseInstall:
		return "install"
	}
	return "Phase(" + strconv.Itoa(int(ph)) + ")"
}

// HTTPRequest is the timing part of a ThingSpace campaign request
// (CampaignSoftwareUpgrade for /v2, CampaignFirmwareUpgrade for /v3, and
// the change-dates requests), with ThingSpace's JSON names. A zero Date is
// an absent date; an empty window list means "all hours".
//
// HTTPRequest has its own UnmarshalJSON (to name the failing field), so do
// not embed it in a larger request struct: its method would be promoted and
// decode only these fields. Use a named field, or decode the body twice.
type HTTPRequest struct {
	StartDate              Date     `json:"startDate,omitzero"`
	EndDate                Date     `json:"endDate,omitzero"`
	CampaignTimeWindowList []Window `json:"campaignTimeWindowList,omitempty"`
	DownloadAfterDate      Date     `json:"downloadAfterDate,omitzero"`
	DownloadTimeWindowList []Window `json:"downloadTimeWindowList,omitempty"`
	InstallAfterDate       Date     `json:"installAfterDate,omitzero"`
	InstallTimeWindowList  []Window `json:"installTimeWindowList,omitempty"`
	// TimeZone is fota's extension: the IANA zone the window hours are
	// read in. "" is UTC. Dates stay whole UTC days whatever the zone.
	TimeZone string `json:"timeZone,omitempty"`
}

// clone copies r so that the compiled campaign owns its window lists.
// Empty lists become nil (both mean "all hours").
func (r HTTPRequest) clone() HTTPRequest {
	cp := func(ws []Window) []Window {
		if len(ws) == 0 {
			return nil
		}
		return slices.Clone(ws)
	}
	r.CampaignTimeWindowList = cp(r.CampaignTimeWindowList)
	r.DownloadTimeWindowList = cp(r.DownloadTimeWindowList)
	r.InstallTimeWindowList = cp(r.InstallTimeWindowList)
	return r
}

// HTTP is the compiled timing of an HTTP-family campaign. It is immutable:
// queries may run concurrently, and Change returns a new *HTTP.
//
// Every query is a pure function of its arguments, allocation-free, and
// constant-time in the number of windows: each phase is a Unix-second
// range plus a 24-bit hour mask, and the zone's UTC offsets over the
// campaign are a precomputed table.
type HTTP struct {
	req      HTTPRequest // normalised; lists owned
	loc      *time.Location
	onDemand bool
	policy   Policy
	startsAt time.Time
	endsAt   time.Time

	lo   [numPhases]int64  // first second of each phase (Unix)
	hi   int64             // EndsAt (Unix), exclusive
	mask [numPhases]uint32 // open hours of each phase
	segs []segment         // zone offsets over [startsAt, endsAt)
}

// NewHTTP validates and compiles an HTTP campaign's timing, scheduled at
// now.
//
// The start date is required. A start date of today (UTC, per now) makes
// the campaign on-demand; a later one makes it a future campaign; an
// earlier one is ErrStartPassed. A future campaign requires endDate; an
// on-demand one may omit it and then ends on startDate + OnDemandDays
// ("the end date is one week after the start date"); an explicit endDate
// is kept. Errors, each a *FieldError naming field and value: ErrMissingDate,
// ErrBadDate, ErrStartPassed, ErrEndBeforeStart, ErrDateOutside (an
// after-date outside [startDate, endDate]), ErrBadWindow, ErrBadZone,
// ErrBadPolicy.
func NewHTTP(req HTTPRequest, now time.Time, p Policy) (*HTTP, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := checkStart(req.StartDate); err != nil {
		return nil, err
	}
	today := DateOf(now)
	if req.StartDate.Before(today) {
		return nil, fieldErr("startDate", req.StartDate.String(), ErrStartPassed, "today is "+today.String())
	}
	onDemand := req.StartDate.Equal(today)
	if req.EndDate.IsZero() && onDemand {
		req.EndDate = req.StartDate.AddDays(p.OnDemandDays)
	}
	return compile(req, onDemand, p)
}

func checkStart(d Date) error {
	if d.IsZero() {
		return fieldErr("startDate", "", ErrMissingDate, "")
	}
	if !d.valid() {
		return fieldErr("startDate", d.String(), ErrBadDate, "not a calendar day in 0001..9999")
	}
	return nil
}

// compile checks everything but the start's relation to now and builds
// the query tables. The start date must already be present and valid.
func compile(req HTTPRequest, onDemand bool, p Policy) (*HTTP, error) {
	start, end := req.StartDate, req.EndDate
	if end.IsZero() {
		return nil, fieldErr("endDate", "", ErrMissingDate, "")
	}
	if !end.valid() {
		return nil, fieldErr("endDate", end.String(), ErrBadDate, "not a calendar day in 0001..9999")
	}
	if end.Before(start) {
		return nil, fieldErr("endDate", end.String(), ErrEndBeforeStart, "startDate is "+start.String())
	}
	for _, a := range []struct {
		field string
		d     Date
	}{{"downloadAfterDate", req.DownloadAfterDate}, {"installAfterDate", req.InstallAfterDate}} {
		switch {
		case a.d.IsZero():
		case !a.d.valid():
			return nil, fieldErr(a.field, a.d.String(), ErrBadDate, "not a calendar day in 0001..9999")
		case a.d.Before(start) || a.d.After(end):
			return nil, fieldErr(a.field, a.d.String(), ErrDateOutside, "campaign runs "+start.String()+".."+end.String())
		}
	}
	lists := [numPhases]struct {
		field string
		ws    []Window
	}{
		{"campaignTimeWindowList", req.CampaignTimeWindowList},
		{"downloadTimeWindowList", req.DownloadTimeWindowList},
		{"installTimeWindowList", req.InstallTimeWindowList},
	}
	for _, l := range lists {
		for i, w := range l.ws {
			if err := w.Validate(l.field + "[" + strconv.Itoa(i) + "]"); err != nil {
				return nil, err
			}
		}
	}
	loc, err := loadZone(req.TimeZone)
	if err != nil {
		return nil, err
	}

	h := &HTTP{
		req:      req.clone(),
		loc:      loc,
		onDemand: onDemand,
		policy:   p,
		startsAt: start.Start(),
		endsAt:   end.End(),
	}
	h.hi = h.endsAt.Unix()
	campaign := hourMask(req.CampaignTimeWindowList)
	h.mask[PhaseCampaign] = campaign
	h.mask[PhaseDownload] = campaign & hourMask(req.DownloadTimeWindowList)
	h.mask[PhaseInstall] = campaign & hourMask(req.InstallTimeWindowList)
	h.lo[PhaseCampaign] = h.startsAt.Unix()
	h.lo[PhaseDownload] = max(h.startsAt.Unix(), afterSecond(req.DownloadAfterDate))
	h.lo[PhaseInstall] = max(h.startsAt.Unix(), afterSecond(req.InstallAfterDate))
	h.segs = zoneSegments(loc, h.startsAt, h.endsAt)
	return h, nil
}

// afterSecond is the first second an after-date allows; an absent date
// allows everything ("If null, client will download as soon as possible").
func afterSecond(d Date) int64 {
	if d.IsZero() {
		return math.MinInt64
	}
	return d.Start().Unix()
}

// OnDemand reports whether the start date was the day of scheduling.
func (h *HTTP) OnDemand() bool { return h.onDemand }

// StartsAt is 00:00 UTC on the start date.
func (h *HTTP) StartsAt() time.Time { return h.startsAt }

// EndsAt is 00:00 UTC on the day after the end date: the exclusive end.
// The last open instant is EndsAt()-1ns, 23:59:59.999999999 UTC.
func (h *HTTP) EndsAt() time.Time { return h.endsAt }

// Request is the normalised request: the end date filled in for an
// on-demand campaign that omitted it, empty lists as nil. The lists are
// copies the caller may modify.
func (h *HTTP) Request() HTTPRequest { return h.req.clone() }

// Location is the zone the window hours are read in (time.UTC by default).
func (h *HTTP) Location() *time.Location { return h.loc }

// Policy is the policy the campaign was compiled with.
func (h *HTTP) Policy() Policy { return h.policy }

// hourBit reports whether the wall-clock hour at Unix second sec (within
// the campaign) is in mask m.
func (h *HTTP) hourBit(m uint32, sec int64) bool {
	off := h.segs[segmentAt(h.segs, sec)].off
	hod := floorDiv(sec+off, 3600) % 24
	if hod < 0 {
		hod += 24
	}
	return m>>uint(hod)&1 != 0
}

// Open reports whether phase ph is open at t: t within [lo, EndsAt) where
// lo is StartsAt (and, for download and install, the after-date's 00:00
// UTC), and the wall-clock hour at t, read in the campaign's zone, in the
// phase's windows ("current hour >= startTime", "current hour < endTime").
// An unknown phase is never open.
func (h *HTTP) Open(ph Phase, t time.Time) bool {
	if ph >= numPhases {
		return false
	}
	sec := t.Unix() // floor: the hour at t is the hour at this second
	if sec < h.lo[ph] || sec >= h.hi {
		return false
	}
	return h.hourBit(h.mask[ph], sec)
}

// NextOpen is the first instant >= t at which phase ph is open: t itself if
// open, else the start of the next open stretch (an hour boundary in the
// zone, or the phase's first second). It reports false if the phase never
// opens again (t at or after EndsAt, or no open hour left).
func (h *HTTP) NextOpen(ph Phase, t time.Time) (time.Time, bool) {
	if ph >= numPhases {
		return time.Time{}, false
	}
	sec, moved := t.Unix(), false
	if sec < h.lo[ph] {
		sec, moved = h.lo[ph], true
	}
	r, ok := h.first(h.mask[ph], sec)
	switch {
	case !ok:
		return time.Time{}, false
	case r == sec && !moved:
		return t, true
	}
	return time.Unix(r, 0).UTC(), true
}

// NextClose is, when phase ph is open at t, the first instant after t at
// which it is closed: the end of the current open stretch, at the latest
// EndsAt. It reports false when ph is not open at t.
func (h *HTTP) NextClose(ph Phase, t time.Time) (time.Time, bool) {
	if !h.Open(ph, t) {
		return time.Time{}, false
	}
	r, ok := h.first(^h.mask[ph]&allHours, t.Unix())
	if !ok {
		return h.endsAt, true
	}
	return time.Unix(r, 0).UTC(), true
}

// first is the first Unix second in [sec, hi) whose wall-clock hour is in
// m. Within one offset segment the hours advance with the clock, so the
// next hour in m is found by rotating the mask; a zone transition before
// that hour restarts the search at the transition. Hours skipped by a
// transition are thereby skipped, and a repeated hour counts each time it
// occurs.
func (h *HTTP) first(m uint32, sec int64) (int64, bool) {
	if m == 0 || sec >= h.hi {
		return 0, false
	}
	m2 := uint64(m) | uint64(m)<<24 // two days of hours, for rotation
	for i := segmentAt(h.segs, sec); sec < h.hi; i++ {
		end := h.hi
		if i+1 < len(h.segs) && h.segs[i+1].from < end {
			end = h.segs[i+1].from
		}
		off := h.segs[i].off
		hr := floorDiv(sec+off, 3600) // hours since the local epoch
		hod := hr % 24
		if hod < 0 {
			hod += 24
		}
		if m>>uint(hod)&1 != 0 {
			return sec, true
		}
		d := int64(bits.TrailingZeros64(m2>>uint(hod+1))) + 1 // 1..23: m != 0
		if next := (hr+d)*3600 - off; next < end {
			return next, true
		}
		sec = end
	}
	return 0, false
}
