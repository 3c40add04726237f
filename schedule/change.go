package schedule

import (
	"slices"
	"time"
)

// Change applies a /v2 "change campaign dates" request (§5.5) at now and
// returns the new timing; h is never modified. As /v2 requires the full
// payload ("Fields which need to remain unchanged should be also
// provided"), req is the whole new timing and both dates are required.
//
// Before StartsAt anything may change: req is validated as by NewHTTP at
// now (a start of today makes the campaign on-demand). From StartsAt on, in
// this order of checks:
//   - the campaign must not have ended (now < EndsAt, else ErrEnded);
//   - the start date must not change (ErrStartFixed);
//   - req must be valid (dates, windows, zone, as NewHTTP);
//   - downloadAfterDate, installAfterDate and timeZone must not change
//     (ErrFixedAfterStart; ThingSpace lists no change to them after the
//     start, and a new zone would move every window);
//   - every old window must still be in its list ("windows can be added but
//     not removed"; ErrWindowRemoved). Windows are compared exactly, so
//     {2,4} is not kept by {1,5}; adding a first window to an empty list is
//     allowed and narrows "all hours" to that window, as ThingSpace's rule
//     reads;
//   - the new end must be "no earlier than +24 hours from now":
//     EndsAt >= now + ChangeFloor (ErrEndTooSoon).
func (h *HTTP) Change(req HTTPRequest, now time.Time) (*HTTP, error) {
	return h.change(req, now, false)
}

// ChangeV3 applies a /v3 "change campaign dates" request: before StartsAt
// as Change; from StartsAt on "only the end date can change", with the
// same 24-hour floor. Every other field must equal Request() (window lists
// as sets: order and repeats do not matter), else ErrFixedAfterStart.
func (h *HTTP) ChangeV3(req HTTPRequest, now time.Time) (*HTTP, error) {
	return h.change(req, now, true)
}

func (h *HTTP) change(req HTTPRequest, now time.Time, v3 bool) (*HTTP, error) {
	if err := checkStart(req.StartDate); err != nil {
		return nil, err
	}
	if req.EndDate.IsZero() {
		return nil, fieldErr("endDate", "", ErrMissingDate, "a change request carries both dates")
	}
	if now.Before(h.startsAt) {
		return NewHTTP(req, now, h.policy)
	}
	old := h.req
	if !now.Before(h.endsAt) {
		return nil, fieldErr("endDate", old.EndDate.String(), ErrEnded, "ended at "+h.endsAt.Format(time.RFC3339))
	}
	if !req.StartDate.Equal(old.StartDate) {
		return nil, fieldErr("startDate", req.StartDate.String(), ErrStartFixed, "started on "+old.StartDate.String())
	}
	n, err := compile(req, h.onDemand, h.policy)
	if err != nil {
		return nil, err
	}
	fixed := func(field, value string) error {
		return fieldErr(field, value, ErrFixedAfterStart, "the campaign has started")
	}
	switch {
	case req.DownloadAfterDate != old.DownloadAfterDate:
		return nil, fixed("downloadAfterDate", req.DownloadAfterDate.String())
	case req.InstallAfterDate != old.InstallAfterDate:
		return nil, fixed("installAfterDate", req.InstallAfterDate.String())
	case zoneKey(req.TimeZone) != zoneKey(old.TimeZone):
		return nil, fixed("timeZone", req.TimeZone)
	}
	lists := []struct {
		field    string
		old, new []Window
	}{
		{"campaignTimeWindowList", old.CampaignTimeWindowList, req.CampaignTimeWindowList},
		{"downloadTimeWindowList", old.DownloadTimeWindowList, req.DownloadTimeWindowList},
		{"installTimeWindowList", old.InstallTimeWindowList, req.InstallTimeWindowList},
	}
	for _, l := range lists {
		for _, w := range l.old {
			switch {
			case slices.Contains(l.new, w):
			case v3:
				return nil, fixed(l.field, w.String())
			default:
				return nil, fieldErr(l.field, w.String(), ErrWindowRemoved, "windows may be added, not removed, after the start")
			}
		}
		for _, w := range l.new {
			if v3 && !slices.Contains(l.old, w) {
				return nil, fixed(l.field, w.String())
			}
		}
	}
	if floor := now.Add(h.policy.ChangeFloor); n.endsAt.Before(floor) {
		return nil, fieldErr("endDate", req.EndDate.String(), ErrEndTooSoon, "must run until at least "+floor.UTC().Format(time.RFC3339))
	}
	return n, nil
}
