package schedule

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// changeModel is the date-change rule set of §5.5 written plainly, on the
// requests and time.Time alone: it returns the sentinel the change must
// fail with, or nil.
func changeModel(old HTTPRequest, req HTTPRequest, now time.Time, v3 bool) error {
	if req.StartDate.IsZero() || req.EndDate.IsZero() {
		return ErrMissingDate
	}
	start := old.StartDate.Start()
	if now.Before(start) { // "Before start": anything, as a new request
		switch {
		case req.StartDate.Start().Before(DateOf(now).Start()):
			return ErrStartPassed
		case req.EndDate.Start().Before(req.StartDate.Start()):
			return ErrEndBeforeStart
		}
		return afterDatesModel(req)
	}
	switch {
	case !now.Before(old.EndDate.Start().AddDate(0, 0, 1)):
		return ErrEnded
	case req.StartDate != old.StartDate:
		return ErrStartFixed
	case req.EndDate.Start().Before(req.StartDate.Start()):
		return ErrEndBeforeStart
	}
	if err := afterDatesModel(req); err != nil {
		return err
	}
	if req.DownloadAfterDate != old.DownloadAfterDate || req.InstallAfterDate != old.InstallAfterDate ||
		zoneKey(req.TimeZone) != zoneKey(old.TimeZone) {
		return ErrFixedAfterStart
	}
	lists := [][2][]Window{
		{old.CampaignTimeWindowList, req.CampaignTimeWindowList},
		{old.DownloadTimeWindowList, req.DownloadTimeWindowList},
		{old.InstallTimeWindowList, req.InstallTimeWindowList},
	}
	for _, l := range lists {
		removed := false
		for _, w := range l[0] {
			removed = removed || !slices.Contains(l[1], w)
		}
		added := false
		for _, w := range l[1] {
			added = added || !slices.Contains(l[0], w)
		}
		switch {
		case v3 && (removed || added): // "Only the end date can change"
			return ErrFixedAfterStart
		case removed: // "windows can be added but not removed"
			return ErrWindowRemoved
		}
	}
	// "no earlier than +24 hours from now"
	if req.EndDate.Start().AddDate(0, 0, 1).Before(now.Add(24 * time.Hour)) {
		return ErrEndTooSoon
	}
	return nil
}

func afterDatesModel(r HTTPRequest) error {
	for _, d := range []Date{r.DownloadAfterDate, r.InstallAfterDate} {
		if !d.IsZero() && (d.Start().Before(r.StartDate.Start()) || d.Start().After(r.EndDate.Start())) {
			return ErrDateOutside
		}
	}
	return nil
}

// mutateList usually keeps ws, else adds, drops, reorders or repeats
// windows.
func mutateList(t *rapid.T, label string, ws []Window) []Window {
	ws = slices.Clone(ws)
	switch rapid.IntRange(0, 7).Draw(t, label+".op") {
	case 0:
		ws = append(ws, genWindow(t, label+".add"))
	case 1:
		if len(ws) > 0 {
			i := rapid.IntRange(0, len(ws)-1).Draw(t, label+".drop")
			ws = slices.Delete(ws, i, i+1)
		}
	case 2:
		slices.Reverse(ws)
	case 3:
		if len(ws) > 0 {
			ws = append(ws, ws[0]) // a repeat adds nothing
		}
	}
	return ws
}

// mutateDate keeps d with probability 1-1/odds, else shifts it, drops it
// (if absentOK) or sets an absent one.
func mutateDate(t *rapid.T, label string, d Date, absentOK bool, odds int) Date {
	if rapid.IntRange(1, odds).Draw(t, label+".change") > 1 {
		return d
	}
	switch {
	case absentOK && rapid.IntRange(0, 3).Draw(t, label+".drop") == 0:
		return Date{}
	case d.IsZero():
		return Date{2026, 1, 1}.AddDays(rapid.IntRange(0, 3650).Draw(t, label+".new"))
	}
	return d.AddDays(rapid.IntRange(-3, 3).Draw(t, label+".days"))
}

// TestChangeModel: Change and ChangeV3 agree with the model, never modify
// the receiver, and on success return the requested timing.
func TestChangeModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h, old, _ := genHTTP(t)
		v3 := rapid.Bool().Draw(t, "v3")
		// Changes come up to two days before the start (rarely), while
		// the campaign runs (mostly), or up to two days after the end.
		from, to := h.StartsAt(), h.EndsAt()
		switch rapid.IntRange(0, 5).Draw(t, "when") {
		case 0:
			from, to = from.Add(-48*time.Hour), from
		case 1:
			from, to = to, to.Add(48*time.Hour)
		}
		now := from.Add(time.Duration(rapid.Int64Range(0, int64(to.Sub(from))-1).Draw(t, "now")))
		req := old.clone()
		req.StartDate = mutateDate(t, "start", req.StartDate, false, 6)
		req.EndDate = mutateDate(t, "end", req.EndDate, rapid.IntRange(0, 19).Draw(t, "dropEnd") == 0, 2)
		if rapid.IntRange(0, 3).Draw(t, "endNearNow") == 0 { // around the +24 h floor
			req.EndDate = DateOf(now).AddDays(rapid.IntRange(-1, 2).Draw(t, "endFromNow"))
		}
		req.DownloadAfterDate = mutateDate(t, "downloadAfter", req.DownloadAfterDate, true, 8)
		req.InstallAfterDate = mutateDate(t, "installAfter", req.InstallAfterDate, true, 8)
		req.CampaignTimeWindowList = mutateList(t, "campaign", req.CampaignTimeWindowList)
		req.DownloadTimeWindowList = mutateList(t, "download", req.DownloadTimeWindowList)
		req.InstallTimeWindowList = mutateList(t, "install", req.InstallTimeWindowList)
		if rapid.IntRange(0, 9).Draw(t, "rezone") == 0 {
			req.TimeZone = rapid.SampledFrom(testZones).Draw(t, "zone2")
		}
		change := h.Change
		if v3 {
			change = h.ChangeV3
		}
		before := h.Request()
		n, err := change(req, now)
		want := changeModel(old, req, now, v3)
		if !reflect.DeepEqual(h.Request(), before) {
			t.Fatalf("receiver modified")
		}
		if want == nil {
			if err != nil {
				t.Fatalf("change %+v at %v refused: %v", req, now, err)
			}
			if got := n.Request(); !reflect.DeepEqual(got, req.clone()) || !n.EndsAt().Equal(req.EndDate.End()) {
				t.Fatalf("changed to %+v, want %+v", got, req)
			}
			return
		}
		var fe *FieldError
		if n != nil || !errors.Is(err, want) || !errors.As(err, &fe) || fe.Field == "" {
			t.Fatalf("change %+v at %v (start %v): got %v, %v; want %v", req, now, h.StartsAt(), n, err, want)
		}
	})
}

// TestChangeSpec quotes §5.5.
func TestChangeSpec(t *testing.T) {
	sched := utc(2026, 3, 1, 10, 0, 0)
	base := HTTPRequest{
		StartDate: Date{2026, 3, 5}, EndDate: Date{2026, 3, 12},
		DownloadTimeWindowList: []Window{{2, 4}},
	}
	h := mustHTTP(t, base, sched)
	with := func(f func(*HTTPRequest)) HTTPRequest { r := base.clone(); f(&r); return r }
	after := utc(2026, 3, 6, 12, 0, 0)
	for _, c := range []struct {
		quote string
		v3    bool
		req   HTTPRequest
		now   time.Time
		err   error
		field string
	}{
		{"Before start: the start date may be changed, windows added or removed", false,
			with(func(r *HTTPRequest) { r.StartDate = Date{2026, 3, 2}; r.DownloadTimeWindowList = nil }), sched, nil, ""},
		{"Before start (v3): Same as v2", true,
			with(func(r *HTTPRequest) { r.StartDate = Date{2026, 3, 1}; r.EndDate = Date{2026, 3, 2} }), sched, nil, ""},
		{"After start: the end date can move to no earlier than +24 hours from now", false,
			with(func(r *HTTPRequest) { r.EndDate = Date{2026, 3, 7} }), after, nil, ""},
		{"After start: end earlier than +24 hours from now", false,
			with(func(r *HTTPRequest) { r.EndDate = Date{2026, 3, 6} }), after, ErrEndTooSoon, "endDate"},
		{"After start: exactly +24 hours from now is not earlier", false,
			with(func(r *HTTPRequest) { r.EndDate = Date{2026, 3, 6} }), utc(2026, 3, 6, 0, 0, 0), nil, ""},
		{"After start: a nanosecond short of +24 hours from now", false,
			with(func(r *HTTPRequest) { r.EndDate = Date{2026, 3, 6} }), utc(2026, 3, 6, 0, 0, 0).Add(time.Nanosecond), ErrEndTooSoon, "endDate"},
		{"After start: windows can be added", false,
			with(func(r *HTTPRequest) { r.DownloadTimeWindowList = []Window{{2, 4}, {20, 24}} }), after, nil, ""},
		{"After start: windows can be added but not removed", false,
			with(func(r *HTTPRequest) { r.DownloadTimeWindowList = []Window{{20, 24}} }), after, ErrWindowRemoved, "downloadTimeWindowList"},
		{"After start: the start date is fixed", false,
			with(func(r *HTTPRequest) { r.StartDate = Date{2026, 3, 6} }), after, ErrStartFixed, "startDate"},
		{"After start (v3): Only the end date can change", true,
			with(func(r *HTTPRequest) { r.EndDate = Date{2026, 3, 20} }), after, nil, ""},
		{"After start (v3): a window added", true,
			with(func(r *HTTPRequest) { r.DownloadTimeWindowList = []Window{{2, 4}, {20, 24}} }), after, ErrFixedAfterStart, "downloadTimeWindowList"},
		{"After start (v3): with the same +24 h floor", true,
			with(func(r *HTTPRequest) { r.EndDate = Date{2026, 3, 6} }), after, ErrEndTooSoon, "endDate"},
		{"After the end", false,
			with(func(r *HTTPRequest) { r.EndDate = Date{2026, 3, 20} }), utc(2026, 3, 13, 0, 0, 0), ErrEnded, "endDate"},
		{"Fields which need to remain unchanged should be also provided", false,
			with(func(r *HTTPRequest) { r.EndDate = Date{} }), after, ErrMissingDate, "endDate"},
	} {
		change := h.Change
		if c.v3 {
			change = h.ChangeV3
		}
		n, err := change(c.req, c.now)
		var fe *FieldError
		switch {
		case c.err == nil && (err != nil || n == nil):
			t.Errorf("%s: refused: %v", c.quote, err)
		case c.err != nil && (n != nil || !errors.Is(err, c.err) || !errors.As(err, &fe) || fe.Field != c.field):
			t.Errorf("%s: got %v %v, want %v on %s", c.quote, n, err, c.err, c.field)
		}
	}
	if !reflect.DeepEqual(h.Request(), base) {
		t.Error("receiver modified")
	}
}
