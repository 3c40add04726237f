package schedule

import (
	"strconv"
	"time"
)

// Policy holds the timing values ThingSpace fixes and fota lets a host
// configure. DefaultPolicy returns ThingSpace's values.
type Policy struct {
	// PreValidation is how long after scheduling an on-demand push
	// campaign starts: "On-demand updates usually occur within two hours
	// once they are scheduled, to allow all the pre-validation checks".
	PreValidation time.Duration
	// OnDemandDays is how long an on-demand HTTP campaign runs when its
	// request omits endDate: "For an on-demand campaign, the end date is
	// one week after the start date" (endDate = startDate + 7).
	OnDemandDays int
	// RetryHour is the UTC hour of the daily LwM2M retry: "the system tries
	// again around 4:00 AM UTC".
	RetryHour int
	// RetryDays is how many daily retries follow the first attempt: "and
	// repeats this for up to 3 days".
	RetryDays int
	// ChangeFloor is the earliest a date change may end a started
	// campaign: no earlier than "+24 hours from now".
	ChangeFloor time.Duration
	// ResponseWait is how long a device has to answer its last attempt
	// before GiveUpAt declares it unreachable. ThingSpace does not say; the
	// default, 24 h, gives up when a further daily retry would have been
	// due. Zero gives up at the last attempt itself.
	ResponseWait time.Duration
}

// DefaultPolicy returns ThingSpace's values: 2 h pre-validation, 7-day
// on-demand HTTP campaigns, retries at 04:00 UTC for up to 3 days, a 24 h
// floor for end-date changes, and (fota's choice) 24 h to answer the last
// attempt.
func DefaultPolicy() Policy {
	return Policy{
		PreValidation: 2 * time.Hour,
		OnDemandDays:  7,
		RetryHour:     4,
		RetryDays:     3,
		ChangeFloor:   24 * time.Hour,
		ResponseWait:  24 * time.Hour,
	}
}

// Validate checks that durations and counts are not negative and that
// RetryHour is an hour of the day (0..23).
func (p Policy) Validate() error {
	switch {
	case p.PreValidation < 0:
		return fieldErr("PreValidation", p.PreValidation.String(), ErrBadPolicy, "must not be negative")
	case p.OnDemandDays < 0:
		return fieldErr("OnDemandDays", strconv.Itoa(p.OnDemandDays), ErrBadPolicy, "must not be negative")
	case p.RetryHour < 0 || p.RetryHour > 23:
		return fieldErr("RetryHour", strconv.Itoa(p.RetryHour), ErrBadPolicy, "must be in 0..23")
	case p.RetryDays < 0:
		return fieldErr("RetryDays", strconv.Itoa(p.RetryDays), ErrBadPolicy, "must not be negative")
	case p.ChangeFloor < 0:
		return fieldErr("ChangeFloor", p.ChangeFloor.String(), ErrBadPolicy, "must not be negative")
	case p.ResponseWait < 0:
		return fieldErr("ResponseWait", p.ResponseWait.String(), ErrBadPolicy, "must not be negative")
	}
	return nil
}

// Attempt is the time of the n-th LwM2M attempt to reach a device whose
// push started at first. Attempt 0 is first itself; attempt k (1 <= k <=
// RetryDays) is the k-th RetryHour:00 UTC strictly after first, so a
// future campaign starting at 00:00 UTC retries at 04:00 the same day. It
// reports false for n < 0, for n > RetryDays (the plan never exceeds its
// day limit) and for a policy that fails Validate.
func (p Policy) Attempt(first time.Time, n int) (time.Time, bool) {
	if n < 0 || n > p.RetryDays || p.Validate() != nil {
		return time.Time{}, false
	}
	if n == 0 {
		return first, true
	}
	u := first.UTC()
	y, m, d := u.Date()
	r := time.Date(y, m, d, p.RetryHour, 0, 0, 0, time.UTC)
	if !r.After(u) {
		r = r.AddDate(0, 0, 1)
	}
	return r.AddDate(0, 0, n-1), true
}

// Retries is the retry plan of a push that started at first: which retry
// has come by a time (AttemptAt) and when the next one is (NextAttempt),
// each without a calendar calculation, since retries follow the first a
// UTC day, 24 hours, apart.
func (p Policy) Retries(first time.Time) Retries {
	r1, ok := p.Attempt(first, 1)
	if !ok {
		return Retries{}
	}
	return Retries{first: r1, days: p.RetryDays}
}

// Retries is a push's retry plan (Policy.Retries). The zero Retries has
// no retry.
type Retries struct {
	first time.Time // Attempt 1
	days  int       // RetryDays; 0: no retry
}

// AttemptAt is the retry of the plan that has come by now: the largest n
// (1 <= n <= RetryDays) whose Policy.Attempt is at or before now, or 0
// when no retry has come (or the policy fails Validate). It is what a
// loop over Attempt finds.
func (r Retries) AttemptAt(now time.Time) int {
	if r.days == 0 || now.Before(r.first) {
		return 0
	}
	return min(int(now.Sub(r.first)/(24*time.Hour))+1, r.days)
}

// NextAttempt is the first retry of the plan (Policy.Attempt n, 1 <= n
// <= RetryDays) strictly after t; false when the plan has none left (or
// the policy fails Validate).
func (r Retries) NextAttempt(t time.Time) (time.Time, bool) {
	if r.days == 0 {
		return time.Time{}, false
	}
	if t.Before(r.first) {
		return r.first, true
	}
	n := int(t.Sub(r.first)/(24*time.Hour)) + 2 // t falls in retry n-1's day
	if n > r.days {
		return time.Time{}, false
	}
	return r.first.Add(time.Duration(n-1) * 24 * time.Hour), true
}

// GiveUpAt is when a device that never answered any attempt of the plan
// fails (ThingSpace: not active / not connected): the last attempt plus
// ResponseWait. With an invalid policy it is first (give up at once).
func (p Policy) GiveUpAt(first time.Time) time.Time {
	last, ok := p.Attempt(first, p.RetryDays)
	if !ok {
		return first
	}
	return last.Add(p.ResponseWait)
}

// OMADMNotifyAt is when an OMA-DM device is notified of a push campaign
// that started at start, given that it next connects at connectedAt: "If
// the device is off, it is notified when it next connects". It is the later
// of the two, as a device that was on at the start is notified then.
// OMA-DM has no retry plan: the notification waits for the connection.
func OMADMNotifyAt(start, connectedAt time.Time) time.Time {
	if connectedAt.After(start) {
		return connectedAt
	}
	return start
}
